// Hand-computed cases for the CPU reference, one clause of the contract each.
#include <gtest/gtest.h>
#include <omp.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <cstring>
#include <numeric>

#include "moegate/presets.hpp"
#include "moegate/inputs.hpp"
#include "test_inputs.hpp"

namespace moegate {
namespace {

using testing::Case;
using testing::make_config;
using Ids = std::vector<std::int32_t>;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Expected weights from double arithmetic; the f32 result is within a few ulp.
void expect_weights_near(const std::vector<float>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t j = 0; j < actual.size(); ++j)
    EXPECT_NEAR(actual[j], expected[j], 4e-7 * std::fabs(expected[j]) + 1e-12) << "slot " << j;
}

TEST(Reference, SeedKimi384) {
  Case c{find_preset("kimi384")->config, std::vector<float>(384), std::vector<float>(384, 0.0f)};
  for (int e = 0; e < 384; ++e) c.logits[e] = -4.0f + 8.0f * static_cast<float>(e) / 383.0f;
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{383, 382, 381, 380, 379, 378}));
  double sum = 0;
  for (int e = 378; e < 384; ++e) sum += sigmoid(c.logits[e]);
  std::vector<double> expected;
  for (int id : result.ids) expected.push_back(sigmoid(c.logits[id]) / sum * 2.872);
  expect_weights_near(result.weights, expected);
}

TEST(Reference, SeedMimo256BiasRanksButDoesNotWeight) {
  Case c{find_preset("mimo256")->config, std::vector<float>(256, -3.0f), std::vector<float>(256, 0.0f)};
  for (int j = 0; j < 8; ++j) c.logits[10 * j] = 1.0f + 0.1f * static_cast<float>(j);
  c.bias[0] = 0.5f;  // expert 0 has the lowest logit of the eight but ranks first
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{0, 70, 60, 50, 40, 30, 20, 10}));
  double sum = 0;
  for (int j = 0; j < 8; ++j) sum += sigmoid(c.logits[10 * j]);
  std::vector<double> expected;
  for (int id : result.ids) expected.push_back(sigmoid(c.logits[id]) / sum);
  expect_weights_near(result.weights, expected);
}

TEST(Reference, ExactTiesGoToTheLowerIndex) {
  Case c{make_config(16, 8), std::vector<float>(16, 0.0f), std::vector<float>(16, 0.0f)};
  c.logits[9] = 1.0f;
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{9, 0, 1, 2, 3, 4, 5, 6}));
  // Equal c from different (s, bias): 0.5 + 0.25 == 1 - 0.25, both exact.
  Case d{make_config(3, 2), {-1.0f, 0.0f, 100.0f}, {0.0f, 0.25f, -0.25f}};
  EXPECT_EQ(d.route().ids, (Ids{1, 2}));
  Case e{make_config(3, 2), {-1.0f, 100.0f, 0.0f}, {0.0f, -0.25f, 0.25f}};
  EXPECT_EQ(e.route().ids, (Ids{1, 2}));
  EXPECT_NEAR(e.oracle().selection_margin[0], 0.75 - sigmoid(-1.0), 1e-12);
}

TEST(Reference, AllEqualRows) {
  RouterConfig config = make_config(64, 8);
  config.routed_scaling_factor = 2.5f;
  config.apply_routed_scaling_factor_on_output = true;
  Case c{config, std::vector<float>(64, 1.5f), std::vector<float>(64, 0.25f)};
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{0, 1, 2, 3, 4, 5, 6, 7}));
  for (float w : result.weights) EXPECT_EQ(w, 0.125f * 2.5f);  // s / (8 s) is exactly 1/8
}

TEST(Reference, NanRanksBelowMinusInfinity) {
  Case c{make_config(5, 4), {nan, -inf, 0.0f, 0.0f, 2.0f}, {0.0f, 0.0f, 0.0f, 0.0f, -inf}};
  c.config.renormalize = false;
  const auto result = c.route();
  // c = {NaN, 0, 0.5, 0.5, -inf}
  EXPECT_EQ(result.ids, (Ids{2, 3, 1, 4}));
  EXPECT_EQ(result.weights, (std::vector<float>{0.5f, 0.5f, 0.0f, static_cast<float>(reference::sigmoid_f32(2.0f))}));
  c.config.topk = 5;
  EXPECT_EQ(c.route().ids, (Ids{2, 3, 1, 4, 0}));
}

TEST(Reference, NanBiasAndNanWeightsStayRaw) {
  Case c{make_config(3, 3), {0.0f, nan, 0.0f}, {nan, 0.0f, 0.0f}};
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{2, 0, 1}));
  // The chosen NaN logit makes the sum NaN: not > 0, so the weights stay raw.
  EXPECT_EQ(result.weights[0], 0.5f);
  EXPECT_EQ(result.weights[1], 0.5f);
  EXPECT_TRUE(std::isnan(result.weights[2]));
}

TEST(Reference, InfiniteAndSaturatingLogits) {
  Case c{make_config(6, 6), {-100.0f, inf, 100.0f, -inf, 88.5f, -89.5f}, std::vector<float>(6, 0.0f)};
  c.config.renormalize = false;
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{1, 2, 4, 0, 3, 5}));  // s = 1, 1, 1, 0, 0, 0
  EXPECT_EQ(result.weights, (std::vector<float>{1, 1, 1, 0, 0, 0}));
}

TEST(Reference, HostileBiasesStaySelectable) {
  for (float hostile : {-FLT_MAX, -inf}) {
    Case c{make_config(8, 3), std::vector<float>(8, 0.0f), std::vector<float>(8, hostile)};
    c.logits[3] = 5.0f;  // s is larger, but s + hostile is absorbed
    c.bias[6] = 0.0f;
    const auto result = c.route();
    EXPECT_EQ(result.ids, (Ids{6, 0, 1})) << hostile;
    // renormalised over s: 0.5 / (3 * 0.5)
    EXPECT_EQ(result.weights[0], 0.5f / 1.5f) << hostile;
  }
}

TEST(Reference, LargeBiasDoesNotLeakIntoWeights) {
  Case c{make_config(4, 2), {0.0f, 3.0f, 0.0f, 0.0f}, {12.0f, 0.0f, 0.0f, 11.5f}};
  c.config.renormalize = false;
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{0, 3}));
  EXPECT_EQ(result.weights, (std::vector<float>{0.5f, 0.5f}));  // s itself, not (c - bias)
}

TEST(Reference, ZeroSumFollowsTheProfile) {
  RouterConfig config = make_config(4, 2);
  config.apply_routed_scaling_factor_on_output = true;
  config.routed_scaling_factor = 2.0f;
  Case c{config, std::vector<float>(4, -inf), std::vector<float>(4, 0.0f)};
  auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{0, 1}));
  EXPECT_EQ(result.weights, (std::vector<float>{0.0f, 0.0f}));  // raw, then scaled
  c.config.profile.zero_sum = ZeroSum::nan;
  result = c.route();
  EXPECT_TRUE(std::isnan(result.weights[0]) && std::isnan(result.weights[1]));
  c.config.profile.zero_sum = ZeroSum::epsilon;
  EXPECT_EQ(c.route().weights, (std::vector<float>{0.0f, 0.0f}));
}

TEST(Reference, ScalingNeedsRenormalizeUnlessTheProfileSaysOtherwise) {
  RouterConfig config = make_config(2, 1);
  config.routed_scaling_factor = 3.0f;
  config.apply_routed_scaling_factor_on_output = true;
  config.renormalize = false;
  Case c{config, {0.0f, -1.0f}, {0.0f, 0.0f}};
  EXPECT_EQ(c.route().weights[0], 0.5f);
  c.config.profile.scaling = Scaling::when_asked;
  EXPECT_EQ(c.route().weights[0], 1.5f);
  c.config.renormalize = true;
  c.config.profile.scaling = Scaling::with_renormalize;
  EXPECT_EQ(c.route().weights[0], 3.0f);
}

TEST(Reference, NanProfiles) {
  Case c{make_config(3, 1), {0.0f, nan, 1.0f}, {0.0f, 0.0f, 0.0f}};
  EXPECT_EQ(c.route().ids[0], 2);
  c.config.profile.nan_rank = NanRank::highest;
  EXPECT_EQ(c.route().ids[0], 1);
  c.config.profile.nan_rank = NanRank::replace;
  c.config.profile.nan_replacement = 5.0f;
  EXPECT_EQ(c.route().ids[0], 1);
  c.config.profile.nan_replacement = -1e30f;
  c.config.topk = 3;
  EXPECT_EQ(c.route().ids, (Ids{2, 0, 1}));
}

TEST(Reference, GroupedRoutingUsesTheTopTwoSum) {
  // 4 groups of 3. Group 0 holds the single best expert but a weak second;
  // group 2's top two sum higher. Keep 1 group, choose 2 experts.
  RouterConfig config = make_config(12, 2, 4, 1);
  config.renormalize = false;
  std::vector<float> logits(12, -6.0f);
  logits[0] = 6.0f;   // s ~ 0.9975
  logits[7] = 2.0f;   // s ~ 0.8808
  logits[8] = 2.0f;
  Case c{config, logits, std::vector<float>(12, 0.0f)};
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{7, 8}));  // group 2 = experts 6..8; the best expert 0 is dropped
  const auto oracle = c.oracle();
  EXPECT_EQ(oracle.ids, result.ids);
  EXPECT_GT(oracle.group_margin[0], 0.5);
  EXPECT_NEAR(oracle.selection_margin[0], sigmoid(2.0) - sigmoid(-6.0), 1e-12);
}

TEST(Reference, TiedGroupScoresKeepTheLowerGroup) {
  RouterConfig config = make_config(8, 2, 4, 2);
  Case c{config, std::vector<float>(8, 0.0f), std::vector<float>(8, 0.0f)};
  c.logits[7] = 0.0f;
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{0, 1}));  // groups 0 and 1 kept; all experts tie
  // Group 3 wins outright when its top two sum higher.
  c.logits[6] = 1.0f;
  c.logits[7] = 1.0f;
  c.config.kept_groups = 1;
  EXPECT_EQ(c.route().ids, (Ids{6, 7}));
  const auto oracle = Case{config, std::vector<float>(8, 0.0f), std::vector<float>(8, 0.0f)}.oracle();
  EXPECT_EQ(oracle.group_margin[0], 0.0);  // exact tie at the group cut
  EXPECT_EQ(oracle.selection_margin[0], 0.0);
}

TEST(Reference, KEqualsExperts) {
  Case c{make_config(6, 6), {0.1f, 0.6f, -0.3f, 0.6f, 2.0f, -1.0f}, std::vector<float>(6, 0.0f)};
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{4, 1, 3, 0, 2, 5}));
  EXPECT_NEAR(std::accumulate(result.weights.begin(), result.weights.end(), 0.0), 1.0, 1e-6);
  EXPECT_EQ(c.oracle().selection_margin[0], std::numeric_limits<double>::infinity());
}

TEST(Reference, SingleExpert) {
  RouterConfig config = make_config(1, 1);
  config.routed_scaling_factor = 2.827f;
  config.apply_routed_scaling_factor_on_output = true;
  Case c{config, {-3.0f, 0.0f, 7.0f}, {0.125f}};  // three tokens
  const auto result = c.route();
  EXPECT_EQ(result.ids, (Ids{0, 0, 0}));
  for (float w : result.weights) EXPECT_EQ(w, 2.827f);  // s / s = 1 exactly
}

TEST(Reference, OracleAgreesAndReportsMargins) {
  Case c{make_config(8, 2), {0.0f, 1.0f, 2.0f, 3.0f, 3.0f, -1.0f, 0.5f, 0.25f}, std::vector<float>(8, 0.0f)};
  const auto result = c.route();
  const auto oracle = c.oracle();
  EXPECT_EQ(oracle.ids, result.ids);
  EXPECT_EQ(oracle.ids, (Ids{3, 4}));
  EXPECT_NEAR(oracle.selection_margin[0], sigmoid(3.0) - sigmoid(2.0), 1e-12);
  EXPECT_NEAR(oracle.keys[0], sigmoid(3.0), 1e-15);
  EXPECT_NEAR(oracle.weights[0], 0.5, 1e-15);
  EXPECT_EQ(oracle.group_margin[0], std::numeric_limits<double>::infinity());
}

TEST(Reference, WidenedDtypesGiveTheSameResult) {
  InputSpec spec;
  spec.experts = 160;
  spec.tokens = 33;
  spec.seed = 3;
  spec.logits_dtype = DType::bf16;
  spec.bias_dtype = DType::f16;
  const RouterInputs narrow = make_inputs(spec);
  std::vector<float> logits(static_cast<std::size_t>(spec.tokens * spec.experts));
  std::vector<float> bias(static_cast<std::size_t>(spec.experts));
  for (std::size_t i = 0; i < logits.size(); ++i)
    logits[i] = load_widened(narrow.logits_bytes.data(), DType::bf16, static_cast<std::int64_t>(i));
  for (std::size_t i = 0; i < bias.size(); ++i)
    bias[i] = load_widened(narrow.bias_bytes.data(), DType::f16, static_cast<std::int64_t>(i));
  const RouterConfig config = find_preset("glm-4.5")->config;
  const auto from_narrow = reference::route_f32(config, narrow.logits(), narrow.bias());
  const auto from_wide = Case{config, logits, bias}.route();
  EXPECT_EQ(from_narrow.ids, from_wide.ids);
  EXPECT_EQ(from_narrow.weights, from_wide.weights);
}

TEST(Reference, ThreadCountChangesNoBit) {
  InputSpec spec;
  spec.experts = 384;
  spec.tokens = 257;
  spec.seed = 11;
  spec.use(Distribution::extremes);
  const RouterInputs inputs = make_inputs(spec);
  const RouterConfig config = find_preset("kimi-k2")->config;
  const auto one = reference::route_f32(config, inputs.logits(), inputs.bias(), {1});
  const auto three = reference::route_f32(config, inputs.logits(), inputs.bias(), {3});
  EXPECT_EQ(one.ids, three.ids);
  ASSERT_EQ(one.weights.size(), three.weights.size());
  EXPECT_EQ(0, std::memcmp(one.weights.data(), three.weights.data(), one.weights.size() * sizeof(float)));
}

TEST(Reference, RejectsBadViews) {
  Case c{make_config(4, 2), std::vector<float>(8, 0.0f), std::vector<float>(4, 0.0f)};
  LogitsView narrow_stride = c.logits_view();
  narrow_stride.row_stride = 3;
  EXPECT_THROW(reference::route_f32(c.config, narrow_stride, c.bias_view()), std::invalid_argument);
  EXPECT_THROW(reference::route_f32(c.config, c.logits_view(), BiasView{}), std::invalid_argument);
  RouterConfig bad = c.config;
  bad.topk = 5;
  EXPECT_THROW(reference::route_f32(bad, c.logits_view(), c.bias_view()), ConfigError);
  LogitsView empty = c.logits_view();
  empty.tokens = 0;
  EXPECT_TRUE(reference::route_f32(c.config, empty, c.bias_view()).ids.empty());
}

}  // namespace
}  // namespace moegate

namespace moegate::reference {
namespace {

// Issue #15: small work runs on one thread (a team cost seconds per 48-case
// check on a loaded machine); large work and an explicit request keep theirs.
TEST(ThreadTeam, IsSizedByTheWork) {
  EXPECT_EQ(thread_team(33 * 384), 1);
  EXPECT_EQ(thread_team((std::int64_t{1} << 16) - 1), 1);
  EXPECT_EQ(thread_team(std::int64_t{65536} * 384), omp_get_max_threads());
  EXPECT_EQ(thread_team(10, 3), 3);
}

}  // namespace
}  // namespace moegate::reference
