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
#include "../detail/launch.cuh"
#include "../detail/streaming.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::RouteParams;
constexpr int warps_per_cta = 2;

template <int VPT, int Chunk, int TopK>
__global__ void __launch_bounds__(warps_per_cta * 32) short_chain_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ detail::CarriedScratch scratch_of[warps_per_cta];
  detail::CarriedScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
  detail::load_row_and_bias<VPT, Chunk>(p, token, lane, logits, bias);
  detail::release_dependents();

  float approx[VPT];
  const float lane_max = detail::cheap_scores<VPT, Chunk>(p, lane, logits, bias, approx);
  bool usable = false;
  const unsigned candidates = detail::filter_candidates_in_halves(approx, lane_max, topk, lane, usable);
  int first = 0;
  const int total = detail::count_candidates_by_planes<VPT>(candidates, lane, first);
  if (!usable || total > 32 || total < topk) return detail::route_exactly<VPT, false>(p, token, lane);
  detail::route_carried_candidates<VPT, Chunk>(p, token, lane, candidates, first, total, topk, logits, bias, scratch);
}

}  // namespace

std::string s14_decode_short_chain_refusal(const RouterConfig& config, const LogitsView& logits,
                                           const BiasView& bias) {
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s14_decode_short_chain_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                   const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    detail::with_filter_kernel<VPT>(config, logits, [&](auto chunk, auto topk) {
      detail::launch_kernel(short_chain_kernel<VPT, decltype(chunk)::value, decltype(topk)::value>, blocks,
                            warps_per_cta * 32, stream, options, params);
    });
  });
}

}  // namespace moegate::cuda::kernels
