// Proves the suite bites: the comparator property, at the default budget,
// must reject every planted bug (and accept the plain, correct router).
// RapidCheck prints each shrunk counterexample; docs/testing.md lists them.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "generators.hpp"
#include "planted_bugs.hpp"
#include "support.hpp"

namespace moegate {
namespace {

bool suite_accepts(planted::Bug bug) {
  return rc::check(std::string("comparator accepts planted bug ") + std::string(planted::name_of(bug)),
                   [bug](const RouterCase& c) {
                     const RouterInputs inputs = make_inputs(c.spec);
                     const auto result = planted::route(c, inputs, bug);
                     testing::assert_passes(c, inputs, result.ids, result.weights);
                   });
}

TEST(PlantedBugs, ThePlainRouterPasses) { EXPECT_TRUE(suite_accepts(planted::Bug::none)); }

class EveryPlantedBug : public ::testing::TestWithParam<planted::Bug> {};

TEST_P(EveryPlantedBug, IsCaught) {
  EXPECT_FALSE(suite_accepts(GetParam())) << "the property suite let " << planted::name_of(GetParam()) << " through";
}

INSTANTIATE_TEST_SUITE_P(PlantedBugs, EveryPlantedBug, ::testing::ValuesIn(planted::all_bugs()),
                         [](const ::testing::TestParamInfo<planted::Bug>& param) {
                           return std::string(planted::name_of(param.param));
                         });

}  // namespace
}  // namespace moegate
