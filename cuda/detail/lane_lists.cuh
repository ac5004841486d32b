// Lane lists (s16): a candidate bound that stays tight for wide top-k.
// s09's bound is the k-th largest of the 32 lane maxima; once k nears 32
// most lanes hold several values above the true k-th, and the candidates
// overflow a warp (E = 512, k = 22: 65 % of tokens, simulated). Here each
// lane keeps its M best cheap scores, sorted, and the bound is the k-th
// largest of those 32 M values, in k rounds of one reduction each: the
// lanes whose head equals the round's maximum pop it, so after k rounds at
// least k distinct experts hold a value >= the bound. Up to 64 candidates
// (two per lane) are ranked exactly.
#pragma once

#include "streaming.cuh"

namespace moegate::cuda::detail {

// The lane's M largest cheap scores, largest first (-inf where the lane has
// fewer). NaN is left out (fmaxf(NaN, -inf) = -inf, one instruction): it
// always passes the filter as a candidate, and inserted here it would copy a
// list entry and claim a value that is not there.
template <int M, int VPT>
__device__ __forceinline__ void lane_list(const float (&approx)[VPT], float (&list)[M]) {
#pragma unroll
  for (int m = 0; m < M; ++m) list[m] = -INFINITY;
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    float value = fmaxf(approx[j], -INFINITY);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const float larger = fmaxf(list[m], value);
      value = fminf(list[m], value);
      list[m] = larger;
    }
  }
}

// A lane list as number keys, largest first.
template <int M>
__device__ __forceinline__ void list_keys(const float (&list)[M], std::uint32_t (&keys)[M]) {
#pragma unroll
  for (int m = 0; m < M; ++m) keys[m] = number_key(list[m]);
}

// One round of the bound: the largest head over the warp, popped by the
// lanes that hold it (equal heads leave together, which only loosens the
// bound; 0 once the lists have run out).
template <int M>
__device__ __forceinline__ std::uint32_t pop_largest_head(std::uint32_t (&keys)[M]) {
  const std::uint32_t largest = __reduce_max_sync(full_mask, keys[0]);
  if (keys[0] == largest) {
#pragma unroll
    for (int m = 0; m + 1 < M; ++m) keys[m] = keys[m + 1];
    keys[M - 1] = 0;
  }
  return largest;
}

// The k-th largest of the lanes' list entries, as a number key (0: the lists
// ran out, which candidates_above_bound treats as unusable), after k rounds:
// >= k entries, each a distinct expert, are >= it.
template <int M>
__device__ __forceinline__ std::uint32_t bound_over_lists(const float (&list)[M], int topk) {
  std::uint32_t keys[M];
  list_keys(list, keys);
  std::uint32_t bound = 0;
  for (int round = 0; round < topk; ++round) bound = pop_largest_head(keys);
  return bound;
}

inline constexpr int listed_capacity = 64;  // candidates ranked exactly: two per lane

// The number of candidates (candidate c: `first` in lane c, `second` in
// lane c - 32) whose key outranks `key`; only the total's lanes are read.
template <class Key>
__device__ __forceinline__ int outranked_by(Key key, Key first, Key second, int total) {
  int rank = 0;
  for (int other = 0; other < min(total, 32); ++other) rank += __shfl_sync(full_mask, first, other) > key;
  for (int other = 0; other < total - 32; ++other) rank += __shfl_sync(full_mask, second, other) > key;
  return rank;
}

// The listed candidates into the k slots: candidate c's key, expert, score
// and rank in lane c % 32, entry c / 32 (k <= total <= 64, every expert
// that can be among the k best included); the caller's ranks count the
// candidates with a larger key. Keys the ranking could not tell apart share
// a rank, which the ranks' sum shows, and only then a second pass ranks by
// (key, lower expert); ranks < k write their slot.
__device__ __forceinline__ void write_listed_slots(int lane, int total, int topk, const std::uint32_t (&key)[2],
                                                   const int (&expert)[2], const float (&score)[2], int (&rank)[2],
                                                   int* slot_expert, float* slot_score) {
  const int pairs = total * (total - 1) / 2;
  const int ranks = (lane < total ? rank[0] : 0) + (lane + 32 < total ? rank[1] : 0);
  if (__reduce_add_sync(full_mask, ranks) != pairs) {
    std::uint64_t ranked[2];
#pragma unroll
    for (int c = 0; c < 2; ++c) ranked[c] = lane + 32 * c < total ? ranked_key(key[c], expert[c]) : 0;
#pragma unroll
    for (int c = 0; c < 2; ++c) rank[c] = outranked_by(ranked[c], ranked[0], ranked[1], total);
  }
#pragma unroll
  for (int c = 0; c < 2; ++c)
    if (lane + 32 * c < total && rank[c] < topk) {
      slot_expert[rank[c]] = expert[c];
      slot_score[rank[c]] = score[c];
    }
}

// write_listed_slots by one shuffle per candidate, then s09's epilogue.
__device__ __forceinline__ void store_listed_ranked(const RouteParams& p, std::int64_t token, int lane, int total,
                                                    int topk, const std::uint32_t (&key)[2], const int (&expert)[2],
                                                    const float (&score)[2], int* slot_expert, float* slot_score) {
  const bool two = total > 32;  // the same in every lane
  int rank[2] = {outranked_by(key[0], key[0], key[1], total), two ? outranked_by(key[1], key[0], key[1], total) : 0};
  write_listed_slots(lane, total, topk, key, expert, score, rank, slot_expert, slot_score);
  store_slots_in_order(p, token, lane, topk, slot_expert, slot_score);
}

// s05's exact path as a call: inlined into the streaming loop, its registers
// spilled the kernels at VPT = 8 and 12 (12-20 bytes, ptxas, sm_90a); out of
// line it keeps a stack frame of its own, touched only by tokens that take it.
// The parameters go by value: a reference to the kernel's parameter block
// made every warp copy the block to local memory at its start (15 stores)
// and the compiler then read fields from that copy in the hot loop (an LDL
// of the weights pointer per token in s18: the loop's longest wait after
// the row's load). By value, only a call copies them (ncu, H200, s18 at
// E = 512, k = 22, 65536 tokens; docs/stages.md, "s22").
template <int VPT>
__device__ __noinline__ void route_exactly_out_of_line(RouteParams p, std::int64_t token, int lane) {
  route_exactly<VPT, false>(p, token, lane);
}

// List depth by k: two entries per lane keep E = 512, k = 22 within 32
// candidates (simulated, normal inputs: 23.1 on average, 28 at the 99.9th
// percentile); above k = 24 four (E = 1024, k = 32: 32.1 on average, more
// than 32 for 9 % of tokens, never more than 64 in 20000).
template <class Run>
void with_list_depth(int topk, Run&& run) {
  if (topk <= 24) run(std::integral_constant<int, 2>{});
  else run(std::integral_constant<int, 4>{});
}

// Which kernel of a list stage (s16, s17, s18) runs the call: run(vpt, chunk,
// depth) with integral constants: values per lane for E, vector loads
// (chunk 4) where they fit and scalar loads (chunk 1) otherwise, the list
// depth for k.
template <class Run>
void with_lists_kernel(const RouterConfig& config, const LogitsView& logits, Run&& run) {
  with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    with_list_depth(config.topk, [&](auto depth) {
      if constexpr (VPT % 4 == 0) {
        if (vector_loads_fit(config, logits, VPT)) return run(vpt, std::integral_constant<int, 4>{}, depth);
      }
      run(vpt, std::integral_constant<int, 1>{}, depth);
    });
  });
}

}  // namespace moegate::cuda::detail
