// s17's kernel (the stage file says why it is built this way), with its
// tail as a parameter: how the bound is found from the lane lists and how
// the ranked candidates become the stored token. s17 takes s16's tail
// (ListsTail); s18 a shorter one (cuda/stages/s18_short_tail.cu).
#pragma once

#include "lane_lists.cuh"

namespace moegate::cuda::detail {

// Per-warp shared scratch: the compacted candidates, then the k slots (the
// scores 16-byte aligned: s18 sums them four at a time).
struct LeanScratch {
  int candidate_expert[listed_capacity];
  int slot_expert[32];
  __align__(16) float slot_score[32];
};

// s16's tail: the bound in k rounds, the candidates ranked by one shuffle
// per candidate, the weights summed one slot at a time.
struct ListsTail {
  static __device__ __forceinline__ void prepare(LeanScratch&, int, int) {}

  template <int M>
  static __device__ __forceinline__ std::uint32_t bound(const float (&list)[M], int topk) {
    return bound_over_lists(list, topk);
  }

  static __device__ __forceinline__ void store(const RouteParams& p, std::int64_t token, int lane, int total,
                                               const std::uint32_t (&key)[2], const int (&expert)[2],
                                               const float (&score)[2], LeanScratch& scratch) {
    store_listed_ranked(p, token, lane, total, p.topk, key, expert, score, scratch.slot_expert, scratch.slot_score);
  }
};

// Routes the token from its candidates (k <= total <= 64): compacted as
// experts, candidate c to lane c % 32, exact scores from reloaded logits.
template <int Chunk, class Tail>
__device__ __forceinline__ void route_reloaded_candidates(const RouteParams& p, std::int64_t token, int lane,
                                                          unsigned candidates, int first, int total,
                                                          const float* bias_of, LeanScratch& scratch) {
  compact_experts<Chunk>(candidates, first, lane, scratch.candidate_expert);
  const bool two = total > 32;  // the same in every lane
  std::uint32_t key[2];
  int expert[2];
  float score[2];
  reloaded_key(p, token, scratch.candidate_expert, bias_of, lane, total, key[0], expert[0], score[0]);
  reloaded_key(p, token, scratch.candidate_expert, bias_of, two ? lane + 32 : total, total, key[1], expert[1],
               score[1]);
  Tail::store(p, token, lane, total, key, expert, score, scratch);
}

// One token from its row in registers: s09's cheap scores (0.5 + b from
// shared memory), s16's lists, the tail's bound, s16's margin, then the
// candidates or, when they cannot settle the token, s05's exact path.
template <int VPT, int Chunk, int M, class Tail>
__device__ __forceinline__ void route_lean_token(const RouteParams& p, std::int64_t token, int lane,
                                                 const float (&logits)[VPT], const float* bias_of,
                                                 const float* half_plus_bias_of, LeanScratch& scratch) {
  float approx[VPT];
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    approx[j] = fmaf(approx_half_tanh(logits[j]), 0.5f, half_plus_bias_of[expert_of<Chunk>(lane, j)]);
  float list[M];
  lane_list(approx, list);
  bool usable = false;
  const unsigned candidates = candidates_above_bound(approx, Tail::bound(list, p.topk), usable);
  int first = 0;
  const int total = count_candidates(candidates, lane, first);
  if (usable && total <= listed_capacity && total >= p.topk)
    route_reloaded_candidates<Chunk, Tail>(p, token, lane, candidates, first, total, bias_of, scratch);
  else
    route_exactly_out_of_line<VPT>(p, token, lane);
}

// The row of `token` asked into L2 (the first row: L1), one 128-byte line per
// lane from the row's start (a row is at most 1024 x 4 bytes: 32 lines when
// it starts on a line, else its last line is left to the load itself): no
// register holds it until the warp loads it, a token later.
template <bool IntoL1 = false>
__device__ __forceinline__ void prefetch_row(const RouteParams& p, std::int64_t token, int lane) {
  const int bytes_per_logit = static_cast<int>(dtype_bytes(p.logits_dtype));
  const char* line = static_cast<const char*>(p.logits) + token * p.row_stride * bytes_per_logit + 128 * lane;
  if (128 * lane < p.experts * bytes_per_logit) {
    if constexpr (IntoL1) asm volatile("prefetch.global.L1 [%0];" ::"l"(line));
    else asm volatile("prefetch.global.L2 [%0];" ::"l"(line));
  }
}

// Registers per thread (s17's): a cap that keeps 8 CTAs (32 warps) per SM
// up to 16 values per lane (64 registers) and 4 CTAs above (128). s22 keeps
// 8 at every width (its stage file says why).
template <int VPT>
constexpr int lean_ctas_per_sm() { return VPT <= 16 ? 8 : 4; }

template <int VPT, int Chunk, int M, class Tail, int CtasPerSm = lean_ctas_per_sm<VPT>()>
__global__ void __launch_bounds__(streaming_warps_per_cta * 32, CtasPerSm) lean_lists_kernel(RouteParams p) {
  constexpr int warps_per_cta = streaming_warps_per_cta;
  __shared__ float bias_of[32 * VPT];
  __shared__ __align__(16) float half_plus_bias_of[32 * VPT];
  __shared__ LeanScratch scratch_of[warps_per_cta];
  LeanScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  wait_for_producer();  // PDL: the logits and the bias are complete from here on
  // The first row is asked into L1 before the bias fill and its barrier, so
  // that the two memory latencies overlap; no register waits for it.
  if (token < p.tokens) prefetch_row<true>(p, token, lane);
  fill_bias<VPT>(p, bias_of, half_plus_bias_of);
  Tail::prepare(scratch, lane, p.topk);
  __syncthreads();  // the only CTA barrier: warps leave independently below
  if (token >= p.tokens) return;
  release_dependents();
  for (; token < p.tokens; token += stride) {
    if (token + stride < p.tokens) prefetch_row(p, token + stride, lane);
    float logits[VPT];
    load_row<VPT, Chunk>(p, token * p.row_stride, lane, logits);  // a cache hit: prefetched a token ago
    route_lean_token<VPT, Chunk, M, Tail>(p, token, lane, logits, bias_of, half_plus_bias_of, scratch);
  }
}

// Launches the kernel for the call's values per lane, loads and list depth.
template <class Tail>
void launch_lean_lists(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                       const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = make_params(config, logits, bias, output);
  with_lists_kernel(config, logits, [&](auto vpt, auto chunk, auto depth) {
    launch_streaming(
        lean_lists_kernel<decltype(vpt)::value, decltype(chunk)::value, decltype(depth)::value, Tail>, params,
        stream, options);
  });
}

}  // namespace moegate::cuda::detail
