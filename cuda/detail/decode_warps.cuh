// One warp per token at decode sizes for the ungrouped shapes (s12, s14):
// CTAs of two warps, no persistence; each lane requests its row values and
// bias values at once and keeps both in registers; s09's cheap scores and
// filter, the candidates routed with their logit and bias carried (no
// reload); s05's exact path for a token the filter cannot settle. Chain
// picks how the bound and the candidates' positions are found: s12's k
// rounds and prefix scan, or s14's half-warp rounds and ballot planes.
#pragma once

#include "launch.cuh"
#include "streaming.cuh"

namespace moegate::cuda::detail {

enum class Chain { rounds_and_scan, halves_and_planes };

inline constexpr int decode_warps_per_cta = 2;

template <int VPT, int Chunk, int TopK, Chain chain>
__global__ void __launch_bounds__(decode_warps_per_cta * 32) decode_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ CarriedScratch scratch_of[decode_warps_per_cta];
  CarriedScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(decode_warps_per_cta) + threadIdx.x / 32;
  wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
  load_row_and_bias<VPT, Chunk>(p, token, lane, logits, bias);
  release_dependents();

  float approx[VPT];
  const float lane_max = cheap_scores<VPT, Chunk>(p, lane, logits, bias, approx);
  bool usable = false;
  unsigned candidates = 0;
  int first = 0, total = 0;
  if constexpr (chain == Chain::rounds_and_scan) {
    candidates = filter_candidates(approx, lane_max, topk, usable);
    total = count_candidates(candidates, lane, first);
  } else {
    candidates = filter_candidates_in_halves(approx, lane_max, topk, lane, usable);
    total = count_candidates_by_planes<VPT>(candidates, lane, first);
  }
  if (!usable || total > 32 || total < topk) return route_exactly<VPT, false>(p, token, lane);
  route_carried_candidates<VPT, Chunk>(p, token, lane, candidates, first, total, topk, logits, bias, scratch);
}

// The kernel for the shape (with_filter_kernel: vector loads where they
// fit, k = 8 compiled as a constant there), one warp per token.
template <Chain chain>
void launch_decode_warps(const RouterConfig& config, const LogitsView& logits, const RouteParams& params,
                         cudaStream_t stream, const LaunchOptions& options) {
  const auto blocks = static_cast<unsigned>((params.tokens + decode_warps_per_cta - 1) / decode_warps_per_cta);
  with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    with_filter_kernel<VPT>(config, logits, [&](auto chunk, auto topk) {
      launch_kernel(decode_kernel<VPT, decltype(chunk)::value, decltype(topk)::value, chain>, blocks,
                    decode_warps_per_cta * 32, stream, options, params);
    });
  });
}

}  // namespace moegate::cuda::detail
