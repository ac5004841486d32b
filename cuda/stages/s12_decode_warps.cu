// s12_decode_warps — decode sizes: one memory round trip, exact keys, no reload.
//
// Idea: at T <= 512 a gate call is one dependent chain, not a stream of
// tokens; s09 (the fastest stage there) pays two memory round trips before
// it routes (the bias fill, then the row), a reload of every candidate's
// logit, and a filter on cheap scores whose margins need an exact fallback.
// Here every lane requests its row values and its bias values at once (s05's
// load_keys: one round trip behind the launch) and keeps the exact scores
// and selection keys in registers, so
// - the bound L is the k-th largest lane maximum of exact keys (k redux.sync
//   rounds, equal maxima leave together): every key >= L is a candidate, no
//   margin and no cheap score;
// - the candidates (>= k, usually k to k + 3) are compacted with their keys
//   and scores through shared memory (no reload), ranked in one pass of
//   shuffles and stored by s09's epilogue (store_ranked);
// - more than 32 candidates (ties) or L = taken (fewer than k experts left):
//   s05's rounds over the same registers.
// Groups: E = 32 G (DeepSeek V3) cuts by one butterfly over all groups at
// once (cut_slot_groups); other group shapes use s05's per-group cut.
// Thread mapping: one warp per token, lane l owns experts l + 32 j (scalar,
// coalesced loads: at decode sizes the loads' count matters less than their
// round trips); CTAs of 2 warps, so T = 512 spreads over 256 CTAs and every
// SM gets work from T = 264 on. No persistence, no next-row prefetch.
// Shared memory: 3 x 32 words of candidates + 64 words of slots per warp
// (1.25 KiB per warp).
// Limits: as s05 (E <= 1024, k <= 32, groups <= 32, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL (waits before the first read).
// Prediction (H200, graph replay, cold, f32): T = 1: s09's 3.01 us minus one
// DRAM round trip (~0.6 us) minus the reload (~0.3 us): ~2.0-2.2 us for
// kimi-k2 (issue #14's goal 2.2), mimo-v2-flash ~1.9 us; deepseek-v3 ~2.3
// (the butterfly cut ~0.15 us more). T = 512: T = 1 plus ~0.3 us of traffic
// (~2.4 us kimi-k2). Large T: slower than s09 (no prefetch, exact sigmoid of
// every value: ~12 x 20 instructions per lane): the dispatch keeps s09 there.
#include "../detail/launch.cuh"
#include "../detail/streaming.cuh"
#include "../detail/warp_registers.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::Lane;
using detail::RouteParams;
using detail::taken_key;
constexpr int warps_per_cta = 2;

struct DecodeScratch {
  detail::WarpScratch slots;  // candidate_expert, then the k slots
  std::uint32_t candidate_key[32];
  float candidate_score[32];
};

enum class Cut { none, slot_groups, any_groups };

template <int VPT, int TopK, Cut GroupCut>
__global__ void __launch_bounds__(warps_per_cta * 32) decode_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ DecodeScratch scratch_of[warps_per_cta];
  DecodeScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane_id = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  Lane<VPT> lane;
  lane.lane = lane_id;
  detail::load_keys(lane, p, token);  // the row and the bias requested together
  detail::release_dependents();
  if constexpr (GroupCut == Cut::slot_groups) detail::cut_slot_groups(lane, p);
  if constexpr (GroupCut == Cut::any_groups) detail::cut_groups(lane, p);

  // The bound: the k-th largest lane maximum (equal maxima leave together,
  // so >= k keys are >= it and every winner is).
  std::uint32_t lane_max = taken_key;
#pragma unroll
  for (int j = 0; j < VPT; ++j) lane_max = max(lane_max, lane.keys[j]);
  std::uint32_t remaining = lane_max, bound = taken_key;
  for (int round = 0; round < topk; ++round) {
    bound = __reduce_max_sync(full_mask, remaining);
    if (remaining == bound) remaining = taken_key;
  }
  unsigned candidates = 0;
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    if (lane.keys[j] >= bound) candidates |= 1u << j;
  int first = 0;
  const int total = detail::count_candidates(candidates, lane_id, first);
  if (bound == taken_key || total > 32) {
    int chosen = 0;
    float weight = 0.0f;
    detail::select_by_rescans(lane, topk, chosen, weight);
    detail::store_slots(p, token, lane_id, chosen, weight);
    return;
  }
  int position = first;
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    if ((candidates >> j) & 1u) {
      scratch.slots.candidate_expert[position] = lane_id + 32 * j;
      scratch.candidate_key[position] = lane.keys[j];
      scratch.candidate_score[position] = lane.scores[j];
      ++position;
    }
  __syncwarp();
  std::uint32_t key = taken_key;
  int expert = 0;
  float score = 0.0f;
  if (lane_id < total) {
    expert = scratch.slots.candidate_expert[lane_id];
    key = scratch.candidate_key[lane_id];
    score = scratch.candidate_score[lane_id];
  }
  detail::store_ranked(p, token, lane_id, key, expert, score, total, topk, scratch.slots);
}

}  // namespace

std::string s12_decode_warps_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s05_warp_registers_refusal(config, logits, bias);
}

void s12_decode_warps_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                             const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    const auto run = [&](auto kernel) {
      detail::launch_kernel(kernel, blocks, warps_per_cta * 32, stream, options, params);
    };
    if (config.groups > 1) {
      if (config.experts == 32 * config.groups) return run(decode_kernel<VPT, 0, Cut::slot_groups>);
      return run(decode_kernel<VPT, 0, Cut::any_groups>);
    }
    // k = 8 (every preset) is compiled as a constant, as in s09.
    if (config.topk == 8) return run(decode_kernel<VPT, 8, Cut::none>);
    run(decode_kernel<VPT, 0, Cut::none>);
  });
}

}  // namespace moegate::cuda::kernels
