// s22_constant_trips — s18 with no run-time trip count left in the token's
// tail: the bound's rounds compiled for the wide shapes' k, the weights
// summed over a fixed number of slots, and the 64-register cap at every
// width.
//
// Idea: after s18 the E = 512 token still pays for k being a run-time
// value. Its SASS (ncu source counters, H200, s18 at E = 512, k = 22,
// 65536 tokens, this session's working tree on 9200669) shows the bound's
// 22 rounds unrolled by four with a trip counter, a remainder ladder and a
// divergence check per trip (140 instructions for 22 x 5 of work), and the
// selection-order sum as an unrolled-by-four loop with its own remainder
// (79 instructions for 6 loads and 22 additions). Here:
// - for E > 384 (16 or more values a lane, where the dispatch uses the
//   lists) and k = 16 or 22, the kernel is compiled with k as a constant:
//   the rounds unroll completely, no counter and no ladder; other k take
//   the run-time kernel (k = 32 did too, until measured: below);
// - the sum adds a fixed number of slots in selection order, four per
//   16-byte load: k rounded up to four with k constant, else the list
//   depth's most (24 for two entries a lane, 32 for four). The slots from k
//   on hold +0 for the whole kernel (ShortTail::prepare), and adding +0 to a
//   sum of scores that starts at +0 changes no bit, so the sum is s18's;
// - 8 CTAs per SM (the 64-register cap) at every width. s17 and s18 cap
//   E > 512 at 128 registers (4 CTAs); the lean token needs fewer.
// The lists, bound, margin, filter, candidates, ranking and exact path are
// s18's (detail/short_tail.cuh, detail/lean_lists.cuh).
// Limits: as s18 (E <= 1024, k <= 32, no groups, f32/bf16/f16 logits and
// bias, any stride and alignment); PDL.
// Exploration (H200, two calls of stage_bench, graph replay, cold, f32,
// medians of three, variants built on this session's working tree and not
// committed; µs at T = 1 / 4096 / 65536):
// - the exact path's parameters by value (a shared fix since, see
//   detail/lane_lists.cuh) with the sum over all 32 slots: E = 512, k = 22,
//   3.53 / 8.12 / 77.7 against s18's 4.23 / 10.67 / 80.8; ncu 789
//   instructions per token against 834;
// - then k constant for 16 and 22: 3.44 / 7.76 / 73.1 (E = 512, k = 22) and
//   3.22 / 7.38 / 67.4 (k = 16) against 3.54 / 8.11 / 77.6 and 3.31 / 7.72 /
//   71.6 without; 737 instructions per token;
// - E > 512 (run-time k) at 4 / 6 / 8 CTAs per SM: E = 1024, k = 32,
//   147.2 / 138.9 / 131.4 at 65536; E = 896, k = 16, 110.5 / 107.9 / 104.9;
// - E = 512 at 10 or 12 CTAs per SM (48 or 40 registers): slower (82.7,
//   83.5 against s18's 80.8): more warps, the same issue rate.
// Prediction for this stage (H200, graph replay, cold, f32, T = 65536):
// E = 512, k = 22, ~73 us (the goal is 2x floor_memory, ~73); k = 16 ~67;
// E = 1024, k = 32 ~125 (k constant as well as 8 CTAs); E = 1024, k = 16
// ~96; E = 896, k = 16 ~104; T = 1 ~3.4 us at E = 512, ~0.1 us below the
// exploration's 32-slot sum at k = 22.
// Measured (H200, the results run at e558c49 behind docs/results.md,
// stage_bench beside s18, both with the by-value fix; T = 1 / 512 / 4096 /
// 65536): E = 512, k = 22, 3.57 / 4.28 / 8.13 / 73.31 us against s18's
// 3.80 / 4.50 / 8.62 / 80.05 (floor_memory 37.14: 1.97x); k = 16 3.36 /
// 4.01 / 7.75 / 66.48 against 3.52 / 4.22 / 8.11 / 72.67; E = 1024, k = 32,
// 134.2 against 150.0 at 65536 (predicted ~125: k = 32 as a constant bought
// nothing over the exploration's 131.4 at 8 CTAs, and spills 24 bytes
// against 16); E = 1024, k = 16, 98.9 against 107.7; E = 896, 101.4 against
// 113.5. ncu (same call, E = 512, k = 22): 729 warp instructions per token
// against s18's 808, the same 26.2 active warps per SM. Above E = 512 s18
// is as fast or faster up to 4096 tokens (E = 1024, k = 16, 11.56 against
// 12.24 at 4096), where the dispatch keeps it.
// k = 32 no longer constant (prediction: the run-time kernel at 8 CTAs no
// slower, as in the exploration; it spills 16 bytes at E = 1024 with vector
// loads, the k = 32 kernel 24). Measured (H200,
// one call of stage_bench at 670d3f3 with a probe of this change beside
// s22, medians of five, interleaved; E = 1024, k = 32, T = 1 / 64 / 512 /
// 4096 / 65536): 4.24 / 4.77 / 5.44 / 14.33 / 130.98 us against k
// constant's 4.25 / 4.87 / 5.48 / 14.67 / 133.46 (stddev <= 0.26).
#include "../detail/short_tail.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

// Every width at the 64-register cap.
constexpr int constant_trips_ctas_per_sm = 8;

// ShortTail with k constant when K > 0 (the bound's rounds unrolled) and a
// fixed number of slots in the sum.
template <int K, int M>
struct ConstantTripsTail : detail::ShortTail {
  static constexpr int summed_slots = K > 0 ? (K + 3) / 4 * 4 : (M == 2 ? 24 : 32);

  template <int Depth>
  static __device__ __forceinline__ std::uint32_t bound(const float (&list)[Depth], int topk) {
    return detail::bound_in_pairs(list, K > 0 ? K : topk);
  }

  static __device__ __forceinline__ void store(const detail::RouteParams& p, std::int64_t token, int lane,
                                               int total, const std::uint32_t (&key)[2], const int (&expert)[2],
                                               const float (&score)[2], detail::LeanScratch& scratch) {
    store_summing<summed_slots>(p, token, lane, total, key, expert, score, scratch);
  }
};

template <int K>
using ConstantK = std::integral_constant<int, K>;

}  // namespace

std::string s22_constant_trips_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return s17_lean_lists_refusal(config, logits, bias);
}

void s22_constant_trips_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                               const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const auto params = detail::make_params(config, logits, bias, output);
  detail::with_lists_kernel(config, logits, [&](auto vpt, auto chunk, auto depth) {
    constexpr int VPT = decltype(vpt)::value, Chunk = decltype(chunk)::value, M = decltype(depth)::value;
    const auto launch = [&](auto k) {
      using Tail = ConstantTripsTail<decltype(k)::value, M>;
      detail::launch_streaming(detail::lean_lists_kernel<VPT, Chunk, M, Tail, constant_trips_ctas_per_sm>,
                               params, stream, options);
    };
    if constexpr (VPT >= 16 && M == 2) {
      if (config.topk == 16) return launch(ConstantK<16>{});
      if (config.topk == 22) return launch(ConstantK<22>{});
    }
    launch(ConstantK<0>{});
  });
}

}  // namespace moegate::cuda::kernels
