// What `moegate vectors` can express, and what its default suite can tell
// apart: every zero-sum rule and every documented profile, planted into the
// reference, fails at least one default case judged by our contract.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "moegate/comparator.hpp"
#include "moegate/reference.hpp"
#include "moegate/vectors.hpp"

namespace moegate::vectors {
namespace {

// The value families (logits/bias) whose cases an implementation under
// `planted` fails when the default suite judges it by `options`' configs.
std::set<std::string> families_failed(const SuiteOptions& options, const Profile& planted) {
  std::set<std::string> failed;
  for (const RouterCase& c : suite_cases(options)) {
    const RouterInputs inputs = make_inputs(c.spec);
    RouterConfig config = c.config;
    config.profile = planted;
    const reference::RouteResult out = reference::route_f32(config, inputs.logits(), inputs.bias());
    if (!compare(c.config, inputs.logits(), inputs.bias(), CandidateView{out.weights.data(), out.ids.data()}).passed())
      failed.insert(std::string(name_of(c.spec.logit_family)) + "/" + std::string(name_of(c.spec.bias_family)));
  }
  return failed;
}

SuiteOptions two_presets() {
  SuiteOptions options;
  options.presets = {"kimi-k2", "deepseek-v3"};
  options.logits_dtypes = {DType::f32};
  return options;
}

TEST(DefaultSuite, ShowsEveryZeroSumRule) {
  Profile nan_rule, epsilon_rule;
  nan_rule.zero_sum = ZeroSum::nan;
  epsilon_rule.zero_sum = ZeroSum::epsilon;
  // 0/0: only vanishing scores (every s = 0) show torch's rule.
  EXPECT_TRUE(families_failed(two_presets(), nan_rule).count("vanishing/normal"));
  // sum + 1e-20 changes nothing when the sum is 0 or ordinary: tiny scores show it, and only they.
  const std::set<std::string> epsilon = families_failed(two_presets(), epsilon_rule);
  EXPECT_EQ(epsilon, std::set<std::string>{"tiny/normal"});
}

TEST(DefaultSuite, ShowsWhereNaNRanks) {
  // NaN replaced by -1e30 ranks above -inf, NaN first above everything: only NaN scores among
  // experts whose bias is -inf show either (fewer than k finite biased scores).
  EXPECT_TRUE(families_failed(two_presets(), *find_profile("sglang-triton")).count("specials/neg_inf"));
  Profile highest;
  highest.nan_rank = NanRank::highest;
  EXPECT_FALSE(families_failed(two_presets(), highest).empty());
}

TEST(DefaultSuite, ShowsEveryDocumentedProfile) {
  for (const NamedProfile& named : profiles()) {
    if (named.profile == Profile{}) continue;  // our contract (and its aliases)
    EXPECT_FALSE(families_failed(two_presets(), named.profile).empty())
        << "no default case tells profile '" << named.name << "' from the contract";
  }
}

TEST(SuiteOptions, ExpressHostileCases) {
  SuiteOptions options;
  RouterConfig config;
  config.experts = 12;
  config.topk = 3;
  options.config = config;
  options.families = {{LogitFamily::normal, BiasFamily::neg_inf, -1}};
  options.hostile_eighths = 8;
  options.row_padding = 3;
  options.padding = PaddingFamily::large;
  options.logits_dtypes = {DType::bf16};
  options.bias_dtypes = {DType::f32, DType::f16};
  options.tokens = 5;
  const auto cases = suite_cases(options);
  ASSERT_EQ(cases.size(), 4u);  // T in {1, 5} x two bias dtypes
  for (const RouterCase& c : cases) {
    EXPECT_EQ(c.spec.row_stride, 15);
    EXPECT_EQ(c.spec.padding, PaddingFamily::large);
    EXPECT_EQ(c.spec.hostile_eighths, 8);
    // Every expert's bias is -inf: fewer than k finite biased scores.
    const RouterInputs inputs = make_inputs(c.spec);
    for (int e = 0; e < c.config.experts; ++e) 
      EXPECT_EQ(load_widened(inputs.bias().data, c.spec.bias_dtype, e), -std::numeric_limits<float>::infinity());
    // The padding holds large finite numbers, not NaN.
    const float padding = load_widened(inputs.logits().data, c.spec.logits_dtype, 12);
    EXPECT_TRUE(std::isfinite(padding) && padding >= 30.0f) << padding;
  }
  EXPECT_EQ(cases[1].spec.bias_dtype, DType::f16);
  SuiteOptions bad = options;
  bad.hostile_eighths = 9;
  EXPECT_THROW(suite_cases(bad), std::invalid_argument);
  bad = options;
  bad.row_padding = 0;
  EXPECT_THROW(suite_cases(bad), std::invalid_argument);  // a padding family without padding
  bad = options;
  bad.bias_dtypes.clear();
  EXPECT_THROW(suite_cases(bad), std::invalid_argument);
}

}  // namespace
}  // namespace moegate::vectors
