// s11_paired_tokens — s09 with two tokens per warp, their serial chains interleaved.
//
// Idea: s09 is issue/latency-bound, not memory-bound (docs/stages.md, "The
// memory floor": 73.6 % of copy against the floor's 90.6 % at kimi-k2,
// T = 65536; ~30 % of cycles with no eligible warp). Its longest dependent
// chains are per token: k reduction rounds for the bound, a 5-step prefix
// scan, the rank pass. A warp that routes two tokens at once can issue the
// second token's chain into the first one's stalls:
// - the two rows (adjacent tokens t, t + 1) load together, with the next
//   pair in flight;
// - the cheap scores of both are computed in place of their logits;
// - the k bound rounds alternate between the two tokens (two independent
//   reduction chains);
// - one prefix scan serves both (the two candidate counts packed in 16-bit
//   halves of one word);
// - the exact routing of the candidates (route_candidates) runs for one
//   token, then the other.
// Thread mapping: 4 warps per CTA, persistent grid; warp w routes pairs
// (2w, 2w + 1), (2w + 2W, ...). Shared memory: as s09 plus a second scratch
// per warp. Limits: s09's vector path only (E fills its bucket, VPT % 4 == 0,
// aligned rows), no groups, k <= 32 (the default dispatch would use k <= 16).
// Prediction vs s09 (H100, kimi-k2, f32, T = 65536): the same instructions
// per token minus half the scan (~15) and the filter's latency hidden; at
// ~80 registers 6 CTAs per SM (24 warps, 48 tokens in flight instead of 32):
// ~10 % faster at large T (~43 us, ~80 % of copy); T = 1 unchanged.
#include "../detail/launch.cuh"
#include "../detail/streaming.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::RouteParams;
constexpr int warps_per_cta = detail::streaming_warps_per_cta;

// CTAs per SM the register cap aims at: two rows and their successors in
// flight take 4 VPT registers, so wider rows get fewer CTAs (no spills up
// to VPT 12; ptxas reports in cuda/resource-budget.txt).
template <int VPT>
constexpr int paired_min_ctas() { return VPT <= 8 ? 6 : VPT == 12 ? 5 : VPT == 16 ? 4 : 2; }

template <int VPT, int TopK>
__global__ void __launch_bounds__(warps_per_cta * 32, paired_min_ctas<VPT>()) paired_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ float bias_of[32 * VPT];
  __shared__ __align__(16) float half_plus_bias_of[32 * VPT];
  __shared__ detail::WarpScratch scratch_of[warps_per_cta][2];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const std::int64_t stride = 2 * static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = 2 * (blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + warp);
  detail::wait_for_producer();
  detail::fill_bias<VPT>(p, bias_of, half_plus_bias_of);
  __syncthreads();
  if (token >= p.tokens) return;
  float first[VPT], second[VPT] = {};
  detail::load_row<VPT, 4>(p, token * p.row_stride, lane, first);
  if (token + 1 < p.tokens) detail::load_row<VPT, 4>(p, (token + 1) * p.row_stride, lane, second);
  detail::release_dependents();

  for (; token < p.tokens; token += stride) {
    float next_first[VPT], next_second[VPT] = {};
    if (token + stride < p.tokens) detail::load_row<VPT, 4>(p, (token + stride) * p.row_stride, lane, next_first);
    if (token + stride + 1 < p.tokens)
      detail::load_row<VPT, 4>(p, (token + stride + 1) * p.row_stride, lane, next_second);

    // 1. Cheap biased scores of both rows, in place, and each lane's maxima.
    float max_first = -INFINITY, max_second = -INFINITY;
#pragma unroll
    for (int j = 0; j < VPT; ++j) {
      const float half_plus_bias = half_plus_bias_of[detail::expert_of<4>(lane, j)];
      first[j] = fmaf(detail::approx_half_tanh(first[j]), 0.5f, half_plus_bias);
      second[j] = fmaf(detail::approx_half_tanh(second[j]), 0.5f, half_plus_bias);
      max_first = fmaxf(max_first, first[j]);
      max_second = fmaxf(max_second, second[j]);
    }
    // 2. The two bounds, their reduction rounds alternating.
    std::uint32_t key_first = number_key(max_first), key_second = number_key(max_second);
    std::uint32_t best_first = 0, best_second = 0;
    for (int round = 0; round < topk; ++round) {
      best_first = __reduce_max_sync(full_mask, key_first);
      best_second = __reduce_max_sync(full_mask, key_second);
      if (key_first == best_first) key_first = 0;
      if (key_second == best_second) key_second = 0;
    }
    bool usable_first = false, usable_second = false;
    const unsigned candidates_first = detail::candidates_at(first, detail::filter_threshold(best_first, usable_first));
    const unsigned candidates_second =
        detail::candidates_at(second, detail::filter_threshold(best_second, usable_second));
    // 3. One scan for both lists: counts packed in 16-bit halves (<= 32 VPT each).
    const int counts = __popc(candidates_first) | __popc(candidates_second) << 16;
    int inclusive = counts;
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
      const int below = __shfl_up_sync(full_mask, inclusive, d);
      if (lane >= d) inclusive += below;
    }
    const int exclusive = inclusive - counts;
    const int totals = __shfl_sync(full_mask, inclusive, 31);
    // 4. Each token from its candidates (or the exact path), one after the other.
    const auto route = [&](std::int64_t t, unsigned candidates, int start, int total, bool usable,
                           detail::WarpScratch& scratch) {
      if (usable && total <= 32 && total >= topk)
        detail::route_candidates<4>(p, t, lane, candidates, start, total, topk, bias_of, scratch);
      else
        detail::route_exactly<VPT, false>(p, t, lane);
    };
    route(token, candidates_first, exclusive & 0xFFFF, totals & 0xFFFF, usable_first, scratch_of[warp][0]);
    if (token + 1 < p.tokens)
      route(token + 1, candidates_second, exclusive >> 16, totals >> 16, usable_second, scratch_of[warp][1]);
#pragma unroll
    for (int j = 0; j < VPT; ++j) first[j] = next_first[j], second[j] = next_second[j];
  }
}

}  // namespace

std::string s11_paired_tokens_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  const std::string why = s09_streaming_warps_refusal(config, logits, bias);
  if (!why.empty()) return why;
  const int values_per_lane = (config.experts + 31) / 32;
  int bucket = 1;
  detail::with_values_per_lane(config.experts, [&](auto vpt) { bucket = decltype(vpt)::value; });
  if (bucket % 4 != 0 || !detail::vector_loads_fit(config, logits, bucket))
    return "vector rows only: E must fill a bucket of 4, 8, 12, 16, 24 or 32 values per lane (E = 128, 256, "
           "384, 512, 768, 1024), rows 16-byte aligned with a stride that is a multiple of 4 (got E = " +
           std::to_string(config.experts) + ", " + std::to_string(values_per_lane) + " values per lane, stride " +
           std::to_string(logits.row_stride) + ")";
  return {};
}

void s11_paired_tokens_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                              const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    if constexpr (VPT % 4 == 0) {
      const auto run = [&](auto kernel) { detail::launch_streaming(kernel, params, stream, options, 2); };
      if (config.topk == 8) return run(paired_kernel<VPT, 8>);
      run(paired_kernel<VPT, 0>);
    }
  });
}

}  // namespace moegate::cuda::kernels
