// s19_warp_team — decode sizes: one CTA of eight warps per token, every key
// exact, the bound from each warp's best few, the candidates ranked by the
// whole CTA.
//
// Idea: at T = 1 every one-warp stage is one warp's chain of dependent
// instructions, and for wide top-k that chain grows with k and with the
// values per lane: s18 takes 4.39 us at E = 512, k = 22 and 5.69 at
// E = 1024, k = 32 (H200, 331a172) against kimi-k2's 2.66. Issue #16 asks
// for 3.66. Here eight warps share one token, so each thread holds at most
// 4 experts (thread t: experts t + 256 j) and every step of the chain is
// short:
// - every value gets its exact score and key at once (no cheap score, no
//   margin, no exact path for unsettled tokens): 4 sigmoids per thread in
//   parallel instead of 16-32 values per lane;
// - each thread sorts its (key, expert) pairs, best first (a sorting
//   network of at most 5 exchanges); each warp pops its heads for
//   r = ceil(k / active warps) rounds, one reduction per round (equal maxima
//   leave together): every round's maximum stands for at least one distinct
//   expert, so the k-th largest of the round maxima, L, has k experts at or
//   above it; r is 4 at k = 32, 3 at k = 22 (s18: k rounds);
// - the candidates (key >= L: a prefix of each thread's sorted list) go to
//   shared memory as ranked (key, expert) keys, placed by one shared atomic
//   per warp; each candidate's rank is counted by four lanes over the
//   candidates (simulated, normal inputs: 57 candidates on average at
//   E = 1024, k = 32, 32 at E = 512, k = 22, 34 at E = 1024, k = 16), ranks
//   < k write their slot;
// - more than 256 candidates (many equal keys at L, or a row whose warps
//   hold very different values: all-equal rows with E > 256) -> k rounds of
//   a CTA-wide arg-max over the sorted lists, the exact rounds (correct,
//   ~2-3 us slower); warp 0 sums the slots in selection order and stores.
// Three CTA barriers per token: the round maxima, the candidates, the slots
// (the exact rounds add one per round).
// Thread mapping: CTA = token, 256 threads; thread t owns experts t + 256 j,
// j < V (V = 1, 2, 4 for E <= 256, 512, 1024), scalar loads (coalesced:
// consecutive threads, consecutive experts).
// Shared memory: 256 candidates (12 bytes each), 64 round maxima, 32 slots,
// the exact rounds' 2 x 8 warp bests: 3728 bytes per CTA.
// Limits: E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and bias, any
// stride and alignment, fewer than 2^31 tokens (one CTA each); PDL.
// Prediction (H200, graph replay, cold, f32), written before the first run:
// behind the row's one round trip (floor_latency ~1.7 us) the chain is the
// sigmoids (~150 cycles), the sort and rounds (~200), three barriers
// (~150), the k-th largest of <= 39 maxima (~150), the candidates (~100),
// the ranking (~150), the sum and the division (~150): ~1100 cycles,
// ~0.6 us. So T = 1 at ~2.5-3.0 us for every wide shape (E = 1024, k = 32:
// ~3.0 against s18's 5.69), inside issue #16's 3.66; T = 64 the same (64
// CTAs, one per SM). Each token costs ~8 x 300 = ~2400 warp instructions
// against s18's 830, so from a few hundred tokens on, when the CTAs no
// longer fit on the SMs at once, s18 wins: the crossover expected between
// 512 and 4096 tokens.
// Measured (H200, graph replay, cold, f32, stage_bench, each run beside s12,
// s14 and s18 on the working tree on cd83689). First version (L always by
// counting, the ranking one 8-byte load per comparison): T = 1 3.50 us at
// E = 1024, k = 32, 3.05 at 512 / 22, 3.11 at 1024 / 16 and 896 / 16, 2.85
// at 512 / 16: inside 3.66 but above the prediction at k = 32. Second
// version (this one: L as one minimum when the maxima number k, and the
// ranking two keys per 16-byte load): T = 1 / 64 / 256 / 512 / 4096
// E = 1024, k = 32: 2.99 / 3.54 / 4.61 / 6.18 / 27.9 (s18 5.51 / 6.18 /
// 6.45 / 6.97 / 16.8; floor_latency 2.68 at T = 1); E = 512, k = 22: 2.98 /
// 3.16 / 3.65 / 5.16 / 24.0 (s18 4.23 / 4.43 / 4.52 / 5.02 / 10.7);
// E = 1024, k = 16: 2.76 at T = 1, 5.22 at 512 (s18 5.90); E = 896, k = 16:
// 2.73, 5.29 at 512 (s12 4.93, s18 5.72); E = 512, k = 16: 2.51, 4.23 at
// 512 (s12 4.06). Narrow shapes: kimi-k2 2.44 at T = 1 (s14 2.49), 2.70 at
// 64 (s12 2.64); GLM-4.5 2.39 (s14 2.26). The prediction held at T = 1 and
// for the crossover (256 tokens at E = 512, 512 at E > 512). Nsight Compute
// (H200, same working tree, E = 1024, k = 32, T = 1, stage_bench's graph): 5321 warp instructions per token, 665 per
// warp: ~80 to the loads, ~330 for the exact scores, keys, sort and four
// rounds, ~100 for L and the candidates, ~150 for the ranking (7 warps),
// and warp 0's ~130 for the sum, division and stores.
// After the results run the row and bias loads became load_lane_strided's
// (the helper s05 and s12's scalar path use, now with the stride as a
// parameter) instead of a copy of it: same loads, each array with its own
// dtype branch; registers unchanged (40 / 32 / 32). Since 60e044b the
// thread's sorted experts are detail::Held and load_held (shared with s20)
// and the scores come from the batched sigmoids (detail::sigmoids_with: the
// four IEEE quotients overlap instead of waiting on each other's slow-path
// branch), bit for bit the same. Measured in the results run at 60e044b
// (H200, stage_bench, graph replay, cold, f32): T = 1 3.00 us at E = 1024,
// k = 32 (3.17 at 7f1b94e), 3.07 at 512 / 22 (3.15), 2.64 at 512 / 16
// (2.66); the GPU suite and the sanitizers passed on it (docs/validation.md).
#include <climits>

#include "../detail/held_experts.cuh"
#include "../detail/lane_lists.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::Held;
using detail::RouteParams;

constexpr int team_warps = 8;
constexpr int team_threads = 32 * team_warps;
constexpr int ranked_capacity = 256;  // candidates ranked; more take the exact rounds
constexpr int lanes_per_candidate = 4;
constexpr int max_round_maxima = 64;  // active warps x rounds < k + active warps <= 39

struct TeamScratch {
  __align__(16) std::uint64_t ranked[ranked_capacity];  // 0 past the candidates
  float candidate_score[ranked_capacity];
  std::uint32_t round_max[max_round_maxima];
  int slot_expert[32];
  __align__(16) float slot_score[32];
  int candidates;
  std::uint32_t best_key[2][team_warps];  // the exact rounds' warp bests, double-buffered
  int best_expert[2][team_warps];
};

// L: the k-th largest of the round maxima (with repeats), the largest value
// v with at least k maxima >= v; 0 when fewer than k maxima are real. When
// the maxima number exactly k (k a multiple of the active warps) it is the
// smallest of the warps' last rounds; otherwise each lane counts the maxima
// at or above its one or two (at most 39: fewer than k + 8).
__device__ __forceinline__ std::uint32_t kth_round_max(const std::uint32_t* round_max, int active_warps, int rounds,
                                                       int topk, int lane) {
  const int maxima = active_warps * rounds;
  if (maxima == topk) {
    const std::uint32_t last = lane < active_warps ? round_max[lane * rounds + rounds - 1] : UINT_MAX;
    return __reduce_min_sync(full_mask, last);
  }
  const std::uint32_t first = lane < maxima ? round_max[lane] : 0u;
  const std::uint32_t second = lane + 32 < maxima ? round_max[lane + 32] : 0u;
  int at_or_above_first = 0, at_or_above_second = 0;
  for (int i = 0; i < maxima; ++i) {
    const std::uint32_t v = round_max[i];
    at_or_above_first += v >= first;
    at_or_above_second += v >= second;
  }
  const std::uint32_t a = at_or_above_first >= topk ? first : 0u;
  const std::uint32_t b = at_or_above_second >= topk ? second : 0u;
  return __reduce_max_sync(full_mask, max(a, b));
}

// The candidates' ranks, four lanes per candidate, each reading two ranked
// keys per 16-byte load (the entries past the total hold 0, which outranks
// nothing); ranks < k write their slot.
__device__ __forceinline__ void rank_candidates(TeamScratch& s, int total, int topk) {
  constexpr int per_pass = team_threads / lanes_per_candidate;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int part = static_cast<int>(threadIdx.x) % lanes_per_candidate;
  for (int pass = 0; pass < total; pass += per_pass) {
    if (pass + warp * (32 / lanes_per_candidate) >= total) continue;  // the whole warp past the total
    const int i = pass + static_cast<int>(threadIdx.x) / lanes_per_candidate;
    const std::uint64_t mine = i < total ? s.ranked[i] : ~std::uint64_t{0};
    int above = 0;
    for (int c = 2 * part; c < total; c += 2 * lanes_per_candidate) {
      const ulonglong2 two = *reinterpret_cast<const ulonglong2*>(&s.ranked[c]);
      above += (two.x > mine) + (two.y > mine);
    }
    above += __shfl_xor_sync(full_mask, above, 1);
    above += __shfl_xor_sync(full_mask, above, 2);
    if (part == 0 && i < total && above < topk) {
      s.slot_expert[above] = index_of(mine);
      s.slot_score[above] = s.candidate_score[i];
    }
  }
}

// k rounds of a CTA-wide arg-max over the sorted lists (too many
// candidates): each warp's best head by two reductions, then every thread
// picks the best of the eight; the owner writes the slot and pops.
template <int V>
__device__ void select_in_rounds(Held<V>& held, TeamScratch& s, int topk, int lane, int warp) {
  for (int round = 0; round < topk; ++round) {
    std::uint32_t key;
    int expert;
    detail::warp_best(held.key[0], held.expert[0], key, expert);
    const int buffer = round % 2;
    if (lane == 0) s.best_key[buffer][warp] = key, s.best_expert[buffer][warp] = expert;
    __syncthreads();
    key = s.best_key[buffer][0];
    expert = s.best_expert[buffer][0];
#pragma unroll
    for (int w = 1; w < team_warps; ++w)
      if (detail::wins(s.best_key[buffer][w], s.best_expert[buffer][w], key, expert))
        key = s.best_key[buffer][w], expert = s.best_expert[buffer][w];
    if (held.expert[0] == expert) {
      s.slot_expert[round] = expert;
      s.slot_score[round] = held.score[0];
      held.pop();
    }
  }
}

template <int V>
__global__ void __launch_bounds__(team_threads) warp_team_kernel(RouteParams p) {
  __shared__ TeamScratch s;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const std::int64_t token = blockIdx.x;
  const int topk = p.topk;
  static_assert(ranked_capacity == team_threads, "one cleared entry per thread");
  s.ranked[threadIdx.x] = 0;
  if (threadIdx.x == 0) s.candidates = 0;
  if (warp == 0 && lane >= topk) s.slot_score[lane] = 0.0f;  // +0 past k: the four-slot sum adds nothing
  detail::wait_for_producer();  // PDL: the logits and the bias are complete from here on
  Held<V> held = detail::load_held<V, team_threads>(p, token, static_cast<int>(threadIdx.x));

  // Round maxima: warp w's r best keys at s.round_max[w r ...] (warps past E hold none).
  const int active_warps = min(team_warps, (p.experts + 31) / 32);
  const int rounds = (topk + active_warps - 1) / active_warps;
  if (warp < active_warps) {
    std::uint32_t heads[V];
#pragma unroll
    for (int j = 0; j < V; ++j) heads[j] = held.key[j];
    for (int round = 0; round < rounds; ++round) {
      const std::uint32_t best = detail::pop_largest_head(heads);
      if (lane == 0) s.round_max[warp * rounds + round] = best;
    }
  }
  __syncthreads();

  // Candidates: the keys >= L (at least k of them), a prefix of each sorted list.
  const std::uint32_t lowest = max(kth_round_max(s.round_max, active_warps, rounds, topk, lane), 1u);
  unsigned mine = 0;
#pragma unroll
  for (int j = 0; j < V; ++j) mine |= static_cast<unsigned>(held.key[j] >= lowest) << j;
  int first = 0;
  const int warp_total = detail::count_candidates_by_planes<V>(mine, lane, first);
  int base = 0;
  if (lane == 0 && warp_total > 0) base = atomicAdd(&s.candidates, warp_total);
  base = __shfl_sync(full_mask, base, 0) + first;
#pragma unroll
  for (int j = 0; j < V; ++j)
    if (((mine >> j) & 1u) && base + j < ranked_capacity) {
      s.ranked[base + j] = ranked_key(held.key[j], held.expert[j]);
      s.candidate_score[base + j] = held.score[j];
    }
  __syncthreads();

  const int total = s.candidates;
  if (total <= ranked_capacity) rank_candidates(s, total, topk);
  else select_in_rounds(held, s, topk, lane, warp);
  __syncthreads();
  if (warp == 0) detail::store_slots_in_order<4>(p, token, lane, topk, s.slot_expert, s.slot_score);
}

}  // namespace

std::string s19_warp_team_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  if (auto grid = detail::grid_limit_refusal(logits.tokens, 1); !grid.empty()) return grid;
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s19_warp_team_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                          const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>(params.tokens);
  const auto launch = [&](auto kernel) { detail::launch_kernel(kernel, blocks, team_threads, stream, options, params); };
  if (config.experts <= team_threads) launch(warp_team_kernel<1>);
  else if (config.experts <= 2 * team_threads) launch(warp_team_kernel<2>);
  else launch(warp_team_kernel<4>);
}

}  // namespace moegate::cuda::kernels
