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
// Measured (H200, commit 7aa2d66, one run beside s10): 2.59 / 2.74 / 3.98 /
// 6.70 / 53.98 us at T = 1 / 64 / 512 / 4096 / 65536 (s10 3.26 / 3.49 /
// 4.76 / 7.70 / 65.17): the prediction held at T <= 64, and s13 leads at
// every T, so the dispatch takes it for every grouped shape. The jump
// between T = 128 (2.83) and 256 (3.94) is one token: token 158 of the
// benchmark's inputs is the first whose cut the cheap scores cannot
// settle, and its exact path sets the call's time (s15).
// The kernel and launcher live in detail/grouped.cuh (grouped_decode_kernel
// on the HalfTanhScore policy), shared with s15.
#include "../detail/grouped.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s13_grouped_decode_warps_refusal(const RouterConfig& config, const LogitsView& logits,
                                             const BiasView& bias) {
  if (auto grid = detail::grid_limit_refusal(logits.tokens, detail::grouped_decode_warps_per_cta); !grid.empty())
    return grid;
  return s10_grouped_streaming_refusal(config, logits, bias);
}

void s13_grouped_decode_warps_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_grouped_decode<detail::HalfTanhScore>(config, detail::make_params(config, logits, bias, output),
                                                       stream, options);
}

}  // namespace moegate::cuda::kernels
