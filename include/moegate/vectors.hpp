// Golden test vectors for backends that cannot link moegate (issue #7):
// suites of routing cases written as safetensors files plus a JSON manifest,
// and a checker that judges another backend's outputs with the comparator.
// Format: docs/vectors.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moegate/case.hpp"
#include "moegate/comparator.hpp"

namespace moegate::vectors {

inline constexpr int contract_version = 1;

// A value family: the logits', the bias's, and the share of experts a
// hostile bias family touches (-1: the suite's hostile_eighths).
struct ValueFamily {
  LogitFamily logits;
  BiasFamily bias;
  int hostile_eighths = -1;
};

// A suite's default value families: ordinary values, the seed's uniform
// inputs, exact ties (within and across groups), near-ties, NaN/+-inf and the
// extremes, saturation, large and negative biases, hostile biases, vanishing
// scores (every s = 0), tiny ones (every s > 0, the sum far below 1e-20),
// and NaN scores among experts whose bias is -inf everywhere (fewer than k
// finite biased scores: where NaN's rank decides): between them every
// documented zero-sum rule and profile shows.
const std::vector<ValueFamily>& default_families();

struct SuiteOptions {
  std::string name = "presets";
  std::vector<std::string> presets;  // empty: every preset
  std::optional<RouterConfig> config;  // a config of the user's instead of presets
  std::vector<ValueFamily> families;   // empty: default_families()
  int hostile_eighths = 4;             // share of experts a hostile bias family touches (0..8; 8: all),
                                       // where the family names none
  std::vector<DType> logits_dtypes{DType::f32, DType::bf16};
  std::vector<DType> bias_dtypes{DType::f32};
  std::int64_t row_padding = 0;                // rows E + row_padding wide (a slice of wider rows)
  PaddingFamily padding = PaddingFamily::nan;  // what that padding holds
  std::int64_t tokens = 33;          // every family also at T = 1
  std::uint64_t seed = 1;
  bool replace = false;  // write over a non-empty folder (else refused)
};

// Every chosen preset (or the user's config) x value family x T in {1, tokens}
// x logits dtype x bias dtype, seeds counting up from options.seed:
// deterministic. Refuses (std::invalid_argument) what it cannot honour.
std::vector<RouterCase> suite_cases(const SuiteOptions& options);

// Writes DIR/manifest.json and DIR/case-NNNN.safetensors (inputs, the
// contract's f32 ids and weights, the f64 oracle's weights, keys and margins);
// progress(done, total) after each case. Same options, same bytes. Checks
// everything first (unknown presets, a non-empty DIR without `replace`), then
// writes a temporary sibling folder and renames it into place: no half suite,
// no stale case files. Refusals: std::invalid_argument.
void write_suite(const std::string& dir, const SuiteOptions& options,
                 const std::function<void(std::size_t, std::size_t)>& progress = {});

struct ManifestCase {
  std::string file;  // NAME.safetensors in the suite's folder
  RouterCase routing;
};

// A suite's manifest.json, checked before use: the format and version, and
// for every case a plain file name (no paths) and a valid case line.
// Malformed text: std::invalid_argument saying what is wrong.
std::vector<ManifestCase> parse_manifest(std::string_view text);

struct CheckResult {
  std::size_t cases = 0, failed_cases = 0;
  std::array<std::int64_t, clause_count> clause_counts{};  // violations per clause, over every case
  std::string report;                                      // failing cases' reports
};

// Judges OUTPUTS (a safetensors file with "<case file stem>.ids" I32 [T, k]
// and "<case file stem>.weights" F32 [T, k] per case) against the suite in
// DIR. profile: "" keeps each case's profile, else a named profile
// (moegate presets) replaces it. Bad files: SafetensorsError or
// std::invalid_argument, saying what is wrong.
CheckResult check_outputs(const std::string& dir, const std::string& outputs, const std::string& profile = "");

}  // namespace moegate::vectors
