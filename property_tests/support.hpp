// What every property file shares: printing cases, the campaign budget and
// its progress line, and "judge this output with the comparator".
#pragma once

#include <rapidcheck.h>

#include <ostream>
#include <string>

#include "moegate/case.hpp"
#include "moegate/comparator.hpp"
#include "moegate/inputs.hpp"

namespace moegate {

// RapidCheck prints counterexamples with this: one line that can be pasted
// into property_tests/regressions.txt.
inline void showValue(const RouterCase& routing_case, std::ostream& os) { os << describe(routing_case); }

namespace testing {

// MOEGATE_PROPERTY_BUDGET=N (default 300) sets RapidCheck's max_success for
// every property, unless RC_PARAMS already does. Called by main() before any test.
void apply_property_budget();
// With a budget above the default, prints "property NAME: case i/N" to stderr
// every tenth of the budget.
void count_case(const char* property);

// The comparator's verdict on `ids`/`weights` for this case; RC_ASSERT fails
// with the report (and the regression line) when it does not pass.
void assert_passes(const RouterCase& routing_case, const RouterInputs& inputs, const std::vector<std::int32_t>& ids,
                   const std::vector<float>& weights);

}  // namespace testing
}  // namespace moegate
