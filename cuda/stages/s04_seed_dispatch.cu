// s04_seed_dispatch — the seed change as a whole.
//
// Idea: GateConfig<N> for N in {256, 384}: T <= 512 tokens go to the
// small-token kernel (s03, one CTA per token), larger batches to the
// bank-conflict-free large-token kernel (s02, one warp per token): the
// SGLang kernel's threshold.
// Thread mapping and shared memory: those of s03 / s02.
// Limits: the seed's shapes (E in {256, 384}, k <= 8, one group, f32). When
// the rows are not 16-byte aligned, large batches fall back to s03 too (it
// has no vector loads) instead of being refused.
// Prediction: the lower envelope of s03 and s02 around the 512/513 boundary;
// no gain of its own.
#include "stages.hpp"

namespace moegate::cuda::kernels {

namespace {

struct GateConfig {
  static constexpr std::int64_t small_token_threshold = 512;
};

}  // namespace

std::string s04_seed_dispatch_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return seed_shape_refusal(config, logits, bias);
}

void s04_seed_dispatch_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                              const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const bool large = logits.tokens > GateConfig::small_token_threshold;
  if (large && vector_alignment_refusal(logits, bias).empty())
    s02_warp_bank_conflict_free_launch(config, logits, bias, output, stream, options);
  else
    s03_cta_per_token_launch(config, logits, bias, output, stream, options);
}

}  // namespace moegate::cuda::kernels
