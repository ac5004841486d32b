// The comparator: judges a candidate router output (from a GPU stage, an
// external kernel, another backend) against the contract.
//
// Rules (docs/semantics.md, "Judging an output"):
//  - every slot written (no poison), ids in range, no duplicates, at most
//    topk_group groups and none that the group cut clearly drops;
//  - no expert left out ranks clearly above one chosen; "clearly" means by
//    more than the rounding band delta = e(a) + e(b), where e(x) =
//    score_ulps * ulp(s_x) + ulp(c_x) (f32 ulps) + |c32_x - c_x| (how far the
//    contract's own f32 answer is from exact); NaN below numbers;
//  - an exact tie (a tie that survives every allowed rounding of s: identical
//    inputs, +-inf, -FLT_MAX absorption, ...) follows the lower index, in the
//    chosen set and in the output order;
//  - slots in selection order, up to near-ties;
//  - weights within weight_ulps of the exact weights of the chosen experts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "moegate/config.hpp"
#include "moegate/reference.hpp"
#include "moegate/tensors.hpp"

namespace moegate {

enum class Clause : int {
  unwritten,        // a slot still holds the poison id or weight
  id_range,         // id < 0 or >= experts
  duplicate_id,     // the same expert twice in one token
  dropped_group,    // an expert from a group the group cut drops (or too many groups)
  wrong_set,        // an expert left out ranks clearly above one chosen
  tie_order,        // an exact tie broken toward the higher index
  selection_order,  // slots not in descending order of the biased score
  weight,           // a weight outside the bound
};
inline constexpr int clause_count = 8;
std::string_view name_of(Clause clause);

struct Tolerance {
  // How far an implementation's sigmoid may be from the exact value, in f32
  // ulps of s. 4 covers CUDA's expf (2 ulp) with a fast reciprocal.
  int score_ulps = 4;
  // Weight bound in f32 ulps of the exact weight; 0 derives it from the
  // score bound and k: 2 * score_ulps + topk / 2 + 2.
  int weight_ulps = 0;

  int weight_ulps_for(int topk) const { return weight_ulps > 0 ? weight_ulps : 2 * score_ulps + topk / 2 + 2; }
};

// The candidate's outputs, on the host, [tokens, topk] in selection order.
struct CandidateView {
  const float* weights = nullptr;
  const std::int32_t* ids = nullptr;
};

struct Violation {
  Clause clause;
  std::int64_t token;
  int slot;
  std::string expected;
  std::string got;
  double margin;  // how far outside the allowed band (score units or ulps); NaN when not numeric
};

struct Verdict {
  std::int64_t tokens = 0;
  int topk = 0;
  int weight_ulps = 0;
  int score_ulps = 0;
  std::string config;
  std::array<std::int64_t, clause_count> counts{};  // violations per clause
  std::int64_t failing_tokens = 0;
  std::vector<Violation> violations;  // the first and last max_kept (see compare)

  bool passed() const { return failing_tokens == 0; }
  std::int64_t total() const;
  // Header, counts per clause, then the first and last `shown` violations.
  std::string report(int shown = 5) const;
};

// Judges `candidate` for `tokens` = logits.tokens rows. `oracle` must be
// route_f64 of the same inputs (the overload without it computes it).
// For one token, the experts that may legitimately trade places across the
// cut of `chosen_ids` (k ids): each chosen expert that some left-out expert
// neither clearly beats nor is clearly beaten by, nor exactly ties, and
// those left-out experts — the rule compare() judges wrong_set by. Grouped
// configs: every expert is considered (a superset: an expert of a dropped
// group may appear).
std::vector<int> near_tie_experts(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                  std::int64_t token, const std::int32_t* chosen_ids, const Tolerance& tolerance = {});

Verdict compare(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                const CandidateView& candidate, const reference::OracleResult& oracle,
                const Tolerance& tolerance = {});
Verdict compare(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                const CandidateView& candidate, const Tolerance& tolerance = {});

// For an output that fails: which documented profiles (profiles(): the
// divergence table of docs/semantics.md) would accept it, and in which
// switches (NaN rank, zero sum, scaling) they differ from the config's — one
// line telling "a different contract" from "a bug".
std::string known_divergence(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                             const CandidateView& candidate, const Tolerance& tolerance = {});

}  // namespace moegate
