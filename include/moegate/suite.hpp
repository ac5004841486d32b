// The cases every router is judged on, whoever runs it: our GPU stages
// (cuda/tests), external kernels (the adapter), Python routers (the Python
// package) and any process that speaks the property protocol (`moegate
// property`, docs/python.md). The suite is CPU-only: it chooses cases, fits
// them to what a router declares it takes, and shrinks a failing one; the
// caller routes and judges.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moegate/case.hpp"

namespace moegate::suite {

// What a router takes. Cases are fitted inside it (fit), never skipped, so a
// narrow router is still judged on every kind of input.
struct Support {
  std::vector<int> experts_set;  // exactly these expert counts; empty: any in [1, max_experts]
  int max_experts = 1024;
  int max_topk = 32;
  int max_groups = 32;  // 1: ungrouped only
  // Exactly these configs (shape, renormalize, scaling); empty: any within
  // the bounds above. The profile always comes from `profile`.
  std::vector<RouterConfig> configs;
  unsigned logits_dtypes = 0b111;  // bit 1 << DType
  unsigned bias_dtypes = 0b111;
  bool padded_rows = true;      // takes rows that are a slice of wider ones (row stride > experts)
  int row_stride_multiple = 1;  // the row stride it needs is a multiple of this
  int pointer_alignment = 1;    // bytes the logits pointer needs: views start at offsets that keep it
  std::int64_t max_tokens = 0;  // 0: no bound beyond the suite's T x E <= max_case_logits
  Profile profile{};            // the documented behaviour it implements
};

// The largest case the suite builds (T x E), as the random generator's: room
// for 131073 tokens of 384 experts, 65536 of 1024.
inline constexpr std::int64_t max_case_logits = std::int64_t{1} << 26;

inline constexpr unsigned dtype_bit(DType dtype) { return 1u << static_cast<unsigned>(dtype); }

// Why the declaration is unusable ("" when it is fine): no dtype, a bound
// below 1, a listed config that is invalid or outside the bounds.
std::string check(const Support& support);

// One line: "experts=256,384 max_experts=384 max_topk=8 ... profile=torch",
// and back. The configs travel as preset names or as
// "config=E:k:G:kept:renormalize:scaling:apply" items. parse_support throws
// std::invalid_argument naming the bad item.
std::string describe(const Support& support);
Support parse_support(std::string_view line);

// The case brought inside the support: expert count, k, groups, dtypes, row
// stride (its padding kept where padded rows are taken), the view's offset
// (rounded down to the pointer alignment), tokens, profile.
// The inputs' families and seed are kept, so the values keep their kind.
RouterCase fit(const Support& support, RouterCase c);

// Presets and a grid of E / k / groups x input recipes x T in {1, 33, 513}
// (padding families and view offsets cycling through them), every preset at
// 4096 and 65536 tokens, past 16-bit token indices (65537, 131073), and
// 20000-token narrow-dtype cases.
std::vector<RouterCase> sweep();

// property_tests/regressions.txt (embedded at build time): the contract's
// corners and the counterexamples found so far.
std::vector<RouterCase> kept_regressions();

// A smaller case that still fails: fewer tokens, dense rows, f32 inputs,
// plainer families, fewer experts / k / groups, fitted to the support and
// tried greedily while `fails` says yes (at most `attempts` calls).
RouterCase shrink(const Support& support, RouterCase failing, const std::function<bool(const RouterCase&)>& fails,
                  int attempts = 120);

}  // namespace moegate::suite
