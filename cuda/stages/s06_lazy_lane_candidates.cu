// s06_lazy_lane_candidates — s05 without the per-round rescans.
//
// Idea: s05 spends most of its instructions in the k rounds, where the
// winning lane marks its expert taken (VPT predicated writes) and rescans its
// VPT keys while 31 lanes wait (Nsight Compute: 19.9 of 32 threads active,
// compute-bound at 83 % SM throughput, DRAM 17 %). Here each lane caches its
// two best candidates as 64-bit ranked keys (order key << 32 | ~index: unique,
// larger = better) with their scores. A win pops the first; only when a lane
// wins with its cache already down to one does it rescan — for the two best
// keys ranked strictly below its last win, so nothing is ever marked taken
// (a lane's wins are exactly its best keys, in order). With k = 8 winners
// spread over 32 lanes, most tokens need no rescan at all.
// Thread mapping, shared memory, loads, group cut and weights: as s05
// (cuda/detail/warp_registers.cuh); 4 warps per CTA; no shared memory.
// Limits: as s05 (E <= 1024, k <= 32, G <= 32, any dtypes and stride).
// Prediction vs s05: ~500 fewer warp instructions per token of ~1000 at
// E = 384, k = 8: ~1.4x at T = 65536 (~100 us, ~35 % of copy; the sigmoids
// then dominate); T = 1 unchanged within 0.3 us (latency, not issue, bound).
#include "../detail/check.hpp"
#include "../detail/launch.cuh"
#include "../detail/warp_registers.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::Lane;
using detail::RouteParams;
constexpr int warps_per_cta = detail::registers_warps_per_cta;

// The lane's two best candidates; 0 = none.
struct Cache {
  std::uint64_t first = 0, second = 0;
  float first_score = 0.0f, second_score = 0.0f;
};

// The two best ranked keys of the lane, all of them or only those ranked
// strictly below `bound`.
template <int VPT>
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
      cache.first_score = lane.scores[j];
    } else if (ranked > cache.second) {
      cache.second = ranked;
      cache.second_score = lane.scores[j];
    }
  }
  return cache;
}

template <int VPT>
__global__ void __launch_bounds__(warps_per_cta * 32) lazy_kernel(RouteParams p) {
  const int lane_id = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits are complete from here on
  if (token >= p.tokens) return;
  Lane<VPT> lane;
  lane.lane = lane_id;
  detail::load_keys(lane, p, token);
  detail::release_dependents();
  if (p.groups > 1) detail::cut_groups(lane, p);

  Cache cache = best_two(lane, false, 0);
  int chosen = 0;
  float weight = 0.0f;  // lane j < k owns slot j
  for (int round = 0; round < p.topk; ++round) {
    std::uint32_t best_key;
    int winner;
    detail::warp_best(static_cast<std::uint32_t>(cache.first >> 32), index_of(cache.first), best_key, winner);
    float score = 0.0f;
    if (winner % 32 == lane_id) {
      score = cache.first_score;
      if (cache.second != 0) {
        cache.first = cache.second;
        cache.first_score = cache.second_score;
        cache.second = 0;
      } else {
        cache = best_two(lane, true, cache.first);
      }
    }
    score = __shfl_sync(detail::full_mask, score, winner % 32);
    if (lane_id == round) {
      chosen = winner;
      weight = score;
    }
  }
  detail::store_slots(p, token, lane_id, chosen, weight);
}

template <int VPT>
void launch(const RouteParams& params, cudaStream_t stream, const LaunchOptions& options) {
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  detail::launch_kernel(lazy_kernel<VPT>, blocks, warps_per_cta * 32, stream, options, params);
}

}  // namespace

std::string s06_lazy_lane_candidates_refusal(const RouterConfig& config, const LogitsView& logits,
                                             const BiasView& bias) {
  return s05_warp_registers_refusal(config, logits, bias);
}

void s06_lazy_lane_candidates_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const int per_lane = (config.experts + 31) / 32;
  if (per_lane <= 1) launch<1>(params, stream, options);
  else if (per_lane <= 2) launch<2>(params, stream, options);
  else if (per_lane <= 4) launch<4>(params, stream, options);
  else if (per_lane <= 5) launch<5>(params, stream, options);
  else if (per_lane <= 8) launch<8>(params, stream, options);
  else if (per_lane <= 12) launch<12>(params, stream, options);
  else if (per_lane <= 16) launch<16>(params, stream, options);
  else if (per_lane <= 24) launch<24>(params, stream, options);
  else launch<32>(params, stream, options);
}

}  // namespace moegate::cuda::kernels
