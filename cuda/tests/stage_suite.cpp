// The GPU suite every stage meets (and every planted-bug kernel must fail):
// the comparator's judgement of one case, the deterministic sweep, and the
// fitting of random cases to what a stage takes. Shared by stage_tests (our
// stages and the registered external kernels) and mutant_tests.
#include "stage_suite.hpp"

#include <algorithm>
#include <tuple>

#include "../detail/device_run.hpp"
#include "moegate/adapter.hpp"
#include "moegate/comparator.hpp"
#include "moegate/presets.hpp"

namespace moegate::cuda {

using detail::DeviceRun;

namespace {

bool is_seed_stage(std::string_view id) {
  return id == "s01_warp_lane_contiguous" || id == "s02_warp_bank_conflict_free" || id == "s03_cta_per_token" ||
         id == "s04_seed_dispatch";
}

}  // namespace

bool grouped_only(std::string_view id) { return id == "s10_grouped_streaming"; }

namespace {

// s10's shapes: E = 256 or 512 in 8 or 4 groups, rows aligned for its vector loads.
RouterCase fit_to_grouped(RouterCase c) {
  RouterConfig& config = c.config;
  config.experts = c.spec.seed % 2 ? 512 : 256;
  config.groups = c.spec.seed % 3 ? 8 : 4;
  config.kept_groups = std::clamp(config.kept_groups, 1, config.groups);
  config.topk = std::clamp(config.topk, 1, std::min(32, config.kept_groups * config.experts / config.groups));
  c.spec.experts = config.experts;
  c.spec.row_stride = (config.experts + c.spec.row_stride % 8 + 3) / 4 * 4;
  return c;
}

// An external kernel's declared support: E from its set (or at most its
// maximum), k, groups, dtypes and stride brought inside, the profile it implements.
RouterCase fit_to_external(const moegate_kernel& kernel, RouterCase c) {
  const moegate_support& support = kernel.support;
  RouterConfig& config = c.config;
  const auto pick = static_cast<int>(c.spec.seed % 1000003u);
  if (support.experts_set != nullptr) config.experts = support.experts_set[pick % support.experts_set_size];
  else if (config.experts > support.max_experts) config.experts = 1 + pick % support.max_experts;
  if (config.groups > support.max_groups || config.experts % config.groups != 0) config.groups = config.kept_groups = 1;
  config.topk = std::clamp(config.topk, 1, std::min({support.max_topk, config.candidate_experts()}));
  config.profile = external_profile(kernel);
  const auto fit_dtype = [](DType dtype, unsigned mask) {
    if (mask & (1u << static_cast<unsigned>(dtype))) return dtype;
    for (DType d : all_dtypes)
      if (mask & (1u << static_cast<unsigned>(d))) return d;
    return dtype;
  };
  c.spec.logits_dtype = fit_dtype(c.spec.logits_dtype, support.logits_dtypes);
  c.spec.bias_dtype = fit_dtype(c.spec.bias_dtype, support.bias_dtypes);
  // The generated padding past E kept (odd strides stay tested), then rounded
  // up to the declared multiple; T capped as the generator caps T x E.
  const std::int64_t padding = std::max<std::int64_t>(0, c.spec.row_stride - c.spec.experts);
  c.spec.experts = config.experts;
  const std::int64_t multiple = std::max(1, support.row_stride_multiple);
  c.spec.row_stride = (config.experts + padding + multiple - 1) / multiple * multiple;
  c.spec.tokens = std::clamp<std::int64_t>(c.spec.tokens, 1, std::max<std::int64_t>(1, (std::int64_t{1} << 24) / config.experts));
  return c;
}

}  // namespace

// A case the stage supports: seed stages get the seed's shapes, s10 grouped
// ones, an external kernel its declared support and profile.
RouterCase fit_to(const Stage& stage_entry, RouterCase c) {
  if (stage_entry.external != nullptr) return fit_to_external(*stage_entry.external, c);
  const std::string_view stage = stage_entry.id;
  if (grouped_only(stage)) return fit_to_grouped(c);
  if (!is_seed_stage(stage)) return c;
  RouterConfig& config = c.config;
  config.experts = c.spec.seed % 2 ? 384 : 256;
  config.groups = 1;
  config.kept_groups = 1;
  config.topk = std::min(config.topk, 8);
  c.spec.experts = config.experts;
  c.spec.logits_dtype = DType::f32;
  c.spec.bias_dtype = DType::f32;
  c.spec.row_stride = (config.experts + c.spec.row_stride % 8 + 3) / 4 * 4;
  return c;
}

std::vector<RouterCase> sweep_for(const Stage& stage) {
  std::vector<RouterCase> cases = sweep();
  if (stage.external != nullptr)
    for (RouterCase& c : cases) c = fit_to(stage, c);
  return cases;
}

std::string judge(std::string_view stage, const RouterCase& c) {
  const RouterInputs inputs = make_inputs(c.spec);
  DeviceRun run(inputs, c.config.topk);
  const auto result = run.run(stage, c.config);
  const CandidateView candidate{result.weights.data(), result.ids.data()};
  const Verdict verdict = compare(c.config, inputs.logits(), inputs.bias(), candidate);
  if (verdict.passed()) return {};
  return verdict.report() + known_divergence(c.config, inputs.logits(), inputs.bias(), candidate) + "case: " +
         describe(c) + "\n";
}

std::vector<RouterCase> sweep() {
  std::vector<RouterConfig> configs;
  for (const Preset& preset : presets()) configs.push_back(preset.config);
  for (int experts : {1, 2, 31, 32, 33, 64, 160, 256, 384, 512, 1024})
    for (int topk : {1, 2, 8, 32})
      for (auto [groups, kept] : {std::pair{1, 1}, std::pair{8, 4}, std::pair{4, 1}}) {
        RouterConfig config;
        config.experts = experts;
        config.groups = groups;
        config.kept_groups = kept;
        config.topk = std::min(topk, experts);
        config.routed_scaling_factor = 2.5f;
        config.apply_routed_scaling_factor_on_output = true;
        if (!validate(config)) configs.push_back(config);
      }
  const std::pair<LogitFamily, BiasFamily> families[] = {{LogitFamily::normal, BiasFamily::normal},
                                                         {LogitFamily::quantized, BiasFamily::quantized},
                                                         {LogitFamily::extremes, BiasFamily::hostile_mix},
                                                         {LogitFamily::near_ties, BiasFamily::large}};
  const std::pair<DType, DType> dtypes[] = {{DType::f32, DType::f32}, {DType::bf16, DType::f32}, {DType::f16, DType::bf16}};
  std::vector<RouterCase> cases;
  std::uint64_t seed = 1;
  for (const RouterConfig& config : configs)
    for (std::int64_t tokens : {1, 33, 513})
      for (const auto& [logit_family, bias_family] : families) {
        RouterCase c{config, InputSpec{}};
        c.spec.experts = config.experts;
        c.spec.tokens = tokens;
        c.spec.logit_family = logit_family;
        c.spec.bias_family = bias_family;
        c.spec.row_stride = config.experts + (seed % 3 == 0 ? 4 : 0) + (seed % 5 == 0 ? 1 : 0);
        c.spec.logits_dtype = dtypes[seed % 3].first;
        c.spec.bias_dtype = dtypes[seed % 3].second;
        c.spec.seed = seed++;
        cases.push_back(c);
      }
  // Large batches: every preset at 4096 and 65536 tokens.
  for (const Preset& preset : presets())
    for (std::int64_t tokens : {4096, 65536}) {
      RouterCase c{preset.config, InputSpec{}};
      c.spec.experts = preset.config.experts;
      c.spec.tokens = tokens;
      c.spec.seed = seed++;
      cases.push_back(c);
    }
  // Persistent warps route many tokens each: narrow dtypes on both load paths.
  for (auto [name, dtype, stride] : {std::tuple{"kimi-k2", DType::bf16, 385}, std::tuple{"mimo256", DType::f16, 260},
                                     std::tuple{"deepseek-v3", DType::bf16, 264}}) {
    RouterCase c{find_preset(name)->config, InputSpec{}};
    c.spec.experts = c.config.experts;
    c.spec.tokens = 20000;
    c.spec.logits_dtype = dtype;
    c.spec.row_stride = stride;
    c.spec.seed = seed++;
    cases.push_back(c);
  }
  return cases;
}

bool supported(const Stage& stage, const RouterCase& c) {
  // Refusals depend on shapes, dtypes and alignment: judged on a probe view
  // whose pointers are aligned like cudaMalloc's.
  alignas(256) static const float probe[4] = {};
  const LogitsView logits{probe, c.spec.logits_dtype, c.spec.tokens,
                          c.spec.row_stride ? c.spec.row_stride : c.config.experts};
  return stage.refusal(c.config, logits, BiasView{probe, c.spec.bias_dtype}).empty();
}

}  // namespace moegate::cuda
