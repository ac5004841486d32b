// Checks the reference's f32 sigmoid against its definition for all 2^32
// inputs: e = exp(-x) in long double rounded to f32, then 1 / (1 + e).
// Also counts how often glibc's expf would have given a different score.
// Usage: exhaustive_sigmoid  (prints counts; exit 1 on any mismatch)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "moegate/dtype.hpp"
#include "moegate/reference.hpp"

int main() {
  constexpr std::uint64_t chunk = 1u << 20;
  std::uint64_t mismatches = 0, expf_differs = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : mismatches, expf_differs)
  for (std::int64_t start = 0; start < (1ll << 32); start += static_cast<std::int64_t>(chunk)) {
    std::vector<float> logits(chunk), scores(chunk);
    for (std::uint64_t i = 0; i < chunk; ++i)
      logits[i] = moegate::float_from_bits(static_cast<std::uint32_t>(start + static_cast<std::int64_t>(i)));
    moegate::reference::sigmoid_f32(logits.data(), scores.data(), static_cast<std::int64_t>(chunk));
    for (std::uint64_t i = 0; i < chunk; ++i) {
      const float x = logits[i];
      const float e = static_cast<float>(std::exp(-static_cast<long double>(x)));
      const float want = 1.0f / (1.0f + e);
      const float with_expf = 1.0f / (1.0f + std::exp(-x));
      if (std::isnan(want)) {
        mismatches += !std::isnan(scores[i]);
        continue;
      }
      mismatches += moegate::bits_from_float(want) != moegate::bits_from_float(scores[i]);
      expf_differs += moegate::bits_from_float(want) != moegate::bits_from_float(with_expf);
    }
  }
  std::printf("inputs 4294967296, mismatches %llu, scores where glibc expf differs %llu\n",
              static_cast<unsigned long long>(mismatches), static_cast<unsigned long long>(expf_differs));
  return mismatches == 0 ? 0 : 1;
}
