// s14_decode_short_chain — s12 with a shorter dependent chain per token.
//
// Idea: at T = 1 s12 is one warp's chain of dependent instructions behind
// one memory round trip (0.87 us above floor_latency, kimi-k2, H200). Two
// links of that chain are serial only by habit:
// - the bound: s12 takes the k-th largest lane maximum in k dependent
//   warp reductions; here each half-warp takes its own k/2-th largest in
//   the same rounds (two independent reductions per round, k/2 rounds) and
//   the bound is the smaller (filter_candidates_in_halves: still >= k
//   values above it; about 2 more candidates per token);
// - the candidates' positions: s12's prefix scan is five dependent
//   shuffles; here each lane's count goes out by bit planes, one ballot
//   per bit, all independent (count_candidates_by_planes).
// Everything else is s12's: one warp per token, CTAs of 2 warps, row and
// bias in registers, candidates carried with their logit and bias, s09's
// rank pass and epilogue, s05's exact path for a token the filter cannot
// settle.
// Thread mapping and shared memory: s12's (160 words per warp).
// Limits: as s12 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL.
// Prediction (H200, graph replay, cold, f32): the bound's chain from 8 to 4
// reductions (~40 cycles each) and the scan's from ~6 dependent shuffles to
// one round of ballots: ~250 cycles, ~0.12 us less than s12 at T <= 512
// (kimi-k2 ~2.4 us at T = 1 against 2.54); no change from 4096 tokens,
// where the instructions, not their chain, set the time.
// Measured (H200, commit f51b56b, one run beside s12): kimi-k2 2.49 / 2.48 /
// 2.57 / 2.69 / 2.98 / 5.98 / 50.31 us at T = 1 / 4 / 16 / 64 / 512 / 4096 /
// 65536 (s12 2.57 / 2.55 / 2.57 / 2.63 / 2.99 / 5.74 / 49.08); mimo-v2-flash
// 2.25 at T = 1 (2.29). The prediction failed in size: ncu (graph replay,
// T = 1) shows 4412 -> 4009 active cycles but 652 -> 698 instructions, and
// the looser bound costs instructions as T grows. The dispatch takes s14
// up to 16 tokens.
// The kernel is s12's (detail/decode_warps.cuh) with Chain::halves_and_planes.
#include "../detail/decode_warps.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s14_decode_short_chain_refusal(const RouterConfig& config, const LogitsView& logits,
                                           const BiasView& bias) {
  if (auto grid = detail::grid_limit_refusal(logits.tokens, detail::decode_warps_per_cta); !grid.empty()) return grid;
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s14_decode_short_chain_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                   const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::launch_decode_warps<detail::Chain::halves_and_planes>(config, logits, params, stream, options);
}

}  // namespace moegate::cuda::kernels
