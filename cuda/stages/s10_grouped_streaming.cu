// s10_grouped_streaming — the group cut in streaming warps, by butterflies.
//
// Idea: grouped routing (DeepSeek V3: 256 experts, 8 groups of 32, keep 4)
// costs s07 ~250 us at T = 65536 because its group cut runs group by group:
// per group two or four reductions and predicated rescans of every value.
// With 16-byte loads a lane owns 4 consecutive experts per chunk of 128
// (expert 128 c + 4 l + i), so when the group size S is a power of two with
// 4 <= S <= 128, a group is exactly the lane segment [S/4 lanes] of one chunk:
// - each group's top two: the lane's top two of its 4 values, then
//   log2(S/4) butterfly steps inside the segment (two shuffles each);
//   group score = top1 + top2 (of the cheap scores; on the exact path of
//   the keys, scores recovered from them as s05 does);
// - lane g < G gathers group g's score; its rank among the groups (larger
//   score, then lower group) decides the topk_group kept groups (one ballot);
// - the cut stands when the weakest kept group leads the best dropped one
//   by more than twice the cheap group score's error and the row is finite;
//   then s09's filter among the kept experts (dropped ones are -inf);
// - otherwise the exact cut: every key exact, the same butterflies on keys,
//   dropped experts taken, the k-th largest lane maximum key L as an exact
//   bound (candidates: keys >= L, no margin); more than 32 candidates
//   (ties) -> s05's exact path;
// - from the candidates on, s09's path (compaction, exact reload, ranks,
//   slots).
// Persistent warps with the next row in flight, the bias in shared memory.
// Thread mapping: 4 warps per CTA; the CTA count from the occupancy API.
// Shared memory: 2 x E bias values + 96 words per warp (<= 9.5 KiB).
// Limits: groups 2..32 with S = E / G a power of two in [4, 128]; E one of
// 128, 256, 384, 512, 768, 1024 (a VPT bucket filled exactly); k <= 32;
// rows aligned for the vector loads (16 bytes f32, 8 bytes bf16/f16; the
// stride a multiple of 4); any dtypes; PDL. The rest stays with s07 / s05.
// Prediction (H100, deepseek-v3, f32), first version (every key exact):
// ~600 warp instructions per token against s07's ~2000: ~60 us at
// T = 65536 (~4x s07, ~37 % of copy; the goal is ~30 us); T = 1 ~3.5 us
// (s07: 8.0). Measured: 81.2 us, 921 instructions per token, T = 1 4.03 us.
// Second version (this file): the cut from the cheap scores when the gap
// between the last kept and the first dropped group exceeds twice their
// error (else the first version's exact cut), then s09's filter: 65.1 us
// (3.85x s07, 36.5 % of copy), 698 instructions per token, T = 1 3.60 us
// (commit 41c6093); 3.33 us with the first row issued before the bias.
#include <climits>

#include "../detail/launch.cuh"
#include "../detail/grouped.cuh"
#include "../detail/streaming.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::expert_of;
using detail::RouteParams;
constexpr int warps_per_cta = detail::streaming_warps_per_cta;

template <int VPT>
constexpr int grouped_min_ctas_per_sm() { return VPT <= 8 ? 8 : VPT <= 12 ? 6 : 1; }

template <int VPT, int TopK>
__global__ void __launch_bounds__(warps_per_cta * 32, grouped_min_ctas_per_sm<VPT>()) grouped_kernel(RouteParams p) {
  static_assert(VPT % 4 == 0, "vector loads: 4 experts per lane per chunk");
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ __align__(16) float bias_of[32 * VPT];
  __shared__ __align__(16) float half_plus_bias_of[32 * VPT];
  __shared__ detail::WarpScratch scratch_of[warps_per_cta];
  const int lane = threadIdx.x % 32;
  detail::WarpScratch& scratch = scratch_of[threadIdx.x / 32];
  const detail::GroupLayout layout(p, lane);
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  float logits[VPT];
  detail::wait_for_producer();  // PDL: the logits are complete from here on
  if (token < p.tokens) detail::load_row<VPT, 4>(p, token * p.row_stride, lane, logits);
  detail::release_dependents();
  detail::fill_bias<VPT>(p, bias_of, half_plus_bias_of);  // while the first row is in flight
  __syncthreads();  // the only CTA barrier: warps leave independently below
  if (token >= p.tokens) return;

  for (; token < p.tokens; token += stride) {
    float next[VPT];
    if (token + stride < p.tokens) detail::load_row<VPT, 4>(p, (token + stride) * p.row_stride, lane, next);

    detail::route_grouped_token<VPT>(
        p, token, lane, topk, logits,
        [&](int j) { return fmaf(detail::approx_half_tanh(logits[j]), 0.5f, half_plus_bias_of[expert_of<4>(lane, j)]); },
        detail::approx_score_error, [&](int j) { return bias_of[expert_of<4>(lane, j)]; }, layout,
        [&](unsigned candidates, int first, int total) {
          detail::route_candidates<4>(p, token, lane, candidates, first, total, topk, bias_of, scratch);
        });
#pragma unroll
    for (int j = 0; j < VPT; ++j) logits[j] = next[j];
  }
}

}  // namespace

std::string s10_grouped_streaming_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView&) {
  const int size = config.groups > 0 ? config.experts / config.groups : 0;
  if (config.groups < 2 || config.groups > 32)
    return "groups must be in [2, 32] (s09 routes ungrouped shapes), got " + std::to_string(config.groups);
  if (config.experts != 128 && config.experts != 256 && config.experts != 384 && config.experts != 512 &&
      config.experts != 768 && config.experts != 1024)
    return "experts must fill a compiled bucket of 4 x 32 values per lane (128, 256, 384, 512, 768 or 1024), got " +
           std::to_string(config.experts);
  if (size < 4 || size > 128 || (size & (size - 1)) != 0)
    return "experts per group must be a power of two in [4, 128], got " + std::to_string(size);
  if (config.topk > 32) return "topk must be <= 32, got " + std::to_string(config.topk);
  if (!detail::vector_loads_fit(config, logits, config.experts / 32))
    return "vector loads need the row stride a multiple of 4 and rows aligned to 4 elements";
  return {};
}

void s10_grouped_streaming_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                  const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    if constexpr (VPT % 4 == 0) {
      const auto run = [&](auto kernel) { detail::launch_streaming(kernel, params, stream, options); };
      if (config.topk == 8) run(grouped_kernel<VPT, 8>);
      else run(grouped_kernel<VPT, 0>);
    }
  });
}

}  // namespace moegate::cuda::kernels
