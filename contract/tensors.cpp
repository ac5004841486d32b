#include "moegate/tensors.hpp"

#include <string>

namespace moegate {

void require_valid(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  require_valid(config);
  if (logits.tokens < 0)
    throw std::invalid_argument("tokens: must be >= 0, got " + std::to_string(logits.tokens));
  if (logits.row_stride < config.experts)
    throw std::invalid_argument("row_stride: must be >= experts (" +
                                std::to_string(config.experts) + "), got " +
                                std::to_string(logits.row_stride));
  if (bias.data == nullptr) throw std::invalid_argument("bias: null pointer");
  if (logits.tokens == 0) return;
  if (logits.data == nullptr) throw std::invalid_argument("logits: null pointer");
}

void require_valid(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                   const OutputView& output) {
  require_valid(config, logits, bias);
  if (logits.tokens == 0) return;
  if (output.weights == nullptr) throw std::invalid_argument("weights: null pointer");
  if (output.ids == nullptr) throw std::invalid_argument("ids: null pointer");
}

}  // namespace moegate
