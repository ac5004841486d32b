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

}  // namespace
}  // namespace moegate
