// moegate: the command-line face of the testbed.
//   moegate presets                 named configs and contract profiles
//   moegate devices                 CUDA devices seen by the runtime
//   moegate list                    the CUDA stage ladder (the registry)
//   moegate route ...               route generated inputs with the CPU reference,
//                                   or with a GPU stage (--stage) judged by the comparator
//   moegate property ...            drive the random property for a router in another
//                                   process (the Python package; docs/python.md)
// Bad arguments: one line on stderr, exit status 2.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <new>
#include <random>
#include <optional>
#include <string>
#include <vector>

#include "moegate/case.hpp"
#include "moegate/comparator.hpp"
#include "moegate/cuda.hpp"
#include "moegate/inputs.hpp"
#include "moegate/presets.hpp"
#include "moegate/reference.hpp"
#include "moegate/safetensors.hpp"
#include "moegate/suite.hpp"
#include "moegate/vectors.hpp"
#include "../suite/property_driver.hpp"

namespace {

using namespace moegate;

constexpr int exit_bad_input = 2;

// A whole decimal integer in [low, high], checked on the text before CLI11 converts it (so "abc"
// is "not an integer", -1 never wraps into a huge seed, and the bound is printed as written).
CLI::Validator integer_in(unsigned long long low, unsigned long long high) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits)
          return "must be an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "], got '" + text + "'";
        errno = 0;
        const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE || value < low || value > high)
          return "must be an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "], got " + text;
        return {};
      },
      "INT", "integer_in");
}

// An argument problem found after parsing; reported like a parse error.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct RouteOptions {
  std::string command = "route";  // which subcommand's options these are (for messages)
  std::string preset;
  std::optional<int> experts, topk, groups, kept_groups;
  std::optional<float> scaling_factor;
  bool no_renormalize = false;
  bool apply_scaling = false;
  bool no_apply_scaling = false;
  std::string profile = "moegate";
  std::int64_t tokens = -1;
  std::uint64_t seed = 0;
  std::string distribution = "normal";
  std::string logit_family, bias_family;
  std::string logits_dtype = "f32";
  std::string bias_dtype = "f32";
  std::string mode = "f32";
  int threads = 0;
  std::int64_t show = 16;
  std::string case_line;
  bool check = false;
  std::string stage;
};

RouterConfig build_config(const RouteOptions& options) {
  RouterConfig config;
  if (!options.preset.empty()) {
    const auto preset = find_preset(options.preset);
    if (!preset) throw UsageError("--preset: unknown preset '" + options.preset + "' (see 'moegate presets')");
    config = preset->config;
  } else if (!options.experts || !options.topk) {
    throw UsageError(options.command + ": give --preset, or --experts and --topk");
  }
  if (options.experts) config.experts = *options.experts;
  if (options.topk) config.topk = *options.topk;
  if (options.groups) config.groups = *options.groups;
  if (options.kept_groups) config.kept_groups = *options.kept_groups;
  if (options.scaling_factor) config.routed_scaling_factor = *options.scaling_factor;
  if (options.no_renormalize) config.renormalize = false;
  if (options.apply_scaling) config.apply_routed_scaling_factor_on_output = true;
  if (options.no_apply_scaling) config.apply_routed_scaling_factor_on_output = false;
  const auto profile = find_profile(options.profile);
  if (!profile) throw UsageError("--profile: unknown profile '" + options.profile + "' (see 'moegate presets')");
  config.profile = *profile;
  if (auto error = validate(config)) throw UsageError(error->what());
  return config;
}

DType dtype_option(const std::string& flag, const std::string& name) {
  const auto dtype = parse_dtype(name);
  if (!dtype) throw UsageError(flag + ": must be f32, bf16 or f16, got '" + name + "'");
  return *dtype;
}

std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

void print_summary_line(const RouterConfig& config, const InputSpec& spec, const std::string& mode,
                        double seconds, const std::vector<std::int32_t>& ids) {
  std::vector<std::int64_t> load(static_cast<std::size_t>(config.experts), 0);
  std::uint64_t checksum = 1469598103934665603ull;  // FNV-1a over the ids
  std::int64_t out_of_range = 0;  // a GPU stage's unwritten (poison) or wrong ids: counted, judged by --check
  for (std::int32_t id : ids) {
    if (id >= 0 && id < config.experts) ++load[static_cast<std::size_t>(id)];
    else ++out_of_range;
    checksum = (checksum ^ static_cast<std::uint32_t>(id)) * 1099511628211ull;
  }
  const auto [least, most] = std::minmax_element(load.begin(), load.end());
  const double logits = static_cast<double>(spec.tokens) * config.experts;
  std::printf("routed %lld tokens x %d experts (%s logits, %s bias, %s mode) in %.3f ms: %.2f ns per logit\n",
              static_cast<long long>(spec.tokens), config.experts, std::string(dtype_name(spec.logits_dtype)).c_str(),
              std::string(dtype_name(spec.bias_dtype)).c_str(), mode.c_str(), seconds * 1e3,
              logits > 0 ? seconds * 1e9 / logits : 0.0);
  if (out_of_range > 0) std::printf("ids outside [0, %d): %lld (not in the load below)\n", config.experts,
                                    static_cast<long long>(out_of_range));
  std::printf("expert load: min %lld, mean %.1f, max %lld picks; ids checksum %016llx\n",
              static_cast<long long>(*least),
              static_cast<double>(ids.size()) / config.experts, static_cast<long long>(*most),
              static_cast<unsigned long long>(checksum));
}

// The config and input recipe from the options (or from one --case line).
std::pair<RouterConfig, InputSpec> build_case(const RouteOptions& options) {
  if (!options.case_line.empty()) {
    std::string why;
    const auto routing_case = parse_case(options.case_line, &why);
    if (!routing_case) throw UsageError("--case: not a case line (" + why + "; see property_tests/regressions.txt)");
    if (auto error = validate(routing_case->config)) throw UsageError(std::string("--case: ") + error->what());
    return {routing_case->config, routing_case->spec};
  }
  if (options.tokens < 0) throw UsageError("route: --tokens is required");
  const RouterConfig config = build_config(options);
  InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = options.tokens;
  spec.seed = options.seed;
  spec.logits_dtype = dtype_option("--dtype", options.logits_dtype);
  spec.bias_dtype = dtype_option("--bias-dtype", options.bias_dtype);
  const auto distribution = parse_distribution(options.distribution);
  if (!distribution)
    throw UsageError("--dist: must be normal, uniform, ties or extremes, got '" + options.distribution + "'");
  spec.use(*distribution);
  if (!options.logit_family.empty()) {
    const auto family = parse_logit_family(options.logit_family);
    if (!family) throw UsageError("--logits: unknown family '" + options.logit_family + "'");
    spec.logit_family = *family;
  }
  if (!options.bias_family.empty()) {
    const auto family = parse_bias_family(options.bias_family);
    if (!family) throw UsageError("--bias: unknown family '" + options.bias_family + "'");
    spec.bias_family = *family;
  }
  return {config, spec};
}

int run_route(const RouteOptions& options) {
  const auto [config, spec] = build_case(options);
  if (options.mode != "f32" && options.mode != "f64")
    throw UsageError("--mode: must be f32 or f64, got '" + options.mode + "'");
  // Everything is validated before anything is allocated: the stride, the size actually allocated
  // (tokens x row stride, not x experts), the stage and whether it takes the shape.
  if (spec.row_stride != 0 && spec.row_stride < config.experts)
    throw UsageError("row_stride: must be >= experts (" + std::to_string(config.experts) + "), got " +
                     std::to_string(spec.row_stride));
  const std::int64_t stride = spec.row_stride ? spec.row_stride : config.experts;
  if (static_cast<double>(spec.tokens) * static_cast<double>(stride) > 4.0e9)
    throw UsageError("--tokens: tokens x row stride must stay below 4e9 logits, got " + std::to_string(spec.tokens) +
                     " x " + std::to_string(stride));
  const bool on_gpu = !options.stage.empty();
  if (on_gpu) {
    if (options.mode != "f32") throw UsageError("--stage: GPU stages compute f32; drop --mode f64");
    const std::string_view id = options.stage == "default" ? std::string_view() : std::string_view(options.stage);
    if (!id.empty() && cuda::find_stage(id) == nullptr)
      throw UsageError("--stage: unknown stage '" + options.stage + "' (see 'moegate list')");
    // Refusals depend on shape, dtypes and alignment: judged on a probe view aligned like cudaMalloc's.
    alignas(256) static const float probe[4] = {};
    const LogitsView probe_logits{probe, spec.logits_dtype, spec.tokens, stride};
    const std::string why = id.empty() ? std::string()
                                       : cuda::find_stage(id)->refusal(config, probe_logits, BiasView{probe, spec.bias_dtype});
    if (!why.empty()) throw UsageError("--stage: " + options.stage + " cannot route this: " + why);
  }

  const RouterInputs inputs = make_inputs(spec);
  std::printf("config: %s\n", describe(config).c_str());
  std::printf("inputs: %s logits, %s bias, seed %llu\n", std::string(name_of(spec.logit_family)).c_str(),
              std::string(name_of(spec.bias_family)).c_str(), static_cast<unsigned long long>(spec.seed));

  const reference::RunOptions run{options.threads};
  if (on_gpu) {
    const std::string_view id = options.stage == "default" ? std::string_view() : std::string_view(options.stage);
    if (cuda::device_count() == 0)
      throw std::runtime_error("--stage needs a CUDA device; none found (" + cuda::version_string() + ")");
    std::printf("stage: %s\n", id.empty() ? std::string(cuda::default_stage(config, inputs.logits(), inputs.bias()).id).c_str()
                                         : options.stage.c_str());
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::int32_t> ids;
  std::vector<float> f32_weights;
  std::vector<double> weights, keys, margins, group_margins;
  if (on_gpu) {
    auto result = cuda::route_host(options.stage == "default" ? std::string_view() : std::string_view(options.stage),
                                   config, inputs);
    ids = std::move(result.ids);
    f32_weights = std::move(result.weights);
    weights.assign(f32_weights.begin(), f32_weights.end());
  } else if (options.mode == "f32") {
    auto result = reference::route_f32(config, inputs.logits(), inputs.bias(), run);
    ids = std::move(result.ids);
    f32_weights = std::move(result.weights);
    weights.assign(f32_weights.begin(), f32_weights.end());
  } else {
    auto result = reference::route_f64(config, inputs.logits(), inputs.bias(), run);
    ids = std::move(result.ids);
    weights = std::move(result.weights);
    keys = std::move(result.keys);
    margins = std::move(result.selection_margin);
    group_margins = std::move(result.group_margin);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::int64_t shown = std::min(options.show, spec.tokens);
  if (shown > 0) {
    const bool oracle = options.mode == "f64";
    const bool grouped = oracle && config.grouped();
    std::printf("\n%6s %4s %7s %16s %16s %16s%s%s\n", "token", "rank", "expert", "weight", "score s",
                "biased c", oracle ? "      margin(k)" : "", grouped ? "  margin(group)" : "");
    const LogitsView logits = inputs.logits();
    const BiasView bias = inputs.bias();
    for (std::int64_t t = 0; t < shown; ++t) {
      for (int j = 0; j < config.topk; ++j) {
        const std::int64_t slot = t * config.topk + j;
        const int id = ids[static_cast<std::size_t>(slot)];
        const float logit = load_widened(logits.data, logits.dtype, t * logits.row_stride + id);
        const float score = reference::sigmoid_f32(logit);
        const double biased = oracle ? keys[static_cast<std::size_t>(slot)]
                                     : static_cast<double>(score + load_widened(bias.data, bias.dtype, id));
        std::printf("%6lld %4d %7d %16s %16s %16s", static_cast<long long>(t), j, id,
                    fmt(oracle ? "%.10g" : "%.9g", weights[static_cast<std::size_t>(slot)]).c_str(),
                    fmt("%.9g", score).c_str(), fmt(oracle ? "%.10g" : "%.9g", biased).c_str());
        if (oracle && j == 0) std::printf(" %14s", fmt("%.4g", margins[static_cast<std::size_t>(t)]).c_str());
        if (grouped && j == 0)
          std::printf(" %14s", fmt("%.4g", group_margins[static_cast<std::size_t>(t)]).c_str());
        std::printf("\n");
      }
    }
    if (shown < spec.tokens)
      std::printf("(first %lld of %lld tokens; --show N for more)\n", static_cast<long long>(shown),
                  static_cast<long long>(spec.tokens));
    std::printf("\n");
  }
  print_summary_line(config, spec, on_gpu ? "gpu " + options.stage : options.mode, seconds, ids);
  if (options.check || on_gpu) {
    // The output (the stage's, or the f32 reference's), judged against the oracle.
    if (options.mode == "f64") {
      auto result = reference::route_f32(config, inputs.logits(), inputs.bias(), run);
      ids = std::move(result.ids);
      f32_weights = std::move(result.weights);
    }
    const Verdict verdict = compare(config, inputs.logits(), inputs.bias(),
                                    CandidateView{f32_weights.data(), ids.data()});
    std::printf("\n%s", verdict.report().c_str());
    return verdict.passed() ? 0 : 1;
  }
  return 0;
}

int run_presets() {
  std::printf("%-14s %7s %4s %6s %5s %8s  %s\n", "preset", "experts", "topk", "groups", "kept", "scaling", "source");
  for (const auto& preset : presets()) {
    const RouterConfig& c = preset.config;
    std::printf("%-14s %7d %4d %6d %5d %8.4g  %s\n", std::string(preset.name).c_str(), c.experts, c.topk,
                c.groups, c.kept_groups, static_cast<double>(c.routed_scaling_factor),
                std::string(preset.source).c_str());
  }
  std::printf("\n%-14s %-9s %-9s %-17s %s\n", "profile", "nan_rank", "zero_sum", "scaling", "follows");
  for (const auto& entry : profiles())
    std::printf("%-14s %-9s %-9s %-17s %s\n", std::string(entry.name).c_str(),
                std::string(name_of(entry.profile.nan_rank)).c_str(),
                std::string(name_of(entry.profile.zero_sum)).c_str(),
                std::string(name_of(entry.profile.scaling)).c_str(), std::string(entry.follows).c_str());
  return 0;
}

int run_list() {
  std::printf("%-28s %-84s %s\n", "stage", "idea", "supports");
  for (const cuda::Stage& stage : cuda::stages())
    std::printf("%-28s %-84s %s\n", std::string(stage.id).c_str(), std::string(stage.idea).c_str(),
                std::string(stage.supports).c_str());
  std::printf("\ndefault dispatch: the fastest stage measured per shape (docs/stages.md): with no groups,\n"
              "E >= 512 and 16 <= k <= 32, s19_warp_team up to 256 tokens; E <= 160 and k <= 8,\n"
              "s20_sorted_rounds up to 512 tokens; otherwise with no groups and k <= 16,\n"
              "s14_decode_short_chain up to 16 tokens (E >= 64), s12_decode_warps up to 8192 (every T for\n"
              "E <= 256) and s09_streaming_warps above; the list stages for E > 512 above 256 tokens and\n"
              "for k = 16, E >= 512 above 256, and with no groups and k > 16 at every T: s18_short_tail for\n"
              "E > 512 up to 4096 tokens, s22_constant_trips otherwise;\n"
              "s15_grouped_tight_scores for the grouped shapes it takes, at every T;\n"
              "otherwise from 2048 tokens s07_reloaded_scores, below that s05_warp_registers; s00_naive for\n"
              "the rest\n");
  return 0;
}

int run_devices() {
  const int count = cuda::device_count();
  std::printf("CUDA %s; %d device(s)\n", cuda::version_string().c_str(), count);
  for (int d = 0; d < count; ++d) {
    const auto info = cuda::device_info(d);
    std::printf("  %d: %s, sm_%d%d, %d SMs, %.1f GiB\n", d, info->name.c_str(), info->compute_major,
                info->compute_minor, info->sm_count, static_cast<double>(info->global_memory_bytes) / (1 << 30));
  }
  return 0;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

int fail(const std::string& message, int status) {
  std::cerr << "moegate: error: " << one_line(message) << "\n";
  return status;
}

struct VectorsOptions {
  RouteOptions config;  // --experts/--topk/...: one config of the user's instead of presets
  std::string out;
  std::string suite = "presets";
  std::vector<std::string> presets;
  std::vector<std::string> dtypes{"f32", "bf16"};
  std::vector<std::string> bias_dtypes{"f32"};
  std::vector<std::string> families;  // LOGITS:BIAS[:HOSTILE]; empty: the default families
  int hostile = 4;
  std::int64_t row_padding = 0;
  std::string padding = "nan";
  std::int64_t tokens = 33;
  std::uint64_t seed = 1;
  bool replace = false;
};

// "a, b, c": every member's name, for a message.
template <class Family>
std::string names_of(const std::vector<Family>& families) {
  std::string names;
  for (Family family : families) names += (names.empty() ? "" : ", ") + std::string(name_of(family));
  return names;
}

// "LOGITS:BIAS[:HOSTILE]", e.g. "normal:neg_inf" or "specials:neg_inf:8".
vectors::ValueFamily value_family(const std::string& text) {
  const auto first = text.find(':');
  const auto second = first == std::string::npos ? std::string::npos : text.find(':', first + 1);
  const auto logits = first == std::string::npos ? std::nullopt : parse_logit_family(text.substr(0, first));
  const auto bias =
      first == std::string::npos ? std::nullopt : parse_bias_family(text.substr(first + 1, second - first - 1));
  int hostile = -1;
  if (second != std::string::npos) {
    const std::string share = text.substr(second + 1);
    if (share.size() != 1 || share[0] < '0' || share[0] > '8')
      throw UsageError("--family: the hostile share must be 0-8 eighths, got '" + share + "'");
    hostile = share[0] - '0';
  }
  if (!logits || !bias)
    throw UsageError("--family: expected LOGITS:BIAS[:HOSTILE], got '" + text + "' (logits: " +
                     names_of(all_logit_families()) + "; bias: " + names_of(all_bias_families()) + ")");
  return {*logits, *bias, hostile};
}

int run_vectors(const VectorsOptions& options) {
  vectors::SuiteOptions suite;
  suite.name = options.suite;
  suite.presets = options.presets;
  suite.tokens = options.tokens;
  suite.seed = options.seed;
  suite.replace = options.replace;
  const RouteOptions& own = options.config;
  if (own.experts || own.topk) {
    if (!options.presets.empty()) throw UsageError("vectors: give --preset or --experts/--topk, not both");
    suite.config = build_config(options.config);
    if (options.suite == "presets") suite.name = "custom";
  } else if (own.groups || own.kept_groups || own.scaling_factor || own.no_renormalize || own.apply_scaling ||
             own.profile != "moegate") {
    // These shape a config of the user's; with presets they would be silently ignored.
    throw UsageError("vectors: --groups, --topk-group, --scaling-factor, --no-renormalize, --apply-scaling and "
                     "--profile describe a config of your own: give --experts and --topk with them");
  }
  // Bound what one case file holds before anything is written.
  int widest = 0;
  if (suite.config) widest = suite.config->experts;
  for (const Preset& preset : presets())
    if (!suite.config && (options.presets.empty() ||
                          std::find(options.presets.begin(), options.presets.end(), preset.name) != options.presets.end()))
      widest = std::max(widest, preset.config.experts);
  if (static_cast<double>(options.tokens) * static_cast<double>(widest + options.row_padding) >
      static_cast<double>(std::int64_t{1} << 28))
    throw UsageError("vectors: tokens x row width must stay below 2^28 logits per case, got " +
                     std::to_string(options.tokens) + " x " + std::to_string(widest + options.row_padding));
  suite.logits_dtypes.clear();
  for (const std::string& name : options.dtypes) suite.logits_dtypes.push_back(dtype_option("--dtype", name));
  suite.bias_dtypes.clear();
  for (const std::string& name : options.bias_dtypes) suite.bias_dtypes.push_back(dtype_option("--bias-dtype", name));
  for (const std::string& text : options.families) suite.families.push_back(value_family(text));
  suite.hostile_eighths = options.hostile;
  suite.row_padding = options.row_padding;
  const auto padding = parse_padding_family(options.padding);
  if (!padding)
    throw UsageError("--padding: unknown family '" + options.padding + "' (" + names_of(all_padding_families()) + ")");
  if (*padding != PaddingFamily::nan && options.row_padding == 0)
    throw UsageError("--padding: the rows have no padding; give --row-padding P > 0 with it");
  suite.padding = *padding;
  std::size_t reported = 0, cases = 0;
  vectors::write_suite(options.out, suite, [&](std::size_t done, std::size_t total) {
    cases = total;
    if (done == total || done - reported >= std::max<std::size_t>(1, total / 20)) {
      std::fprintf(stderr, "vectors: %zu / %zu cases\n", done, total);
      reported = done;
    }
  });
  std::printf("wrote suite '%s' to %s (manifest.json and %zu case files)\n", suite.name.c_str(),
              options.out.c_str(), cases);
  return 0;
}

int run_check(const std::string& vectors_dir, const std::string& outputs, const std::string& profile,
              bool list_clauses) {
  const vectors::CheckResult result = vectors::check_outputs(vectors_dir, outputs, profile);
  std::printf("%s", result.report.c_str());
  std::printf("check: %zu of %zu cases pass%s%s\n", result.cases - result.failed_cases, result.cases,
              profile.empty() ? "" : " (profile ", profile.empty() ? "" : (profile + ")").c_str());
  if (list_clauses || result.failed_cases > 0) {
    std::printf("violations by contract clause:");
    for (int clause = 0; clause < clause_count; ++clause)
      std::printf(" %s %lld", std::string(name_of(static_cast<Clause>(clause))).c_str(),
                  static_cast<long long>(result.clause_counts[static_cast<std::size_t>(clause)]));
    std::printf("\n");
  }
  return result.failed_cases == 0 ? 0 : 1;
}

int run_property(const std::string& support_line, int budget, std::optional<std::uint64_t> seed) {
  const suite::Support support = suite::parse_support(support_line);
  const std::uint64_t used = seed ? *seed : (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  std::fprintf(stderr, "moegate property: seed %llu, budget %d, support: %s\n", static_cast<unsigned long long>(used),
               budget, suite::describe(support).c_str());
  return suite::drive_property(support, budget, used, std::cin, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moegate: verification and research testbed for the noaux_tc MoE router gate"};
  app.require_subcommand(1);
  auto* presets_command = app.add_subcommand("presets", "List the named router configs and contract profiles");
  auto* devices_command = app.add_subcommand("devices", "List the CUDA devices");
  auto* list_command = app.add_subcommand("list", "List the CUDA stage ladder");
  auto* route = app.add_subcommand("route", "Route generated inputs with the CPU reference and print the result");

  RouteOptions options;
  route->add_option("--preset", options.preset, "Named config (see 'moegate presets')");
  route->add_option("--experts", options.experts, "Experts E");
  route->add_option("--topk", options.topk, "Experts chosen per token k");
  route->add_option("--groups", options.groups, "Expert groups G (default 1)");
  route->add_option("--topk-group", options.kept_groups, "Groups kept (topk_group)");
  route->add_option("--scaling-factor", options.scaling_factor, "Routed scaling factor");
  route->add_flag("--no-renormalize", options.no_renormalize, "Do not renormalize the weights");
  auto* apply = route->add_flag("--apply-scaling", options.apply_scaling,
                                "Multiply the output by the scaling factor (presets do)");
  route->add_flag("--no-apply-scaling", options.no_apply_scaling, "Do not apply the scaling factor")
      ->excludes(apply);
  route->add_option("--profile", options.profile, "Contract profile (default: moegate)");
  route->add_option("--tokens", options.tokens, "Tokens T (required unless --case)")
      ->check(integer_in(0, std::uint64_t{1} << 26));
  route->add_option("--case", options.case_line,
                    "A routing case line (a property failure's 'regression line'): config and inputs in one");
  route->add_flag("--check", options.check, "Also judge the output with the comparator (exit 1 on FAIL)");
  route->add_option("--stage", options.stage,
                    "Route on the GPU with this stage (see 'moegate list'; 'default' = the dispatch) and judge it");
  route->add_option("--seed", options.seed, "Input seed")->check(integer_in(0, UINT64_MAX));
  route->add_option("--dist", options.distribution, "Inputs: normal, uniform, ties or extremes");
  route->add_option("--logits", options.logit_family,
                    "Logit family (overrides --dist): normal, uniform, quantized, all_equal, near_ties, saturating, "
                    "specials, extremes, vanishing");
  route->add_option("--bias", options.bias_family,
                    "Bias family (overrides --dist): zero, normal, uniform, quantized, negative, large, neg_flt_max, "
                    "neg_inf, pos_inf, hostile_mix");
  route->add_option("--dtype", options.logits_dtype, "Logits dtype: f32, bf16 or f16");
  route->add_option("--bias-dtype", options.bias_dtype, "Bias dtype: f32, bf16 or f16");
  route->add_option("--mode", options.mode, "f32 (the contract's arithmetic) or f64 (the oracle)");
  route->add_option("--threads", options.threads, "OpenMP threads (0: default)")->check(CLI::Range(0, 1024));
  route->add_option("--show", options.show, "Tokens to print as a table (default 16)")
      ->check(integer_in(0, std::uint64_t{1} << 40));

  VectorsOptions vectors_options;
  vectors_options.config.command = "vectors";
  auto* vectors_command =
      app.add_subcommand("vectors", "Write a suite of golden test vectors (safetensors files + manifest.json)");
  vectors_command->add_option("--out", vectors_options.out, "Directory to write (new or empty)")->required();
  vectors_command->add_flag("--replace", vectors_options.replace, "Replace the suite in a non-empty --out folder");
  vectors_command->add_option("--suite", vectors_options.suite, "Suite name (recorded in the manifest)");
  vectors_command->add_option("--preset", vectors_options.presets, "Presets to include (repeatable; default all)");
  vectors_command->add_option("--dtype", vectors_options.dtypes, "Logits dtypes (repeatable; default f32 bf16)");
  vectors_command->add_option("--bias-dtype", vectors_options.bias_dtypes, "Bias dtypes (repeatable; default f32)");
  vectors_command->add_option("--family", vectors_options.families,
                              "Value families LOGITS:BIAS[:HOSTILE eighths], e.g. specials:neg_inf:8 (repeatable; "
                              "default: the suite's 14)");
  vectors_command->add_option("--hostile", vectors_options.hostile,
                              "Eighths of the experts a hostile bias family touches (0-8; 8: every expert)")
      ->check(integer_in(0, 8));
  vectors_command->add_option("--row-padding", vectors_options.row_padding,
                              "Rows E + P elements wide: the logits a slice of wider rows")
      ->check(integer_in(0, 4096));
  vectors_command->add_option("--padding", vectors_options.padding,
                              "What the row padding holds: nan, normal, large, pos_inf, neg_inf, mixed (default nan)");
  vectors_command->add_option("--tokens", vectors_options.tokens, "Tokens per case (each family also at T = 1)")
      ->check(integer_in(1, std::uint64_t{1} << 20));
  vectors_command->add_option("--seed", vectors_options.seed, "First input seed")->check(integer_in(0, UINT64_MAX));
  vectors_command->add_option("--experts", vectors_options.config.experts, "A config of your own: experts E");
  vectors_command->add_option("--topk", vectors_options.config.topk, "... experts chosen per token k");
  vectors_command->add_option("--groups", vectors_options.config.groups, "... expert groups G");
  vectors_command->add_option("--topk-group", vectors_options.config.kept_groups, "... groups kept");
  vectors_command->add_option("--scaling-factor", vectors_options.config.scaling_factor, "... routed scaling factor");
  vectors_command->add_flag("--no-renormalize", vectors_options.config.no_renormalize, "... without renormalizing");
  vectors_command->add_flag("--apply-scaling", vectors_options.config.apply_scaling, "... scaling the output");
  vectors_command->add_option("--profile", vectors_options.config.profile, "... under this contract profile");
  std::string check_vectors, check_outputs_file, check_profile;
  bool check_clauses = false;
  auto* check_command = app.add_subcommand("check", "Judge another backend's outputs against a vector suite");
  check_command->add_option("--vectors", check_vectors, "The suite's directory (moegate vectors --out)")->required();
  check_command->add_option("--outputs", check_outputs_file,
                            "safetensors file: <case>.ids I32 [T, k] and <case>.weights F32 [T, k] per case")
      ->required();
  check_command->add_option("--profile", check_profile,
                            "Judge against this contract profile instead of each case's (see moegate presets)");
  check_command->add_flag("--clauses", check_clauses, "Always list violations per contract clause");

  std::string property_support;
  int property_budget = 300;
  std::optional<std::uint64_t> property_seed;
  auto* property_command = app.add_subcommand(
      "property", "Drive the random property for a router in another process: prints 'case LINE', reads 'pass' or "
                  "'fail' (docs/python.md)");
  property_command->add_option("--support", property_support,
                               "What the router takes, as one line (e.g. 'max_topk=8 logits=f32 profile=torch')");
  property_command->add_option("--budget", property_budget, "Cases that must pass (RapidCheck's max_success)")
      ->check(integer_in(1, 1000000));
  property_command->add_option("--seed", property_seed, "RapidCheck seed (default: random, printed on stderr)")
      ->check(integer_in(0, UINT64_MAX));

  const std::vector<std::string> commands = {"presets", "devices", "list", "route", "vectors", "check", "property"};
  if (argc > 1 && argv[1][0] != '-' && std::find(commands.begin(), commands.end(), argv[1]) == commands.end())
    return fail(std::string("unknown subcommand '") + argv[1] + "' (presets, devices, list, route, vectors, check, property)",
                exit_bad_input);
  try {
    app.parse(argc, argv);
    if (*property_command) return run_property(property_support, property_budget, property_seed);
    if (*vectors_command) return run_vectors(vectors_options);
    if (*check_command) return run_check(check_vectors, check_outputs_file, check_profile, check_clauses);
    if (*presets_command) return run_presets();
    if (*devices_command) return run_devices();
    if (*list_command) return run_list();
    return run_route(options);
  } catch (const CLI::Success& done) {  // --help
    return app.exit(done);
  } catch (const CLI::ParseError& error) {
    return fail(error.what(), exit_bad_input);
  } catch (const std::invalid_argument& error) {
    return fail(error.what(), exit_bad_input);
  } catch (const vectors::SafetensorsError& error) {
    return fail(error.what(), exit_bad_input);
  } catch (const std::bad_alloc&) {
    return fail("not enough memory for these inputs (they are within moegate's bounds, but this machine cannot "
                "hold them): use fewer tokens", 1);
  } catch (const std::exception& error) {
    return fail(error.what(), 1);
  }
}
