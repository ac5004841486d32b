// s21_counted_bound — s18 with the bound found by counting list entries
// at a few probed values instead of popping the lists' heads k times.
//
// Idea: s18's bound is k rounds of one redux.sync, each waiting on the
// last: at E = 512, k = 22, T = 65536 it is 140 of s18's 830 warp
// instructions per token and the largest stall, 21 % of the samples (ncu,
// H200, the working tree that became 331a172; a redux.sync takes 47.5
// cycles, so the chain alone is ~22 x 57 = ~1250 cycles a token, on a
// kernel that issues only 64 % of its slots). The bound does not have to
// be the k-th largest list entry: any value with at least k entries (so k
// distinct experts) at or above it is a valid bound, and the closer it is
// to the k-th the fewer candidates follow. Here:
// - three reductions at once give the lowest head, the highest head and
//   the mean of the heads' number keys. Every lane's head is >= the lowest,
//   so 32 >= k entries are >= it: it is a valid bound to start from;
// - each probe counts the entries >= a value with one ballot per list
//   depth (popc of two ballots, no reduction), and moves the valid bound up
//   (count >= k) or the upper bracket down (count < k). The first probe is
//   the mean head; the next ones interpolate between the brackets on their
//   counts, aiming at k + 1/2, clamped to [0.1, 0.9] of the interval;
// - the search stops at <= k + 1 entries or after five probes. Unsettled
//   (still > 32 entries; also -inf or +inf heads, k > 24) the bound is
//   s18's rounds, so the worst token costs s18's bound plus the probes.
// Everything else is s18's (detail/short_tail.cuh and lean_lists.cuh): the
// lists, the margin, the filter, the candidates, the ranking, the exact
// path. The counts are warp-uniform (ballots), so the loop never diverges.
// Simulated (normal logits 2 N(0, 1), bias 0.1 N(0, 1), 8000 tokens, this
// search against s18's rounds): E = 512, k = 22: 3.2 probes on average,
// 24.0 candidates against 23.2, more than 32 for 0.5 % of tokens (the
// second key per lane), never more than 64; E = 512, k = 16: 3.8 probes,
// 17.5 against 16.4. With per-token logit scales from 0.3 to 4 the same
// within 0.5 probes.
// Limits: as s18 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL. k > 24 (four entries a lane) keeps
// s18's rounds: not simulated well enough to predict, and E = 1024, k = 32
// already meets its goal with them.
// Prediction (H200, graph replay, cold, f32; E = 512, k = 22, T = 65536):
// the bound 140 -> ~95 instructions, the ranking ~+6 (one more candidate
// in a third of the tokens crosses a block of eight), ~830 -> ~790 per
// token; the bound's chain ~1250 -> ~300 cycles. s18's first change cut 104
// instructions (11 %) for 5 % of the time; here 5 % of the instructions and
// most of the largest stall: 81.3 -> ~74 us (the goal is 73.75), E = 512,
// k = 16 73.5 -> ~68 (goal 72.9); T = 1 ~0.5 us below s18 (the chain is the
// one warp's time there).
// Measured (H200, the results run at 279faa0 behind docs/results.md,
// stage_bench beside s18): the prediction failed. E = 512, k = 22, 80.1
// against s18's 81.5 us at 65536 (goal 74.1), 11.38 against 11.09 at 4096,
// 4.17 / 4.73 / 5.56 against 4.42 / 4.58 / 5.34 at T = 1 / 64 / 512;
// E = 512, k = 16, 77.7 against 73.8 at 65536 (slower), 4.03 against 4.11
// at T = 1; E = 1024, k = 16, 109.0 against 112.2; E = 896, k = 16, 118.3
// against 119.8; E = 1024, k = 32 (s18's rounds here) 158.0 against 158.5.
// ncu (same call, E = 512, k = 22, 65536): 821 warp instructions per token
// against s18's 835, not ~790: the search costs about what the rounds did,
// and the chain it removed was not what held the issue slots (no eligible
// warp 31.2 % of cycles against 31.5 %). The dispatch keeps s18: s21 is
// 1-3 % faster at 65536 on four shapes, slower at E = 512, k = 16 and at
// 4096 tokens, and both numbers come from one run.
#include "../detail/short_tail.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;

inline constexpr int counted_probes = 5;  // the mean head, then up to four interpolated
inline constexpr int counted_slack = 1;   // done at <= k + 1 entries

// List entries >= value over the warp (NaN is never listed; -inf entries
// count only for value -inf, which is never probed).
template <int M>
__device__ __forceinline__ int listed_at_or_above(const float (&list)[M], float value) {
  int count = 0;
#pragma unroll
  for (int m = 0; m < M; ++m) count += __popc(__ballot_sync(full_mask, list[m] >= value));
  return count;
}

// A value with >= k list entries (distinct experts) at or above it, as a
// number key, found by counting (above); s18's rounds when the search
// cannot start or does not settle.
template <int M>
__device__ __forceinline__ std::uint32_t counted_bound(const float (&list)[M], int topk) {
  const std::uint32_t head = number_key(list[0]);
  const std::uint32_t lowest = __reduce_min_sync(full_mask, head);
  const std::uint32_t highest = __reduce_max_sync(full_mask, head);
  const std::uint32_t mean = __reduce_add_sync(full_mask, head >> 5);  // <= the mean key, no overflow
  float low = detail::float_of_number_key(lowest), high = detail::float_of_number_key(highest);
  const bool searchable = low > -INFINITY && high < INFINITY;
  float low_count = static_cast<float>(listed_at_or_above(list, low));  // >= 32: every head
  if (searchable) {
    float high_count = 1.0f;  // an upper bracket, never probed (ties at the top only slow the search)
    float probe = detail::float_of_number_key(max(mean, lowest));  // within [low, high]
    for (int round = 0; round < counted_probes && low_count > topk + counted_slack; ++round) {
      const float count = static_cast<float>(listed_at_or_above(list, probe));
      if (count >= topk) low = probe, low_count = count;
      else high = probe, high_count = count;
      const float aim = static_cast<float>(topk) + 0.5f * counted_slack;
      const float toward = __fdividef(low_count - aim, low_count - high_count);
      probe = fmaf(high - low, fminf(fmaxf(toward, 0.1f), 0.9f), low);
    }
  }
  if (!searchable || low_count > 32.0f) return detail::bound_in_pairs(list, topk);
  return number_key(low);
}

struct CountedTail : detail::ShortTail {
  template <int M>
  static __device__ __forceinline__ std::uint32_t bound(const float (&list)[M], int topk) {
    if constexpr (M == 2) return counted_bound(list, topk);
    else return detail::bound_in_pairs(list, topk);
  }
};

}  // namespace

std::string s21_counted_bound_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s17_lean_lists_refusal(config, logits, bias);
}

void s21_counted_bound_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                              const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_lean_lists<CountedTail>(config, logits, bias, output, stream, options);
}

}  // namespace moegate::cuda::kernels
