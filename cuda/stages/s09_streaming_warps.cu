// s09_streaming_warps — persistent warps stream tokens; one MUFU per expert.
//
// Idea: s08's filter with the per-token overhead cut and the next row
// always in flight.
// - Persistent grid (as many CTAs as fit at once); each warp routes tokens
//   w, w + W, w + 2W, ... and issues the loads of its next row before it
//   routes the current one.
// - The bias is read once per CTA into shared memory: b for the exact
//   scores, 0.5 + b for the cheap ones (-inf past E: no per-token checks).
// - Cheap score: 0.5 + 0.5 tanh.approx(x / 2) (approx_score.cuh): one MUFU
//   and two FP32 ops per expert (s08: ex2 + rcp, two MUFU, four FP32 ops).
// - 16-byte (f32) or 8-byte (bf16/f16) loads when E fills its VPT bucket,
//   VPT % 4 == 0 and the rows are aligned: lane l owns experts
//   128 c + 4 l + i; scalar loads (experts l + 32 j) otherwise.
// - The bound L (the k-th largest lane maximum) takes one reduction per
//   round: equal maxima leave together, which keeps L a valid lower bound
//   (>= k lanes hold a value >= it) and only loosens it on ties.
// - Winners without rounds: each candidate's rank is the number of
//   candidates with a larger key (one pass of shuffles); ranks < k write
//   their slot to shared memory, the weights are summed from there in
//   selection order. k = 8 (every preset) is compiled as a constant.
// Filter: every value's cheap biased score a = fma(t, 0.5, 0.5 + b) is within
// d = approx_score_error + 3 ulp of the exact one, so every exact winner has
// a >= L - 2d; the threshold L - (4 approx_score_error + |L| 2^-19) covers
// 2d with margin (detail::filter_candidates).
// NaN scores always pass (!(a < threshold)); L = -inf or NaN, more than 32
// candidates or fewer than k -> s05's exact path for that token (reloading
// the row), so the result is always the contract's.
// Thread mapping: 4 warps per CTA; the CTA count from the occupancy API.
// Shared memory: 2 x 32 VPT floats of bias + 96 words per warp (<= 9.5 KiB).
// Limits: as s08 (E <= 1024, k <= 32, no groups, any dtypes/stride, PDL).
// Prediction vs s08 (H100, kimi-k2, f32): ~350 instead of ~1000 warp
// instructions per token (s08 measured 1028 by ncu) and a row always in
// flight: ~1.5x at T = 65536 (~58 us, ~60 % of copy); bf16 ~0.8x of its
// f32 time; T = 1 unchanged.
// Measured (H100, commit 41c6093; the five steps in docs/stages.md): 47.8 us
// at T = 65536 (1.81x s08, 2.70x s04, 72.9 % of copy), 491 instructions per
// token (ncu); bf16 50.0 us (1.05x f32: still issue/latency-bound, not
// memory-bound); T = 1 3.27 us (s08 4.65): the rank pass and the
// single-reduction bound shortened the chain.
#include <cfloat>
#include <climits>

#include "../detail/launch.cuh"
#include "../detail/streaming.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::RouteParams;
using detail::taken_key;
using detail::expert_of;
using detail::load_row;
constexpr int warps_per_cta = detail::streaming_warps_per_cta;

// Register caps (CTAs per SM): 8 (64 registers) up to E = 384, except the
// scalar-load E = 384 kernel, which spills 88 bytes at 64 and gets 80 (6).
template <int VPT, int Chunk>
constexpr int min_ctas_per_sm() { return VPT > 12 ? 1 : (VPT == 12 && Chunk == 1) ? 6 : 8; }

template <int VPT, int Chunk, int TopK>
__global__ void __launch_bounds__(warps_per_cta * 32, min_ctas_per_sm<VPT, Chunk>()) streaming_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ float bias_of[32 * VPT];
  __shared__ __align__(16) float half_plus_bias_of[32 * VPT];
  __shared__ detail::WarpScratch scratch_of[warps_per_cta];
  const int lane = threadIdx.x % 32;
  detail::WarpScratch& scratch = scratch_of[threadIdx.x / 32];
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  // The bias first, then the first row: issuing the row first (so that the
  // two memory latencies overlap, as s10 does) kept 12 more registers live
  // across the bias loop and spilled at E = 384: 49.7 instead of 47.4 us at
  // T = 65536 for 3.04 instead of 3.10 us at T = 1 (H100, one run). Both
  // after the PDL wait: a kernel before the gate may write the bias too.
  detail::wait_for_producer();  // PDL: the inputs are complete from here on
  detail::fill_bias<VPT>(p, bias_of, half_plus_bias_of);
  __syncthreads();  // the only CTA barrier: warps leave independently below
  if (token >= p.tokens) return;
  float logits[VPT];
  load_row<VPT, Chunk>(p, token * p.row_stride, lane, logits);
  detail::release_dependents();

  for (; token < p.tokens; token += stride) {
    float next[VPT];
    if (token + stride < p.tokens) load_row<VPT, Chunk>(p, (token + stride) * p.row_stride, lane, next);

    // 1. Cheap biased scores (slots past E: -inf), the lane's largest.
    float approx[VPT];
    float lane_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < VPT; ++j) {
      const int e = expert_of<Chunk>(lane, j);
      approx[j] = fmaf(detail::approx_half_tanh(logits[j]), 0.5f, half_plus_bias_of[e]);
      lane_max = fmaxf(lane_max, approx[j]);
    }
    // 2. Candidates (NaN included): routed from them when k <= count <= 32.
    bool usable = false;
    const unsigned candidates = detail::filter_candidates(approx, lane_max, topk, usable);
    int first = 0;
    const int total = detail::count_candidates(candidates, lane, first);
    if (usable && total <= 32 && total >= topk) {
      detail::route_candidates<Chunk>(p, token, lane, candidates, first, total, topk, bias_of, scratch);
    } else {
      detail::route_exactly<VPT, false>(p, token, lane);
    }
#pragma unroll
    for (int j = 0; j < VPT; ++j) logits[j] = next[j];
  }
}

}  // namespace

std::string s09_streaming_warps_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s09_streaming_warps_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    detail::with_filter_kernel<VPT>(config, logits, [&](auto chunk, auto topk) {
      detail::launch_streaming(streaming_kernel<VPT, decltype(chunk)::value, decltype(topk)::value>, params, stream,
                               options);
    });
  });
}

}  // namespace moegate::cuda::kernels
