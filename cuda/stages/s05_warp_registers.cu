// s05_warp_registers — keys in registers, two warp reductions per round.
//
// Idea: one warp per token, every biased score's selection key held in a
// lane's registers (no shared memory at all). Lane l owns experts l + 32 j,
// j < VPT (VPT = ceil(E / 32), rounded up to a compiled bucket; experts past
// E are "taken"). Each lane keeps its best untaken (key, index). A round is
// two redux.sync instructions (sm_80+): the warp's largest key, then the
// lowest index among lanes holding it; only the owning lane marks the winner
// taken and rescans its VPT keys. The group cut (G <= 32) runs the same way
// per group (top two: four reductions), recovering each biased score from its
// key (the key map is invertible), then keeps topk_group groups with one lane
// per group. Weights: lane j < k reloads its expert's logit (one load, all k
// in parallel), recomputes s, sums the k scores in selection order by
// shuffles, divides, scales, and stores: coalesced [k] writes.
// Measured (H100, commit 327f616, first version): 0.6-0.7x s04, not 2x: the
// per-element dtype switch serialised the VPT loads (T = 1: 7.8 us, one DRAM
// latency per load) and the weight reload added one more. Second version:
// all loads issued back to back (load_lane_strided), scores kept in registers
// and broadcast by the winner's lane (one shuffle per round), no reload.
// Thread mapping: warp = token, 4 warps per CTA; lane l owns experts l + 32 j.
// Shared memory: none.
// Limits: E <= 1024 (VPT buckets 1, 2, 4, 5, 8, 12, 16, 24, 32 cover every
// E; 64, 128, 160, 256, 384, 512 and 1024 fill their bucket exactly), k <= 32,
// G <= 32, any logits/bias dtypes, any row stride and alignment (scalar loads);
// programmatic dependent launch (waits before the first read).
// Prediction vs s02 (the seed's best at large T): the k rounds drop from
// ~(N/32 shared loads + 10 shuffles) to ~(2 reductions + one lane's rescan),
// and no shared traffic: ~2x at T = 65536 (~65 us at E = 384, ~50 % of copy),
// still short of the bandwidth goal because the loads are 4-byte scalar. At
// T = 1: ~3 us (one warp; no CTA barriers), vs s04's 4.3 us.
#include <climits>

#include "../detail/check.hpp"
#include "../detail/launch.cuh"
#include "../detail/warp_registers.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::Lane;
using detail::RouteParams;
using detail::taken_key;
using detail::full_mask;
using detail::warp_best;
constexpr int warps_per_cta = detail::registers_warps_per_cta;

template <int VPT>
__global__ void __launch_bounds__(warps_per_cta * 32) registers_kernel(RouteParams p) {
  const int lane_id = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits are complete from here on
  if (token >= p.tokens) return;
  Lane<VPT> lane;
  lane.lane = lane_id;
  detail::load_keys(lane, p, token);
  detail::release_dependents();
  if (p.groups > 1) detail::cut_groups(lane, p);

  int chosen = 0;
  float weight = 0.0f;  // lane j < k owns slot j
  detail::select_by_rescans(lane, p.topk, chosen, weight);
  detail::store_slots(p, token, lane_id, chosen, weight);
}

}  // namespace

std::string s05_warp_registers_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView&) {
  if (auto grid = detail::grid_limit_refusal(logits.tokens, warps_per_cta); !grid.empty()) return grid;
  if (config.experts > 1024) return "experts must be <= 1024, got " + std::to_string(config.experts);
  if (config.topk > 32) return "topk must be <= 32, got " + std::to_string(config.topk);
  if (config.groups > 32) return "groups must be <= 32, got " + std::to_string(config.groups);
  return {};
}

void s05_warp_registers_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                               const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    detail::launch_kernel(registers_kernel<decltype(vpt)::value>, blocks, warps_per_cta * 32, stream, options, params);
  });
}

}  // namespace moegate::cuda::kernels
