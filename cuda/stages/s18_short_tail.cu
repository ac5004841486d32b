// s18_short_tail — s17 with a shorter tail: the bound's rounds in pairs, the
// ranking in unrolled blocks of eight comparisons of two instructions each,
// the weights summed four slots per shared-memory load.
//
// Idea: after s17 the per-token work at E = 512, k = 22 is ~930 warp
// instructions, and its tail (bound, ranking, slots and sum) is over half
// of them (ncu source counters, H200, commit d757e7c, s17's first version:
// the bound 173, the ranking 193, the slots, sum and stores 176). Each of
// those loops runs a trip count known only at run time (k or the candidate
// total). Here the same work with less around it:
// - the bound pops two rounds per trip. For odd k the last trip's second
//   round is spare: the bound is its first, the k-th, as in s16 (the first
//   version returned the spare (k+1)-th: valid, but unusable when exactly k
//   entries are finite, which sent such tokens to the exact path);
// - each candidate's rank counts the larger keys in blocks of eight
//   shuffles, unrolled, so every source lane is an immediate; a block is
//   skipped once the total is passed, and inside one the lanes past the
//   total hold the taken key (0), which outranks nothing. A comparison is a
//   subtract and an add of its sign bit, on keys halved to 31 bits (the
//   sign of a 31-bit difference is the comparison); keys equal in their
//   upper 31 bits count as ties, which the ranks' sum shows, and such a
//   token is ranked again by full (key, expert) keys, as in s16;
// - the k slots' scores are summed in selection order from 16-byte loads:
//   the slots past k are zeroed once per warp (no rank ever writes them) and
//   adding +0 leaves every sum of scores as it was (sigmoid scores are +0 or
//   more, or NaN; the sum starts at +0).
// Lists, candidates, margin, exact keys and the exact path are s17's: the
// kernel is s17's (detail/lean_lists.cuh) with this tail.
// Limits: as s17 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL.
// Prediction for the first version (the rounds in pairs, the ranking in
// trips of eight shuffles with the lane computed, the sum by 16-byte loads;
// H200, graph replay, cold, f32; E = 512, k = 22, T = 65536): bound 173 ->
// ~140, ranking 193 -> ~100, slots, sum and stores 176 -> ~110: ~930 ->
// ~740 instructions per token, 87.6 -> ~74 us; E = 1024, k = 32: 170.8 ->
// ~145; E = 512, k = 16: 77.5 -> ~68; T = 1 ~0.3 us less than s17.
// Measured (H200, one stage_bench run beside s17, working tree on 233d410):
// 905 instructions per token against s17's 934, 86.6 against 86.9 us. The
// prediction had read s17's phase counts as loop overhead; its SASS shows
// the compiler had already unrolled the bound's loop by four and read the
// sum's slots 16 bytes at a time, so pairing and 16-byte loads saved little.
// What the SASS showed instead: each counted comparison cost five
// instructions (the shuffle, its lane computed, the compare, and a select
// and an add for the count), and the next row's prefetch was a loop of one
// trip whose counter was spilled (an LDL per token).
// Second version (this one): the comparison of two instructions with
// immediate lanes, above; the prefetch one line per lane, no loop (in
// detail/lean_lists.cuh, so s17 has it too). Its expectation, from the SASS
// counts (not written down before the run): ~24 comparisons x 3 fewer
// instructions and ~20 for the prefetch, ~90 in all. Measured (H200, one run beside
// s17 with the same prefetch, working tree on 233d410): 830 instructions
// per token (s17 934 before the prefetch change), 64 registers, 42 %
// achieved occupancy; at T = 1 / 64 / 512 / 4096 / 65536: E = 512, k = 22
// 4.25 / 4.41 / 5.03 / 10.68 / 81.0 us (s17 4.44 / 4.61 / 5.22 / 10.99 /
// 85.5, s16 4.39 / 4.42 / 5.06 / 11.83 / 130.1); E = 512, k = 16 3.94 /
// 4.11 / 4.73 / 10.15 / 73.3 (s17 75.9); E = 1024, k = 32 5.52 / 6.18 /
// 6.97 / 16.71 / 157.6 (s17 5.75 / 6.74 / 7.55 / 17.67 / 168.1); E = 896,
// k = 16 119.0 at 65536 (s17 122.1); E = 1024, k = 16 111.4 (s17 115.5).
// In the run behind docs/results.md (H200, commit 331a172): E = 512, k = 22
// 4.39 / 4.57 / 5.34 / 11.00 / 81.0 us (s17 4.59 / 4.78 / 5.54 / 11.33 /
// 86.2); E = 1024, k = 32 5.69 / 6.35 / 7.29 / 17.15 / 157.5 (s17 5.91 /
// 6.91 / 7.88 / 18.02 / 168.1); E = 512, k = 16 73.3 at 65536 (s17 76.2).
// Found by review after that run: for odd k the bound was the spare
// (k+1)-th round's, unusable whenever exactly k list entries are finite
// (E = k, or rows with k finite cheap scores), so such tokens took the exact
// path where s17 routes them by candidates (correct, slower). Fixed since:
// the k-th round's maximum is kept from the last trip (one select per
// token). The tail was also rewritten from shared pieces (one bound round,
// the slot writes, the four-slot sum). Both passed the stage suite on an
// H200 (869 sweep cases, the sanitizers over stage_smoke); the even-k
// shapes measured within run-to-run noise of 331a172 (H200, commit
// 7f1b94e, the run behind docs/results.md, stage_bench, graph replay,
// cold, f32: E = 512, k = 22, 4.40 / 4.57 / 5.35 / 11.01 / 81.1 us at
// T = 1 / 64 / 512 / 4096 / 65536).
// The bound by half-warps (s14's: two independent chains of k/2 rounds)
// was tried on this tail in the same run and lost everywhere (E = 512,
// k = 22: 93.5 us at 65536, 4.67 at T = 1): 25.1 candidates on average
// against 22.3 (simulated, normal inputs) and 976 instructions per token.
// The tail's code is in detail/short_tail.cuh, shared with s21 (which
// replaces only its bound).
#include "../detail/short_tail.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {

std::string s18_short_tail_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s17_lean_lists_refusal(config, logits, bias);
}

void s18_short_tail_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                           const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  detail::launch_lean_lists<detail::ShortTail>(config, logits, bias, output, stream, options);
}

}  // namespace moegate::cuda::kernels
