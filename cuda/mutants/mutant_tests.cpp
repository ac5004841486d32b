// Planted-bug kernels through the adapter: the GPU suite (the random
// property at the default budget, then the sweep) must reject every mutant
// and accept the control, the same body with no bug. Each verdict prints the
// shrunk counterexample (a line for property_tests/regressions.txt) and the
// comparator's clause counts; docs/validation.md records them.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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
  // The workloads stage_tests and pdl_tests run on every stage: "" passed,
  // else the failure (or "skipped: why").
  std::string overlapping_streams, past_int32_logits, behind_producer;

  // Every check that failed, by name (empty: none).
  std::vector<std::string> failed_checks() const {
    const auto failed = [](const std::string& verdict) { return !verdict.empty() && verdict.rfind("skipped", 0) != 0; };
    std::vector<std::string> names;
    for (const auto& [failing, name] : {std::pair{random_failed, "the random property"},
                                        std::pair{sweep_failed > 0, "the sweep"},
                                        std::pair{failed(overlapping_streams), "overlapping streams"},
                                        std::pair{failed(past_int32_logits), "the case past 2^31 logits"},
                                        std::pair{failed(behind_producer), "the PDL producer"}})
      if (failing) names.emplace_back(name);
    return names;
  }
  bool caught() const { return !failed_checks().empty(); }
  std::string caught_by() const {
    std::string by;
    for (const std::string& name : failed_checks()) by += (by.empty() ? "" : ", ") + name;
    return by.empty() ? "nothing" : by;
  }
};

std::string as_text(const WorkloadVerdict& verdict) {
  return verdict.skipped.empty() ? verdict.failure : "skipped: " + verdict.skipped;
}

// The default-budget suite on one registered stage: the random property, the
// sweep, then the workloads (overlapping streams, past 2^31 logits, PDL
// behind a producer when the stage declares it), as stage_tests and
// pdl_tests run them. With stop_at_first the suite ends at the first check
// that fails (a mutant is caught once; the huge case, which may leave the
// context unusable, comes last).
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
  if (stop_at_first && verdict.caught()) return verdict;
  verdict.overlapping_streams = as_text(judge_overlapping_streams(stage));
  if (stop_at_first && verdict.caught()) return verdict;
  verdict.behind_producer = as_text(judge_behind_producer(stage));
  if (stop_at_first && verdict.caught()) return verdict;
  verdict.past_int32_logits = as_text(judge_past_int32_logits(stage));
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
    EXPECT_TRUE(stage->programmatic_launch);  // every planted kernel declares PDL
  }
}

// A control passes the whole suite (the random property and every sweep case).
void expect_passes_everything(std::string_view name) {
  register_planted_kernels();
  const SuiteVerdict verdict = run_suite(planted_id(name), false);
  EXPECT_FALSE(verdict.random_failed) << verdict.shrunk_report;
  EXPECT_EQ(verdict.sweep_failed, 0) << verdict.first_sweep_report;
  EXPECT_GT(verdict.sweep_judged, 1000);
  EXPECT_EQ(verdict.overlapping_streams, "");
  EXPECT_EQ(verdict.behind_producer, "");  // every planted kernel declares PDL
  EXPECT_EQ(verdict.past_int32_logits.rfind("skipped", 0) == 0 ? "" : verdict.past_int32_logits, "");
  std::printf("%s: random property passed; sweep %d cases judged, %d failed; overlapping streams %s; "
              "past 2^31 logits %s\n",
              std::string(name).c_str(), verdict.sweep_judged, verdict.sweep_failed,
              verdict.overlapping_streams.empty() ? "passed" : verdict.overlapping_streams.c_str(),
              verdict.past_int32_logits.empty() ? "passed" : verdict.past_int32_logits.c_str());
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
  std::printf("mutant %s: %s by the random property; sweep: %s after %d cases; caught by %s\n",
              std::string(GetParam().name).c_str(), verdict.random_failed ? "caught" : "NOT caught",
              verdict.sweep_failed ? "caught" : "not caught", verdict.sweep_judged, verdict.caught_by().c_str());
  if (verdict.random_failed)
    std::printf("  shrunk counterexample: %s\n%s", verdict.shrunk_case.c_str(), verdict.shrunk_report.c_str());
  else if (verdict.sweep_failed)
    std::printf("%s", verdict.first_sweep_report.c_str());
  for (const std::string* workload : {&verdict.overlapping_streams, &verdict.behind_producer, &verdict.past_int32_logits})
    if (!workload->empty()) std::printf("%s\n", workload->c_str());
}

INSTANTIATE_TEST_SUITE_P(Planted, EveryMutant, ::testing::ValuesIn(mutants::planted_kernels()),
                         [](const ::testing::TestParamInfo<mutants::PlantedKernel>& param) {
                           return std::string(param.param.name);
                         });

}  // namespace
}  // namespace moegate::cuda
