// s08_approximate_filter — exact work only for the few experts that can win.
//
// Idea: s07 spends ~1333 warp instructions per token (Nsight Compute), ~110
// per expert slot, nearly all of it the exact IEEE sigmoid and key that every
// expert gets though only k win. Here every expert first gets a cheap biased
// score (__expf and __fdividef: a few instructions, absolute error far below
// 2^-15 in s). The k-th largest of the 32 lanes' maxima, L, is a lower bound
// for the k-th largest approximate score (k lanes each hold a value >= L), so
// every expert whose exact score can reach the top k has an approximate score
// >= L - eps, eps = 2^-15 + |L| 2^-19 (both errors, with margin; an infinite
// L is used as is — the first GPU property run caught inf - inf = NaN there). Those
// candidates (NaN scores always included) are compacted through shared memory
// into one lane each; only they get the exact sigmoid and key; k rounds of
// two reductions pick the winners with no rescans. When more than 32 experts
// pass the filter (ties, all-equal rows, many NaN or infinite scores), the
// warp falls back to s05's exact path for that token, so the result is always
// the contract's.
// Thread mapping: warp = token, 4 warps per CTA; lane l owns experts l + 32 j.
// Shared memory: 32 candidates x (logit, bias, expert) per warp: 1.5 KiB per CTA.
// Limits: E <= 1024, k <= 32, no groups (grouped shapes stay on s07), any
// dtypes and stride, PDL.
// Prediction vs s07: ~500 instead of ~1333 warp instructions per token at
// E = 384: ~2x at T = 65536 (~55 us, ~60 % of copy); T = 1 about the same.
#include <climits>

#include "../detail/launch.cuh"
#include "../detail/warp_registers.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::RouteParams;
using detail::taken_key;
constexpr int warps_per_cta = detail::registers_warps_per_cta;

template <int VPT>
__global__ void __launch_bounds__(warps_per_cta * 32) filter_kernel(RouteParams p) {
  __shared__ float candidate_logit[warps_per_cta][32];
  __shared__ float candidate_bias[warps_per_cta][32];
  __shared__ int candidate_expert[warps_per_cta][32];
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + warp;
  detail::wait_for_producer();  // PDL: the logits are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
  detail::load_lane_strided(p.logits, p.logits_dtype, token * p.row_stride, lane, p.experts, logits);
  detail::load_lane_strided(p.bias, p.bias_dtype, 0, lane, p.experts, bias);
  detail::release_dependents();

  // 1. Cheap biased scores and the lane's largest (NaN aside).
  float approx[VPT];
  unsigned nan_slots = 0;
  float lane_max = -INFINITY;
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    const bool valid = lane + 32 * j < p.experts;
    const float score = __fdividef(1.0f, 1.0f + __expf(-logits[j]));
    approx[j] = valid ? score + bias[j] : -INFINITY;
    if (valid && approx[j] != approx[j]) nan_slots |= 1u << j;
    if (approx[j] == approx[j]) lane_max = fmaxf(lane_max, approx[j]);
  }
  // 2. L = the k-th largest lane maximum, by k rounds of two reductions.
  std::uint32_t my_key = number_key(lane_max);
  std::uint32_t bound_key = 0;
  for (int round = 0; round < p.topk; ++round) {
    const std::uint32_t best = __reduce_max_sync(full_mask, my_key);
    const unsigned holder = __reduce_min_sync(full_mask, my_key == best ? static_cast<unsigned>(lane) : 32u);
    if (static_cast<unsigned>(lane) == holder) my_key = 0;
    bound_key = best;
  }
  const float bound = detail::float_of_number_key(bound_key);
  // An infinite bound stays as it is (inf - inf would be NaN and pass nothing).
  const float threshold = isfinite(bound) ? bound - (0x1p-15f + fabsf(bound) * 0x1p-19f) : bound;
  // 3. Candidates, compacted into one lane each.
  unsigned candidates = nan_slots;
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    if (lane + 32 * j < p.experts && approx[j] >= threshold) candidates |= 1u << j;
  int first = 0;
  const int total = detail::count_candidates(candidates, lane, first);

  int chosen = 0;
  float weight = 0.0f;  // lane j < k owns slot j
  if (total <= 32 && total >= p.topk) {  // (fewer than k cannot happen; kept as a guard)
    int position = first;
#pragma unroll
    for (int j = 0; j < VPT; ++j)
      if ((candidates >> j) & 1u) {
        candidate_logit[warp][position] = logits[j];
        candidate_bias[warp][position] = bias[j];
        candidate_expert[warp][position] = lane + 32 * j;
        ++position;
      }
    __syncwarp();
    std::uint32_t key = taken_key;
    int expert = INT_MAX;
    float score = 0.0f;
    if (lane < total) {
      expert = candidate_expert[warp][lane];
      score = detail::gate_sigmoid(candidate_logit[warp][lane]);
      key = detail::select_key(score + candidate_bias[warp][lane], p.profile);
    }
    for (int round = 0; round < p.topk; ++round) {
      std::uint32_t best_key;
      int winner;
      detail::warp_best(key, expert, best_key, winner);
      const int owner = __ffs(__ballot_sync(full_mask, expert == winner)) - 1;
      const float winner_score = __shfl_sync(full_mask, score, owner);
      if (lane == owner) key = taken_key;
      if (lane == round) {
        chosen = winner;
        weight = winner_score;
      }
    }
  } else {
    // Too many candidates (or a failed bound): the exact path of s05 for this token.
    detail::Lane<VPT> exact;
    exact.lane = lane;
#pragma unroll
    for (int j = 0; j < VPT; ++j) {
      exact.scores[j] = detail::gate_sigmoid(logits[j]);
      exact.keys[j] = lane + 32 * j < p.experts ? detail::select_key(exact.scores[j] + bias[j], p.profile) : taken_key;
    }
    detail::select_by_rescans(exact, p.topk, chosen, weight);
  }
  detail::store_slots(p, token, lane, chosen, weight);
}

}  // namespace

std::string s08_approximate_filter_refusal(const RouterConfig& config, const LogitsView& logits,
                                           const BiasView& bias) {
  if (config.groups != 1) return "no expert groups (groups must be 1; s07 routes grouped shapes), got " +
                                 std::to_string(config.groups);
  return s05_warp_registers_refusal(config, logits, bias);
}

void s08_approximate_filter_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                   const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  constexpr unsigned threads = warps_per_cta * 32;
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    detail::launch_kernel(filter_kernel<decltype(vpt)::value>, blocks, threads, stream, options, params);
  });
}

}  // namespace moegate::cuda::kernels
