// Planted-bug kernels through the adapter: the GPU suite (the random
// property at the default budget, then the sweep) must reject every mutant
// and accept the control, the same body with no bug. Each verdict prints the
// shrunk counterexample (a line for property_tests/regressions.txt) and the
// comparator's clause counts; docs/validation.md records them.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <mutex>

#include "../../property_tests/generators.hpp"
#include "../tests/require_device.hpp"
#include "../tests/stage_suite.hpp"
#include "moegate/adapter.hpp"
#include "mutants.hpp"

namespace moegate::cuda {
namespace mutants {
// GoogleTest names the parameter by its bug class.
void PrintTo(const PlantedKernel& planted, std::ostream* os) { *os << planted.name; }
}  // namespace mutants

namespace {

std::string planted_id(std::string_view name) { return external_id("planted_" + std::string(name)); }

void register_planted_kernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_external_kernel("planted_control", &mutants::planted_control());
    register_external_kernel("planted_control_narrow", &mutants::planted_control_narrow());
    for (const auto& planted : mutants::planted_kernels())
      register_external_kernel("planted_" + std::string(planted.name), planted.kernel);
  });
}

struct SuiteVerdict {
  bool random_failed = false;
  std::string shrunk_case;    // the last failing case RapidCheck tried: its shrunk counterexample
  std::string shrunk_report;  // the comparator's report on it
  int sweep_judged = 0;
  int sweep_failed = 0;
  std::string first_sweep_report;
  bool caught() const { return random_failed || sweep_failed > 0; }
};

// The default-budget suite on one registered stage. With stop_at_first the
// sweep ends at its first failing case (a mutant is caught once).
SuiteVerdict run_suite(const std::string& id, bool stop_at_first) {
  SuiteVerdict verdict;
  const Stage& stage = *find_stage(id);
  verdict.random_failed = !rc::check(id + " meets the contract", [&](const RouterCase& generated) {
    const RouterCase c = fit_to(stage, generated);
    RC_PRE(supported(stage, c));
    const std::string report = judge(id, c);
    if (!report.empty()) {
      verdict.shrunk_case = describe(c);
      verdict.shrunk_report = report;
    }
    RC_ASSERT(report.empty());
  });
  for (const RouterCase& c : sweep_for(stage)) {
    if (!supported(stage, c)) continue;
    ++verdict.sweep_judged;
    const std::string report = judge(id, c);
    if (report.empty()) continue;
    if (verdict.sweep_failed++ == 0) verdict.first_sweep_report = report;
    if (stop_at_first) break;
  }
  return verdict;
}

TEST(PlantedKernels, DescriptionsPassTheAdapterChecks) {
  // No GPU needed: the descriptions, the ids and the declared support.
  register_planted_kernels();
  EXPECT_GE(mutants::planted_kernels().size(), 8u);
  for (const auto& planted : mutants::planted_kernels()) {
    const Stage* stage = find_stage(planted_id(planted.name));
    ASSERT_NE(stage, nullptr) << planted.name;
    EXPECT_EQ(stage->external, planted.kernel);
    EXPECT_FALSE(stage->programmatic_launch);
  }
}

// A control passes the whole suite (the random property and every sweep case).
void expect_passes_everything(std::string_view name) {
  register_planted_kernels();
  const SuiteVerdict verdict = run_suite(planted_id(name), false);
  EXPECT_FALSE(verdict.random_failed) << verdict.shrunk_report;
  EXPECT_EQ(verdict.sweep_failed, 0) << verdict.first_sweep_report;
  EXPECT_GT(verdict.sweep_judged, 1000);
  std::printf("%s: random property passed; sweep %d cases judged, %d failed\n", std::string(name).c_str(),
              verdict.sweep_judged, verdict.sweep_failed);
}

TEST(PlantedKernels, TheControlMeetsTheContract) {
  MOEGATE_REQUIRE_DEVICE();
  expect_passes_everything("control");
}

// A kernel that declares far less than the suite generates is still judged:
// every random and swept case is fitted to its support.
TEST(PlantedKernels, TheNarrowlyDeclaredControlIsFittedAndPasses) {
  MOEGATE_REQUIRE_DEVICE();
  expect_passes_everything("control_narrow");
}

class EveryMutant : public ::testing::TestWithParam<mutants::PlantedKernel> {};

TEST_P(EveryMutant, IsCaughtByTheDefaultSuite) {
  MOEGATE_REQUIRE_DEVICE();
  register_planted_kernels();
  const std::string id = planted_id(GetParam().name);
  const SuiteVerdict verdict = run_suite(id, true);
  EXPECT_TRUE(verdict.caught()) << id << " passed the whole suite: the suite lacks the power to see this bug";
  std::printf("mutant %s: %s by the random property; sweep: %s after %d cases\n", std::string(GetParam().name).c_str(),
              verdict.random_failed ? "caught" : "NOT caught", verdict.sweep_failed ? "caught" : "not caught",
              verdict.sweep_judged);
  if (verdict.random_failed)
    std::printf("  shrunk counterexample: %s\n%s", verdict.shrunk_case.c_str(), verdict.shrunk_report.c_str());
  else if (verdict.sweep_failed)
    std::printf("%s", verdict.first_sweep_report.c_str());
}

INSTANTIATE_TEST_SUITE_P(Planted, EveryMutant, ::testing::ValuesIn(mutants::planted_kernels()),
                         [](const ::testing::TestParamInfo<mutants::PlantedKernel>& param) {
                           return std::string(param.param.name);
                         });

}  // namespace
}  // namespace moegate::cuda
