// Suites of golden vectors and the checker (include/moegate/vectors.hpp).
#include "moegate/vectors.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "moegate/presets.hpp"
#include "moegate/reference.hpp"
#include "moegate/safetensors.hpp"

namespace moegate::vectors {
namespace {

using Json = nlohmann::json;

TensorType tensor_type(DType dtype) {
  return dtype == DType::f32 ? TensorType::f32 : dtype == DType::bf16 ? TensorType::bf16 : TensorType::f16;
}

template <class T>
Tensor tensor_of(std::string name, TensorType type, std::vector<std::int64_t> shape, const std::vector<T>& values) {
  Tensor tensor{std::move(name), type, std::move(shape), std::vector<std::uint8_t>(values.size() * sizeof(T))};
  if (!values.empty()) std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

std::string case_file(std::size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "case-%04zu", index);
  return name;
}

// Tokens where the oracle's selection or group margin is 0 (exact ties at the
// cut: the contract breaks them by index) or within the rounding band (where
// correct implementations may legitimately differ).
void mark_ties(const reference::OracleResult& oracle, int topk, Json& ties, Json& near_ties) {
  ties = Json::array();
  near_ties = Json::array();
  const auto tokens = static_cast<std::int64_t>(oracle.selection_margin.size());
  for (std::int64_t t = 0; t < tokens; ++t) {
    const double kth = std::fabs(oracle.keys[static_cast<std::size_t>(t * topk + topk - 1)]);
    const double band = 1e-5 * std::max(1.0, std::isfinite(kth) ? kth : 1.0);
    bool tie = false, near = false;
    for (double margin : {oracle.selection_margin[static_cast<std::size_t>(t)], oracle.group_margin[static_cast<std::size_t>(t)]}) {
      tie = tie || margin == 0.0;
      near = near || (margin != 0.0 && std::fabs(margin) <= band);
    }
    if (tie) ties.push_back(t);
    else if (near) near_ties.push_back(t);
  }
}

// Per token (those with any), the experts that may legitimately trade places
// across the contract's cut: the comparator's own rule (near_tie_experts).
Json near_ties_of(const RouterCase& c, const RouterInputs& inputs, const std::vector<std::int32_t>& ids) {
  Json out = Json::object();
  for (std::int64_t t = 0; t < c.spec.tokens; ++t) {
    const auto experts = near_tie_experts(c.config, inputs.logits(), inputs.bias(), t,
                                          ids.data() + static_cast<std::size_t>(t * c.config.topk));
    if (!experts.empty()) out[std::to_string(t)] = experts;
  }
  return out;
}

Json describe_case(const RouterCase& c, const std::string& file, const reference::OracleResult& oracle) {
  const RouterConfig& k = c.config;
  Json entry = {{"file", file + ".safetensors"},
                {"case", describe(c)},
                {"experts", k.experts},
                {"topk", k.topk},
                {"groups", k.groups},
                {"kept_groups", k.kept_groups},
                {"renormalize", k.renormalize},
                {"routed_scaling_factor", k.routed_scaling_factor},
                {"apply_routed_scaling_factor_on_output", k.apply_routed_scaling_factor_on_output},
                {"profile", {{"nan_rank", name_of(k.profile.nan_rank)},
                             {"nan_replacement", k.profile.nan_replacement},
                             {"zero_sum", name_of(k.profile.zero_sum)},
                             {"scaling", name_of(k.profile.scaling)}}},
                {"tokens", c.spec.tokens},
                {"row_stride", c.spec.row_stride ? c.spec.row_stride : k.experts},
                {"padding", name_of(c.spec.padding)},
                {"hostile_eighths", c.spec.hostile_eighths},
                {"logits_dtype", dtype_name(c.spec.logits_dtype)},
                {"bias_dtype", dtype_name(c.spec.bias_dtype)},
                {"logit_family", name_of(c.spec.logit_family)},
                {"bias_family", name_of(c.spec.bias_family)},
                {"seed", c.spec.seed}};
  mark_ties(oracle, k.topk, entry["tie_tokens"], entry["near_tie_tokens"]);
  return entry;
}

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument("vectors: " + why); }

}  // namespace

const std::vector<ValueFamily>& default_families() {
  static const std::vector<ValueFamily> families = {
      {LogitFamily::normal, BiasFamily::normal},       {LogitFamily::uniform, BiasFamily::uniform},
      {LogitFamily::quantized, BiasFamily::quantized}, {LogitFamily::near_ties, BiasFamily::normal},
      {LogitFamily::all_equal, BiasFamily::zero},      {LogitFamily::saturating, BiasFamily::zero},
      {LogitFamily::specials, BiasFamily::normal},     {LogitFamily::extremes, BiasFamily::hostile_mix},
      {LogitFamily::normal, BiasFamily::large},        {LogitFamily::normal, BiasFamily::negative},
      {LogitFamily::normal, BiasFamily::neg_inf},      {LogitFamily::vanishing, BiasFamily::normal},
      {LogitFamily::tiny, BiasFamily::normal},         {LogitFamily::specials, BiasFamily::neg_inf, 8}};
  return families;
}

std::vector<RouterCase> suite_cases(const SuiteOptions& options) {
  std::vector<RouterConfig> configs;
  if (options.config) configs.push_back(*options.config);
  for (const std::string& name : options.presets)
    if (!find_preset(name)) bad("unknown preset '" + name + "' (see moegate presets)");
  if (!options.config)
    for (const Preset& preset : presets())
      if (options.presets.empty() ||
          std::find(options.presets.begin(), options.presets.end(), std::string(preset.name)) != options.presets.end())
        configs.push_back(preset.config);
  if (configs.empty()) bad("no preset matches the --preset names");
  if (options.hostile_eighths < 0 || options.hostile_eighths > 8)
    bad("hostile: must be in [0, 8] eighths, got " + std::to_string(options.hostile_eighths));
  if (options.row_padding < 0 || options.row_padding > 4096)
    bad("row padding: must be in [0, 4096] elements, got " + std::to_string(options.row_padding));
  if (options.row_padding == 0 && options.padding != PaddingFamily::nan)
    bad("a padding family needs padded rows (row padding > 0)");
  if (options.logits_dtypes.empty() || options.bias_dtypes.empty()) bad("no logits or no bias dtype");
  for (const ValueFamily& family : options.families)
    if (family.hostile_eighths > 8) bad("a family's hostile share must be in [0, 8] eighths");
  const std::vector<ValueFamily>& families = options.families.empty() ? default_families() : options.families;
  std::vector<RouterCase> cases;
  std::uint64_t seed = options.seed;
  for (const RouterConfig& config : configs)
    for (const ValueFamily& family : families)
      for (std::int64_t tokens : {std::int64_t{1}, options.tokens})
        for (DType dtype : options.logits_dtypes)
          for (DType bias_dtype : options.bias_dtypes) {
            RouterCase c{config, InputSpec{}};
            c.spec.experts = config.experts;
            c.spec.tokens = tokens;
            c.spec.logit_family = family.logits;
            c.spec.bias_family = family.bias;
            c.spec.hostile_eighths = family.hostile_eighths >= 0 ? family.hostile_eighths : options.hostile_eighths;
            c.spec.logits_dtype = dtype;
            c.spec.bias_dtype = bias_dtype;
            c.spec.row_stride = config.experts + options.row_padding;
            c.spec.padding = options.padding;
            c.spec.seed = seed++;
            cases.push_back(c);
          }
  return cases;
}

namespace {

void write_cases(const std::string& dir, const SuiteOptions& options, const std::vector<RouterCase>& cases,
                 const std::function<void(std::size_t, std::size_t)>& progress) {
  Json manifest = {{"format", "moegate-vectors"},
                   {"contract_version", contract_version},
                   {"suite", options.name},
                   {"generator", "moegate vectors (contract/inputs.cpp generators)"},
                   {"seed", options.seed},
                   {"cases", Json::array()}};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const RouterCase& c = cases[i];
    const RouterInputs inputs = make_inputs(c.spec);
    const RouterConfig& config = c.config;
    const auto contract = reference::route_f32(config, inputs.logits(), inputs.bias());
    const auto oracle = reference::route_f64(config, inputs.logits(), inputs.bias());
    const std::int64_t tokens = c.spec.tokens, k = config.topk;
    const std::vector<Tensor> tensors = {
        tensor_of("logits", tensor_type(c.spec.logits_dtype), {tokens, inputs.logits().row_stride}, inputs.logits_bytes),
        tensor_of("bias", tensor_type(c.spec.bias_dtype), {config.experts}, inputs.bias_bytes),
        tensor_of("expected_ids", TensorType::i32, {tokens, k}, contract.ids),
        tensor_of("expected_weights", TensorType::f32, {tokens, k}, contract.weights),
        tensor_of("oracle_weights", TensorType::f64, {tokens, k}, oracle.weights),
        tensor_of("oracle_keys", TensorType::f64, {tokens, k}, oracle.keys),
        tensor_of("selection_margin", TensorType::f64, {tokens}, oracle.selection_margin),
        tensor_of("group_margin", TensorType::f64, {tokens}, oracle.group_margin)};
    const std::string file = case_file(i);
    write_safetensors(dir + "/" + file + ".safetensors", tensors,
                      {{"case", describe(c)}, {"contract_version", std::to_string(contract_version)}});
    manifest["cases"].push_back(describe_case(c, file, oracle));
    manifest["cases"].back()["near_tie_experts"] = near_ties_of(c, inputs, contract.ids);
    if (progress) progress(i + 1, cases.size());
  }
  std::ofstream out(dir + "/manifest.json");
  out << manifest.dump(1) << "\n";
  if (!out) bad("cannot write " + dir + "/manifest.json");
}

}  // namespace

void write_suite(const std::string& dir, const SuiteOptions& options,
                 const std::function<void(std::size_t, std::size_t)>& progress) {
  // Everything is checked before anything is written; the suite is written
  // into a temporary sibling folder and renamed into place, so a failure
  // (a full disk) leaves no half suite and a replaced suite no stale files.
  namespace fs = std::filesystem;
  if (dir.empty()) bad("--out: an empty path");
  const std::vector<RouterCase> cases = suite_cases(options);
  std::error_code error;
  const fs::path target = fs::absolute(dir, error);
  if (error) bad("--out: '" + dir + "': " + error.message());
  if (fs::exists(target, error)) {
    if (!fs::is_directory(target, error)) bad("--out: '" + dir + "' exists and is not a folder");
    if (!fs::is_empty(target, error) && !options.replace)
      bad("--out: '" + dir + "' is not empty (give --replace to replace the suite in it)");
  }
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, error)) bad("--out: the parent folder of '" + dir + "' does not exist");
  const fs::path scratch = parent / (target.filename().string() + ".writing-" + std::to_string(::getpid()));
  fs::remove_all(scratch, error);
  if (!fs::create_directory(scratch, error)) bad("--out: cannot create '" + scratch.string() + "': " + error.message());
  try {
    write_cases(scratch.string(), options, cases, progress);
    if (fs::exists(target)) fs::remove_all(target);
    fs::rename(scratch, target);
  } catch (const fs::filesystem_error& failure) {
    fs::remove_all(scratch, error);
    bad(std::string("--out: ") + failure.what());
  } catch (...) {
    fs::remove_all(scratch, error);
    throw;
  }
}

// A case file inside the suite's folder. Names cannot leave it (parse_manifest); a symlink that does
// (to another folder, to /dev/zero) is refused too, naming the file.
static std::string case_path(const std::string& dir, const std::string& file) {
  std::error_code error;
  const auto folder = std::filesystem::canonical(dir, error);
  const auto target = std::filesystem::weakly_canonical(std::filesystem::path(dir) / file, error);
  const auto relative = target.lexically_relative(folder);
  if (relative.empty() || *relative.begin() == "..")
    bad("case file '" + file + "' leads out of the suite's folder (" + target.string() + ")");
  return (std::filesystem::path(dir) / file).string();
}

CheckResult check_outputs(const std::string& dir, const std::string& outputs_path, const std::string& profile) {
  const std::string path = dir + "/manifest.json";
  std::ifstream in(path);
  if (!in) bad("cannot read " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<ManifestCase> cases;
  try {
    cases = parse_manifest(text);
  } catch (const std::invalid_argument& error) {
    bad(path + ": " + error.what());
  }
  std::optional<Profile> replacement;
  if (!profile.empty()) {
    replacement = find_profile(profile);
    if (!replacement) bad("unknown profile '" + profile + "' (see moegate presets)");
  }
  // Zero cases judged would be a vacuous pass.
  if (cases.empty()) bad(path + ": the manifest lists no cases: there is nothing to judge");
  for (const ManifestCase& entry : cases) case_path(dir, entry.file);  // every case file inside, before any read
  const SafetensorsFile outputs = read_safetensors(outputs_path);
  CheckResult result;
  for (const ManifestCase& entry : cases) {
    const std::string& file = entry.file;
    RouterCase c = entry.routing;
    if (replacement) c.config.profile = *replacement;
    const std::int64_t tokens = c.spec.tokens, k = c.config.topk;
    const std::int64_t stride = c.spec.row_stride ? c.spec.row_stride : c.config.experts;
    const SafetensorsFile vectors = read_safetensors(case_path(dir, file));
    const Tensor& logits = vectors.require("logits", tensor_type(c.spec.logits_dtype), {tokens, stride});
    const Tensor& bias = vectors.require("bias", tensor_type(c.spec.bias_dtype), {c.config.experts});
    const std::string stem = file.substr(0, file.rfind(".safetensors"));
    const Tensor& ids = outputs.require(stem + ".ids", TensorType::i32, {tokens, k});
    const Tensor& weights = outputs.require(stem + ".weights", TensorType::f32, {tokens, k});
    const LogitsView logits_view{logits.data.data(), c.spec.logits_dtype, tokens, stride};
    const BiasView bias_view{bias.data.data(), c.spec.bias_dtype};
    const CandidateView candidate{reinterpret_cast<const float*>(weights.data.data()),
                                  reinterpret_cast<const std::int32_t*>(ids.data.data())};
    const Verdict verdict = compare(c.config, logits_view, bias_view, candidate);
    ++result.cases;
    for (int clause = 0; clause < clause_count; ++clause)
      result.clause_counts[static_cast<std::size_t>(clause)] += verdict.counts[static_cast<std::size_t>(clause)];
    if (!verdict.passed()) {
      ++result.failed_cases;
      result.report += "case " + stem + ": " + describe(c) + "\n" + verdict.report(3) +
                       known_divergence(c.config, logits_view, bias_view, candidate) + "\n";
    }
  }
  return result;
}

}  // namespace moegate::vectors
