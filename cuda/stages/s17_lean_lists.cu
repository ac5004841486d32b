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
// Since s18 the kernel lives in detail/lean_lists.cuh with its tail as a
// parameter (s18 changes only the tail), and the next row's prefetch is one
// line per lane instead of a loop of one trip whose counter was spilled
// (H200, working tree on 233d410: E = 512, k = 22, 85.5 us at 65536 in the
// run where s18 took 81.0); s18 took over s17's place in the dispatch.
#include "../detail/lean_lists.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s17_lean_lists_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s08_approximate_filter_refusal(config, logits, bias);
}

void s17_lean_lists_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                           const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_lean_lists<detail::ListsTail>(config, logits, bias, output, stream, options);
}

}  // namespace moegate::cuda::kernels
