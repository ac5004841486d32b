// Deliberately broken routers, compiled only into the planted-bug test: each
// is a plain scalar implementation of the contract with one historical bug
// class switched on (../shared/anchors.md lists where each was seen). The
// property suite must reject every one of them within its default budget.
#pragma once

#include <string_view>
#include <vector>

#include "moegate/case.hpp"
#include "moegate/reference.hpp"

namespace moegate::planted {

enum class Bug {
  none,                      // the contract, written plainly: must pass
  ties_to_higher_index,      // equal scores: the later expert wins
  nan_first,                 // NaN ranked above every number
  flt_max_sentinel,          // -FLT_MAX marks "taken": such experts never picked; id 0 / weight 0 when short
  bias_in_weights,           // weight = s + bias
  renorm_skipped,            // renormalize ignored
  scaling_twice,             // the routed scaling factor applied twice
  wrong_group_bound,         // one group too many survives the group cut
  duplicate_when_exhausted,  // -inf marks "taken": when only -inf is left, id 0 is picked again
};

const std::vector<Bug>& all_bugs();
std::string_view name_of(Bug bug);

reference::RouteResult route(const RouterCase& routing_case, const RouterInputs& inputs, Bug bug);

}  // namespace moegate::planted
