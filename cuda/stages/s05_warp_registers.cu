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
// G <= 32, any logits/bias dtypes, any row stride and alignment (scalar loads).
// Prediction vs s02 (the seed's best at large T): the k rounds drop from
// ~(N/32 shared loads + 10 shuffles) to ~(2 reductions + one lane's rescan),
// and no shared traffic: ~2x at T = 65536 (~65 us at E = 384, ~50 % of copy),
// still short of the bandwidth goal because the loads are 4-byte scalar. At
// T = 1: ~3 us (one warp; no CTA barriers), vs s04's 4.3 us.
#include <climits>

#include "../detail/check.hpp"
#include "../detail/numeric.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::RouteParams;
using detail::taken_key;

constexpr int warps_per_cta = 4;
constexpr unsigned full_mask = 0xFFFFFFFFu;

// The biased score a selection key stands for (select_key's inverse; NaN
// for the two NaN keys).
__device__ __forceinline__ float score_of_key(std::uint32_t key) {
  if (key == 1u || key == 0xFFFFFFFFu) return __uint_as_float(0x7FC00000u);
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key);
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

template <int VPT>
__global__ void __launch_bounds__(warps_per_cta * 32) registers_kernel(RouteParams p) {
  const int lane_id = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  if (token >= p.tokens) return;
  Lane<VPT> lane;
  lane.lane = lane_id;
  float logits[VPT], bias[VPT];
  detail::load_lane_strided(p.logits, p.logits_dtype, token * p.row_stride, lane_id, p.experts, logits);
  detail::load_lane_strided(p.bias, p.bias_dtype, 0, lane_id, p.experts, bias);
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    lane.scores[j] = detail::gate_sigmoid(logits[j]);
    lane.keys[j] = lane_id + 32 * j < p.experts ? detail::select_key(lane.scores[j] + bias[j], p.profile) : taken_key;
  }
  if (p.groups > 1) cut_groups(lane, p);

  std::uint32_t key;
  int index;
  lane.best(key, index);
  int chosen = 0;
  float weight = 0.0f;  // lane j < k owns slot j
  for (int round = 0; round < p.topk; ++round) {
    std::uint32_t best_key;
    int winner;
    warp_best(key, index, best_key, winner);
    float score = 0.0f;
    if (winner % 32 == lane_id) {
      score = lane.take(winner);
      lane.best(key, index);
    }
    score = __shfl_sync(full_mask, score, winner % 32);
    if (lane_id == round) {
      chosen = winner;
      weight = score;
    }
  }
  if (p.renormalize) {
    float sum = 0.0f;
    for (int j = 0; j < p.topk; ++j) sum += __shfl_sync(full_mask, weight, j);
    const ZeroSum policy = p.profile.zero_sum;
    if (policy == ZeroSum::epsilon) weight /= sum + 1e-20f;
    else if (policy == ZeroSum::nan || sum > 0.0f) weight /= sum;
  }
  if (p.scales_output) weight *= p.scaling_factor;
  if (lane_id < p.topk) {
    p.ids[token * p.topk + lane_id] = chosen;
    p.weights[token * p.topk + lane_id] = weight;
  }
}

template <int VPT>
void launch(const RouteParams& params, cudaStream_t stream) {
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  registers_kernel<VPT><<<blocks, warps_per_cta * 32, 0, stream>>>(params);
}

}  // namespace

std::string s05_warp_registers_refusal(const RouterConfig& config, const LogitsView&, const BiasView&) {
  if (config.experts > 1024) return "experts must be <= 1024, got " + std::to_string(config.experts);
  if (config.topk > 32) return "topk must be <= 32, got " + std::to_string(config.topk);
  if (config.groups > 32) return "groups must be <= 32, got " + std::to_string(config.groups);
  return {};
}

void s05_warp_registers_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                               const OutputView& output, cudaStream_t stream) {
  const auto params = detail::make_params(config, logits, bias, output);
  const int per_lane = (config.experts + 31) / 32;
  if (per_lane <= 1) launch<1>(params, stream);
  else if (per_lane <= 2) launch<2>(params, stream);
  else if (per_lane <= 4) launch<4>(params, stream);
  else if (per_lane <= 5) launch<5>(params, stream);
  else if (per_lane <= 8) launch<8>(params, stream);
  else if (per_lane <= 12) launch<12>(params, stream);
  else if (per_lane <= 16) launch<16>(params, stream);
  else if (per_lane <= 24) launch<24>(params, stream);
  else launch<32>(params, stream);
  MOEGATE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moegate::cuda::kernels
