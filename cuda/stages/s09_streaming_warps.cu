// s09_streaming_warps — persistent warps stream tokens; one MUFU per expert.
//
// Idea: s08's filter with the per-token overhead cut and the next row
// always in flight.
// - Persistent grid (as many CTAs as fit at once); each warp routes tokens
//   w, w + W, w + 2W, ... and issues the loads of its next row before it
//   routes the current one.
// - The bias is read once per CTA into shared memory: b for the exact
//   scores, 0.5 + b for the cheap ones (-inf past E: no per-token checks).
// - Cheap score: 0.5 + 0.5 tanh.approx(x / 2) (approx_score.cuh): one MUFU
//   and two FP32 ops per expert (s08: ex2 + rcp, two MUFU, four FP32 ops).
// - 16-byte (f32) or 8-byte (bf16/f16) loads when E fills its VPT bucket,
//   VPT % 4 == 0 and the rows are aligned: lane l owns experts
//   128 c + 4 l + i; scalar loads (experts l + 32 j) otherwise.
// - The bound L (the k-th largest lane maximum) takes one reduction per
//   round: equal maxima leave together, which keeps L a valid lower bound
//   (>= k lanes hold a value >= it) and only loosens it on ties.
// - Winners without rounds: each candidate's rank is the number of
//   candidates with a larger key (one pass of shuffles); ranks < k write
//   their slot to shared memory, the weights are summed from there in
//   selection order. k = 8 (every preset) is compiled as a constant.
// Filter: every value's cheap biased score a = fma(t, 0.5, 0.5 + b) is within
// d = approx_score_error + 3 ulp of the exact one, so every exact winner has
// a >= L - 2d; the threshold L - (2^-10 + |L| 2^-19) covers 2d with margin.
// NaN scores always pass (!(a < threshold)); L = -inf or NaN, more than 32
// candidates or fewer than k -> s05's exact path for that token (reloading
// the row), so the result is always the contract's.
// Thread mapping: 4 warps per CTA; the CTA count from the occupancy API.
// Shared memory: 2 x 32 VPT floats of bias + 96 words per warp (<= 9.5 KiB).
// Limits: as s08 (E <= 1024, k <= 32, no groups, any dtypes/stride, PDL).
// Prediction vs s08 (H100, kimi-k2, f32): ~350 instead of ~1000 warp
// instructions per token (s08 measured 1028 by ncu) and a row always in
// flight: ~1.5x at T = 65536 (~58 us, ~60 % of copy); bf16 ~0.8x of its
// f32 time; T = 1 unchanged.
// Measured (H100, the steps in docs/stages.md): 47.6 us at T = 65536
// (1.83x s08, 70 % of copy), 488 -> ~450 instructions per token; bf16
// 49.3 us (1.04x f32: still not memory-bound); T = 1 2.98 us (s08 4.52):
// the rank pass and the single-reduction bound shortened the chain.
#include <cfloat>
#include <climits>

#include <cuda_fp16.h>

#include "../detail/approx_score.cuh"
#include "../detail/launch.cuh"
#include "../detail/warp_registers.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::full_mask;
using detail::RouteParams;
using detail::taken_key;
constexpr int warps_per_cta = 4;

// Which expert slot j of a lane holds: Chunk consecutive experts per lane
// per load (1: scalar loads, 4: vector loads).
template <int Chunk>
__device__ __forceinline__ int expert_of(unsigned lane, unsigned j) {
  return static_cast<int>((j / Chunk) * 32 * Chunk + lane * Chunk + j % Chunk);
}

// The filter's view of a 16-bit value: the hardware conversion (exact for
// every number; NaN stays NaN, its payload aside: only the cheap scores use
// it, the exact scores widen through load_widened).
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

// number_key's inverse (the bound is never a NaN key).
__device__ __forceinline__ float float_of_number_key(std::uint32_t key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key);
}

// A lower bound for the k-th largest value of the warp (NaN aside): the
// k-th largest lane maximum, one reduction per round (equal maxima leave
// together, so >= k lanes still hold a value >= it). Lanes running out
// (fewer than k distinct maxima) give NaN: every number passes.
__device__ __forceinline__ float lane_max_bound(float lane_max, int topk) {
  std::uint32_t key = number_key(lane_max), best = 0;
  for (int round = 0; round < topk; ++round) {
    best = __reduce_max_sync(full_mask, key);
    if (key == best) key = 0;
  }
  return float_of_number_key(best);
}

// The rare token the filter cannot settle: s05's exact path, row reloaded.
template <int VPT>
__device__ __forceinline__ void route_exactly(const RouteParams& p, std::int64_t token, int lane) {
  int chosen = 0;
  float weight = 0.0f;
  detail::Lane<VPT> exact;
  exact.lane = lane;
  detail::load_keys(exact, p, token);
  detail::select_by_rescans(exact, p.topk, chosen, weight);
  detail::store_slots(p, token, lane, chosen, weight);
}

struct WarpScratch {
  int candidate_expert[32];
  int slot_expert[32];
  float slot_score[32];
};

// TopK: the k the kernel is compiled for (8, every preset's), or 0: p.topk.
// Register caps (CTAs per SM): 8 (64 registers) up to E = 384, except the
// scalar-load E = 384 kernel, which spills 88 bytes at 64 and gets 80 (6).
template <int VPT, int Chunk>
constexpr int min_ctas_per_sm() { return VPT > 12 ? 1 : (VPT == 12 && Chunk == 1) ? 6 : 8; }

template <int VPT, int Chunk, int TopK>
__global__ void __launch_bounds__(warps_per_cta * 32, min_ctas_per_sm<VPT, Chunk>()) streaming_kernel(RouteParams p) {
  const int topk = TopK > 0 ? TopK : p.topk;
  __shared__ float bias_of[32 * VPT];
  __shared__ __align__(16) float half_plus_bias_of[32 * VPT];
  __shared__ WarpScratch scratch_of[warps_per_cta];
  const int lane = threadIdx.x % 32;
  WarpScratch& scratch = scratch_of[threadIdx.x / 32];
  // The bias, read once per CTA: b for the exact scores; 0.5 + b for the
  // cheap ones, -inf past E (those slots never pass the filter).
  for (int e = threadIdx.x; e < 32 * VPT; e += warps_per_cta * 32) {
    const float b = e < p.experts ? load_widened(p.bias, p.bias_dtype, e) : 0.0f;
    bias_of[e] = b;
    half_plus_bias_of[e] = e < p.experts ? 0.5f + b : -INFINITY;
  }
  __syncthreads();  // the only CTA barrier: warps leave independently below

  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT];
  load_row<VPT, Chunk>(p, token * p.row_stride, lane, logits);
  detail::release_dependents();

  for (; token < p.tokens; token += stride) {
    float next[VPT];
    if (token + stride < p.tokens) load_row<VPT, Chunk>(p, (token + stride) * p.row_stride, lane, next);

    // 1. Cheap biased scores (slots past E: -inf), the lane's largest.
    float approx[VPT];
    float lane_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < VPT; ++j) {
      const int e = expert_of<Chunk>(lane, j);
      approx[j] = fmaf(detail::approx_half_tanh(logits[j]), 0.5f, half_plus_bias_of[e]);
      lane_max = fmaxf(lane_max, approx[j]);
    }
    // 2. The threshold: below the bound by the filter's margin, never -inf:
    // slots past E never pass. A bound of -inf (fewer than k values above
    // -inf, or slots past E on every lane of k groups) or NaN (lanes ran out)
    // sends the token to the exact path.
    const float bound = lane_max_bound(lane_max, topk);
    const float threshold =
        fmaxf(isfinite(bound) ? bound - (0x1p-10f + fabsf(bound) * 0x1p-19f) : bound, -FLT_MAX);
    // 3. Candidates (NaN included), compacted into one lane each.
    unsigned candidates = 0;
#pragma unroll
    for (int j = 0; j < VPT; ++j)
      if (!(approx[j] < threshold)) candidates |= 1u << j;
    const int count = __popc(candidates);
    int inclusive = count;
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
      const int below = __shfl_up_sync(full_mask, inclusive, d);
      if (lane >= d) inclusive += below;
    }
    const int total = __shfl_sync(full_mask, inclusive, 31);

    if (bound > -INFINITY && total <= 32 && total >= topk) {
      int position = inclusive - count;
      for (unsigned bits = candidates; bits != 0; bits &= bits - 1)
        scratch.candidate_expert[position++] = expert_of<Chunk>(lane, __ffs(bits) - 1u);
      __syncwarp();
      // 4. Exact scores of the candidates; each one's rank among them is the
      // number of candidates with a larger key, by one pass of shuffles.
      // Equal keys share a rank (the ranks then sum to less than 0 + 1 + ...
      // + (total - 1)); only then a second pass ranks by (key, lower expert).
      std::uint32_t key = taken_key;
      int expert = 0;
      float score = 0.0f;
      if (lane < total) {
        expert = scratch.candidate_expert[lane];
        score = detail::gate_sigmoid(load_widened(p.logits, p.logits_dtype, token * p.row_stride + expert));
        key = detail::select_key(score + bias_of[expert], p.profile);
      }
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
      __syncwarp();
      float sum = 0.0f;
      if (p.renormalize)
        for (int j = 0; j < topk; ++j) sum += scratch.slot_score[j];  // selection order
      const int slot = lane < topk ? lane : 0;
      detail::store_weighted(p, token, lane, scratch.slot_expert[slot], scratch.slot_score[slot], sum);
    } else {
      route_exactly<VPT>(p, token, lane);
    }
#pragma unroll
    for (int j = 0; j < VPT; ++j) logits[j] = next[j];
  }
}

// CTAs that fit on the device at once (the persistent grid), per kernel.
template <class Kernel>
unsigned resident_ctas(Kernel kernel) {
  static const int per_sm = [&] {
    int blocks = 0;
    MOEGATE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, warps_per_cta * 32, 0));
    return blocks;
  }();
  int device = 0, sms = 0;
  MOEGATE_CUDA_CHECK(cudaGetDevice(&device));
  MOEGATE_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return static_cast<unsigned>(per_sm * sms);
}

bool vector_loads_fit(const RouterConfig& config, const LogitsView& logits, int values_per_lane) {
  const auto address = reinterpret_cast<std::uintptr_t>(logits.data);
  const std::size_t load_bytes = 4 * dtype_bytes(logits.dtype);
  return values_per_lane % 4 == 0 && config.experts == 32 * values_per_lane && logits.row_stride % 4 == 0 &&
         address % load_bytes == 0;
}

}  // namespace

std::string s09_streaming_warps_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s09_streaming_warps_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto needed = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  constexpr unsigned threads = warps_per_cta * 32;
  detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    const auto run = [&](auto kernel) {
      detail::launch_kernel(kernel, std::min(needed, resident_ctas(kernel)), threads, stream, options, params);
    };
    const auto run_for_k = [&](auto chunk) {
      constexpr int Chunk = decltype(chunk)::value;
      if (config.topk == 8) run(streaming_kernel<VPT, Chunk, 8>);
      else run(streaming_kernel<VPT, Chunk, 0>);
    };
    if constexpr (VPT % 4 == 0) {
      if (vector_loads_fit(config, logits, VPT)) return run_for_k(std::integral_constant<int, 4>{});
    }
    run_for_k(std::integral_constant<int, 1>{});
  });
}

}  // namespace moegate::cuda::kernels
