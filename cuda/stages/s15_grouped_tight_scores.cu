// s15_grouped_tight_scores — s13 with a cheap score tight enough to settle
// nearly every group cut.
//
// Idea: s13's cut stands when the weakest kept group leads the best dropped
// one by more than 16 x the cheap score's error bound (2^-16 for s09's
// tanh.approx score) plus the sums' rounding; otherwise the token takes the
// exact path (exact sigmoid of every value, the cut on exact keys, the k
// rounds again), about 1.1 us on one warp. On the benchmark's inputs
// (normal logits, sigma 2, bias sigma 0.1, seed 1) that happens for 34 of
// 4096 DeepSeek V3 tokens, the first of them token 158, so every call of
// 256 tokens or more pays it once (s13: 2.83 us at T = 128, 3.94 at 256).
// Here the cheap score is 1 / (1 + ex2.approx(-x log2 e)) with rcp.approx
// (TightScore, approx_score.cuh: two MUFU ops instead of one, its error
// bounded by 2^-20 over all 2^32 inputs by the exhaustive test): the margin
// shrinks ~11x, and on the same inputs 2 of 4096 tokens stay unsettled,
// the first token 1020. The filter among the kept experts takes the same
// tighter margin. Everything else is s13's (grouped_decode_kernel).
// Thread mapping and shared memory: s13's (one warp per token, CTAs of 2
// warps, 160 words per warp).
// Limits: as s13 (groups 2..32 of a power-of-two size in [4, 128], E in
// {128, 256, 384, 512, 768, 1024}, k <= 32, aligned rows, any dtypes, PDL).
// Prediction (H200, deepseek-v3, f32, graph replay, cold): T = 256 and 512
// lose the exact path's ~1.1 us: ~2.95 / ~3.1 us against s13's 3.94 / 4.03;
// T <= 128 within 0.05 us of s13 (eight more MUFU ops per lane, latency
// mostly hidden); T = 65536 a few us slower (8 more MUFU per lane per token
// at 16 per clock per SM: ~4 us of MUFU throughput, partly hidden), so the
// dispatch decides per T.
// Measured (H200, commit f51b56b, the run behind docs/results.md): 2.62 /
// 2.79 / 2.87 / 2.90 / 3.02 / 5.96 / 54.16 us at T = 1 / 64 / 128 / 256 /
// 512 / 4096 / 65536 (s13 2.58 / 2.76 / 2.83 / 3.93 / 4.01 / 6.73 /
// 54.52): the step at 256 is gone (it moved to 1024: token 1020 is the
// first cut the tight score cannot settle); 65536 is not slower (the MUFU
// is not what limits s13 there). The tight score's largest error over all
// inputs: 2^-23.01. The dispatch takes s15 for every grouped shape.
#include "../detail/grouped.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s15_grouped_tight_scores_refusal(const RouterConfig& config, const LogitsView& logits,
                                             const BiasView& bias) {
  return s10_grouped_streaming_refusal(config, logits, bias);
}

void s15_grouped_tight_scores_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_grouped_decode<detail::TightScore>(config, detail::make_params(config, logits, bias, output), stream,
                                                    options);
}

}  // namespace moegate::cuda::kernels
