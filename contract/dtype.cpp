#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "moegate/dtype.hpp"

namespace moegate {

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType dtype : all_dtypes)
    if (dtype_name(dtype) == name) return dtype;
  return std::nullopt;
}

std::string shortest_decimal(float value) {
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(value));
    if (std::strtof(text, nullptr) == value) break;
  }
  return text;
}

std::uint16_t narrow_to_bf16(float value) {
  const std::uint32_t bits = bits_from_float(value);
  if (std::isnan(value)) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  const std::uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

std::uint16_t narrow_to_f16(float value) {
  const std::uint32_t bits = bits_from_float(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return sign | 0x7E00u;     // NaN
  if (magnitude >= 0x477FF000u) return sign | 0x7C00u;    // 65520 and up round to inf
  if (magnitude < 0x38800000u) {                          // below 2^-14: f16 subnormal or zero
    // Units of 2^-24; the scaling is exact, nearbyint rounds half to even,
    // and 1024 units is correctly encoded as the smallest normal.
    const float units = std::nearbyint(std::fabs(value) * 16777216.0f);
    return sign | static_cast<std::uint16_t>(units);
  }
  const std::uint32_t odd = (magnitude >> 13) & 1u;
  const std::uint32_t rebiased = magnitude + 0xC8000FFFu + odd;  // exponent -112, round half even
  return sign | static_cast<std::uint16_t>(rebiased >> 13);
}

}  // namespace moegate
