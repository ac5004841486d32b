// Replays every case kept in property_tests/regressions.txt: the reference
// must meet the comparator on each. To keep a failing property case, paste
// its "regression line" (printed with the failure) into that file.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "moegate/case.hpp"
#include "moegate/comparator.hpp"
#include "moegate/reference.hpp"

namespace moegate {
namespace {

TEST(Regressions, EveryKeptCasePasses) {
  std::ifstream file(MOEGATE_REGRESSIONS_FILE);
  ASSERT_TRUE(file) << "cannot read " << MOEGATE_REGRESSIONS_FILE;
  std::string line;
  int line_number = 0, cases = 0;
  while (std::getline(file, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    const auto routing_case = parse_case(line);
    ASSERT_TRUE(routing_case.has_value()) << "line " << line_number << " is not a case: " << line;
    const RouterInputs inputs = make_inputs(routing_case->spec);
    const auto result = reference::route_f32(routing_case->config, inputs.logits(), inputs.bias());
    const Verdict verdict = compare(routing_case->config, inputs.logits(), inputs.bias(),
                                    CandidateView{result.weights.data(), result.ids.data()});
    EXPECT_TRUE(verdict.passed()) << "line " << line_number << ":\n" << verdict.report();
    ++cases;
  }
  EXPECT_GT(cases, 0) << "no cases in " << MOEGATE_REGRESSIONS_FILE;
  std::printf("replayed %d kept cases\n", cases);
}

TEST(Regressions, CaseLinesRoundTrip) {
  RouterCase c;
  c.config.experts = 12;
  c.config.topk = 3;
  c.config.groups = 4;
  c.config.kept_groups = 2;
  c.config.routed_scaling_factor = 2.827f;
  c.config.profile.nan_rank = NanRank::replace;
  c.spec.experts = 12;
  c.spec.tokens = 5;
  c.spec.logit_family = LogitFamily::near_ties;
  c.spec.bias_family = BiasFamily::neg_flt_max;
  c.spec.bias_dtype = DType::bf16;
  c.spec.seed = 1234567890123ull;
  const auto back = parse_case(describe(c));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(describe(*back), describe(c));
  EXPECT_FALSE(parse_case("experts=12 topk=three").has_value());
  EXPECT_FALSE(parse_case("nonsense").has_value());
}

// Issue #15: case lines are read strictly, and a refusal says which key.
TEST(Regressions, CaseLinesAreReadStrictly) {
  const std::string line =
      "experts=8 topk=2 groups=1 kept_groups=1 renormalize=1 scaling=2.5 apply=1 nan_rank=lowest "
      "nan_replacement=-1e+30 zero_sum=raw scaling_rule=with_renormalize tokens=3 row_stride=8 logits=normal "
      "bias=normal hostile=4 logits_dtype=f32 bias_dtype=f32 seed=7";
  ASSERT_TRUE(parse_case(line).has_value());
  const auto with = [&](const std::string& key, const std::string& value) {
    const auto at = line.find(key + "=");
    const auto end = line.find(' ', at);
    return line.substr(0, at) + key + "=" + value + (end == std::string::npos ? "" : line.substr(end));
  };
  // The spelling moegate's own config description uses (renormalize=yes) means yes, not no.
  const auto yes = parse_case(with("renormalize", "yes"));
  ASSERT_TRUE(yes.has_value());
  EXPECT_TRUE(yes->config.renormalize);
  const auto no = parse_case(with("apply", "no"));
  ASSERT_TRUE(no.has_value());
  EXPECT_FALSE(no->config.apply_routed_scaling_factor_on_output);
  const auto why = [](const std::string& text) {
    std::string reason;
    EXPECT_FALSE(parse_case(text, &reason).has_value()) << text;
    return reason;
  };
  EXPECT_NE(why(with("experts", "8abc")).find("experts: must be an integer"), std::string::npos);
  EXPECT_NE(why(with("seed", "-1")).find("seed: must be a non-negative integer"), std::string::npos);
  EXPECT_NE(why(with("seed", "18446744073709551616")).find("seed: must be an integer in range"), std::string::npos);
  EXPECT_NE(why(with("tokens", "-5")).find("tokens"), std::string::npos);
  EXPECT_NE(why(with("renormalize", "maybe")).find("renormalize"), std::string::npos);
  EXPECT_NE(why(with("scaling", "2.5x")).find("scaling: must be a number"), std::string::npos);
  EXPECT_NE(why(line + " topk=3").find("key 'topk' given twice"), std::string::npos);
  EXPECT_NE(why(line + " colour=blue").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(why(with("logits", "loud")).find("logits: unknown family"), std::string::npos);
}

}  // namespace
}  // namespace moegate
