// A one-instruction approximation of the gate's score, for filters that only
// need to know which experts can still win (s09): s(x) = 1 / (1 + e^-x) =
// 0.5 + 0.5 tanh(x / 2), with the hardware's tanh.approx.f32 (one MUFU op
// instead of the two of ex2 + rcp). cuda/tests/approx_score_test.cu checks,
// over all 2^32 inputs on the GPU at hand, that 0.5 + 0.5 t stays within
// approx_score_error of the true sigmoid (NaN in, NaN out; +-inf exact).
#pragma once

namespace moegate::cuda::detail {

// The bound the filters rely on. The PTX manual promises only an
// approximation (about 11 bits); the exhaustive test measured 2^-17.93 on
// H100 (commit 233d651) and asserts this bound, 3.8x above the measurement,
// on every GPU it runs on: a card whose MUFU differs fails it visibly.
inline constexpr float approx_score_error = 0x1p-16f;

__device__ __forceinline__ float tanh_approx(float x) {
  float y;
  asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// 0.5 + 0.5 t - s(x), unrounded, is what approx_score_error bounds; callers
// fold the 0.5 into their bias (fma(t, 0.5, 0.5 + b)).
__device__ __forceinline__ float approx_half_tanh(float logit) { return tanh_approx(0.5f * logit); }

}  // namespace moegate::cuda::detail
