// s13_grouped_decode_warps — s10's group cut in s12's shape, for decode sizes.
//
// Idea: what s12 did for s09, done for s10 (DeepSeek V3 and the other
// grouped shapes s10 takes). At T <= 512 s10 is one warp's chain behind a
// CTA-wide bias fill (four warps load the bias into shared memory, then a
// barrier), and every candidate's logit is reloaded for its exact score.
// Here each lane requests its row values and its bias values at once and
// keeps both in registers; the cut, the filter and the exact fallback are
// s10's own code (route_grouped_token in detail/grouped.cuh), handed the
// register bias, and the candidates are routed with their logit and bias
// carried through shared memory (route_carried_candidates, as in s12).
// Thread mapping: one warp per token, CTAs of 2 warps, no persistence, no
// next-row prefetch; lane l owns experts 128 c + 4 l + i (s10's layout: a
// group is a lane segment of one chunk).
// Shared memory: s12's carried-candidate scratch, 160 words per warp.
// Limits: as s10 (groups 2..32 of a power-of-two size in [4, 128], E in
// {128, 256, 384, 512, 768, 1024}, k <= 32, aligned rows, any dtypes, PDL).
// Prediction (H200, deepseek-v3, f32, graph replay, cold): s12 took 0.35-0.65
// us off s09 at T <= 512 by the same two changes, so ~2.8 us at T = 1 and
// ~3.0 at T = 64 (s10 3.24 / 3.48, stage_bench at 638e0fd); T = 512 near s10's
// 4.7 us, whose time is set by the few tokens whose cut the cheap scores
// cannot settle (the exact path), which this stage does not shorten.
// Measured: not yet (written after the session's device time was spent;
// not in the default dispatch until measured).
#include "../detail/grouped.cuh"
#include "../detail/launch.cuh"
#include "../detail/streaming.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::RouteParams;
constexpr int warps_per_cta = 2;

template <int VPT, int TopK>
__global__ void __launch_bounds__(warps_per_cta * 32) grouped_decode_kernel(RouteParams p) {
  static_assert(VPT % 4 == 0, "vector loads: 4 experts per lane per chunk");
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ detail::CarriedScratch scratch_of[warps_per_cta];
  detail::CarriedScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const detail::GroupLayout layout(p, lane);
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
  detail::load_row_and_bias<VPT, 4, true>(p, token, lane, logits, bias);  // E fills VPT
  detail::release_dependents();

  detail::route_grouped_token<VPT>(
      p, token, lane, topk, logits, [&](int j) { return 0.5f + bias[j]; }, [&](int j) { return bias[j]; }, layout,
      [&](unsigned candidates, int first, int total) {
        detail::route_carried_candidates<VPT, 4>(p, token, lane, candidates, first, total, topk, logits, bias, scratch);
      });
}

}  // namespace

std::string s13_grouped_decode_warps_refusal(const RouterConfig& config, const LogitsView& logits,
                                             const BiasView& bias) {
  return s10_grouped_streaming_refusal(config, logits, bias);
}

void s13_grouped_decode_warps_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    if constexpr (VPT % 4 == 0) {
      const auto run = [&](auto kernel) {
        detail::launch_kernel(kernel, blocks, warps_per_cta * 32, stream, options, params);
      };
      if (config.topk == 8) run(grouped_decode_kernel<VPT, 8>);
      else run(grouped_decode_kernel<VPT, 0>);
    }
  });
}

}  // namespace moegate::cuda::kernels
