// Persistent "streaming" warps (s09, s10): each warp routes tokens w,
// w + W, ... with its next row's loads in flight; the loads, the candidate
// compaction and ranking, and the grid size they share.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <map>
#include <mutex>
#include <type_traits>
#include <utility>

#include "approx_score.cuh"
#include "check.hpp"
#include "launch.cuh"
#include "warp_registers.cuh"

namespace moegate::cuda::detail {

inline constexpr int streaming_warps_per_cta = 4;

// Which expert slot j of a lane holds: Chunk consecutive experts per lane
// per load (1: scalar loads, 4: vector loads).
template <int Chunk>
__device__ __forceinline__ int expert_of(unsigned lane, unsigned j) {
  return static_cast<int>((j / Chunk) * 32 * Chunk + lane * Chunk + j % Chunk);
}

// A 16-bit logit widened by the hardware conversion: exact for every number
// (NaN stays NaN, its payload aside, which no key or score depends on).
// The weights' scores widen through load_widened, bit for bit the contract.
__device__ __forceinline__ float widen_for_filter(std::uint16_t bits, bool bf16) {
  return bf16 ? widen_bf16(bits) : __half2float(__ushort_as_half(bits));
}

template <int VPT, int Chunk>
__device__ __forceinline__ void load_row(const RouteParams& p, std::int64_t offset, int lane, float (&out)[VPT]) {
  const bool bf16 = p.logits_dtype == DType::bf16;
  if constexpr (Chunk == 1) {
    if (p.logits_dtype == DType::f32) {
      detail::load_lane_strided(p.logits, p.logits_dtype, offset, lane, p.experts, out);
      return;
    }
    const std::uint16_t* row = static_cast<const std::uint16_t*>(p.logits) + offset;
    std::uint16_t raw[VPT];
#pragma unroll
    for (int j = 0; j < VPT; ++j) raw[j] = lane + 32 * j < p.experts ? row[lane + 32 * j] : std::uint16_t{0};
#pragma unroll
    for (int j = 0; j < VPT; ++j) out[j] = widen_for_filter(raw[j], bf16);
  } else {
    static_assert(Chunk == 4 && VPT % 4 == 0, "vector loads take 4 experts per lane");
    if (p.logits_dtype == DType::f32) {
      const auto* row = reinterpret_cast<const float4*>(static_cast<const float*>(p.logits) + offset);
#pragma unroll
      for (int c = 0; c < VPT / 4; ++c) {
        const float4 v = row[32 * c + lane];
        out[4 * c] = v.x, out[4 * c + 1] = v.y, out[4 * c + 2] = v.z, out[4 * c + 3] = v.w;
      }
      return;
    }
    const auto* row = reinterpret_cast<const uint2*>(static_cast<const std::uint16_t*>(p.logits) + offset);
    uint2 raw[VPT / 4];
#pragma unroll
    for (int c = 0; c < VPT / 4; ++c) raw[c] = row[32 * c + lane];
#pragma unroll
    for (int c = 0; c < VPT / 4; ++c) {
      const std::uint32_t words[2] = {raw[c].x, raw[c].y};
#pragma unroll
      for (int i = 0; i < 4; ++i)
        out[4 * c + i] = widen_for_filter(static_cast<std::uint16_t>(words[i / 2] >> (16 * (i % 2))), bf16);
    }
  }
}

// One warp per token at decode sizes (s12, s13, s14): the lane's row values
// and bias values requested at once, both kept in registers (slot j =
// expert expert_of<Chunk>(lane, j); 0 bias past E, unless the caller's
// shapes fill the bucket: s13's do, and skipping the check there keeps its
// code as measured; s12's vector kernels spill without it).
template <int VPT, int Chunk, bool FillsBucket = false>
__device__ __forceinline__ void load_row_and_bias(const RouteParams& p, std::int64_t token, int lane,
                                                  float (&logits)[VPT], float (&bias)[VPT]) {
  load_row<VPT, Chunk>(p, token * p.row_stride, lane, logits);
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    const int e = expert_of<Chunk>(lane, j);
    bias[j] = FillsBucket || e < p.experts ? load_widened(p.bias, p.bias_dtype, e) : 0.0f;
  }
}

// s09's cheap biased scores (HalfTanhScore: fma(tanh.approx(x / 2), 0.5, 0.5 + b)) from
// registers (-inf past E); returns the lane's maximum.
template <int VPT, int Chunk>
__device__ __forceinline__ float cheap_scores(const RouteParams& p, int lane, const float (&logits)[VPT],
                                              const float (&bias)[VPT], float (&approx)[VPT]) {
  float lane_max = -INFINITY;
#pragma unroll
  for (int j = 0; j < VPT; ++j) {
    const bool expert = expert_of<Chunk>(lane, j) < p.experts;
    approx[j] = expert ? HalfTanhScore::biased(logits[j], bias[j]) : -INFINITY;
    lane_max = fmaxf(lane_max, approx[j]);
  }
  return lane_max;
}

// The bias, read once per CTA into shared memory: b for the exact scores,
// 0.5 + b for the cheap ones (-inf past E: those slots never pass a filter).
template <int VPT>
__device__ __forceinline__ void fill_bias(const RouteParams& p, float* bias_of, float* half_plus_bias_of) {
  for (int e = threadIdx.x; e < 32 * VPT; e += streaming_warps_per_cta * 32) {
    const float b = e < p.experts ? load_widened(p.bias, p.bias_dtype, e) : 0.0f;
    bias_of[e] = b;
    half_plus_bias_of[e] = e < p.experts ? 0.5f + b : -INFINITY;
  }
}

// Per-warp shared scratch: the compacted candidates, then the k slots.
struct WarpScratch {
  int candidate_expert[32];
  int slot_expert[32];
  float slot_score[32];
};

// The filter on cheap biased scores a (approx_score.cuh: within
// d = score_error + a few ulp of the exact c; score_error is
// approx_score_error for s09's score), given a key L that bounds the k-th
// largest a from below: every exact winner has a >= L - 2d, so the
// threshold L - (4 score_error + |L| 2^-19) covers 2d with margin. NaN passes (!(a < threshold)); -inf never does (the threshold is
// at least -FLT_MAX), so `usable` is false, and the token needs the exact
// path, when L is -inf (fewer than k values above -inf) or NaN (the key 0:
// the lanes ran out).
template <int VPT>
__device__ __forceinline__ unsigned candidates_above_bound(const float (&approx)[VPT], std::uint32_t bound_key,
                                                           bool& usable, float score_error = approx_score_error) {
  const float bound = float_of_number_key(bound_key);
  usable = bound > -INFINITY;
  const float margin = 4.0f * score_error + fabsf(bound) * 0x1p-19f;
  const float threshold = fmaxf(isfinite(bound) ? bound - margin : bound, -FLT_MAX);
  unsigned candidates = 0;
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    if (!(approx[j] < threshold)) candidates |= 1u << j;
  return candidates;
}

// s09's bound: L = the k-th largest lane maximum (one reduction per round;
// equal maxima leave together, so >= k lanes still hold a value >= L).
template <int VPT>
__device__ __forceinline__ unsigned filter_candidates(const float (&approx)[VPT], float lane_max, int topk,
                                                      bool& usable, float score_error = approx_score_error) {
  std::uint32_t key = number_key(lane_max), best = 0;
  for (int round = 0; round < topk; ++round) {
    best = __reduce_max_sync(full_mask, key);
    if (key == best) key = 0;
  }
  return candidates_above_bound(approx, best, usable, score_error);
}

// s14's bound, half the dependent chain: the lower 16 lanes find their
// ceil(k/2)-th largest lane maximum and the upper 16 their floor(k/2)-th,
// both in the same rounds (two independent reductions per round); L = the
// smaller. Each half holds that many lanes, so that many distinct experts,
// at or above it: >= k values >= L. Looser than s09's bound (simulated,
// E = 384 and 256, normal inputs: 11.0 candidates on average against 8.9,
// more than 32 for 5 tokens in a million against none).
template <int VPT>
__device__ __forceinline__ unsigned filter_candidates_in_halves(const float (&approx)[VPT], float lane_max, int topk,
                                                                int lane, bool& usable) {
  const bool upper = lane >= 16;
  const int lower_rounds = (topk + 1) / 2, upper_rounds = topk / 2;
  // k = 1 asks nothing of the upper half: its bound is min's identity.
  std::uint32_t key = number_key(lane_max), lower_best = 0, upper_best = upper_rounds > 0 ? 0u : UINT_MAX;
  for (int round = 0; round < lower_rounds; ++round) {
    lower_best = __reduce_max_sync(full_mask, upper ? 0u : key);
    if (round < upper_rounds) upper_best = __reduce_max_sync(full_mask, upper ? key : 0u);
    if (key == (upper ? upper_best : lower_best)) key = 0;
  }
  return candidates_above_bound(approx, min(lower_best, upper_best), usable);
}

// Four slots' scores added to `sum` in selection order, from one 16-byte load.
__device__ __forceinline__ void add_four_slots(const float* slot_score, int first, float& sum) {
  const float4 four = *reinterpret_cast<const float4*>(slot_score + first);
  sum += four.x;
  sum += four.y;
  sum += four.z;
  sum += four.w;
}

// The k slots, written to shared memory by rank: the weights summed in
// selection order, then stored (lane j < k: slot j). SlotsPerLoad = 4 reads
// the scores 16 bytes at a time (s18): the scores must be 16-byte aligned
// and the slots from k up to the next multiple of 4 hold +0, which adds
// nothing to a sum of scores (+0 or more, or NaN, from +0 on). SummedSlots
// > 0 (with 4 per load, s22) sums that many slots, unrolled, with no trip
// count: the slots from k up to it must hold +0 as well.
template <int SlotsPerLoad = 1, int SummedSlots = 0>
__device__ __forceinline__ void store_slots_in_order(const RouteParams& p, std::int64_t token, int lane, int topk,
                                                     const int* slot_expert, const float* slot_score) {
  static_assert(SlotsPerLoad == 1 || SlotsPerLoad == 4, "one slot or a float4 per load");
  static_assert(SummedSlots == 0 || (SlotsPerLoad == 4 && SummedSlots % 4 == 0 && SummedSlots <= 32),
                "a fixed sum reads whole float4s of the 32 slots");
  __syncwarp();
  float sum = 0.0f;
  if (p.renormalize) {
    if constexpr (SummedSlots > 0) {
#pragma unroll
      for (int j = 0; j < SummedSlots; j += 4) add_four_slots(slot_score, j, sum);  // selection order
    } else if constexpr (SlotsPerLoad == 4) {
      for (int j = 0; j < topk; j += 4) add_four_slots(slot_score, j, sum);  // selection order
    } else {
      for (int j = 0; j < topk; ++j) sum += slot_score[j];  // selection order
    }
  }
  const int slot = lane < topk ? lane : 0;
  store_weighted(p, token, lane, slot_expert[slot], slot_score[slot], sum);
  __syncwarp();  // the scratch is rewritten for the next token
}

// The candidates' exact keys, one per lane (lanes >= total hold none; every
// expert that can be among the k best is one of them, k <= total <= 32):
// each one's rank = the number of candidates with a larger key (one pass of
// shuffles; equal keys share a rank, which the ranks' sum shows, and only
// then a second pass ranks by (key, lower expert)); ranks < k write their
// slot to shared memory, the weights are summed from there in selection
// order and stored.
__device__ __forceinline__ void store_ranked(const RouteParams& p, std::int64_t token, int lane, std::uint32_t key,
                                             int expert, float score, int total, int topk, WarpScratch& scratch) {
  int rank = 0;
  for (int other = 0; other < total; ++other) rank += __shfl_sync(full_mask, key, other) > key;
  if (__reduce_add_sync(full_mask, lane < total ? rank : 0) != total * (total - 1) / 2) {
    const std::uint64_t ranked = lane < total ? ranked_key(key, expert) : 0;
    rank = 0;
    for (int other = 0; other < total; ++other) rank += __shfl_sync(full_mask, ranked, other) > ranked;
  }
  if (lane < total && rank < topk) {
    scratch.slot_expert[rank] = expert;
    scratch.slot_score[rank] = score;
  }
  store_slots_in_order(p, token, lane, topk, scratch.slot_expert, scratch.slot_score);
}

// The lane's candidates (bit j: slot j) as experts, written from position
// `first` on: one iteration per candidate, not per slot.
template <int Chunk>
__device__ __forceinline__ void compact_experts(unsigned candidates, int first, int lane, int* expert) {
  int position = first;
  for (unsigned bits = candidates; bits != 0; bits &= bits - 1)
    expert[position++] = expert_of<Chunk>(lane, __ffs(bits) - 1u);
  __syncwarp();
}

// Compacted candidate `position`'s exact score and key from its logit,
// reloaded (the row was read moments before: an L1 hit), and its bias from
// shared memory (taken_key, expert 0 and score 0 past the total).
__device__ __forceinline__ void reloaded_key(const RouteParams& p, std::int64_t token, const int* expert_of_position,
                                             const float* bias_of, int position, int total, std::uint32_t& key,
                                             int& expert, float& score) {
  key = taken_key;
  expert = 0;
  score = 0.0f;
  if (position < total) {
    expert = expert_of_position[position];
    score = gate_sigmoid(load_widened(p.logits, p.logits_dtype, token * p.row_stride + expert));
    key = select_key(score + bias_of[expert], p.profile);
  }
}

// Routes the token from its candidates (k <= total <= 32, every expert that
// can be among the k best included): compacted into one lane each, exact
// scores and keys from a reload of their logits, then store_ranked.
template <int Chunk>
__device__ __forceinline__ void route_candidates(const RouteParams& p, std::int64_t token, int lane,
                                                 unsigned candidates, int first, int total, int topk,
                                                 const float* bias_of, WarpScratch& scratch) {
  compact_experts<Chunk>(candidates, first, lane, scratch.candidate_expert);
  std::uint32_t key;
  int expert;
  float score;
  reloaded_key(p, token, scratch.candidate_expert, bias_of, lane, total, key, expert, score);
  store_ranked(p, token, lane, key, expert, score, total, topk, scratch);
}

// Per-warp scratch when the candidates carry their values: compacted with
// their logit and bias, so their exact scores need no reload (s12, s13).
struct CarriedScratch {
  WarpScratch slots;  // candidate_expert, then the k slots
  float candidate_logit[32];
  float candidate_bias[32];
};

// The lane's candidates (bit j: slot j, expert expert_of<Chunk>(lane, j))
// written from position `first` on, each with its logit and bias.
template <int VPT, int Chunk>
__device__ __forceinline__ void compact_carried(unsigned candidates, int first, int lane, const float (&logits)[VPT],
                                                const float (&bias)[VPT], int* expert, float* logit, float* bias_of) {
  int position = first;
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    if ((candidates >> j) & 1u) {
      expert[position] = expert_of<Chunk>(lane, j);
      logit[position] = logits[j];
      bias_of[position] = bias[j];
      ++position;
    }
  __syncwarp();
}

// Carried candidate `position`'s exact score and key, from its logit and bias
// (taken_key, expert 0 and score 0 past the total).
__device__ __forceinline__ void carried_key(const RouteParams& p, const int* expert_of_position,
                                            const float* logit_of_position, const float* bias_of_position,
                                            int position, int total, std::uint32_t& key, int& expert, float& score) {
  key = taken_key;
  expert = 0;
  score = 0.0f;
  if (position < total) {
    expert = expert_of_position[position];
    score = gate_sigmoid(logit_of_position[position]);
    key = select_key(score + bias_of_position[position], p.profile);
  }
}

// As route_candidates, with the row and the bias in this lane's registers
// (slot j = expert expert_of<Chunk>(lane, j)): each candidate goes to one
// lane with its logit and bias, whose exact score and key follow.
template <int VPT, int Chunk>
__device__ __forceinline__ void route_carried_candidates(const RouteParams& p, std::int64_t token, int lane,
                                                         unsigned candidates, int first, int total, int topk,
                                                         const float (&logits)[VPT], const float (&bias)[VPT],
                                                         CarriedScratch& scratch) {
  compact_carried<VPT, Chunk>(candidates, first, lane, logits, bias, scratch.slots.candidate_expert,
                              scratch.candidate_logit, scratch.candidate_bias);
  std::uint32_t key;
  int expert;
  float score;
  carried_key(p, scratch.slots.candidate_expert, scratch.candidate_logit, scratch.candidate_bias, lane, total, key,
              expert, score);
  store_ranked(p, token, lane, key, expert, score, total, topk, scratch.slots);
}

// The rare token a filter cannot settle: s05's exact path (with the group
// cut when Grouped: compiled only where groups occur, it costs registers),
// the row reloaded.
template <int VPT, bool Grouped>
__device__ __forceinline__ void route_exactly(const RouteParams& p, std::int64_t token, int lane) {
  int chosen = 0;
  float weight = 0.0f;
  Lane<VPT> exact;
  exact.lane = lane;
  load_keys(exact, p, token);
  if (Grouped) cut_groups(exact, p);
  select_by_rescans(exact, p.topk, chosen, weight);
  store_slots(p, token, lane, chosen, weight);
}

// CTAs of this kernel that fit on the device at once (the persistent grid).
// The occupancy query runs once per kernel and device: every streaming
// kernel has the same C++ type, so the cache is keyed by its address (a
// per-type static once gave every kernel the first one's count).
template <class Kernel>
unsigned resident_ctas(Kernel kernel) {
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, int> per_sm;
  int device = 0, sms = 0;
  MOEGATE_CUDA_CHECK(cudaGetDevice(&device));
  MOEGATE_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_pair(reinterpret_cast<const void*>(kernel), device);
  auto found = per_sm.find(key);
  if (found == per_sm.end()) {
    int blocks = 0;
    MOEGATE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, streaming_warps_per_cta * 32, 0));
    found = per_sm.emplace(key, blocks).first;
  }
  return static_cast<unsigned>(found->second * sms);
}

// Launches a streaming kernel on a persistent grid: as many CTAs as the
// tokens need, at most as many as fit on the device at once.
template <class Kernel>
void launch_streaming(Kernel kernel, const RouteParams& params, cudaStream_t stream, const LaunchOptions& options) {
  const std::int64_t needed = (params.tokens + streaming_warps_per_cta - 1) / streaming_warps_per_cta;
  const auto blocks = static_cast<unsigned>(std::min<std::int64_t>(needed, resident_ctas(kernel)));
  launch_kernel(kernel, blocks, streaming_warps_per_cta * 32, stream, options, params);
}

inline bool vector_loads_fit(const RouterConfig& config, const LogitsView& logits, int values_per_lane) {
  const auto address = reinterpret_cast<std::uintptr_t>(logits.data);
  const std::size_t load_bytes = 4 * dtype_bytes(logits.dtype);
  return values_per_lane % 4 == 0 && config.experts == 32 * values_per_lane && logits.row_stride % 4 == 0 &&
         address % load_bytes == 0;
}

// Which kernel of a filter stage (s09, s12) runs the call: run(chunk, topk)
// with integral constants. Vector loads (chunk 4) where they fit, with
// k = 8 (every preset's) compiled as a constant; scalar loads (chunk 1) and
// a runtime k otherwise, one kernel per bucket (binary size).
template <int VPT, class Run>
void with_filter_kernel(const RouterConfig& config, const LogitsView& logits, Run&& run) {
  using Vector = std::integral_constant<int, 4>;
  using RuntimeK = std::integral_constant<int, 0>;
  if constexpr (VPT % 4 == 0) {
    if (vector_loads_fit(config, logits, VPT)) {
      if (config.topk == 8) return run(Vector{}, std::integral_constant<int, 8>{});
      return run(Vector{}, RuntimeK{});
    }
  }
  run(std::integral_constant<int, 1>{}, RuntimeK{});
}

}  // namespace moegate::cuda::detail
