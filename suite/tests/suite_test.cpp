// The suite's cases, fitting, shrinking and the property driver (CPU only).
#include <gtest/gtest.h>

#include <sstream>

#include "../property_driver.hpp"
#include "moegate/presets.hpp"
#include "moegate/suite.hpp"

namespace moegate::suite {
namespace {

// Whether a fitted case lies inside the declaration.
std::string outside(const Support& s, const RouterCase& c) {
  const RouterConfig& k = c.config;
  if (validate(k)) return "invalid config";
  if (!(k.profile == s.profile)) return "profile";
  if (!s.configs.empty()) {
    bool listed = false;
    for (const RouterConfig& allowed : s.configs) {
      RouterConfig with_profile = allowed;
      with_profile.profile = s.profile;
      listed = listed || describe(with_profile) == describe(k);
    }
    if (!listed) return "config not listed";
  }
  if (!s.experts_set.empty() && std::find(s.experts_set.begin(), s.experts_set.end(), k.experts) == s.experts_set.end())
    return "experts not in the set";
  if (k.experts > s.max_experts) return "experts";
  if (s.configs.empty() && (k.topk > s.max_topk || k.groups > s.max_groups)) return "topk or groups";
  if (!(s.logits_dtypes & dtype_bit(c.spec.logits_dtype)) || !(s.bias_dtypes & dtype_bit(c.spec.bias_dtype))) return "dtype";
  if (c.spec.experts != k.experts) return "spec experts";
  if (c.spec.row_stride % s.row_stride_multiple != 0 || c.spec.row_stride < k.experts) return "row stride";
  if (!s.padded_rows && c.spec.row_stride != k.experts) return "padded row";
  if (s.max_tokens > 0 && c.spec.tokens > s.max_tokens) return "tokens";
  if (c.spec.tokens < 1) return "no tokens";
  return {};
}

std::vector<Support> declarations() {
  std::vector<Support> out(1);
  Support narrow;
  narrow.experts_set = {48, 160};
  narrow.max_experts = 160;
  narrow.max_topk = 4;
  narrow.max_groups = 1;
  narrow.logits_dtypes = dtype_bit(DType::bf16);
  narrow.bias_dtypes = dtype_bit(DType::f32);
  narrow.row_stride_multiple = 8;
  narrow.profile = *find_profile("torch");
  out.push_back(narrow);
  Support presets_only;
  presets_only.configs = {find_preset("kimi-k2")->config, find_preset("deepseek-v3")->config};
  presets_only.padded_rows = false;
  presets_only.max_tokens = 1000;
  presets_only.logits_dtypes = dtype_bit(DType::f32) | dtype_bit(DType::bf16);
  out.push_back(presets_only);
  return out;
}

TEST(Suite, SweepCoversTheShapesAndBatchesTheGpuSuiteNeeds) {
  const std::vector<RouterCase> cases = sweep();
  EXPECT_GT(cases.size(), 1000u);
  bool big = false, grouped = false, padded = false, narrow = false;
  for (const RouterCase& c : cases) {
    EXPECT_FALSE(validate(c.config).has_value()) << describe(c);
    big = big || c.spec.tokens == 65536;
    grouped = grouped || c.config.grouped();
    padded = padded || c.spec.row_stride > c.spec.experts;
    narrow = narrow || c.spec.logits_dtype != DType::f32;
  }
  EXPECT_TRUE(big && grouped && padded && narrow);
}

TEST(Suite, KeptRegressionsAreTheFilesCases) {
  const std::vector<RouterCase> kept = kept_regressions();
  ASSERT_FALSE(kept.empty());
  for (const RouterCase& c : kept) EXPECT_FALSE(validate(c.config).has_value()) << describe(c);
}

TEST(Suite, EveryFittedCaseLiesInsideItsSupport) {
  std::vector<RouterCase> cases = sweep();
  for (const RouterCase& c : kept_regressions()) cases.push_back(c);
  for (const Support& support : declarations()) {
    ASSERT_EQ(check(support), "");
    for (const RouterCase& c : cases) {
      const RouterCase fitted = fit(support, c);
      ASSERT_EQ(outside(support, fitted), "") << describe(support) << "\n" << describe(fitted);
      EXPECT_EQ(describe(fit(support, fitted)), describe(fitted)) << "fitting twice changes a case";
    }
  }
}

TEST(Suite, SupportLinesRoundTripAndNameTheirErrors) {
  for (const Support& support : declarations()) EXPECT_EQ(describe(parse_support(describe(support))), describe(support));
  EXPECT_EQ(describe(parse_support("profile=sglang-triton max_topk=8")).find("nan_rank=replace") != std::string::npos, true);
  const auto message = [](const char* line) {
    try {
      parse_support(line);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(message("max_topk=eight").find("max_topk"), std::string::npos);
  EXPECT_NE(message("logits=f64").find("logits"), std::string::npos);
  EXPECT_NE(message("colour=blue").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(message("profile=nope").find("profile"), std::string::npos);
  EXPECT_NE(message("config=8:9:1:1:1:1:0").find("topk"), std::string::npos);
  EXPECT_NE(message("max_experts=0").find("max_experts"), std::string::npos);
}

TEST(Suite, ShrinkingKeepsTheFailureAndStaysInsideTheSupport) {
  // A planted failure: tokens >= 5 and an odd expert count.
  const auto fails = [](const RouterCase& c) { return c.spec.tokens >= 5 && c.config.experts % 2 == 1; };
  RouterCase start{RouterConfig{}, InputSpec{}};
  start.config.experts = 33;
  start.config.topk = 8;
  start.spec.experts = 33;
  start.spec.tokens = 513;
  start.spec.row_stride = 37;
  start.spec.logits_dtype = DType::bf16;
  start.spec.logit_family = LogitFamily::extremes;
  const Support any;
  const RouterCase small = shrink(any, start, fails);
  EXPECT_TRUE(fails(small));
  EXPECT_EQ(small.spec.tokens, 5);
  EXPECT_EQ(small.config.topk, 1);
  EXPECT_EQ(small.spec.row_stride, small.config.experts);
  EXPECT_EQ(small.spec.logits_dtype, DType::f32);
  EXPECT_EQ(small.spec.logit_family, LogitFamily::normal);
  EXPECT_LE(small.config.experts, 33);
  for (const Support& support : declarations()) {
    const RouterCase fitted = shrink(support, fit(support, start), [](const RouterCase& c) { return c.spec.tokens >= 3; });
    EXPECT_EQ(outside(support, fitted), "");
    EXPECT_EQ(fitted.spec.tokens, 3);
  }
}

TEST(PropertyDriver, PassesWhenEveryCasePasses) {
  std::istringstream verdicts([] {
    std::string all;
    for (int i = 0; i < 100; ++i) all += "pass\n";
    return all;
  }());
  std::ostringstream cases;
  EXPECT_EQ(drive_property(Support{}, 40, 7, verdicts, cases), 0);
  const std::string out = cases.str();
  EXPECT_NE(out.find("done pass 40"), std::string::npos) << out.substr(out.size() - 200);
  EXPECT_EQ(out.rfind("case experts=", 0), 0u);
}

TEST(PropertyDriver, ShrinksAFailureToACaseInsideTheSupport) {
  const Support support = declarations()[1];
  std::istringstream verdicts([] {
    std::string all;
    for (int i = 0; i < 20000; ++i) all += "fail\n";
    return all;
  }());
  std::ostringstream cases;
  EXPECT_EQ(drive_property(support, 100, 11, verdicts, cases), 1);
  const std::string out = cases.str();
  const auto done = out.rfind("done fail 0 ");
  ASSERT_NE(done, std::string::npos) << out.substr(0, 300);
  const auto shrunk = parse_case(out.substr(done + 12, out.find('\n', done) - done - 12));
  ASSERT_TRUE(shrunk.has_value());
  EXPECT_EQ(outside(support, *shrunk), "");
  EXPECT_EQ(shrunk->spec.tokens, 1);  // RapidCheck shrinks T toward 1
}

TEST(PropertyDriver, StopsWhenTheOtherSideBreaksTheProtocol) {
  std::istringstream verdicts("pass\nmaybe\n");
  std::ostringstream cases;
  EXPECT_EQ(drive_property(Support{}, 10, 3, verdicts, cases), 2);
  EXPECT_NE(cases.str().find("done error unexpected reply 'maybe'"), std::string::npos);
  std::istringstream closed("pass\n");
  std::ostringstream more;
  EXPECT_EQ(drive_property(Support{}, 10, 3, closed, more), 2);
  EXPECT_NE(more.str().find("done error the router side closed the pipe"), std::string::npos);
}

}  // namespace
}  // namespace moegate::suite
