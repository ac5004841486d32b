// One warp per token with every selection key in registers: the pieces s05
// and s06 share. Lane l owns experts l + 32 j, j < VPT; experts past E and
// those the group cut drops hold taken_key.
#pragma once

#include <climits>
#include <type_traits>

#include "numeric.cuh"

namespace moegate::cuda::detail {

inline constexpr int registers_warps_per_cta = 4;

// Calls launch(std::integral_constant<int, VPT>{}) for the smallest compiled
// bucket of values per lane that holds `experts` (E <= 1024; 64, 128, 160,
// 256, 384, 512 and 1024 fill theirs exactly).
template <class Launch>
void with_values_per_lane(int experts, Launch&& launch) {
  const int per_lane = (experts + 31) / 32;
  if (per_lane <= 1) launch(std::integral_constant<int, 1>{});
  else if (per_lane <= 2) launch(std::integral_constant<int, 2>{});
  else if (per_lane <= 4) launch(std::integral_constant<int, 4>{});
  else if (per_lane <= 5) launch(std::integral_constant<int, 5>{});
  else if (per_lane <= 8) launch(std::integral_constant<int, 8>{});
  else if (per_lane <= 12) launch(std::integral_constant<int, 12>{});
  else if (per_lane <= 16) launch(std::integral_constant<int, 16>{});
  else if (per_lane <= 24) launch(std::integral_constant<int, 24>{});
  else launch(std::integral_constant<int, 32>{});
}
inline constexpr unsigned full_mask = 0xFFFFFFFFu;

// number_key's inverse (for keys of numbers: no NaN check). s08 uses it
// rather than score_of_key: with score_of_key's NaN branch (dead there) s08
// took 93.5 instead of 86.8 us at kimi-k2, T = 65536 (H100, one warm
// machine, median of 5 each, commit 3d98196 against c6557ce).
__device__ __forceinline__ float float_of_number_key(std::uint32_t key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key);
}

// The biased score a selection key stands for (select_key's inverse; NaN
// for the two NaN keys).
__device__ __forceinline__ float score_of_key(std::uint32_t key) {
  if (key == 1u || key == 0xFFFFFFFFu) return __uint_as_float(0x7FC00000u);
  return float_of_number_key(key);
}

// The warp's best (key, index) among the lanes' candidates: two reductions.
__device__ __forceinline__ void warp_best(std::uint32_t key, int index, std::uint32_t& best_key, int& best_index) {
  best_key = __reduce_max_sync(full_mask, key);
  best_index = static_cast<int>(__reduce_min_sync(full_mask, key == best_key ? static_cast<unsigned>(index) : UINT_MAX));
}

template <int VPT>
struct Lane {
  std::uint32_t keys[VPT];
  float scores[VPT];
  int lane;

  // The lane's best untaken (key, index) among experts passing `allowed`.
  template <class Allowed>
  __device__ __forceinline__ void best(std::uint32_t& key, int& index, Allowed allowed) const {
    key = taken_key;
    index = INT_MAX;
#pragma unroll
    for (int j = 0; j < VPT; ++j) {
      const int e = lane + 32 * j;
      if (allowed(e) && keys[j] > key) {  // ascending e: the first of equal keys stays
        key = keys[j];
        index = e;
      }
    }
  }
  __device__ __forceinline__ void best(std::uint32_t& key, int& index) const {
    best(key, index, [](int) { return true; });
  }
  // Marks `expert` (owned by this lane) taken; returns its score.
  __device__ __forceinline__ float take(int expert) {
    float score = 0.0f;
#pragma unroll
    for (int j = 0; j < VPT; ++j)
      if (lane + 32 * j == expert) {
        keys[j] = taken_key;
        score = scores[j];
      }
    return score;
  }
};

// The lanes' candidate slots (bit j: the lane's slot j) as a warp-wide
// list: returns the count; `first` is this lane's first position.
__device__ __forceinline__ int count_candidates(unsigned candidates, int lane, int& first) {
  const int count = __popc(candidates);
  int inclusive = count;
#pragma unroll
  for (int d = 1; d < 32; d *= 2) {
    const int below = __shfl_up_sync(full_mask, inclusive, d);
    if (lane >= d) inclusive += below;
  }
  first = inclusive - count;
  return __shfl_sync(full_mask, inclusive, 31);
}

// As count_candidates, without the scan's five dependent shuffles (s14):
// the lanes' counts (at most VPT) by bit planes, one ballot per bit, all
// independent; a lane's first position sums the planes below its lane.
template <int VPT>
__device__ __forceinline__ int count_candidates_by_planes(unsigned candidates, int lane, int& first) {
  constexpr int planes = VPT < 2 ? 1 : VPT < 4 ? 2 : VPT < 8 ? 3 : VPT < 16 ? 4 : VPT < 32 ? 5 : 6;
  const int count = __popc(candidates);
  const unsigned lanes_below = (1u << lane) - 1u;
  int total = 0;
  first = 0;
#pragma unroll
  for (int bit = 0; bit < planes; ++bit) {
    const unsigned plane = __ballot_sync(full_mask, (count >> bit) & 1);
    total += __popc(plane) << bit;
    first += __popc(plane & lanes_below) << bit;
  }
  return total;
}

// Loads the token's row and the bias (all loads issued back to back), and
// fills the lane's scores and selection keys.
template <int VPT>
__device__ __forceinline__ void load_keys(Lane<VPT>& lane, const RouteParams& p, std::int64_t token) {
  float logits[VPT], bias[VPT];
  load_lane_strided(p.logits, p.logits_dtype, token * p.row_stride, lane.lane, p.experts, logits);
  load_lane_strided(p.bias, p.bias_dtype, 0, lane.lane, p.experts, bias);
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    lane.scores[j] = gate_sigmoid(logits[j]);
    lane.keys[j] = lane.lane + 32 * j < p.experts ? select_key(lane.scores[j] + bias[j], p.profile) : taken_key;
  }
}

// Lane j < k holds slot j's expert and score, `sum` is the k scores summed
// in selection order: renormalise (per the profile's zero-sum rule), scale,
// store ids and weights coalesced.
__device__ __forceinline__ void store_weighted(const RouteParams& p, std::int64_t token, int lane, int chosen,
                                               float weight, float sum) {
  if (p.renormalize) {
    const ZeroSum policy = p.profile.zero_sum;
    if (policy == ZeroSum::epsilon) weight /= sum + 1e-20f;
    else if (policy == ZeroSum::nan || sum > 0.0f) weight /= sum;
  }
  if (p.scales_output) weight *= p.scaling_factor;
  if (lane < p.topk) {
    p.ids[token * p.topk + lane] = chosen;
    p.weights[token * p.topk + lane] = weight;
  }
}

// As store_weighted, summing the slots' scores by shuffles.
__device__ __forceinline__ void store_slots(const RouteParams& p, std::int64_t token, int lane, int chosen,
                                            float weight) {
  float sum = 0.0f;
  if (p.renormalize)
    for (int j = 0; j < p.topk; ++j) sum += __shfl_sync(full_mask, weight, j);
  store_weighted(p, token, lane, chosen, weight, sum);
}

// k rounds over the lane's keys (s05's selection): two reductions, the
// owning lane marks the winner taken and rescans. Lane j < k ends holding
// slot j's expert and score.
template <int VPT>
__device__ __forceinline__ void select_by_rescans(Lane<VPT>& lane, int topk, int& chosen, float& weight) {
  std::uint32_t key;
  int index;
  lane.best(key, index);
  for (int round = 0; round < topk; ++round) {
    std::uint32_t best_key;
    int winner;
    warp_best(key, index, best_key, winner);
    float score = 0.0f;
    if (winner % 32 == lane.lane) {
      score = lane.take(winner);
      lane.best(key, index);
    }
    score = __shfl_sync(full_mask, score, winner % 32);
    if (lane.lane == round) {
      chosen = winner;
      weight = score;
    }
  }
}

// Keeps topk_group groups (by the sum of each group's two best scores) and
// marks every expert of the other groups taken.
template <int VPT>
__device__ void cut_groups(Lane<VPT>& lane, const RouteParams& p) {
  const int size = p.experts / p.groups;
  std::uint32_t my_group_key = taken_key;  // lane g holds group g's key
  for (int g = 0; g < p.groups; ++g) {
    const auto in_group = [&](int e) { return e / size == g; };
    std::uint32_t key, first_key, second_key;
    int index, first, second;
    lane.best(key, index, in_group);
    warp_best(key, index, first_key, first);
    float score = score_of_key(first_key);
    if (size > 1) {
      // The second best: the winner's lane offers its runner-up instead.
      if (index == first) lane.best(key, index, [&](int e) { return in_group(e) && e != first; });
      warp_best(key, index, second_key, second);
      score += score_of_key(second_key);
    }
    if (lane.lane == g) my_group_key = detail::select_key(score, p.profile);
  }
  unsigned kept = 0;
  for (int round = 0; round < p.kept_groups; ++round) {
    std::uint32_t best_key;
    int best_group;
    warp_best(my_group_key, lane.lane, best_key, best_group);
    kept |= 1u << best_group;
    if (lane.lane == best_group) my_group_key = taken_key;
  }
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    const int e = lane.lane + 32 * j;
    if (e < p.experts && !((kept >> (e / size)) & 1u)) lane.keys[j] = taken_key;
  }
}

}  // namespace moegate::cuda::detail
