// The GPU suite every stage meets (and every planted-bug kernel must fail):
// the comparator's judgement of one case, the deterministic sweep, and the
// fitting of random cases to what a stage takes. Shared by stage_tests (our
// stages and the registered external kernels) and mutant_tests.
#include "stage_suite.hpp"

#include <algorithm>

#include "../detail/device_run.hpp"
#include "moegate/adapter.hpp"
#include "moegate/comparator.hpp"
#include "moegate/presets.hpp"
#include "moegate/suite.hpp"

namespace moegate::cuda {

using detail::DeviceRun;

namespace {

bool is_seed_stage(std::string_view id) {
  return id == "s01_warp_lane_contiguous" || id == "s02_warp_bank_conflict_free" || id == "s03_cta_per_token" ||
         id == "s04_seed_dispatch";
}

}  // namespace

bool grouped_only(std::string_view id) {
  return id == "s10_grouped_streaming" || id == "s13_grouped_decode_warps" || id == "s15_grouped_tight_scores";
}

namespace {

// s10's and s13's shapes: E = 256 or 512 in 8 or 4 groups, rows aligned for its vector loads.
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

// An external kernel's declared support in the suite's words.
suite::Support support_of(const moegate_kernel& kernel) {
  const moegate_support& declared = kernel.support;
  suite::Support support;
  if (declared.experts_set != nullptr)
    support.experts_set.assign(declared.experts_set, declared.experts_set + declared.experts_set_size);
  support.max_experts = declared.max_experts;
  support.max_topk = declared.max_topk;
  support.max_groups = declared.max_groups;
  support.logits_dtypes = declared.logits_dtypes;
  support.bias_dtypes = declared.bias_dtypes;
  support.row_stride_multiple = std::max(1, declared.row_stride_multiple);
  support.pointer_alignment = std::max(1, declared.pointer_alignment);
  support.profile = external_profile(kernel);
  return support;
}

// A stage of ours whose vector loads refuse the view's offset gets the case
// at the nearest 16-byte aligned view (refusing misaligned views is its
// documented behaviour; the default dispatch routes those).
RouterCase at_aligned_view(const Stage& stage, RouterCase c) {
  if (supported(stage, c)) return c;
  RouterCase aligned = c;
  const auto per_16_bytes = static_cast<int>(16 / dtype_bytes(c.spec.logits_dtype));
  aligned.spec.offset = c.spec.offset / per_16_bytes * per_16_bytes;
  return supported(stage, aligned) ? aligned : c;
}

}  // namespace

// A case the stage supports: seed stages get the seed's shapes, s10 grouped
// ones, an external kernel its declared support and profile.
RouterCase fit_to(const Stage& stage_entry, RouterCase c) {
  if (stage_entry.external != nullptr) return suite::fit(support_of(*stage_entry.external), c);
  const std::string_view stage = stage_entry.id;
  if (grouped_only(stage)) return at_aligned_view(stage_entry, fit_to_grouped(c));
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
  return at_aligned_view(stage_entry, c);
}

std::vector<RouterCase> sweep_for(const Stage& stage) {
  std::vector<RouterCase> cases = suite::sweep();
  for (RouterCase& c : cases) c = stage.external != nullptr ? fit_to(stage, c) : at_aligned_view(stage, c);
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

bool supported(const Stage& stage, const RouterCase& c) {
  // Refusals depend on shapes, dtypes and alignment: judged on a probe view
  // whose pointers are aligned as DeviceRun's will be (cudaMalloc's start,
  // the logits `offset` elements into it).
  alignas(256) static const float probe[64] = {};
  const auto* start = reinterpret_cast<const std::uint8_t*>(probe) +
                      static_cast<std::size_t>(c.spec.offset) * dtype_bytes(c.spec.logits_dtype);
  const LogitsView logits{start, c.spec.logits_dtype, c.spec.tokens,
                          c.spec.row_stride ? c.spec.row_stride : c.config.experts};
  return stage.refusal(c.config, logits, BiasView{probe, c.spec.bias_dtype}).empty();
}

}  // namespace moegate::cuda
