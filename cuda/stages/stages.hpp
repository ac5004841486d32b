// The stage launchers (one per file in this folder) and their refusals,
// gathered into the registry by cuda/registry.cu. Internal to cuda/.
#pragma once

#include <string>

#include "moegate/cuda.hpp"

namespace moegate::cuda::kernels {

#define MOEGATE_DECLARE_STAGE(name)                                                                         \
  std::string name##_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias); \
  void name##_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,          \
                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options)

MOEGATE_DECLARE_STAGE(s00_naive);
MOEGATE_DECLARE_STAGE(s01_warp_lane_contiguous);
MOEGATE_DECLARE_STAGE(s02_warp_bank_conflict_free);
MOEGATE_DECLARE_STAGE(s03_cta_per_token);
MOEGATE_DECLARE_STAGE(s04_seed_dispatch);
MOEGATE_DECLARE_STAGE(s05_warp_registers);
MOEGATE_DECLARE_STAGE(s06_lazy_lane_candidates);
MOEGATE_DECLARE_STAGE(s07_reloaded_scores);
MOEGATE_DECLARE_STAGE(s08_approximate_filter);
MOEGATE_DECLARE_STAGE(s09_streaming_warps);
MOEGATE_DECLARE_STAGE(s10_grouped_streaming);
MOEGATE_DECLARE_STAGE(s12_decode_warps);
MOEGATE_DECLARE_STAGE(s13_grouped_decode_warps);
MOEGATE_DECLARE_STAGE(s14_decode_short_chain);
MOEGATE_DECLARE_STAGE(s15_grouped_tight_scores);
MOEGATE_DECLARE_STAGE(s16_lane_lists);
MOEGATE_DECLARE_STAGE(s17_lean_lists);
MOEGATE_DECLARE_STAGE(s18_short_tail);
MOEGATE_DECLARE_STAGE(s19_warp_team);
MOEGATE_DECLARE_STAGE(s20_sorted_rounds);
MOEGATE_DECLARE_STAGE(s20b_approximate_reciprocal);
MOEGATE_DECLARE_STAGE(s21_counted_bound);
MOEGATE_DECLARE_STAGE(s22_constant_trips);

#undef MOEGATE_DECLARE_STAGE

// What the seed's kernels accept: E in {256, 384}, k <= 8, no groups, f32
// logits and bias. Empty when supported.
std::string seed_shape_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias);
// float4 loads need 16-byte aligned rows and bias. Empty when aligned.
std::string vector_alignment_refusal(const LogitsView& logits, const BiasView& bias);

}  // namespace moegate::cuda::kernels
