// A routing case: a config plus the recipe of its inputs. Small enough to
// print on one line, so a failing property case can be kept in a regression
// file and replayed exactly (the inputs are regenerated from the recipe).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "moegate/config.hpp"
#include "moegate/inputs.hpp"

namespace moegate {

struct RouterCase {
  RouterConfig config;
  InputSpec spec;  // spec.experts == config.experts
};

// "experts=12 topk=3 groups=4 kept_groups=2 renormalize=1 scaling=2.5 apply=1
//  nan_rank=lowest nan_replacement=-1e+30 zero_sum=raw scaling_rule=with_renormalize tokens=5
//  row_stride=12 padding=large offset=1 logits=quantized bias=neg_inf hostile=7 logits_dtype=f32 bias_dtype=bf16 seed=42"
std::string describe(const RouterCase& routing_case);
// Reads describe()'s line back, strictly: every key once and no other, every
// value consumed whole and in range (flags also as yes/no/true/false, the
// spelling of a config's description). padding and offset may be left out:
// NaN padding at offset 0, as lines kept before they existed meant. Nothing
// on a malformed line, and then `why` (when given) says which key and why.
// The config is not validated here.
std::optional<RouterCase> parse_case(std::string_view line, std::string* why = nullptr);

}  // namespace moegate
