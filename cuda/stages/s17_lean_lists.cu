// s17_lean_lists — s16's bound on a leaner token: candidates compacted by
// their set bits and reloaded, the bias in shared memory, the next row
// prefetched into L2 instead of held in registers.
//
// Idea: at E = 512, k = 22, T = 65536 (H200, commit d757e7c, ncu source
// counters) s16 issues 1074 warp instructions per token at 24 % occupancy
// (116 registers), issue slots 53 % busy, and its time is that instruction
// stream: 70.4 M warp instructions over 132 SMs x 4 schedulers at 1.98 GHz
// is 67 us at full issue, 130 measured. By phase: cheap scores and lists
// 176, the bound 167, the filter and count 92, compacting the candidates
// with their logit and bias 184, their exact keys 60, ranking 185, slots,
// sum and stores 159. The compaction is one branch, a shared-memory address
// and three stores per slot (16 per lane), for ~0.7 candidates per lane.
// Here, s09's lean token around s16's lists and bound:
// - the candidates are compacted as experts only, one loop iteration per
//   set bit (detail::compact_experts, as s09), and each one's logit is
//   reloaded for its exact score (an L1 hit: its row was read moments
//   before);
// - the bias is read once per CTA into shared memory as b and 0.5 + b
//   (s09's fill_bias): the cheap score is one FMA on the tanh, no add, and
//   no register holds the bias;
// - the next row is not held in registers: each lane prefetches a 128-byte
//   line of it into L2 and the warp loads it when its turn comes, a token
//   later; with the registers this frees, the kernel is capped at 64
//   registers up to 16 values per lane (8 CTAs, 32 warps per SM) and 128
//   above (4 CTAs);
// - candidate positions by s09's prefix scan (fewer instructions than s14's
//   ballot planes, whose shorter chain matters only at decode sizes).
// The lists (M = 2 up to k = 24, 4 above), the bound in k rounds, the
// margin, the ranking of up to 64 candidates and the epilogue are s16's.
// Thread mapping: 4 warps per CTA, persistent grid; lane l owns experts
// 128 c + 4 l + i (16-byte f32 / 8-byte 16-bit loads) when E fills its
// bucket and the rows are aligned, l + 32 j otherwise. The first row is
// asked into L1 before the bias fill and its barrier (the two latencies
// overlap; no register waits for it) and loaded after it.
// Shared memory: 2 x 32 VPT words of bias per CTA, 128 words per warp (64
// candidates, 32 slots x 2).
// Limits: as s16 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL.
// Prediction for the first version (the reload and the shared bias, the
// next row in registers, no register cap; H200, graph replay, cold, f32):
// E = 512, k = 22: ~870 instructions per token (compaction ~184 -> ~35,
// cheap scores ~176 -> ~135, count ~92 -> ~75), <= 96 registers (5 CTAs
// per SM, 31 % occupancy): ~93 us at 65536 (s16 130), ~4.2 us at T = 1
// (s16 4.55); E = 1024, k = 32 in proportion (s16 329 -> ~250).
// Measured (H200, one stage_bench run beside s16, working tree on d757e7c):
// E = 512, k = 22: 4.35 / 103.7 us at T = 1 / 65536 (s16 4.40 / 129.5);
// E = 1024, k = 32: 5.70 / 206.4 (s16 6.51 / 329.9); E = 896, k = 16: 4.68 /
// 151.7 (s16 6.77 / 275.3). ncu: 928 instructions per token (compaction 46,
// the reload and exact keys 74; now the largest phases: ranking 193, slots,
// sum and stores 176, the bound 173), 90 registers, 30 % occupancy; the
// stall after the reload's load is 4 % of the samples. Capping registers at
// 80 (6 CTAs) took E = 512, k = 22 to 96.9 us with 4 bytes spilled.
// Second version (this one): the next row prefetched into L2 instead of
// held in 16-32 registers, the caps above, the scan. Prediction: occupancy
// is what the cap buys (30 -> 50 % at E = 512, 19 -> 25 % at E = 1024) and
// issue efficiency with it: ~85 us at E = 512, k = 22, ~175 at E = 1024,
// k = 32; T = 1 a little slower (the first row is loaded after the
// barrier, from L1 or L2).
// Measured (H200, commit ae4465c, the run behind docs/results.md):
// E = 512, k = 22: 4.71 / 4.86 / 5.58 / 11.33 / 87.6 us at T = 1 / 64 /
// 512 / 4096 / 65536 (s16 4.53 / 4.59 / 5.34 / 12.20 / 130.4); E = 1024,
// k = 32: 6.01 / 7.01 / 7.95 / 18.11 / 170.8 (s16 6.71 / 7.67 / 8.34 /
// 25.73 / 331.0); E = 1024, k = 16: 5.09 / 13.77 / 117.6 at T = 1 / 4096 /
// 65536 (s09 3.86 / 21.55 / 132.1); E = 896, k = 16: 125.8 at 65536 (s09
// 143.5). ncu (E = 512, k = 22, 65536, an earlier call on the same code):
// 934 instructions per token, 64 registers, 50 % theoretical and 42 %
// achieved occupancy; the 8 spilled bytes are on the exact path, which
// these inputs never take. An experiment with L1 instead of L2 prefetches
// for the next row measured the same. The dispatch keeps s16 up to 512
// tokens at E <= 512 (its first row arrives ~0.2 us sooner) and takes s17
// elsewhere it fits (docs/stages.md, "Default dispatch").
#include "../detail/lane_lists.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::expert_of;
using detail::RouteParams;
constexpr int warps_per_cta = detail::streaming_warps_per_cta;

// Per-warp shared scratch: the compacted candidates, then the k slots.
struct LeanScratch {
  int candidate_expert[detail::listed_capacity];
  int slot_expert[32];
  float slot_score[32];
};

// Routes the token from its candidates (k <= total <= 64): compacted as
// experts, candidate c to lane c % 32, exact scores from reloaded logits.
template <int Chunk>
__device__ __forceinline__ void route_reloaded_candidates(const RouteParams& p, std::int64_t token, int lane,
                                                          unsigned candidates, int first, int total,
                                                          const float* bias_of, LeanScratch& scratch) {
  detail::compact_experts<Chunk>(candidates, first, lane, scratch.candidate_expert);
  const bool two = total > 32;  // the same in every lane
  std::uint32_t key[2];
  int expert[2];
  float score[2];
  detail::reloaded_key(p, token, scratch.candidate_expert, bias_of, lane, total, key[0], expert[0], score[0]);
  detail::reloaded_key(p, token, scratch.candidate_expert, bias_of, two ? lane + 32 : total, total, key[1],
                       expert[1], score[1]);
  detail::store_listed_ranked(p, token, lane, total, p.topk, key, expert, score, scratch.slot_expert,
                              scratch.slot_score);
}

// One token from its row in registers: s09's cheap scores (0.5 + b from
// shared memory), s16's lists, bound and margin, then the candidates or,
// when they cannot settle the token, s05's exact path.
template <int VPT, int Chunk, int M>
__device__ __forceinline__ void route_lean_token(const RouteParams& p, std::int64_t token, int lane,
                                                 const float (&logits)[VPT], const float* bias_of,
                                                 const float* half_plus_bias_of, LeanScratch& scratch) {
  float approx[VPT];
#pragma unroll
  for (int j = 0; j < VPT; ++j)
    approx[j] = fmaf(detail::approx_half_tanh(logits[j]), 0.5f, half_plus_bias_of[expert_of<Chunk>(lane, j)]);
  float list[M];
  detail::lane_list(approx, list);
  bool usable = false;
  const unsigned candidates = detail::candidates_above_bound(approx, detail::bound_over_lists(list, p.topk), usable);
  int first = 0;
  const int total = detail::count_candidates(candidates, lane, first);
  if (usable && total <= detail::listed_capacity && total >= p.topk)
    route_reloaded_candidates<Chunk>(p, token, lane, candidates, first, total, bias_of, scratch);
  else
    detail::route_exactly_out_of_line<VPT>(p, token, lane);
}

// The row of `token` asked into L2 (one prefetch per 128-byte line, lanes in
// turn): no register holds it until the warp loads it, a token later.
template <bool IntoL1 = false>
__device__ __forceinline__ void prefetch_row(const RouteParams& p, std::int64_t token, int lane) {
  const int bytes_per_logit = static_cast<int>(dtype_bytes(p.logits_dtype));
  const char* row = static_cast<const char*>(p.logits) + token * p.row_stride * bytes_per_logit;
  for (int line = 128 * lane; line < p.experts * bytes_per_logit; line += 32 * 128) {
    if constexpr (IntoL1) asm volatile("prefetch.global.L1 [%0];" ::"l"(row + line));
    else asm volatile("prefetch.global.L2 [%0];" ::"l"(row + line));
  }
}

// Registers per thread: a cap that keeps 8 CTAs (32 warps) per SM up to 16
// values per lane (64 registers) and 4 CTAs above (128).
template <int VPT>
constexpr int min_ctas_per_sm() { return VPT <= 16 ? 8 : 4; }

template <int VPT, int Chunk, int M>
__global__ void __launch_bounds__(warps_per_cta * 32, min_ctas_per_sm<VPT>()) lean_lists_kernel(RouteParams p) {
  __shared__ float bias_of[32 * VPT];
  __shared__ __align__(16) float half_plus_bias_of[32 * VPT];
  __shared__ LeanScratch scratch_of[warps_per_cta];
  LeanScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  detail::wait_for_producer();  // PDL: the logits and the bias are complete from here on
  // The first row is asked into L1 before the bias fill and its barrier, so
  // that the two memory latencies overlap; no register waits for it.
  if (token < p.tokens) prefetch_row<true>(p, token, lane);
  detail::fill_bias<VPT>(p, bias_of, half_plus_bias_of);
  __syncthreads();  // the only CTA barrier: warps leave independently below
  if (token >= p.tokens) return;
  detail::release_dependents();
  for (; token < p.tokens; token += stride) {
    if (token + stride < p.tokens) prefetch_row(p, token + stride, lane);
    float logits[VPT];
    detail::load_row<VPT, Chunk>(p, token * p.row_stride, lane, logits);  // a cache hit: prefetched a token ago
    route_lean_token<VPT, Chunk, M>(p, token, lane, logits, bias_of, half_plus_bias_of, scratch);
  }
}

}  // namespace

std::string s17_lean_lists_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s17_lean_lists_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                           const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::with_lists_kernel(config, logits, [&](auto vpt, auto chunk, auto depth) {
    detail::launch_streaming(lean_lists_kernel<decltype(vpt)::value, decltype(chunk)::value, decltype(depth)::value>,
                             params, stream, options);
  });
}

}  // namespace moegate::cuda::kernels
