// The comparator: judges a candidate router output (from a GPU stage, an
// external kernel, another backend) against the contract.
//
// Rules (docs/semantics.md, "Judging an output"):
//  - every slot written (no poison), ids in range, no duplicates, at most
//    topk_group groups and none that the group cut clearly drops;
//  - no expert left out ranks clearly above one chosen; "clearly" means by
//    more than the rounding band. In f32 (the default) the band is
//    delta = e(a) + e(b), where e(x) = score_ulps * ulp(s_x) + ulp(c_x) (f32
//    ulps) + |c32_x - c_x| (how far the contract's own f32 answer is from
//    exact). With a declared bf16/f16 precision each expert's c is an interval
//    of every value that arithmetic may give, and b beats a clearly only when
//    b's lowest c exceeds a's highest. NaN below numbers;
//  - an exact tie (a tie that survives every allowed rounding of s: identical
//    inputs, +-inf, -FLT_MAX absorption, ...) follows the lower index, in the
//    chosen set and (unless the slot order is not judged) in the output order;
//  - slots in selection order, up to near-ties (SlotOrder::any: not judged);
//  - weights within weight_ulps (ulps of the precision) of the interval
//    between the exact weights of the chosen experts and those computed from
//    the contract's f32 scores (and, for bf16/f16, from scores rounded to it).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moegate/config.hpp"
#include "moegate/dtype.hpp"
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

// Whether the order of the slots is judged.
enum class SlotOrder {
  selection,  // the contract: slot 0 holds the best expert (selection_order, tie_order within the slots)
  any,        // the set, each expert's weight and the exact-tie rule across the cut only
              // (torch.topk(sorted=False), routers that return the set unsorted)
};
std::string_view name_of(SlotOrder order);  // "selection", "any"
std::optional<SlotOrder> parse_slot_order(std::string_view name);

struct Tolerance {
  // How far an implementation's sigmoid may be from the exact value, in ulps
  // of s in `precision`. 0: derived from the precision (score_ulps_used()):
  // 4 for f32 (CUDA's expf, 2 ulp, with a fast reciprocal), 1 for bf16/f16.
  int score_ulps = 0;
  // Weight bound in ulps of `precision` of the expected weight; 0 derives it
  // from the score bound and k: 2 * score_ulps_used() + topk / 2 + 2.
  int weight_ulps = 0;
  // The arithmetic the router declares: f32 (the contract's), or bf16/f16
  // (s, c = s + b, group sums, the renormalisation sum and the weights each
  // rounded to that type, as a torch reference in the logits' dtype does).
  // It widens the near-tie band and the weight bound; exact ties still
  // follow the lower index.
  DType precision = DType::f32;
  SlotOrder order = SlotOrder::selection;

  int score_ulps_used() const { return score_ulps > 0 ? score_ulps : (precision == DType::f32 ? 4 : 1); }
  int weight_ulps_for(int topk) const {
    return weight_ulps > 0 ? weight_ulps : 2 * score_ulps_used() + topk / 2 + 2;
  }
};

// The candidate's outputs, on the host, [tokens, topk] in selection order
// (in any order when judged with SlotOrder::any).
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
  int weight_ulps = 0;  // the bounds used, in ulps of `precision`
  int score_ulps = 0;
  DType precision = DType::f32;
  SlotOrder order = SlotOrder::selection;
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
// Cost: compare() is linear in the experts per token (plus O(k log k)) for
// any k; near_tie_experts() below compares every chosen expert with every
// left-out one, O(k * E) per token, which is meant for vector suites, not for
// E in the tens of thousands.
// For one token, the experts that may legitimately trade places across the
// cut of `chosen_ids` (k ids): each chosen expert that some left-out expert
// neither clearly beats nor is clearly beaten by, nor exactly ties, and
// those left-out experts — the rule compare() judges wrong_set by, under the
// same tolerance (a declared bf16/f16 precision widens it). Grouped configs:
// every expert is considered (a superset: an expert of a dropped group may
// appear).
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
// line telling "a different contract" from "a bug". Each profile is judged
// under `tolerance` (precision and slot order included).
std::string known_divergence(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                             const CandidateView& candidate, const Tolerance& tolerance = {});

}  // namespace moegate
