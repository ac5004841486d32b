#include "support.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace moegate::testing {
namespace {

constexpr long default_budget = 300;

long budget() {
  const char* value = std::getenv("MOEGATE_PROPERTY_BUDGET");
  const long parsed = value ? std::strtol(value, nullptr, 10) : 0;
  return parsed > 0 ? parsed : default_budget;
}

}  // namespace

void apply_property_budget() {
  const char* params = std::getenv("RC_PARAMS");
  if (params != nullptr && std::strstr(params, "max_success") != nullptr) return;
  std::string value = params ? std::string(params) + " " : std::string();
  value += "max_success=" + std::to_string(budget());
  setenv("RC_PARAMS", value.c_str(), 1);
}

void count_case(const char* property) {
  static std::mutex mutex;
  static std::map<std::string, long> counts;
  const long total = budget();
  if (total <= default_budget) return;
  std::lock_guard<std::mutex> lock(mutex);
  const long seen = ++counts[property];
  if (seen % std::max(1L, total / 10) == 0)
    std::fprintf(stderr, "property %s: case %ld/%ld\n", property, seen, total);
}

void assert_passes(const RouterCase& routing_case, const RouterInputs& inputs, const std::vector<std::int32_t>& ids,
                   const std::vector<float>& weights) {
  const Verdict verdict = compare(routing_case.config, inputs.logits(), inputs.bias(),
                                  CandidateView{weights.data(), ids.data()});
  if (!verdict.passed()) {
    RC_LOG() << verdict.report() << "regression line: " << describe(routing_case) << "\n";
  }
  RC_ASSERT(verdict.passed());
}

}  // namespace moegate::testing
