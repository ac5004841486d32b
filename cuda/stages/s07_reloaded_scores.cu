// s07_reloaded_scores — s06 with fewer live registers, for more warps.
//
// Idea: Nsight Compute on s05/s06 at T = 65536: instruction-issue bound with
// 31 % of scheduler cycles finding no eligible warp, at 28 warps per SM (72
// registers at E = 384). s06 keeps every expert's score in registers only to
// hand the k winners' scores to the weight epilogue. Here no score is kept:
// after selection, lane j < k reloads its winner's logit (an L1/L2 hit: the
// row was just read) and recomputes s with the same gate_sigmoid, so the
// weights are bit for bit s06's. The kernel is s06's
// (cuda/detail/lazy_candidates.cuh) with KeepScores = false.
// Thread mapping, shared memory, limits: as s06 (and PDL).
// Dropping the scores alone gives 65 registers at VPT = 12, which the
// allocation granularity rounds to 72 (no gain), so the kernel also asks
// for 8 CTAs per SM (__launch_bounds__ min blocks): at most 64 registers.
// Prediction vs s06: 32 warps per SM instead of 28 at E <= 384, ~1.1x at
// T = 65536; ~0.3 us slower at T = 1 (one more dependent load).
#include "../detail/lazy_candidates.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s07_reloaded_scores_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s05_warp_registers_refusal(config, logits, bias);
}

void s07_reloaded_scores_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_lazy<false>(detail::make_params(config, logits, bias, output), config.experts, stream, options);
}

}  // namespace moegate::cuda::kernels
