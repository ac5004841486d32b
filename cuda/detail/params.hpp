// What every kernel receives: the views and the config flattened into plain
// values a kernel can read (RouterConfig's methods are host-only).
#pragma once

#include <cstdint>

#include "moegate/config.hpp"
#include "moegate/dtype.hpp"
#include "moegate/tensors.hpp"

namespace moegate::cuda::detail {

struct RouteParams {
  const void* logits;
  const void* bias;
  float* weights;
  std::int32_t* ids;
  std::int64_t tokens;
  std::int64_t row_stride;
  DType logits_dtype;
  DType bias_dtype;
  int experts;
  int topk;
  int groups;
  int kept_groups;
  bool renormalize;
  bool scales_output;
  float scaling_factor;
  Profile profile;
};

inline RouteParams make_params(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                               const OutputView& output) {
  return {logits.data,        bias.data,         output.weights,     output.ids,
          logits.tokens,      logits.row_stride, logits.dtype,       bias.dtype,
          config.experts,     config.topk,       config.groups,      config.kept_groups,
          config.renormalize, config.scales_output(), config.routed_scaling_factor, config.profile};
}

}  // namespace moegate::cuda::detail
