// Device arithmetic shared by every stage: the gate's sigmoid, selection
// keys, and the contract's weight epilogue. Written once, used everywhere.
#pragma once

#include <cstdint>

#include "moegate/order.hpp"
#include "params.hpp"

namespace moegate::cuda::detail {

// s = 1 / (1 + exp(-x)) with CUDA's expf (within 2 ulp of the correctly
// rounded exp the contract names; the comparator's score bound covers it).
// No fast-math: subnormal scores and IEEE division are kept.
__device__ __forceinline__ float gate_sigmoid(float logit) { return 1.0f / (1.0f + expf(-logit)); }

// 1 / y for y in [1, 2^125], rounded as IEEE division rounds it: the
// division's own fast path (a reciprocal estimate, a Newton step, a residual
// correction) without the check and the branch to its slow path that every
// IEEE division ends in, which such y never take. Checked against 1.0f / y
// through sigmoids_with for every f32 input (cuda/tests/sigmoid_test.cu).
__device__ __forceinline__ float reciprocal_of_moderate(float y) {
  float estimate;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(estimate) : "f"(y));
  const float refined = __fmaf_rn(estimate, __fmaf_rn(-y, estimate, 1.0f), estimate);
  return __fmaf_rn(refined, __fmaf_rn(-y, refined, 1.0f), refined);
}

// How a batch of sigmoids takes 1 / (1 + e) for y = 1 + e in [1, 2^125]:
// exact, as IEEE division rounds it (reciprocal_of_moderate), or
// approximate, by rcp.approx.f32 (within 1 ulp there), one of the roundings
// docs/semantics.md's default score_ulps = 4 is derived from (s20b's
// ablation). Above 2^125 (x below about -86.6; from 2^126 the quotient is
// subnormal and the estimate loses bits, and the refinement's products
// near 2^-125 are left a margin) or NaN: both take the division.
enum class Reciprocal { exact, approximate };

// gate_sigmoid for V values at once; with Reciprocal::exact bit for bit.
// V IEEE divisions run one after another, each behind its slow-path branch
// (H200: 5 take 407 cycles, one 82); here the V quotients overlap.
template <Reciprocal reciprocal, int V>
__device__ __forceinline__ void sigmoids_with(const float (&logit)[V], float (&score)[V]) {
  float y[V];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    y[j] = 1.0f + expf(-logit[j]);
    if constexpr (reciprocal == Reciprocal::exact) score[j] = reciprocal_of_moderate(y[j]);
    else asm("rcp.approx.f32 %0, %1;" : "=f"(score[j]) : "f"(y[j]));
  }
#pragma unroll
  for (int j = 0; j < V; ++j)
    if (!(y[j] <= 0x1p125f)) score[j] = 1.0f / y[j];
}

// Selection key of a biased score: the contract's order as an unsigned
// integer (order.hpp). 0 is reserved for "taken / not a candidate", so the
// lowest real key (NaN ranked lowest) is moved up to 1; every number's key
// is >= 0x007FFFFF, so no order changes.
inline constexpr std::uint32_t taken_key = 0u;

__device__ __forceinline__ std::uint32_t select_key(float biased, const Profile& profile) {
  const std::uint32_t key = order_key(replace_nan(biased, profile), profile.nan_rank);
  return key == taken_key ? 1u : key;
}

// (key, index) pairs: the larger key wins, equal keys go to the lower index.
__device__ __forceinline__ bool wins(std::uint32_t key, int index, std::uint32_t other_key, int other_index) {
  return key > other_key || (key == other_key && index < other_index);
}

// Butterfly arg-max over a full warp; every lane ends with the winner.
__device__ __forceinline__ void warp_argmax(std::uint32_t& key, int& index) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    const std::uint32_t other_key = __shfl_xor_sync(0xFFFFFFFFu, key, offset);
    const int other_index = __shfl_xor_sync(0xFFFFFFFFu, index, offset);
    if (wins(other_key, other_index, key, index)) {
      key = other_key;
      index = other_index;
    }
  }
}

// Loads elements lane + Stride j (j < VPT, those below `count`) of a row as
// f32 (Stride: the threads that share the row, 32 for a warp per token).
// The dtype branch sits outside the unrolled loops, so all VPT loads are
// issued back to back (a per-element dtype switch serialises them).
template <int VPT, int Stride = 32>
__device__ __forceinline__ void load_lane_strided(const void* base, DType dtype, std::int64_t offset, int lane,
                                                  int count, float (&out)[VPT]) {
  if (dtype == DType::f32) {
    const float* row = static_cast<const float*>(base) + offset;
#pragma unroll
    for (int j = 0; j < VPT; ++j) out[j] = lane + Stride * j < count ? row[lane + Stride * j] : 0.0f;
    return;
  }
  const std::uint16_t* row = static_cast<const std::uint16_t*>(base) + offset;
  std::uint16_t raw[VPT];
#pragma unroll
  for (int j = 0; j < VPT; ++j) raw[j] = lane + Stride * j < count ? row[lane + Stride * j] : std::uint16_t{0};
  if (dtype == DType::bf16) {
#pragma unroll
    for (int j = 0; j < VPT; ++j) out[j] = widen_bf16(raw[j]);
  } else {
#pragma unroll
    for (int j = 0; j < VPT; ++j) out[j] = widen_f16(raw[j]);
  }
}

// Renormalise (sum in selection order; divide when the sum is > 0, or per
// the profile) and scale, for the k weights of one token held by one thread.
__device__ __forceinline__ void finish_weights(float* weights, int topk, const RouteParams& p) {
  if (p.renormalize) {
    float sum = 0.0f;
    for (int j = 0; j < topk; ++j) sum += weights[j];
    const bool divide = p.profile.zero_sum != ZeroSum::raw || sum > 0.0f;
    const float divisor = p.profile.zero_sum == ZeroSum::epsilon ? sum + 1e-20f : sum;
    if (divide)
      for (int j = 0; j < topk; ++j) weights[j] /= divisor;
  }
  if (p.scales_output)
    for (int j = 0; j < topk; ++j) weights[j] *= p.scaling_factor;
}

}  // namespace moegate::cuda::detail
