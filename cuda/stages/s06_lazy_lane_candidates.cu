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
// The kernel is in cuda/detail/lazy_candidates.cuh (s07 reuses it).
// Thread mapping, shared memory, loads, group cut and weights: as s05
// (cuda/detail/warp_registers.cuh); 4 warps per CTA; no shared memory.
// Limits: as s05 (E <= 1024, k <= 32, G <= 32, any dtypes and stride).
// Prediction vs s05: ~500 fewer warp instructions per token of ~1000 at
// E = 384, k = 8: ~1.4x at T = 65536 (~100 us, ~35 % of copy; the sigmoids
// then dominate); T = 1 unchanged within 0.3 us (latency, not issue, bound).
#include "../detail/lazy_candidates.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s06_lazy_lane_candidates_refusal(const RouterConfig& config, const LogitsView& logits,
                                             const BiasView& bias) {
  return s05_warp_registers_refusal(config, logits, bias);
}

void s06_lazy_lane_candidates_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_lazy<true>(detail::make_params(config, logits, bias, output), config.experts, stream, options);
}

}  // namespace moegate::cuda::kernels
