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

// A tighter cheap score for the group cut (s15): 1 / (1 + 2^(-x log2 e))
// with the hardware's ex2.approx and rcp.approx (two MUFU ops instead of
// one). Its error against the true sigmoid, checked over all 2^32 inputs
// by the same exhaustive test, is bounded by tight_score_error: about 2^-22
// expected from the CUDA guide's __expf and rcp bounds, asserted at 2^-20
// (measured 2^-23.01 on an H200, commit f51b56b).
// ftz: a flushed tiny e^-x gives 1, a flushed tiny 1 / (1 + e^-x) gives 0,
// both within 2^-24 of the sigmoid; NaN stays NaN, +-inf go to 1 and 0.
inline constexpr float tight_score_error = 0x1p-20f;

__device__ __forceinline__ float tight_sigmoid(float logit) {
  float power, score;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(power) : "f"(logit * -1.44269504088896341f));
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(score) : "f"(1.0f + power));
  return score;
}

// The two cheap biased scores as policies (s13, s15): biased(x, b) and the
// error bound of its sigmoid.
struct HalfTanhScore {
  static constexpr float error = approx_score_error;
  __device__ static float biased(float logit, float bias) { return fmaf(approx_half_tanh(logit), 0.5f, 0.5f + bias); }
};
struct TightScore {
  static constexpr float error = tight_score_error;
  __device__ static float biased(float logit, float bias) { return tight_sigmoid(logit) + bias; }
};

}  // namespace moegate::cuda::detail
