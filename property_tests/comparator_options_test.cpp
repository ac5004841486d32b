// The comparator's three judging options (docs/semantics.md, "Judging an
// output"): an unjudged slot order, a declared bf16/f16 arithmetic, and the
// group-cut text. Outputs are built by hand from the CPU reference (or from a
// torch-like reference in bf16/f16 written here), so each test states the
// output it judges; none needs a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "moegate/comparator.hpp"
#include "moegate/inputs.hpp"
#include "moegate/order.hpp"
#include "moegate/presets.hpp"
#include "moegate/reference.hpp"

namespace moegate {
namespace {

struct Output {
  std::vector<float> weights;
  std::vector<std::int32_t> ids;

  CandidateView view() const { return {weights.data(), ids.data()}; }
};

RouterConfig preset(std::string_view name) {
  const auto found = find_preset(name);
  if (!found) throw std::invalid_argument("no preset " + std::string(name));
  return found->config;
}

Tolerance tolerance(DType precision, SlotOrder order = SlotOrder::selection) {
  Tolerance result;
  result.precision = precision;
  result.order = order;
  return result;
}

RouterInputs generated(const RouterConfig& config, LogitFamily logits, BiasFamily bias, std::uint64_t seed,
                       std::int64_t tokens = 24, DType logits_dtype = DType::f32) {
  InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = tokens;
  spec.logit_family = logits;
  spec.bias_family = bias;
  spec.logits_dtype = logits_dtype;
  spec.seed = seed;
  return make_inputs(spec);
}

// Inputs with the given f32 values ([tokens, experts] logits, [experts] bias).
RouterInputs given(int experts, const std::vector<float>& logits, const std::vector<float>& bias) {
  InputSpec spec;
  spec.experts = experts;
  spec.tokens = static_cast<std::int64_t>(logits.size()) / experts;
  spec.bias_family = BiasFamily::zero;
  RouterInputs inputs = make_inputs(spec);
  if (inputs.logits_bytes.size() != logits.size() * sizeof(float) ||
      inputs.bias_bytes.size() != bias.size() * sizeof(float))
    throw std::invalid_argument("given: sizes do not match");
  std::memcpy(inputs.logits_bytes.data(), logits.data(), inputs.logits_bytes.size());
  std::memcpy(inputs.bias_bytes.data(), bias.data(), inputs.bias_bytes.size());
  return inputs;
}

Output contract_output(const RouterConfig& config, const RouterInputs& inputs) {
  auto result = reference::route_f32(config, inputs.logits(), inputs.bias());
  return {std::move(result.weights), std::move(result.ids)};
}

// The contract's f32 weights for the ids of token t (whatever they are).
void contract_weights(const RouterConfig& config, const RouterInputs& inputs, std::int64_t t, Output& output) {
  const int k = config.topk;
  float* w = output.weights.data() + t * k;
  const std::int32_t* ids = output.ids.data() + t * k;
  float sum = 0.0f;
  for (int j = 0; j < k; ++j) {
    w[j] = reference::sigmoid_f32(inputs.logit(t, ids[j]));
    sum += w[j];
  }
  for (int j = 0; j < k; ++j) {
    if (config.renormalize && sum > 0.0f) w[j] /= sum;
    if (config.scales_output()) w[j] *= config.routed_scaling_factor;
  }
}

Verdict judge(const RouterConfig& config, const RouterInputs& inputs, const Output& output,
              const Tolerance& with = {}) {
  return compare(config, inputs.logits(), inputs.bias(), output.view(), with);
}

// Every violation of one clause, as text (expected, got).
std::string texts_of(const Verdict& verdict, Clause clause) {
  std::string text;
  for (const Violation& v : verdict.violations)
    if (v.clause == clause) text += "expected " + v.expected + "; got " + v.got + "\n";
  return text;
}

std::int64_t count(const Verdict& verdict, Clause clause) {
  return verdict.counts[static_cast<std::size_t>(clause)];
}

// ---------------------------------------------------------------- the API

TEST(ComparatorOptions, DerivedBoundsFollowThePrecision) {
  const Tolerance f32{};
  EXPECT_EQ(f32.score_ulps_used(), 4);
  EXPECT_EQ(f32.weight_ulps_for(8), 14);  // as before the options: 2 * 4 + 8 / 2 + 2
  EXPECT_EQ(f32.precision, DType::f32);
  EXPECT_EQ(f32.order, SlotOrder::selection);
  for (const DType half : {DType::bf16, DType::f16}) {
    EXPECT_EQ(tolerance(half).score_ulps_used(), 1);
    EXPECT_EQ(tolerance(half).weight_ulps_for(8), 8);
  }
  Tolerance given_bounds = tolerance(DType::bf16);
  given_bounds.score_ulps = 3;
  EXPECT_EQ(given_bounds.score_ulps_used(), 3);
  EXPECT_EQ(given_bounds.weight_ulps_for(8), 12);
  given_bounds.weight_ulps = 5;
  EXPECT_EQ(given_bounds.weight_ulps_for(8), 5);
}

TEST(ComparatorOptions, SlotOrderNamesRoundTrip) {
  for (const SlotOrder order : {SlotOrder::selection, SlotOrder::any})
    EXPECT_EQ(parse_slot_order(name_of(order)), order);
  EXPECT_EQ(name_of(SlotOrder::any), "any");
  EXPECT_EQ(name_of(SlotOrder::selection), "selection");
  EXPECT_FALSE(parse_slot_order("sorted").has_value());
}

TEST(ComparatorOptions, TheReportNamesTheTolerance) {
  const RouterConfig config = preset("kimi-k2");
  const RouterInputs inputs = generated(config, LogitFamily::normal, BiasFamily::normal, 1);
  const Output output = contract_output(config, inputs);
  const Verdict half = judge(config, inputs, output, tolerance(DType::bf16, SlotOrder::any));
  EXPECT_EQ(half.precision, DType::bf16);
  EXPECT_EQ(half.order, SlotOrder::any);
  EXPECT_EQ(half.score_ulps, 1);
  EXPECT_EQ(half.weight_ulps, 8);
  EXPECT_NE(half.report().find(
                "tolerance: bf16 arithmetic, scores +-1 ulp, weights +-8 ulp (bf16 ulps); slot order not judged"),
            std::string::npos)
      << half.report();
  const Verdict plain = judge(config, inputs, output);
  EXPECT_EQ(plain.score_ulps, 4);
  EXPECT_NE(plain.report().find("tolerance: f32 arithmetic, scores +-4 ulp, weights +-14 ulp (f32 ulps)\n"),
            std::string::npos)
      << plain.report();
}

// The contract's own answer is within every tolerance: bf16/f16 only widen.
TEST(ComparatorOptions, TheContractsAnswerPassesUnderEveryOption) {
  for (const char* name : {"kimi-k2", "deepseek-v3"}) {
    const RouterConfig config = preset(name);
    for (const LogitFamily logits : all_logit_families()) {
      for (const BiasFamily bias : all_bias_families()) {
        const RouterInputs inputs = generated(config, logits, bias, 7, 8);
        const Output output = contract_output(config, inputs);
        const auto oracle = reference::route_f64(config, inputs.logits(), inputs.bias());
        for (const DType precision : all_dtypes) {
          for (const SlotOrder order : {SlotOrder::selection, SlotOrder::any}) {
            const Verdict verdict = compare(config, inputs.logits(), inputs.bias(), output.view(), oracle,
                                            tolerance(precision, order));
            EXPECT_TRUE(verdict.passed()) << name << " logits=" << name_of(logits) << " bias=" << name_of(bias)
                                          << "\n" << verdict.report();
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- slot order

TEST(ComparatorSlotOrder, PermutedSlotsFailSelectionAndPassAny) {
  for (const char* name : {"kimi-k2", "deepseek-v3"}) {
    const RouterConfig config = preset(name);
    const int k = config.topk;
    const RouterInputs inputs = generated(config, LogitFamily::normal, BiasFamily::normal, 11, 64);
    Output output = contract_output(config, inputs);
    for (std::int64_t t = 0; t < inputs.spec.tokens; ++t) {
      std::reverse(output.ids.begin() + t * k, output.ids.begin() + (t + 1) * k);
      std::reverse(output.weights.begin() + t * k, output.weights.begin() + (t + 1) * k);
    }
    const Verdict selection = judge(config, inputs, output);
    EXPECT_FALSE(selection.passed());
    EXPECT_EQ(count(selection, Clause::selection_order), selection.total()) << selection.report();
    const Verdict any = judge(config, inputs, output, tolerance(DType::f32, SlotOrder::any));
    EXPECT_TRUE(any.passed()) << any.report();
  }
}

TEST(ComparatorSlotOrder, AClearlyWorseExpertStillFailsUnderAny) {
  const RouterConfig config = preset("kimi-k2");
  const int k = config.topk;
  const RouterInputs inputs = generated(config, LogitFamily::normal, BiasFamily::normal, 12, 32);
  Output output = contract_output(config, inputs);
  for (std::int64_t t = 0; t < inputs.spec.tokens; ++t) {
    // The best expert gives way to the worst one (by c), in a shuffled order
    // with the right weights for the new ids.
    int worst = 0;
    for (int e = 1; e < config.experts; ++e)
      if (reference::sigmoid_f32(inputs.logit(t, e)) + inputs.bias_value(e) <
          reference::sigmoid_f32(inputs.logit(t, worst)) + inputs.bias_value(worst))
        worst = e;
    output.ids[static_cast<std::size_t>(t * k)] = worst;
    std::rotate(output.ids.begin() + t * k, output.ids.begin() + t * k + 3, output.ids.begin() + (t + 1) * k);
    contract_weights(config, inputs, t, output);
  }
  const Verdict any = judge(config, inputs, output, tolerance(DType::f32, SlotOrder::any));
  EXPECT_EQ(count(any, Clause::wrong_set), inputs.spec.tokens) << any.report();
  EXPECT_EQ(any.total(), count(any, Clause::wrong_set)) << any.report();
}

TEST(ComparatorSlotOrder, ADuplicateStillFailsUnderAny) {
  const RouterConfig config = preset("deepseek-v3");
  const RouterInputs inputs = generated(config, LogitFamily::normal, BiasFamily::normal, 13, 4);
  Output output = contract_output(config, inputs);
  output.ids[1] = output.ids[0];
  const Verdict any = judge(config, inputs, output, tolerance(DType::f32, SlotOrder::any));
  EXPECT_EQ(count(any, Clause::duplicate_id), 1) << any.report();
}

TEST(ComparatorSlotOrder, AWeightInAnotherSlotFailsUnderAny) {
  const RouterConfig config = preset("kimi-k2");
  const int k = config.topk;
  const RouterInputs inputs = generated(config, LogitFamily::normal, BiasFamily::normal, 14, 16);
  Output output = contract_output(config, inputs);
  for (std::int64_t t = 0; t < inputs.spec.tokens; ++t)
    std::swap(output.weights[static_cast<std::size_t>(t * k)], output.weights[static_cast<std::size_t>(t * k + k - 1)]);
  for (const SlotOrder order : {SlotOrder::selection, SlotOrder::any}) {
    const Verdict verdict = judge(config, inputs, output, tolerance(DType::f32, order));
    EXPECT_EQ(count(verdict, Clause::weight), 2 * inputs.spec.tokens) << verdict.report();
    EXPECT_EQ(verdict.total(), count(verdict, Clause::weight)) << verdict.report();
  }
}

// Every expert ties exactly (identical inputs): the set must be 0 .. k-1;
// `any` forgives their order, not a higher index chosen across the cut.
TEST(ComparatorSlotOrder, ExactTiesAcrossTheCutAreStillJudgedUnderAny) {
  const RouterConfig config = preset("kimi-k2");
  const int k = config.topk;
  const RouterInputs inputs = generated(config, LogitFamily::all_equal, BiasFamily::zero, 15, 8);
  Output reversed = contract_output(config, inputs);
  for (std::int64_t t = 0; t < inputs.spec.tokens; ++t)
    std::reverse(reversed.ids.begin() + t * k, reversed.ids.begin() + (t + 1) * k);
  const Verdict selection = judge(config, inputs, reversed);
  EXPECT_EQ(count(selection, Clause::tie_order), selection.total()) << selection.report();
  EXPECT_GT(selection.total(), 0);
  EXPECT_TRUE(judge(config, inputs, reversed, tolerance(DType::f32, SlotOrder::any)).passed());

  Output shifted = contract_output(config, inputs);
  for (std::int64_t t = 0; t < inputs.spec.tokens; ++t) shifted.ids[static_cast<std::size_t>(t * k)] = k;  // not 0
  for (const DType precision : all_dtypes) {
    // Every chosen expert (1 .. k) ties exactly with the left-out expert 0.
    const Verdict any = judge(config, inputs, shifted, tolerance(precision, SlotOrder::any));
    EXPECT_EQ(count(any, Clause::tie_order), k * inputs.spec.tokens) << any.report();
    EXPECT_EQ(any.total(), count(any, Clause::tie_order));
  }
}

// ---------------------------------------------------------------- precision

float in_precision(float value, DType precision) {
  if (precision == DType::bf16) return widen_bf16(narrow_to_bf16(value));
  if (precision == DType::f16) return widen_f16(narrow_to_f16(value));
  return value;
}

enum class TorchBug { none, bias_in_weights, ties_to_higher_index };

// A torch reference in the logits' dtype p: s = sigmoid rounded to p,
// c = s + bias rounded to p (each op in f32, rounded to p), group scores the
// top-two sum rounded to p, a stable top-k (lower index first on equal values;
// the contract's NaN rank), weights from s, their sum and each division and
// scaling rounded to p, returned widened to f32. Sum 0: raw weights (the
// contract's zero-sum rule).
Output route_in_precision(const RouterConfig& config, const RouterInputs& inputs, DType precision,
                          TorchBug bug = TorchBug::none) {
  const int experts = config.experts;
  const int k = config.topk;
  const std::int64_t tokens = inputs.spec.tokens;
  const NanRank nan_rank = config.profile.nan_rank;
  const auto key = [&](float value, int index) {
    const std::uint64_t ranked = ranked_key(order_key(value, nan_rank), index);
    if (bug != TorchBug::ties_to_higher_index) return ranked;
    return (ranked & ~std::uint64_t{0xFFFFFFFFu}) | static_cast<std::uint32_t>(index);
  };
  Output output{std::vector<float>(static_cast<std::size_t>(tokens * k)),
                std::vector<std::int32_t>(static_cast<std::size_t>(tokens * k))};
  std::vector<float> s(static_cast<std::size_t>(experts)), c(s.size());
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (int e = 0; e < experts; ++e) {
      s[e] = in_precision(reference::sigmoid_f32(inputs.logit(t, e)), precision);
      c[e] = in_precision(s[e] + in_precision(inputs.bias_value(e), precision), precision);
    }
    std::vector<int> candidates;
    if (config.grouped()) {
      const int size = config.experts_per_group();
      std::vector<std::pair<std::uint64_t, int>> groups;
      for (int g = 0; g < config.groups; ++g) {
        std::vector<std::uint64_t> keys;
        for (int e = g * size; e < (g + 1) * size; ++e) keys.push_back(key(c[e], e));
        std::sort(keys.rbegin(), keys.rend());
        float score = c[index_of(keys[0])];
        if (size > 1) score = in_precision(score + c[index_of(keys[1])], precision);
        groups.push_back({key(score, g), g});
      }
      std::sort(groups.rbegin(), groups.rend());
      for (int j = 0; j < config.kept_groups; ++j)
        for (int e = groups[j].second * size; e < (groups[j].second + 1) * size; ++e) candidates.push_back(e);
    } else {
      for (int e = 0; e < experts; ++e) candidates.push_back(e);
    }
    std::sort(candidates.begin(), candidates.end(), [&](int a, int b) { return key(c[a], a) > key(c[b], b); });
    std::int32_t* ids = output.ids.data() + t * k;
    float* w = output.weights.data() + t * k;
    float sum = 0.0f;
    for (int j = 0; j < k; ++j) {
      ids[j] = candidates[j];
      w[j] = bug == TorchBug::bias_in_weights ? c[ids[j]] : s[ids[j]];
      sum += w[j];
    }
    sum = in_precision(sum, precision);
    for (int j = 0; j < k; ++j) {
      if (config.renormalize && sum > 0.0f) w[j] = in_precision(w[j] / sum, precision);
      if (config.scales_output()) w[j] = in_precision(w[j] * config.routed_scaling_factor, precision);
    }
  }
  return output;
}

void expect_half_precision_router_passes(DType precision) {
  int cases = 0, failing_under_f32 = 0;
  for (const char* name : {"kimi-k2", "deepseek-v3"}) {
    const RouterConfig config = preset(name);
    for (const LogitFamily logits :
         {LogitFamily::normal, LogitFamily::quantized, LogitFamily::near_ties, LogitFamily::extremes}) {
      for (const BiasFamily bias : {BiasFamily::normal, BiasFamily::quantized, BiasFamily::large,
                                    BiasFamily::neg_flt_max, BiasFamily::hostile_mix}) {
        for (std::uint64_t seed = 0; seed < 6; ++seed) {
          // Half the cases with logits stored in p, as such a router gets them.
          const RouterInputs inputs =
              generated(config, logits, bias, 100 + seed, 24, seed % 2 ? precision : DType::f32);
          const Output output = route_in_precision(config, inputs, precision);
          const auto oracle = reference::route_f64(config, inputs.logits(), inputs.bias());
          const Verdict declared =
              compare(config, inputs.logits(), inputs.bias(), output.view(), oracle, tolerance(precision));
          const Verdict f32 = compare(config, inputs.logits(), inputs.bias(), output.view(), oracle);
          ++cases;
          failing_under_f32 += f32.passed() ? 0 : 1;
          EXPECT_TRUE(declared.passed()) << name << " logits=" << name_of(logits) << " bias=" << name_of(bias)
                                         << " seed=" << 100 + seed << "\n" << declared.report();
          if (logits == LogitFamily::normal) {
            EXPECT_FALSE(f32.passed()) << name << " bias=" << name_of(bias) << ": the f32 tolerance accepts "
                                       << dtype_name(precision) << " arithmetic";
          }
        }
      }
    }
  }
  // All-equal chosen scores can give weights exact in both (1/k); the rest fail in f32.
  EXPECT_GE(failing_under_f32 * 10, cases * 9) << failing_under_f32 << " of " << cases << " fail under f32";
}

TEST(ComparatorPrecision, ABf16TorchReferenceFailsF32AndPassesBf16) {
  expect_half_precision_router_passes(DType::bf16);
}

TEST(ComparatorPrecision, AnF16TorchReferenceFailsF32AndPassesF16) {
  expect_half_precision_router_passes(DType::f16);
}

// Every chosen logit near -20: s ~ 2e-9 rounds to 0 in f16, so the f16 sum is
// 0 and the weights stay raw (0). Right in f16, a weight bug in f32.
TEST(ComparatorPrecision, AnF16ZeroSumIsAcceptedUnderF16Only) {
  const RouterConfig config = preset("kimi-k2");
  const int experts = config.experts;
  std::vector<float> logits;
  for (int t = 0; t < 4; ++t)
    for (int e = 0; e < experts; ++e)
      logits.push_back(-20.0f - 0.01f * static_cast<float>(e) - 0.1f * static_cast<float>(t));
  const RouterInputs inputs = given(experts, logits, std::vector<float>(static_cast<std::size_t>(experts), 0.0f));
  const Output output = route_in_precision(config, inputs, DType::f16);
  for (const float weight : output.weights) ASSERT_EQ(weight, 0.0f);  // the case this test is about
  const Verdict f16 = judge(config, inputs, output, tolerance(DType::f16));
  EXPECT_TRUE(f16.passed()) << f16.report();
  const Verdict f32 = judge(config, inputs, output);
  EXPECT_EQ(count(f32, Clause::weight), static_cast<std::int64_t>(output.weights.size())) << f32.report();
  // bf16 keeps 2e-9 (its exponent range is f32's): there the weights must be renormalised.
  const Verdict bf16 = judge(config, inputs, output, tolerance(DType::bf16));
  EXPECT_EQ(count(bf16, Clause::weight), static_cast<std::int64_t>(output.weights.size())) << bf16.report();
}

TEST(ComparatorPrecision, BiasInTheWeightsIsStillCaughtUnderBf16) {
  for (const char* name : {"kimi-k2", "deepseek-v3"}) {
    const RouterConfig config = preset(name);
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const RouterInputs inputs = generated(config, LogitFamily::normal, BiasFamily::normal, 200 + seed, 16);
      const Output output = route_in_precision(config, inputs, DType::bf16, TorchBug::bias_in_weights);
      const Verdict verdict = judge(config, inputs, output, tolerance(DType::bf16));
      EXPECT_GT(count(verdict, Clause::weight), 0) << name << " seed " << seed;
      EXPECT_EQ(verdict.total(), count(verdict, Clause::weight)) << verdict.report();
    }
  }
}

TEST(ComparatorPrecision, TiesToTheHigherIndexAreStillCaughtUnderBf16) {
  for (const char* name : {"kimi-k2", "deepseek-v3"}) {
    const RouterConfig config = preset(name);
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const RouterInputs inputs = generated(config, LogitFamily::quantized, BiasFamily::quantized, 300 + seed, 16);
      const Output output = route_in_precision(config, inputs, DType::bf16, TorchBug::ties_to_higher_index);
      for (const DType precision : {DType::bf16, DType::f16}) {
        const Verdict verdict = judge(config, inputs, output, tolerance(precision));
        EXPECT_GT(count(verdict, Clause::tie_order), 0) << name << " seed " << seed << "\n" << verdict.report();
        // Across the cut, too: the slot order aside.
        const Verdict any = judge(config, inputs, output, tolerance(precision, SlotOrder::any));
        EXPECT_GT(count(any, Clause::tie_order), 0) << name << " seed " << seed << "\n" << any.report();
      }
      EXPECT_TRUE(judge(config, inputs, route_in_precision(config, inputs, DType::bf16), tolerance(DType::bf16))
                      .passed());
    }
  }
}

// f16 rounds a bias of -FLT_MAX to -inf: such experts then tie with -inf
// experts, and the lower index among all of them may come first.
TEST(ComparatorPrecision, F16OverflowMakesMinusFltMaxTieWithMinusInf) {
  const RouterConfig config{8, 4, 1, 1, true, 1.0f, false, {}};
  const float inf = INFINITY;
  // Experts 0-2: -inf; 3-7: -FLT_MAX. Contract: 3 4 5 6 (-FLT_MAX above -inf).
  const std::vector<float> bias = {-inf, -inf, -inf, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX};
  const RouterInputs inputs = given(8, {0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.0f, -0.1f, -0.2f}, bias);
  const Output output = route_in_precision(config, inputs, DType::f16);
  EXPECT_EQ(output.ids, (std::vector<std::int32_t>{0, 1, 2, 3}));
  EXPECT_TRUE(judge(config, inputs, output, tolerance(DType::f16)).passed());
  EXPECT_EQ(count(judge(config, inputs, output), Clause::wrong_set), 1);
  // Among the -FLT_MAX experts the tie stays exact: 3 before 4, in any arithmetic.
  Output skipping = output;
  skipping.ids = {0, 1, 2, 4};
  EXPECT_EQ(count(judge(config, inputs, skipping, tolerance(DType::f16)), Clause::tie_order), 1);
}

// ---------------------------------------------------------------- group cut

// 16 experts in 4 groups, 2 kept. Group 0 far ahead, group 3 far behind;
// groups 1 and 2 as each test sets them. Bias 0.
RouterConfig four_groups(int topk) { return RouterConfig{16, topk, 4, 2, true, 1.0f, false, {}}; }

std::vector<float> group_logits(const std::vector<float>& group1, const std::vector<float>& group2) {
  std::vector<float> logits = {3.0f, 2.9f, 2.8f, 2.7f};
  logits.insert(logits.end(), group1.begin(), group1.end());
  logits.insert(logits.end(), group2.begin(), group2.end());
  for (const float value : {-3.0f, -3.1f, -3.2f, -3.3f}) logits.push_back(value);
  return logits;
}

TEST(ComparatorGroupCut, AGroupDroppedByTheScoreSaysSo) {
  const RouterConfig config = four_groups(4);
  const RouterInputs inputs =
      given(16, group_logits({1.0f, 0.9f, 0.8f, 0.7f}, {-1.0f, -1.1f, -1.2f, -1.3f}), std::vector<float>(16, 0.0f));
  Output output = contract_output(config, inputs);
  ASSERT_EQ(output.ids, (std::vector<std::int32_t>{0, 1, 2, 3}));
  output.ids[3] = 8;  // group 2's best
  contract_weights(config, inputs, 0, output);
  const Verdict verdict = judge(config, inputs, output);
  const std::string dropped = texts_of(verdict, Clause::dropped_group);
  EXPECT_NE(dropped.find("group 2 (score 0.51"), std::string::npos) << dropped;
  EXPECT_NE(dropped.find("was dropped by the group score: the last kept group 1 scores 1.44"), std::string::npos)
      << dropped;
  EXPECT_NE(dropped.find(", gap 0.923 > band "), std::string::npos) << dropped;
  const std::string wrong_set = texts_of(verdict, Clause::wrong_set);
  EXPECT_NE(wrong_set.find("; group cut: group 2 (score 0.51"), std::string::npos) << wrong_set;
  EXPECT_NE(wrong_set.find("was dropped by the group score"), std::string::npos) << wrong_set;
}

TEST(ComparatorGroupCut, KeepingTheHigherOfTwoExactlyTiedGroupsSaysSo) {
  const RouterConfig config = four_groups(6);
  const std::vector<float> twin = {1.0f, 0.9f, 0.8f, 0.7f};
  const RouterInputs inputs = given(16, group_logits(twin, twin), std::vector<float>(16, 0.0f));
  Output output = contract_output(config, inputs);
  ASSERT_EQ(output.ids, (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
  output.ids[4] = 8;  // group 2's twins of experts 4 and 5: the same values, the higher group
  output.ids[5] = 9;
  for (const DType precision : all_dtypes) {
    const Verdict verdict = judge(config, inputs, output, tolerance(precision, SlotOrder::any));
    const std::string dropped = texts_of(verdict, Clause::dropped_group);
    EXPECT_EQ(count(verdict, Clause::dropped_group), 1) << verdict.report();  // once per group
    EXPECT_NE(dropped.find("group 2 (score 1.44"), std::string::npos) << dropped;
    EXPECT_NE(dropped.find("was dropped by an exact tie with group 1 (score 1.44"), std::string::npos) << dropped;
    EXPECT_NE(dropped.find("the lower group index is kept"), std::string::npos) << dropped;
  }
}

TEST(ComparatorGroupCut, ANearTieCutSaysEitherGroupMayBeKept) {
  const RouterConfig config = four_groups(6);
  // Group 2 is group 1 with one logit an ulp lower.
  const std::vector<float> group2 = {1.0f, std::nextafter(0.9f, 0.0f), 0.8f, 0.7f};
  const RouterInputs inputs = given(16, group_logits({1.0f, 0.9f, 0.8f, 0.7f}, group2), std::vector<float>(16, 0.0f));
  Output output = contract_output(config, inputs);
  ASSERT_EQ(output.ids, (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
  output.ids[4] = 8;  // group 2 instead of group 1: a near-tie, legitimate
  output.ids[5] = 9;
  contract_weights(config, inputs, 0, output);
  const Verdict legitimate = judge(config, inputs, output);
  EXPECT_TRUE(legitimate.passed()) << legitimate.report();
  output.ids[5] = 11;  // group 2's worst instead of its second
  contract_weights(config, inputs, 0, output);
  const Verdict verdict = judge(config, inputs, output);
  const std::string wrong_set = texts_of(verdict, Clause::wrong_set);
  EXPECT_EQ(count(verdict, Clause::wrong_set), 1) << verdict.report();
  EXPECT_NE(wrong_set.find("group cut: group 2 (score 1.44"), std::string::npos) << wrong_set;
  EXPECT_NE(wrong_set.find("and the last kept group 1 (score 1.44"), std::string::npos) << wrong_set;
  EXPECT_NE(wrong_set.find("are a near-tie within the rounding band (gap "), std::string::npos) << wrong_set;
  EXPECT_NE(wrong_set.find("either group may be kept"), std::string::npos) << wrong_set;
}

// A group gap of ~1e-3 is clear in f32 and within bf16's rounding.
TEST(ComparatorGroupCut, TheBandOfTheGroupCutFollowsThePrecision) {
  const RouterConfig config = four_groups(6);
  const RouterInputs inputs = given(16, group_logits({1.0f, 0.9f, 0.8f, 0.7f}, {0.998f, 0.898f, 0.798f, 0.698f}),
                                    std::vector<float>(16, 0.0f));
  Output output = contract_output(config, inputs);
  ASSERT_EQ(output.ids, (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
  output.ids[4] = 8;
  output.ids[5] = 9;
  contract_weights(config, inputs, 0, output);
  const Verdict f32 = judge(config, inputs, output);
  EXPECT_EQ(count(f32, Clause::dropped_group), 1) << f32.report();
  EXPECT_NE(texts_of(f32, Clause::dropped_group).find("was dropped by the group score"), std::string::npos);
  for (const DType half : {DType::bf16, DType::f16}) {
    const Verdict verdict = judge(config, inputs, output, tolerance(half));
    EXPECT_TRUE(verdict.passed()) << verdict.report();
  }
}

// Issue #15: very large k is judged in linear time per token (the exact-tie
// check across the cut scanned every lower index: O(k * E), 20 s for two
// tokens of E = 65536, k = 32768), and still catches ties to the higher index.
TEST(ComparatorLargeK, JudgesHalfOfSixtyFiveThousandExpertsQuickly) {
  RouterConfig config;
  config.experts = 65536;
  config.topk = 32768;
  InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = 2;
  spec.logit_family = LogitFamily::all_equal;  // every expert exactly tied
  spec.bias_family = BiasFamily::zero;
  const RouterInputs inputs = make_inputs(spec);
  const auto start = std::chrono::steady_clock::now();
  const auto contract = reference::route_f32(config, inputs.logits(), inputs.bias());
  EXPECT_TRUE(compare(config, inputs.logits(), inputs.bias(), CandidateView{contract.weights.data(), contract.ids.data()})
                  .passed());
  std::vector<std::int32_t> upper(contract.ids.size());
  for (std::size_t i = 0; i < upper.size(); ++i)
    upper[i] = static_cast<std::int32_t>(config.experts - config.topk + static_cast<int>(i % config.topk));
  const Verdict verdict = compare(config, inputs.logits(), inputs.bias(), CandidateView{contract.weights.data(), upper.data()});
  EXPECT_GT(verdict.counts[static_cast<std::size_t>(Clause::tie_order)], 0);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
}

}  // namespace
}  // namespace moegate
