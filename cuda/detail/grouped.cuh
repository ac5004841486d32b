// The group cut by butterflies (s10, s13): with 16-byte loads a lane owns
// experts 128 c + 4 l + i, so a group of S experts (a power of two in
// [4, 128]) is the lane segment of S / 4 lanes of one chunk. One token's
// route: the cut from the cheap scores when it is settled, then s09's filter
// among the kept experts; otherwise the exact cut on every key. The cheap
// score and its error bound, where the bias comes from (shared memory,
// registers) and how the candidates are routed (a reload, or their values
// carried along) are the caller's: the callables cheap_score_of_slot(j)
// and bias_of_slot(j) (slot j of this lane), score_error, and
// route_from(candidates, first, total).
#pragma once

#include <climits>

#include "launch.cuh"
#include "streaming.cuh"

namespace moegate::cuda::detail {

// The top two of a multiset of keys, merged with another's.
__device__ __forceinline__ void merge_top_two(std::uint32_t& first, std::uint32_t& second, std::uint32_t other_first,
                                              std::uint32_t other_second) {
  second = max(min(first, other_first), max(second, other_second));
  first = max(first, other_first);
}
__device__ __forceinline__ void merge_top_two(float& first, float& second, float other_first, float other_second) {
  second = fmaxf(fminf(first, other_first), fmaxf(second, other_second));
  first = fmaxf(first, other_first);
}

// Where the groups live: S = 2^size_shift experts, segment = S / 4 lanes
// of one chunk; lane g finds group g's score in chunk group_chunk at lane
// group_lane.
struct GroupLayout {
  int size_shift, segment, group_chunk, group_lane;
  __device__ GroupLayout(const RouteParams& p, int lane) {
    size_shift = __ffs(p.experts / p.groups) - 1;
    segment = 1 << (size_shift - 2);
    group_chunk = (lane << size_shift) >> 7;
    group_lane = ((lane << size_shift) & 127) >> 2;
  }
  __device__ int group_of_chunk(int c, int lane) const { return (128 * c + 4 * lane) >> size_shift; }
};

// Lane g < G gathers group g's value (one shuffle per chunk).
template <int Chunks, class T>
__device__ __forceinline__ T gather_group(const T (&per_chunk)[Chunks], const GroupLayout& layout, int lane,
                                          int groups, T none) {
  T mine = none;
#pragma unroll
  for (int c = 0; c < Chunks; ++c) {
    const T value = __shfl_sync(full_mask, per_chunk[c], layout.group_lane);
    if (c == layout.group_chunk && lane < groups) mine = value;
  }
  return mine;
}

// The exact group cut and selection (the first version of this stage, now
// the path for tokens whose cut the cheap scores cannot settle): every
// expert's exact key, each group's top two keys by butterflies, the groups
// ranked by lane, experts of dropped groups taken, the exact key bound.
template <int VPT, class BiasOfSlot, class RouteFrom>
__device__ __forceinline__ void route_exact_groups(const RouteParams& p, std::int64_t token, int lane, int topk,
                                                   const float (&logits)[VPT], BiasOfSlot bias_of_slot,
                                                   const GroupLayout& layout, RouteFrom route_from) {
  constexpr int chunks = VPT / 4;
  std::uint32_t keys[VPT];
  std::uint32_t group_key[chunks];
#pragma unroll
  for (int c = 0; c < chunks; ++c) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int j = 4 * c + i;
      keys[j] = select_key(gate_sigmoid(logits[j]) + bias_of_slot(j), p.profile);
    }
    std::uint32_t first = max(keys[4 * c], keys[4 * c + 1]), second = min(keys[4 * c], keys[4 * c + 1]);
    merge_top_two(first, second, max(keys[4 * c + 2], keys[4 * c + 3]), min(keys[4 * c + 2], keys[4 * c + 3]));
    for (int offset = 1; offset < layout.segment; offset *= 2)
      merge_top_two(first, second, __shfl_xor_sync(full_mask, first, offset), __shfl_xor_sync(full_mask, second, offset));
    group_key[c] = select_key(score_of_key(first) + score_of_key(second), p.profile);
  }
  const std::uint32_t my_group_key = gather_group(group_key, layout, lane, p.groups, taken_key);
  int group_rank = 0;
  for (int h = 0; h < p.groups; ++h) {
    const std::uint32_t other = __shfl_sync(full_mask, my_group_key, h);
    group_rank += other > my_group_key || (other == my_group_key && h < lane);
  }
  const unsigned kept = __ballot_sync(full_mask, lane < p.groups && group_rank < p.kept_groups);
  std::uint32_t lane_max = taken_key;
#pragma unroll
  for (int c = 0; c < chunks; ++c) {
    const bool dropped = !((kept >> layout.group_of_chunk(c, lane)) & 1u);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if (dropped) keys[4 * c + i] = taken_key;
      lane_max = max(lane_max, keys[4 * c + i]);
    }
  }
  // L = the k-th largest distinct lane maximum key (0 when the lanes run out:
  // every kept expert is then a candidate); candidates: keys >= L, exactly.
  std::uint32_t bound = 0;
  for (int round = 0; round < topk; ++round) {
    const std::uint32_t best = __reduce_max_sync(full_mask, lane_max);
    if (lane_max == best) lane_max = 0;
    bound = best;
  }
  bound = max(bound, 1u);
  unsigned candidates = 0;
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    if (keys[j] >= bound) candidates |= 1u << j;
  int first = 0;
  const int total = count_candidates(candidates, lane, first);
  if (total <= 32) route_from(candidates, first, total);
  else route_exactly<VPT, true>(p, token, lane);
}

// One token, logits in registers (lane l, slot j = expert expert_of<4>(l, j)):
// 1. cheap biased scores, each chunk's group top two and score;
// 2. the groups ranked by their cheap scores; the cut stands when the
//    weakest kept group leads the best dropped one by more than twice the
//    cheap group score's error bound;
// 3. s09's filter among the kept groups' experts, or the exact cut.
template <int VPT, class CheapScoreOfSlot, class BiasOfSlot, class RouteFrom>
__device__ __forceinline__ void route_grouped_token(const RouteParams& p, std::int64_t token, int lane, int topk,
                                                    const float (&logits)[VPT], CheapScoreOfSlot cheap_score_of_slot,
                                                    float score_error, BiasOfSlot bias_of_slot,
                                                    const GroupLayout& layout, RouteFrom route_from) {
  static_assert(VPT % 4 == 0, "vector loads: 4 experts per lane per chunk");
  constexpr int chunks = VPT / 4;
  // 1. Cheap biased scores; each chunk's group: its top two, its score.
  float approx[VPT];
  float group_score[chunks], group_size_of[chunks];
  float row_sum = 0.0f;  // not finite when any score is NaN or +-inf
#pragma unroll
  for (int c = 0; c < chunks; ++c) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int j = 4 * c + i;
      approx[j] = cheap_score_of_slot(j);
      row_sum += approx[j];
    }
    float first = fmaxf(approx[4 * c], approx[4 * c + 1]), second = fminf(approx[4 * c], approx[4 * c + 1]);
    merge_top_two(first, second, fmaxf(approx[4 * c + 2], approx[4 * c + 3]),
                  fminf(approx[4 * c + 2], approx[4 * c + 3]));
    for (int offset = 1; offset < layout.segment; offset *= 2)
      merge_top_two(first, second, __shfl_xor_sync(full_mask, first, offset),
                    __shfl_xor_sync(full_mask, second, offset));
    group_score[c] = first + second;
    group_size_of[c] = fabsf(first) + fabsf(second);
  }
  // 2. The groups ranked by their cheap scores. The cut is settled when the
  // weakest kept group leads the best dropped one by more than twice the
  // cheap group score's error bound: 2 d per score (d grows with |c|, so
  // with |top1| + |top2|, not with the sum, which cancellation can shrink)
  // plus the sum's rounding. The largest |top1| + |top2| of the row bounds
  // both groups' terms.
  const float my_group = gather_group(group_score, layout, lane, p.groups, -INFINITY);
  const float my_group_size = gather_group(group_size_of, layout, lane, p.groups, 0.0f);
  const float largest_size = __uint_as_float(__reduce_max_sync(full_mask, __float_as_uint(my_group_size)));
  int group_rank = 0;
  for (int h = 0; h < p.groups; ++h) {
    const float other = __shfl_sync(full_mask, my_group, h);
    group_rank += other > my_group || (other == my_group && h < lane);
  }
  const bool in_range = lane < p.groups;
  const unsigned kept = __ballot_sync(full_mask, in_range && group_rank < p.kept_groups);
  const float weakest_kept =
      __shfl_sync(full_mask, my_group, __ffs(__ballot_sync(full_mask, in_range && group_rank == p.kept_groups - 1)) - 1);
  const unsigned best_dropped_lane = __ballot_sync(full_mask, in_range && group_rank == p.kept_groups);
  const float best_dropped =
      best_dropped_lane ? __shfl_sync(full_mask, my_group, __ffs(best_dropped_lane) - 1) : -INFINITY;
#ifndef MOEGATE_PLANT_S10_SUM_MARGIN
  const float margin = 16.0f * score_error + largest_size * 0x1p-18f;
#else  // a planted bug (never set in a normal build): the first margin, scaled with the sum
  const float margin = 16.0f * score_error + fabsf(weakest_kept) * 0x1p-18f + 0.0f * largest_size;
#endif
  const bool cut_settled =
      !__any_sync(full_mask, !isfinite(row_sum)) && weakest_kept - best_dropped > margin;
  bool routed = false;
  if (cut_settled) {
    // 3. s09's filter among the kept groups' experts.
    float lane_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < chunks; ++c) {
      const bool dropped = !((kept >> layout.group_of_chunk(c, lane)) & 1u);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if (dropped) approx[4 * c + i] = -INFINITY;
        lane_max = fmaxf(lane_max, approx[4 * c + i]);
      }
    }
    bool usable = false;
    const unsigned candidates = filter_candidates(approx, lane_max, topk, usable, score_error);
    int first = 0;
    const int total = count_candidates(candidates, lane, first);
    if (usable && total <= 32 && total >= topk) {
      route_from(candidates, first, total);
      routed = true;
    }
  }
  if (!routed) route_exact_groups(p, token, lane, topk, logits, bias_of_slot, layout, route_from);
}

// One warp per token at decode sizes (s13, s15), CTAs of two warps, no
// persistence: the row and the bias requested at once and kept in
// registers, route_grouped_token on the Score policy's cheap scores
// (approx_score.cuh), the candidates routed with their logit and bias
// carried (no reload). E fills VPT (s10's shapes).
inline constexpr int grouped_decode_warps_per_cta = 2;

template <int VPT, int TopK, class Score>
__global__ void __launch_bounds__(grouped_decode_warps_per_cta * 32) grouped_decode_kernel(RouteParams p) {
  static_assert(VPT % 4 == 0, "vector loads: 4 experts per lane per chunk");
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ CarriedScratch scratch_of[grouped_decode_warps_per_cta];
  CarriedScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const GroupLayout layout(p, lane);
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(grouped_decode_warps_per_cta) + threadIdx.x / 32;
  wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
  load_row_and_bias<VPT, 4, true>(p, token, lane, logits, bias);  // E fills VPT
  release_dependents();

  route_grouped_token<VPT>(
      p, token, lane, topk, logits, [&](int j) { return Score::biased(logits[j], bias[j]); }, Score::error,
      [&](int j) { return bias[j]; }, layout,
      [&](unsigned candidates, int first, int total) {
        route_carried_candidates<VPT, 4>(p, token, lane, candidates, first, total, topk, logits, bias, scratch);
      });
}

// k = 8 (every grouped preset's) compiled as a constant, a runtime k otherwise.
template <class Score>
void launch_grouped_decode(const RouterConfig& config, const RouteParams& params, cudaStream_t stream,
                           const LaunchOptions& options) {
  const auto blocks =
      static_cast<unsigned>((params.tokens + grouped_decode_warps_per_cta - 1) / grouped_decode_warps_per_cta);
  with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    if constexpr (VPT % 4 == 0) {
      const auto run = [&](auto kernel) {
        launch_kernel(kernel, blocks, grouped_decode_warps_per_cta * 32, stream, options, params);
      };
      if (config.topk == 8) run(grouped_decode_kernel<VPT, 8, Score>);
      else run(grouped_decode_kernel<VPT, 0, Score>);
    }
  });
}

}  // namespace moegate::cuda::detail
