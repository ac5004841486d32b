// Small helpers for hand-written reference tests: rows given as f32 values.
#pragma once

#include <cstdint>
#include <vector>

#include "moegate/reference.hpp"

namespace moegate::testing {

struct Case {
  RouterConfig config;
  std::vector<float> logits;  // [tokens, experts], dense
  std::vector<float> bias;    // [experts]

  std::int64_t tokens() const {
    return static_cast<std::int64_t>(logits.size()) / config.experts;
  }
  LogitsView logits_view() const {
    return {logits.data(), DType::f32, tokens(), config.experts};
  }
  BiasView bias_view() const { return {bias.data(), DType::f32}; }
  reference::RouteResult route(int threads = 0) const {
    return reference::route_f32(config, logits_view(), bias_view(), {threads});
  }
  reference::OracleResult oracle() const {
    return reference::route_f64(config, logits_view(), bias_view());
  }
};

inline RouterConfig make_config(int experts, int topk, int groups = 1, int kept_groups = 1) {
  RouterConfig config;
  config.experts = experts;
  config.topk = topk;
  config.groups = groups;
  config.kept_groups = kept_groups;
  return config;
}

}  // namespace moegate::testing
