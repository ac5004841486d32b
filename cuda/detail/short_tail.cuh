// s18's tail for the lean-lists kernel (detail/lean_lists.cuh): the bound's
// rounds in pairs, the ranking by two-instruction comparisons in unrolled
// blocks of eight, the weights summed four slots per load. s18 uses it as
// is; s21 replaces its bound (cuda/stages/s18_short_tail.cu says why each
// piece is built this way and what it measured).
#pragma once

#include "lean_lists.cuh"

namespace moegate::cuda::detail {

// s16's bound (bound_over_lists), two rounds per trip; for odd k the last
// trip's spare round is not the bound: its first round, the k-th, is.
template <int M>
__device__ __forceinline__ std::uint32_t bound_in_pairs(const float (&list)[M], int topk) {
  std::uint32_t keys[M];
  list_keys(list, keys);
  std::uint32_t kth_if_odd = 0, kth_if_even = 0;
  for (int round = 0; round < topk; round += 2) {
    kth_if_odd = pop_largest_head(keys);
    kth_if_even = pop_largest_head(keys);
  }
  return topk % 2 != 0 ? kth_if_odd : kth_if_even;
}

// The candidates whose key outranks `key` (candidate c: `first` in lane c,
// `second` in lane c - 32; past the total both hold 0), eight lanes per
// block, unrolled (the lanes are immediates), each comparison one subtract
// and one add: on keys halved to 31 bits, so that the difference's sign
// bit is the comparison. Keys equal in their upper 31 bits count as equal,
// which the ranks' sum shows (the caller then ranks by full keys).
__device__ __forceinline__ int outranked_in_blocks(std::uint32_t key, std::uint32_t first, std::uint32_t second,
                                                   int total) {
  const std::uint32_t mine = key >> 1;
  first >>= 1;
  second >>= 1;
  std::uint32_t rank = 0;
#pragma unroll
  for (int block = 0; block < 4; ++block) {
    if (8 * block >= total) break;
#pragma unroll
    for (int other = 0; other < 8; ++other) rank += (mine - __shfl_sync(full_mask, first, 8 * block + other)) >> 31;
  }
#pragma unroll
  for (int block = 0; block < 4; ++block) {
    if (32 + 8 * block >= total) break;
#pragma unroll
    for (int other = 0; other < 8; ++other) rank += (mine - __shfl_sync(full_mask, second, 8 * block + other)) >> 31;
  }
  return static_cast<int>(rank);
}

struct ShortTail {
  // The slots past k stay +0 for the whole kernel: ranks < k write only below.
  static __device__ __forceinline__ void prepare(LeanScratch& scratch, int lane, int topk) {
    if (lane >= topk) scratch.slot_score[lane] = 0.0f;
  }

  template <int M>
  static __device__ __forceinline__ std::uint32_t bound(const float (&list)[M], int topk) {
    return bound_in_pairs(list, topk);
  }

  // store_listed_ranked with the ranking above and the sum four slots per
  // load: over the first k slots, or over SummedSlots (s22; +0 from k on).
  template <int SummedSlots = 0>
  static __device__ __forceinline__ void store_summing(const RouteParams& p, std::int64_t token, int lane,
                                                       int total, const std::uint32_t (&key)[2],
                                                       const int (&expert)[2], const float (&score)[2],
                                                       LeanScratch& scratch) {
    const bool two = total > 32;  // the same in every lane
    int rank[2] = {outranked_in_blocks(key[0], key[0], key[1], total),
                   two ? outranked_in_blocks(key[1], key[0], key[1], total) : 0};
    write_listed_slots(lane, total, p.topk, key, expert, score, rank, scratch.slot_expert, scratch.slot_score);
    store_slots_in_order<4, SummedSlots>(p, token, lane, p.topk, scratch.slot_expert, scratch.slot_score);
  }

  static __device__ __forceinline__ void store(const RouteParams& p, std::int64_t token, int lane, int total,
                                               const std::uint32_t (&key)[2], const int (&expert)[2],
                                               const float (&score)[2], LeanScratch& scratch) {
    store_summing(p, token, lane, total, key, expert, score, scratch);
  }
};

}  // namespace moegate::cuda::detail
