// The CPU reference: the contract computed literally, parallel over tokens.
//
// route_f32 computes exactly the f32 arithmetic of docs/semantics.md; its
// output is the bitwise answer a kernel in f32 aims at. route_f64 is the
// oracle: the same decisions with every operation in double, plus per-token
// decision margins that tell a comparator where rounding could flip a choice.
// Both give bitwise identical results for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "moegate/config.hpp"
#include "moegate/tensors.hpp"

namespace moegate::reference {

struct RunOptions {
  int threads = 0;  // 0: OpenMP's default, or one thread for small work (thread_team)
};

// The OpenMP team for `logits` elements of work: `requested` when > 0; one
// thread below 2^16 logits (a team costs more than such work, badly so on a
// loaded machine: `moegate check` of a 48-case suite took seconds with the
// default team under load); else OpenMP's default.
int thread_team(std::int64_t logits, int requested = 0);

// Writes [tokens, topk] weights and ids into `output`.
void route_f32(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
               const OutputView& output, const RunOptions& options = {});

struct RouteResult {
  std::vector<float> weights;      // [tokens, topk]
  std::vector<std::int32_t> ids;   // [tokens, topk]
};

RouteResult route_f32(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                      const RunOptions& options = {});

struct OracleResult {
  std::vector<double> weights;           // [tokens, topk]
  std::vector<std::int32_t> ids;         // [tokens, topk]
  std::vector<double> keys;              // [tokens, topk]: biased score c of each chosen expert
  // Per token: key of the k-th choice minus the best key left out (+inf when
  // nothing is left out or NaN is left out below a number; 0 for equal keys).
  std::vector<double> selection_margin;  // [tokens]
  // Per token: score of the last kept group minus the best dropped group's
  // (+inf when every group is kept), with the same conventions.
  std::vector<double> group_margin;      // [tokens]
};

OracleResult route_f64(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                       const RunOptions& options = {});

// The contract's sigmoid in f32: 1 / (1 + e) with e = exp(-x) correctly
// rounded to f32, then one f32 add and one f32 divide.
float sigmoid_f32(float logit);
// The same over n values (vectorised; identical results).
void sigmoid_f32(const float* logits, float* scores, std::int64_t n);

}  // namespace moegate::reference
