// s16_lane_lists — wide top-k: a bound from each lane's best few, not its best one.
//
// Idea: the filter stages (s09, s12, s14) bound the k-th largest cheap score
// by the k-th largest of the 32 lane maxima. That bound is tight while k is
// small against 32; at k = 22 of 512 experts most of the 22 leading lanes
// hold more values above it, the candidates overflow the warp for 65 % of
// tokens (simulated, normal inputs), and those tokens take s05's exact path:
// the dispatch fell back to s05/s07 above k = 16.
// - Each lane keeps its M best cheap scores, sorted (M = 2 up to k = 24, 4
//   above: 2 M - 1 min/max per value); the bound is the k-th largest of the
//   32 M entries, in k rounds of one warp reduction (the lanes whose head
//   is the maximum pop it): still >= k distinct experts at or above it.
//   Simulated (normal inputs, 20000 tokens): E = 512, k = 22: 23.1
//   candidates on average (M = 1: 34.8); E = 1024, k = 32: 32.1 (M = 1:
//   121.5), more than 32 for 9 % of tokens, never more than 64.
// - Up to 64 candidates, two per lane, ranked exactly from their carried
//   logit and bias (one pass of shuffles per candidate, a second only on
//   equal keys); s09's epilogue (slots by rank, sum in selection order).
// - s12's registers, s09's streaming: the bias read once per warp into
//   registers together with the first row; warps stream tokens w, w + W, ...
//   with the next row in flight; a persistent grid (occupancy API), one
//   token per warp at decode sizes.
// Cheap scores and the margin are s09's (detail::candidates_above_bound); a
// token with more than 64 candidates, fewer than k, or no usable bound takes
// s05's exact path (row reloaded).
// Thread mapping: 4 warps per CTA; lane l owns experts 128 c + 4 l + i
// (16-byte f32 / 8-byte 16-bit loads) when E fills its bucket and the rows
// are aligned, l + 32 j otherwise.
// Shared memory: 256 words per warp (64 candidates x 3, 32 slots x 2).
// Limits: as s12 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL.
// Prediction (H200, graph replay, cold, f32; the issue #16 shapes): E = 512,
// k = 22: ~3.0 us at T = 1 (s05 7.85, Triton 6.88), ~7 us at 4096 (s07
// 24.4), ~45 us at 65536 (s07 282; ~550 instructions per token against the
// floor's 36 us); E = 1024, k = 32: ~3.6 / ~14 / ~100 us (s05 14.9, s07 70.1
// / 924); at k = 16 (E = 512, 896, 1024) no slower than s09 at 65536 (fewer
// candidates, no reload; the bias loaded once).
// First version (working tree before 6f829e2, H200, stage_bench in one run
// beside s05-s14): E = 512, k = 22: 5.10 / 5.21 / 5.60 / 13.16 / 151.1 us at T = 1 /
// 64 / 512 / 4096 / 65536 (s05 7.95 at T = 1, s07 281.9 at 65536); E = 1024,
// k = 32: 7.01 / 8.51 / 9.21 / 29.11 / 372.5 (s05 14.93, s07 923.6). The
// prediction failed by 2x: ncu counts 1172 warp instructions per token at
// E = 512, k = 22, T = 65536 (1884 at E = 1024, k = 32), issue slots 50 % busy
// (33 %) at 24 % (12 %) occupancy, stalls per instruction: wait 2.30, short
// scoreboard 2.15; 1424 instructions at T = 1. At k = 8 (kimi-k2) it trails
// s12 by 1.3 us at T = 1 and 2x at 65536.
// Second version: the rank pass reads only the total's lanes (the first
// read all 32, and the second candidate's shuffle in every round), and NaN
// leaves the lists in one instruction instead of two. Prediction: ~150 fewer
// instructions per token at E = 512, k = 22 (~13 %: ~4.5 us at T = 1, ~130 us
// at 65536); most of s16's lag behind s12 at k = 8.
// Measured (commit 6f829e2, H200; the run behind docs/results.md): E = 512,
// k = 22: 4.55 / 4.57 / 5.34 / 12.14 / 130 us at T = 1 / 64 / 512 / 4096 /
// 65536; E = 1024, k = 32: 6.66 / 7.60 / 8.31 / 25.63 / 329. ncu (the same
// code, an earlier call): 1074 instructions per token at E = 512, k = 22
// (98 fewer, not 150), 1337 at T = 1; kimi-k2 at T = 1 3.02 against s12's
// 2.53. Since s17 (ae4465c) the dispatch took s16 only for k > 16 at
// E <= 512 up to 512 tokens, and since s18 not at all (docs/stages.md,
// "Default dispatch").
#include "../detail/lane_lists.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using namespace detail;  // the helpers of detail/streaming.cuh and detail/lane_lists.cuh
constexpr int warps_per_cta = streaming_warps_per_cta;

// Per-warp shared scratch: the candidates with their logit and bias, then
// the k slots.
struct ListedScratch {
  int candidate_expert[listed_capacity];
  float candidate_logit[listed_capacity];
  float candidate_bias[listed_capacity];
  int slot_expert[32];
  float slot_score[32];
};

// Routes the token from its candidates (k <= total <= 64): compacted with
// their logit and bias, candidate c to lane c % 32, whose exact scores and
// keys need no reload; then store_listed_ranked.
template <int VPT, int Chunk>
__device__ __forceinline__ void route_listed_candidates(const RouteParams& p, std::int64_t token, int lane,
                                                        unsigned candidates, int first, int total, int topk,
                                                        const float (&logits)[VPT], const float (&bias)[VPT],
                                                        ListedScratch& scratch) {
  compact_carried<VPT, Chunk>(candidates, first, lane, logits, bias, scratch.candidate_expert,
                              scratch.candidate_logit, scratch.candidate_bias);
  const bool two = total > 32;  // the same in every lane
  std::uint32_t key[2];
  int expert[2];
  float score[2];
  carried_key(p, scratch.candidate_expert, scratch.candidate_logit, scratch.candidate_bias, lane, total, key[0],
              expert[0], score[0]);
  carried_key(p, scratch.candidate_expert, scratch.candidate_logit, scratch.candidate_bias, two ? lane + 32 : total,
              total, key[1], expert[1], score[1]);
  store_listed_ranked(p, token, lane, total, topk, key, expert, score, scratch.slot_expert, scratch.slot_score);
}

// Warps stream tokens w, w + W, ... (W: every warp of the grid, at most as
// many as fit at once; at decode sizes one token per warp) with the next
// row in flight; the bias is read once per warp, into registers, with the
// first row's loads.
template <int VPT, int Chunk, int M>
__global__ void __launch_bounds__(warps_per_cta * 32) lane_lists_kernel(RouteParams p) {
  __shared__ ListedScratch scratch_of[warps_per_cta];
  ListedScratch& scratch = scratch_of[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  wait_for_producer();  // PDL: the logits and the bias are complete from here on
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
  load_row_and_bias<VPT, Chunk, Chunk == 4>(p, token, lane, logits, bias);  // vector loads: E fills the bucket
  release_dependents();

  for (; token < p.tokens; token += stride) {
    float next[VPT];
    if (token + stride < p.tokens) load_row<VPT, Chunk>(p, (token + stride) * p.row_stride, lane, next);
    float approx[VPT];
    cheap_scores<VPT, Chunk>(p, lane, logits, bias, approx);
    float list[M];
    lane_list(approx, list);
    bool usable = false;
    const unsigned candidates = candidates_above_bound(approx, bound_over_lists(list, p.topk), usable);
    int first = 0;
    const int total = count_candidates(candidates, lane, first);
    if (usable && total <= listed_capacity && total >= p.topk)
      route_listed_candidates<VPT, Chunk>(p, token, lane, candidates, first, total, p.topk, logits, bias, scratch);
    else
      route_exactly_out_of_line<VPT>(p, token, lane);
#pragma unroll
    for (int j = 0; j < VPT; ++j) logits[j] = next[j];
  }
}

}  // namespace

std::string s16_lane_lists_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s16_lane_lists_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                           const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::with_lists_kernel(config, logits, [&](auto vpt, auto chunk, auto depth) {
    detail::launch_streaming(lane_lists_kernel<decltype(vpt)::value, decltype(chunk)::value, decltype(depth)::value>,
                             params, stream, options);
  });
}

}  // namespace moegate::cuda::kernels
