// The lazy-candidates selection of s06 (and s07, which drops the cached
// scores): each lane caches its two best ranked keys; a win pops the cache;
// only a lane's win with one candidate left triggers a rescan, for the two
// best keys ranked strictly below its last win.
#pragma once

#include "launch.cuh"
#include "warp_registers.cuh"

namespace moegate::cuda::detail {

// The lane's two best candidates; 0 = none.
struct Cache {
  std::uint64_t first = 0, second = 0;
  float first_score = 0.0f, second_score = 0.0f;
};

// The two best ranked keys of the lane, all of them or only those ranked
// strictly below `bound`.
template <bool KeepScores, int VPT>
__device__ __forceinline__ Cache best_two(const Lane<VPT>& lane, bool bounded, std::uint64_t bound) {
  Cache cache;
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    const std::uint64_t ranked = ranked_key(lane.keys[j], lane.lane + 32 * j);
    if (bounded && ranked >= bound) continue;
    if (ranked > cache.first) {
      cache.second = cache.first;
      cache.second_score = cache.first_score;
      cache.first = ranked;
      if (KeepScores) cache.first_score = lane.scores[j];
    } else if (ranked > cache.second) {
      cache.second = ranked;
      if (KeepScores) cache.second_score = lane.scores[j];
    }
  }
  return cache;
}

// KeepScores: cache each candidate's score beside its key (s06), or keep no
// scores at all and recompute the k winners' from a reload of their logits
// (s07: 12 fewer live registers at E = 384, so more warps per SM).
// Without scores the register budget is capped at 64 for VPT <= 12 (8 CTAs
// of 4 warps per SM); the allocation granularity would otherwise round 65 up
// to 72, the same 28 warps as s06.
template <int VPT, bool KeepScores>
__global__ void __launch_bounds__(registers_warps_per_cta * 32, (!KeepScores && VPT <= 12) ? 8 : 1)
    lazy_kernel(RouteParams p) {
  const int lane_id = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(registers_warps_per_cta) + threadIdx.x / 32;
  wait_for_producer();  // PDL: the logits are complete from here on
  if (token >= p.tokens) return;
  Lane<VPT> lane;
  lane.lane = lane_id;
  load_keys(lane, p, token);
  release_dependents();
  if (p.groups > 1) cut_groups(lane, p);

  Cache cache = best_two<KeepScores>(lane, false, 0);
  int chosen = 0;
  float weight = 0.0f;  // lane j < k owns slot j
  for (int round = 0; round < p.topk; ++round) {
    std::uint32_t best_key;
    int winner;
    warp_best(static_cast<std::uint32_t>(cache.first >> 32), index_of(cache.first), best_key, winner);
    float score = 0.0f;
    if (winner % 32 == lane_id) {
      score = cache.first_score;
      if (cache.second != 0) {
        cache.first = cache.second;
        cache.first_score = cache.second_score;
        cache.second = 0;
      } else {
        cache = best_two<KeepScores>(lane, true, cache.first);
      }
    }
    if (KeepScores) score = __shfl_sync(full_mask, score, winner % 32);
    if (lane_id == round) {
      chosen = winner;
      weight = score;
    }
  }
  if (!KeepScores && lane_id < p.topk)
    weight = gate_sigmoid(load_widened(p.logits, p.logits_dtype, token * p.row_stride + chosen));
  store_slots(p, token, lane_id, chosen, weight);
}

template <bool KeepScores>
void launch_lazy(const RouteParams& params, int experts, cudaStream_t stream, const LaunchOptions& options) {
  const auto blocks = static_cast<unsigned>((params.tokens + registers_warps_per_cta - 1) / registers_warps_per_cta);
  constexpr unsigned threads = registers_warps_per_cta * 32;
  with_values_per_lane(experts, [&](auto vpt) {
    launch_kernel(lazy_kernel<decltype(vpt)::value, KeepScores>, blocks, threads, stream, options, params);
  });
}

}  // namespace moegate::cuda::detail
