// The contract's f32 sigmoid, s = 1 / (1 + e), e = exp(-x) correctly rounded.
//
// glibc's expf is not correctly rounded (about 1 input in 13,000 differs in the
// last bit), and rounding a double exp to f32 is too slow for the reference's
// speed goal. So: a vectorisable double exp with relative error below 2^-41,
// then a rounding test (Ziv): when the double lies within 2^16 double ulps
// (2^-37 relative) of an f32 rounding midpoint, or outside the range where e
// is a normal f32, the element is redone with long-double expl. The fast
// result is then exactly the rounded true value; tools/exhaustive_sigmoid
// checks all 2^32 inputs against expl.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "moegate/reference.hpp"

namespace moegate::reference {
namespace {

constexpr double log2e = 1.4426950408889634074;
// Cody-Waite split: ln2_hi has 32 significant bits, so k * ln2_hi is exact for |k| < 2^21.
constexpr double ln2_hi = 6.93147180369123816490e-01;
constexpr double ln2_lo = 1.90821492927058770002e-10;
// Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits.
constexpr double round_shifter = 0x1.8p52;
constexpr std::uint64_t round_shifter_bits = 0x4338000000000000ull;

// Taylor coefficients 1/n!, n = 0..10: on |r| <= ln(2)/2 the truncation error
// is below r^11/11! < 2^-41.6 relative; Horner adds a few 2^-53.
constexpr double taylor[11] = {1.0,
                               1.0,
                               0.5,
                               1.0 / 6,
                               1.0 / 24,
                               1.0 / 120,
                               1.0 / 720,
                               1.0 / 5040,
                               1.0 / 40320,
                               1.0 / 362880,
                               1.0 / 3628800};

// Double ulps (of 2^-52 relative) that the midpoint test keeps clear of:
// 2^16 ulps = 2^-37 relative, 16 times the fast exp's error bound.
constexpr std::int64_t midpoint_guard = 1 << 16;

double as_double(std::uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::uint64_t as_bits(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float exact_sigmoid(float logit) {
  const float e = static_cast<float>(std::exp(-static_cast<long double>(logit)));
  return 1.0f / (1.0f + e);
}

// Returns how many elements need redoing; marks them in `redo`.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
std::int64_t sigmoid_fast(const float* logits, float* scores, std::uint32_t* redo, std::int64_t n) {
  std::uint32_t flagged = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double t = -static_cast<double>(logits[i]);
    // e^-87 and e^88 are normal f32 values; NaN fails both comparisons.
    const bool in_range = (t >= -87.0) & (t <= 88.0);
    // Out-of-range inputs are computed as t = 0 (and redone); a mask keeps the loop branch-free.
    t = as_double(as_bits(t) & (0 - static_cast<std::uint64_t>(in_range)));
    const double shifted = t * log2e + round_shifter;
    const double k = shifted - round_shifter;
    const double r = (t - k * ln2_hi) - k * ln2_lo;
    double p = taylor[10];
    for (int j = 9; j >= 0; --j) p = p * r + taylor[j];
    const std::uint64_t k_bits = as_bits(shifted) - round_shifter_bits;  // k, two's complement
    const double y = p * as_double((k_bits + 1023u) << 52);
    const std::int64_t tail = static_cast<std::int64_t>(as_bits(y) & 0x1FFFFFFFu) - (1 << 28);
    const bool near_midpoint = (tail > -midpoint_guard) & (tail < midpoint_guard);
    const std::uint32_t bad = !in_range | near_midpoint;
    scores[i] = 1.0f / (1.0f + static_cast<float>(y));
    redo[i] = bad;
    flagged += bad;
  }
  return flagged;
}

}  // namespace

float sigmoid_f32(float logit) { return exact_sigmoid(logit); }

void sigmoid_f32(const float* logits, float* scores, std::int64_t n) {
  thread_local std::vector<std::uint32_t> redo;
  if (static_cast<std::int64_t>(redo.size()) < n) redo.resize(static_cast<std::size_t>(n));
  if (sigmoid_fast(logits, scores, redo.data(), n) == 0) return;
  for (std::int64_t i = 0; i < n; ++i)
    if (redo[i]) scores[i] = exact_sigmoid(logits[i]);
}

}  // namespace moegate::reference
