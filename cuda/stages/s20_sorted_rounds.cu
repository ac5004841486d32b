// s20_sorted_rounds — decode sizes, few experts: one warp per token, every
// key exact and sorted in its lane, and the k rounds are the selection.
//
// Idea: s12 and s14 reach the k slots through a chain of five phases (cheap
// scores, the bound's rounds, the candidates' positions, their exact scores,
// their ranking through shared memory), and a token the filter cannot
// settle takes s05's exact path: at T = 64 the slowest of 64 tokens sets
// the time, and s14 grows from 2.41 to 2.66 us on GLM-4.5 (H200, 7f1b94e)
// where the Triton router, whose work does not depend on the data, grows
// from 2.43 to 2.56. Here the chain is one phase: each lane scores all its
// values exactly (detail::sigmoids_with: the V quotients overlap, bit for
// bit the IEEE division's), sorts its (key, expert, score) entries best
// first (detail::Held), and the warp runs k rounds over the lanes' heads.
// A round's chain is one reduction (REDUX max), a comparison and the pop by
// every lane holding the maximum; the ballot that names the winner's lane
// and the two shuffles that bring its expert and score to lane r run beside
// the chain, not in it; the weights are summed in selection order. Equal
// maxima in two lanes (the ballot holds more than one bit) pop both heads
// in one round: the slots from there on are not the contract's, so such a
// token is routed again by s05's exact path (route_exactly_out_of_line, the
// same in every lane) — rare but for crafted rows (all equal, repeated
// values). No bound, no candidates, no ranking, no shared memory. s05 ran
// rounds over unsorted keys: two reductions per round and a serial rescan
// of the winner's values (3.03 us at GLM-4.5, T = 1).
// Thread mapping: warp = token, 2 warps per CTA; lane l owns experts
// l + 32 j, j < V (V = 1, 2, 4, 5, 8, 12 for E <= 32 ... 384), scalar loads.
// Shared memory: none. Registers: 32 to 64, no spills (96-byte frame for
// the out-of-line exact path).
// Limits: E <= 384 (the sort is V (V - 1) / 2 exchanges), k <= 32, no
// groups, f32/bf16/f16 logits and bias, any stride and alignment; PDL.
// Prediction (H200, graph replay, cold, f32), written before the first run:
// the chain behind the row's round trip is V serial IEEE divisions (~40
// cycles each), the sort (V deep, ~15 cycles a level), k rounds of a
// reduction, a ballot and a select (~60 cycles each), the last shuffle and
// the division: at GLM-4.5 (V = 5, k = 8) ~200 + 75 + 480 + 100 = ~850
// cycles, ~0.45 us, so T = 1 ~0.1 us below s14 (2.41) and T = 64 ~0.2 us
// below it, flat in T like the Triton router: ~2.3 / ~2.45 us against its
// 2.43 / 2.56. mimo-v2-flash (V = 8) about the same; kimi-k2 (V = 12, 66
// exchanges) slower. At 65536 tokens ~450 warp instructions per token at
// GLM-4.5 (s14 ~700): ~35 us against s12's 41.7.
// Measured (H200, 1980 MHz, stage_bench graph replay, cold, f32, one run
// each, uncommitted trees on 95e5429): the first version (the winner's lane
// found by a second reduction inside the chain, IEEE divisions) took
// 2.56 / 2.70 / 2.85 us at GLM-4.5, T = 1 / 64 / 512, slower than s14
// (2.26 / 2.49 / 2.60). A latency probe on the same card gave the reasons:
// REDUX 47.5 cycles, SHFL 30.7, VOTE 23.8, and five independent IEEE
// divisions 407 cycles (one 82: each waits behind the previous one's branch
// to its slow path). With the ballot off the chain and the overlapped exact
// quotients: 2.00 / 2.08 / 2.40 us against s14's 2.26 / 2.51 / 2.58 and
// s12's 2.35 / 2.51 / 2.62 in the same run: 0.26 to 0.43 us faster, flat
// to T = 64 as predicted, but 6.90 us at 4096 and 59.7 at 65536 against
// s12's 4.34 and 41.3 (the k rounds are the whole warp's for one token;
// s12's filter spends them on a few candidates), so the dispatch takes s20
// for E <= 160, k <= 8 up to 512 tokens. mimo-v2-flash (V = 8): 2.33 / 2.41
// / 2.69 against s19's 2.15 at T = 1 and s12's 2.60 at 512; kimi-k2
// (V = 12): 3.02 / 3.12 / 3.51, the slowest there (the sort): neither is
// dispatched to it. The results run (H200, 60e044b, docs/results.md): GLM-4.5
// 2.17 / 2.26 / 2.59 us at T = 1 / 64 / 512 against s14's 2.43 / 2.70 / 2.77
// (every time in that run higher: floor_latency 1.38 against 1.19 us).
#include "../detail/held_experts.cuh"
#include "../detail/lane_lists.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::RouteParams;

constexpr int warps_per_cta = 2;

template <int V, int TopK, detail::Reciprocal reciprocal>
__global__ void __launch_bounds__(warps_per_cta * 32) sorted_rounds_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  detail::Held<V> held = detail::load_held<V, 32, reciprocal>(p, token, lane);

  // The chain from one round to the next is the reduction, a comparison and
  // the pop; the winner's lane, expert and score follow beside it.
  int chosen = 0;
  float weight = 0.0f, sum = 0.0f;  // lane r < k: slot r; the scores summed in selection order
  bool tied = false;
#pragma unroll
  for (int round = 0; round < topk; ++round) {
    const std::uint32_t best = __reduce_max_sync(full_mask, held.key[0]);
    const bool holds = held.key[0] == best;
    const unsigned holders = __ballot_sync(full_mask, holds);
    tied |= (holders & (holders - 1)) != 0;
    const int winner = __ffs(holders) - 1;
    const int expert = __shfl_sync(full_mask, held.expert[0], winner);
    const float score = __shfl_sync(full_mask, held.score[0], winner);
    if (lane == round) chosen = expert, weight = score;
    sum += score;
    if (holds) held.pop();
  }
  // Equal maxima in several lanes left together: the slots from that round
  // on are not the contract's. The same in every lane (ballots); rare but
  // for crafted rows (all equal, repeated values).
  if (tied) return detail::route_exactly_out_of_line<V>(p, token, lane);
  detail::store_weighted(p, token, lane, chosen, weight, sum);
}

template <detail::Reciprocal reciprocal>
void launch_sorted_rounds(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                          const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int V = decltype(vpt)::value;
    if constexpr (V <= 12) {
      const auto run = [&](auto kernel) {
        detail::launch_kernel(kernel, blocks, warps_per_cta * 32, stream, options, params);
      };
      if (config.topk == 8) run(sorted_rounds_kernel<V, 8, reciprocal>);
      else run(sorted_rounds_kernel<V, 0, reciprocal>);
    }
  });
}

}  // namespace

std::string s20_sorted_rounds_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView&) {
  if (auto grid = detail::grid_limit_refusal(logits.tokens, warps_per_cta); !grid.empty()) return grid;
  if (config.experts > 384) return "experts must be <= 384 (the lane sort), got " + std::to_string(config.experts);
  if (config.topk > 32) return "topk must be <= 32, got " + std::to_string(config.topk);
  if (config.groups > 1) return "no groups (groups must be 1), got " + std::to_string(config.groups);
  return {};
}

void s20_sorted_rounds_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                              const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  launch_sorted_rounds<detail::Reciprocal::exact>(config, logits, bias, output, stream, options);
}

// s20b_approximate_reciprocal — ablation: s20 with the sigmoid's 1 / (1 + e)
// taken by rcp.approx.f32 (within 1 ulp; above y = 2^125 the division, as in
// s20) instead of the IEEE-rounded quotient, the error docs/semantics.md's
// score_ulps = 4 budgets for: what exactness costs once the quotients
// overlap. Prediction (written against s20's first version, serial IEEE
// divisions): ~150 cycles (~0.08 us) less at T = 1 on GLM-4.5. Measured
// (H200): without the guard above 2^125 (wrong there: sigmoid_tests) 0.17 us
// less than s20 (1.83 against 2.00 at T = 1); with it, in the results run at
// 60e044b, none (2.17 / 2.27 / 2.60 against 2.17 / 2.26 / 2.59 at T = 1 / 64
// / 512): the guard cost the time, not the two refinements, and exact scores
// cost nothing measurable. Weights within the comparator's bound.
std::string s20b_approximate_reciprocal_refusal(const RouterConfig& config, const LogitsView& logits,
                                                const BiasView& bias) {
  return s20_sorted_rounds_refusal(config, logits, bias);
}

void s20b_approximate_reciprocal_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                        const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  launch_sorted_rounds<detail::Reciprocal::approximate>(config, logits, bias, output, stream, options);
}

}  // namespace moegate::cuda::kernels
