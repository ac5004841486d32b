// s12_decode_warps — decode sizes: s09's filter in one warp per token, no reload.
//
// Idea: at T <= 512 a gate call is one warp's dependent chain. s09 (the
// fastest stage there) fills the bias through shared memory behind a CTA
// barrier, then loads the row, and reloads every candidate's logit for its
// exact score. Here each lane requests its row values and its bias values
// at once and keeps both in registers:
// - cheap biased scores, the bound (the k-th largest lane maximum) and the
//   candidate filter are s09's, bit for bit (same arithmetic, same margin);
// - the candidates (usually k to k + 3) are compacted into one lane each
//   with their logit and bias through shared memory, so the exact score
//   needs no reload; ranked and stored by s09's epilogue (store_ranked);
// - a token the filter cannot settle takes s05's exact path (row reloaded).
// Thread mapping: one warp per token, CTAs of 2 warps (T = 512 spreads over
// 256 CTAs), no persistence, no next-row prefetch; lane l owns experts
// 128 c + 4 l + i with 16-byte (f32) or 8-byte (16-bit) loads when E fills
// its bucket and the rows are aligned, l + 32 j otherwise; the bias is read
// with scalar loads in the same layout.
// Shared memory: 3 x 32 words of candidates + 64 words of slots per warp.
// Limits: as s09 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL (waits before the first read).
// First version (commit 8f46630, measured H200 in one run beside s09): exact
// scores and keys for every value (s05's load_keys), the bound on exact
// keys, no margin. Prediction ~2.0-2.2 us at T = 1 (kimi-k2); measured 3.58
// (s09 3.03), 3.72 at T = 64, 4.02 at T = 512: ncu (kimi-k2, T = 1) showed one
// warp issuing ~1000 instructions at ~7 cycles each (expf and an IEEE
// division for all 12 values per lane), while the saved round trip bought
// nothing (the bias and, at T = 1, the row are L2 hits: floor_latency 1.68
// = floor_memory 1.65 us).
// Prediction for this version (H200, kimi-k2, f32, graph replay): s09's
// instructions minus the bias fill, the CTA barrier and the reload, ~0.2-0.4
// us less than s09 at T <= 512 (~2.7 us at T = 1); slower than s09 from a
// few thousand tokens (no prefetch, no persistence): the dispatch decides.
// Measured (H200, commit 638e0fd, one run beside s09): kimi-k2 2.54 / 2.65 /
// 3.00 / 5.78 / 48.93 us at T = 1 / 64 / 512 / 4096 / 65536 (s09 2.98 /
// 3.18 / 3.65 / 6.13 / 46.34); mimo-v2-flash 2.28 at T = 1 (s09 2.63),
// 41.52 at 65536 (42.37); bf16 kimi-k2 2.69 at T = 1 (3.01).
// The kernel lives in detail/decode_warps.cuh (Chain::rounds_and_scan),
// shared with s14.
#include "../detail/decode_warps.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s12_decode_warps_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  if (auto grid = detail::grid_limit_refusal(logits.tokens, detail::decode_warps_per_cta); !grid.empty()) return grid;
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s12_decode_warps_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                             const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::launch_decode_warps<detail::Chain::rounds_and_scan>(config, logits, params, stream, options);
}

}  // namespace moegate::cuda::kernels
