// Element types of the router's inputs, and their exact widening to f32.
//
// Every bf16 and f16 value is exactly representable in f32, so widening is a
// bit manipulation, never a rounding. The helpers are host+device so the CUDA
// stages and the CPU reference share one definition.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#if defined(__CUDACC__)
#define MOEGATE_HOST_DEVICE __host__ __device__
#else
#define MOEGATE_HOST_DEVICE
#endif

namespace moegate {

enum class DType : std::uint8_t { f32, bf16, f16 };

inline constexpr DType all_dtypes[] = {DType::f32, DType::bf16, DType::f16};

constexpr std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
  }
  return "?";
}

constexpr std::size_t dtype_bytes(DType dtype) { return dtype == DType::f32 ? 4 : 2; }

std::optional<DType> parse_dtype(std::string_view name);

// The shortest decimal text that reads back as the same float ("2.827", not "2.82699990").
std::string shortest_decimal(float value);

MOEGATE_HOST_DEVICE inline float float_from_bits(std::uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
#endif
}

MOEGATE_HOST_DEVICE inline std::uint32_t bits_from_float(float value) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(value);
#else
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
#endif
}

// bf16 is the upper half of an f32.
MOEGATE_HOST_DEVICE inline float widen_bf16(std::uint16_t bits) {
  return float_from_bits(static_cast<std::uint32_t>(bits) << 16);
}

// IEEE binary16: 1 sign, 5 exponent, 10 mantissa bits. Subnormals become
// normal f32 values; inf and NaN keep their class (and NaN its payload).
MOEGATE_HOST_DEVICE inline float widen_f16(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
  std::uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0x1Fu) return float_from_bits(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) return float_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return float_from_bits(sign);
  // Subnormal: value = mantissa * 2^-24; normalise the leading one into the hidden bit.
  std::uint32_t shift = 0;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    ++shift;
  }
  return float_from_bits(sign | ((113u - shift) << 23) | ((mantissa & 0x3FFu) << 13));
}

// Reads element `index` of a buffer of the given dtype, widened exactly.
MOEGATE_HOST_DEVICE inline float load_widened(const void* data, DType dtype, std::int64_t index) {
  if (dtype == DType::f32) return static_cast<const float*>(data)[index];
  const std::uint16_t bits = static_cast<const std::uint16_t*>(data)[index];
  return dtype == DType::bf16 ? widen_bf16(bits) : widen_f16(bits);
}

// Round-to-nearest-even narrowing, for making test inputs (not part of the
// routing contract, which only ever widens). NaN stays NaN.
std::uint16_t narrow_to_bf16(float value);
std::uint16_t narrow_to_f16(float value);

}  // namespace moegate
