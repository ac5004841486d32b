// The stage registry: the one table that tests, benchmarks and the CLI
// enumerate, and the validated entry point route().
#include <cstdint>
#include <stdexcept>

#include "detail/device_run.hpp"
#include "moegate/cuda.hpp"
#include "stages/stages.hpp"

namespace moegate::cuda {

namespace kernels {

std::string seed_shape_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  if (config.experts != 256 && config.experts != 384)
    return "experts must be 256 or 384 (GateConfig<N>), got " + std::to_string(config.experts);
  if (config.topk > 8) return "topk must be <= 8 (the seed's MAX_TOPK), got " + std::to_string(config.topk);
  if (config.groups != 1) return "no expert groups (groups must be 1), got " + std::to_string(config.groups);
  if (logits.dtype != DType::f32 || bias.dtype != DType::f32)
    return std::string("logits and bias must be f32, got ") + std::string(dtype_name(logits.dtype)) + " / " +
           std::string(dtype_name(bias.dtype));
  return {};
}

std::string vector_alignment_refusal(const LogitsView& logits, const BiasView& bias) {
  const auto misaligned = [](const void* pointer) { return reinterpret_cast<std::uintptr_t>(pointer) % 16 != 0; };
  if (logits.row_stride % 4 != 0)
    return "float4 loads need a row stride that is a multiple of 4 elements, got " +
           std::to_string(logits.row_stride);
  if (misaligned(logits.data) || misaligned(bias.data)) return "float4 loads need 16-byte aligned logits and bias";
  return {};
}

}  // namespace kernels

#define MOEGATE_STAGE(name, idea, supports, programmatic_launch) \
  Stage { #name, idea, supports, programmatic_launch, kernels::name##_refusal, kernels::name##_launch }

namespace {

std::deque<Stage>& registry() {
  static std::deque<Stage> table = {
      MOEGATE_STAGE(s00_naive, "one thread per token, serial selection: the correctness baseline",
                    "any E, k, groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s01_warp_lane_contiguous,
                    "one warp per token, float4 loads, lane-contiguous shared chunks (bank conflicts)",
                    "E in {256, 384}, k <= 8, no groups, f32, 16-byte aligned rows", false),
      MOEGATE_STAGE(s02_warp_bank_conflict_free,
                    "as s01 with lane-strided float4s: conflict-free shared stores and scans",
                    "E in {256, 384}, k <= 8, no groups, f32, 16-byte aligned rows", false),
      MOEGATE_STAGE(s03_cta_per_token,
                    "one CTA per token, one thread per expert, keys in registers, single-pass renorm",
                    "E in {256, 384}, k <= 8, no groups, f32, any stride", false),
      MOEGATE_STAGE(s04_seed_dispatch, "the seed: GateConfig<N>, T <= 512 -> s03, else s02",
                    "E in {256, 384}, k <= 8, no groups, f32, any stride", false),
      MOEGATE_STAGE(s05_warp_registers,
                    "one warp per token, keys in registers, two redux.sync reductions per round, groups",
                    "E <= 1024, k <= 32, groups <= 32; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s06_lazy_lane_candidates,
                    "as s05, each lane caches its two best ranked keys: rescans only on a lane's third win",
                    "E <= 1024, k <= 32, groups <= 32; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s07_reloaded_scores,
                    "as s06 without scores in registers (winners' logits reloaded): 8 CTAs per SM at E = 384",
                    "E <= 1024, k <= 32, groups <= 32; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s08_approximate_filter,
                    "cheap scores filter the candidates (k-th lane max bound); exact work only for <= 32 of them",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s09_streaming_warps,
                    "s08's filter in persistent warps: next row in flight, bias read once, one MUFU per expert",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s10_grouped_streaming,
                    "the group cut in streaming warps: exact keys, group top-2 by segment butterflies, ranked groups",
                    "groups 2..32 of 4..128 experts (a power of two), E in {128, 256, 384, 512, 768, 1024}, k <= 32; "
                    "f32/bf16/f16; aligned rows (stride a multiple of 4); PDL",
                    true),
      MOEGATE_STAGE(s12_decode_warps,
                    "decode sizes: s09's filter in one warp per token, row and bias in registers, candidates ranked "
                    "without a reload",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s13_grouped_decode_warps,
                    "s10's group cut in s12's shape: one warp per token, row and bias in registers, no reload",
                    "groups 2..32 of 4..128 experts (a power of two), E in {128, 256, 384, 512, 768, 1024}, k <= 32; "
                    "f32/bf16/f16; aligned rows (stride a multiple of 4); PDL",
                    true),
      MOEGATE_STAGE(s14_decode_short_chain,
                    "s12 with a shorter chain: the bound by half-warps in k/2 rounds, candidate positions by "
                    "ballot planes",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s15_grouped_tight_scores,
                    "s13 with a cheap score 16x tighter (ex2 + rcp): nearly every group cut settles without the "
                    "exact path",
                    "groups 2..32 of 4..128 experts (a power of two), E in {128, 256, 384, 512, 768, 1024}, k <= 32; "
                    "f32/bf16/f16; aligned rows (stride a multiple of 4); PDL",
                    true),
      MOEGATE_STAGE(s16_lane_lists,
                    "wide top-k: the bound from each lane's 2 or 4 best cheap scores, up to 64 candidates ranked; "
                    "bias in registers, rows streamed",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s17_lean_lists,
                    "s16's bound on a leaner token: candidates compacted by set bits and reloaded, bias in shared "
                    "memory, the next row prefetched into L2 (64/128-register caps)",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s18_short_tail,
                    "s17 with a shorter tail: the bound's rounds in pairs, the ranking by unrolled two-instruction "
                    "comparisons, the weights summed four slots per load",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s19_warp_team,
                    "decode sizes: one CTA of eight warps per token, exact keys, the bound from each warp's best few, "
                    "the candidates ranked by the CTA",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; T < 2^31; PDL",
                    true),
      MOEGATE_STAGE(s20_sorted_rounds,
                    "decode sizes, few experts: one warp per token, exact keys sorted in each lane, k rounds of one "
                    "reduction are the selection (no bound, no candidates; maxima tied across lanes: s05's path)",
                    "E <= 384, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s20b_approximate_reciprocal,
                    "ablation: s20 with the sigmoid's reciprocal by rcp.approx (within 1 ulp) instead of IEEE "
                    "division",
                    "E <= 384, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s21_counted_bound,
                    "s18 with the bound found by counting: list entries at or above a few probed values (ballots, "
                    "interpolated on the counts) instead of k rounds of popping the lists' heads",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
      MOEGATE_STAGE(s22_constant_trips,
                    "s18 with no run-time trip count in the tail: the bound's rounds compiled for k = 16 and 22 "
                    "(E > 384), the weights summed over a fixed number of slots, 8 CTAs per SM at every width",
                    "E <= 1024, k <= 32, no groups; f32/bf16/f16 logits and bias; any stride; PDL", true),
  };
  return table;
}

}  // namespace

#undef MOEGATE_STAGE

const std::deque<Stage>& stages() { return registry(); }

void register_stage(Stage stage) {
  if (find_stage(stage.id) != nullptr)
    throw std::invalid_argument("a stage named '" + std::string(stage.id) + "' is already registered");
  registry().push_back(std::move(stage));
}

const Stage* find_stage(std::string_view id) {
  for (const Stage& stage : stages())
    if (stage.id == id) return &stage;
  return nullptr;
}

// The fastest stage measured for the shape (docs/stages.md, "Default
// dispatch"; NVIDIA H100, commit f02a37c for s00-s08, s09 measured beside
// s04 and s08 in the same runs, s10 beside s07; on an NVIDIA H200 s12 beside
// s09 at 638e0fd, s13 beside s10 at 7aa2d66, s14 beside s12 at 022bd88,
// all of them in one run at f51b56b): for ungrouped shapes with k <= 16
// (the candidate bound is too loose above), s14 up to 16 tokens for
// 64 <= E (below, its upper half-warp may hold too few values for its
// bound), s12 up to 8192 tokens (at every T for E <= 256, where it leads
// s09 throughout) and s09 above, and s09 for E > 512 (s17, now s18, takes some
// of these shapes since ae4465c: the last sentences below; at
// E = 1024 one warp per token holding 32 values per lane loses to s09: 3.66
// against s14's 3.99 us at T = 1, 133.6 against s12's 182.2 at 65536); s15
// for the grouped shapes it takes, at every T (s13 leads it by 0.04 us at
// T <= 128 only on inputs whose cuts all settle: a token whose cut does not
// costs s13 about 1.1 us, and with 0.8 % of such tokens s13's expected time
// is s15's from about T = 5); otherwise s07 from 2048
// tokens, s05 below; s00 for what nothing else takes. Ungrouped with
// E > 512 and k <= 16: s17 above 256 tokens (H200, ae4465c, the run behind
// docs/results.md: E = 1024, k = 16, 6.35 / 13.77 / 117.6 us at T = 512 /
// 4096 / 65536 against s09's 14.96 (whose bound overflowed on one of the
// first 512 tokens) / 21.55 / 132.1; E = 896, 125.8 against 143.5 at 65536),
// and at k = 16, E >= 512 from 4096 tokens (E = 512: 10.65 / 77.5 us against
// s09's 13.33 / 79.8). Ungrouped with k > 16: s17 (E = 512, k = 22: 87.6
// against s16's 130.4 us at 65536; E = 1024, k = 32: 6.01 / 170.8 against
// 6.71 / 331.0 at T = 1 / 65536), and s16 up to 512 tokens for E <= 512
// (4.53 against s17's 4.71 us at T = 1). s18 has taken s17's place in each
// of these rules, and s16's at k > 16 (H200, 331a172, the run behind
// docs/results.md: E = 512, k = 22, 4.39 / 4.57 / 5.34 / 81.0 us at T = 1 /
// 64 / 512 / 65536 against s16's 4.54 / 4.61 / 5.35 / 130.3 and s17's
// 4.59 / 4.78 / 5.54 / 86.2; E = 1024, k = 16, 111.0 against s17's 115.6
// at 65536; docs/stages.md, "s18"). Since e558c49 (H200, the run behind
// docs/results.md; docs/stages.md, "s22"): s22 takes the lists' shapes at
// E <= 512 from 257 tokens and above 4096 tokens at E > 512 (E = 512,
// k = 22, 4.28 / 8.13 / 73.3 us at T = 512 / 4096 / 65536 against s18's
// 4.50 / 8.62 / 80.1; k = 16, 4.01 / 7.75 / 66.5, where s12 took 257 to
// 4095 tokens before and s18 now runs 4.22 / 8.11 / 72.7; E = 1024, k = 32,
// 134.2 against 150.0 at 65536), s18 keeps E > 512 from 257 to 4096 tokens
// (E = 1024, k = 16, 4.72 / 11.56 against s22's 4.79 / 12.24 at 512 /
// 4096; s21 within 1 % of s18 there), and s19 stops at 256 tokens for every
// E >= 512 (at 512 tokens E = 1024, k = 32, s19 6.20 against s18's 5.73;
// E = 896, k = 16, 5.41 against 4.57; E = 1024, k = 16, 5.36 against 4.72).
// Before all of these, for the wide
// shapes at decode sizes (k >= 16): s19 for E >= 512 up to 256 tokens and
// for E > 512 up to 512 (H200, commit 7f1b94e, the run behind
// docs/results.md; docs/stages.md "s19": E = 1024, k = 32, 3.17 / 6.51 us
// at T = 1 / 512 against s18's 5.67 / 7.32; E = 1024, k = 16, 3.53 / 4.45
// at 64 / 256 tokens against s09's 4.12 / 4.75; E = 512, k = 22, 3.82
// against s18's 4.67 at 256 tokens but 5.53 against 5.35 at 512; E = 512,
// k = 16, 4.59 against s12's 4.40 at 512). E >= 512 with k < 16 was not
// measured. Below E = 512 s19 was measured on kimi-k2 (ahead of s14 by
// 0.01-0.05 us up to 16 tokens), mimo-v2-flash (mixed) and GLM-4.5 (behind
// s14 and s12 at every T): the rules below keep those shapes. With PDL
// requested only stages that support it count (s22, s21, s19, s18, s17,
// s16, s15, s14, s12, s09, s07, s05 and s00 do).
const Stage& default_stage(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                           const LaunchOptions& options) {
  const auto fits = [&](const char* id) { return find_stage(id)->refusal(config, logits, bias).empty(); };
  // Wide shapes at decode sizes (k >= 16, as measured): s19's CTA per token, E >= 512 up to 256
  // tokens (up to 512 at E > 512 before e558c49, when the lists' stages overtook it there).
  const bool warp_team_pays = config.experts >= 512 && config.topk >= 16 && logits.tokens <= 256;
  if (warp_team_pays && fits("s19_warp_team")) return *find_stage("s19_warp_team");
  // Few experts (E <= 160: five values a lane), k <= 8, up to 512 tokens: s20's sorted lanes
  // (GLM-4.5 on H200, stage_bench, results run at 60e044b: 2.17 / 2.26 / 2.59 us at T = 1 / 64 /
  // 512 against s14's 2.43 / 2.70 / 2.77 and s12's 2.51 / 2.70 / 2.82; from 4096 tokens s12 is
  // faster, 4.69 against 7.24). Below E = 64 not measured: fewer values a lane only shorten the sort.
  const bool sorted_rounds_pay = config.experts <= 160 && config.topk <= 8 && logits.tokens <= 512;
  if (sorted_rounds_pay && fits("s20_sorted_rounds")) return *find_stage("s20_sorted_rounds");
  const bool decode_warps_pay = config.topk <= 16 && config.experts <= 512;
  if (decode_warps_pay && config.experts >= 64 && logits.tokens <= 16 && fits("s14_decode_short_chain"))
    return *find_stage("s14_decode_short_chain");
  // E > 512, k <= 16 above 256 tokens: one value per lane in s09's bound overflows the warp for
  // ~0.14 % of tokens (simulated), each costing s09 ~10 us on one warp (s16's and s17's lists never
  // did); and at k = 16, E = 512 above 256 tokens s22's lean token outruns s09's and s12's.
  const bool lean_lists_pay = config.topk <= 16 && logits.tokens > 256 &&
                              (config.experts > 512 || (config.topk == 16 && config.experts >= 512));
  // The lists' stage: s18 for E > 512 up to 4096 tokens (its 4 CTAs per SM), s22 otherwise.
  const char* const lists = config.experts > 512 && logits.tokens <= 4096 ? "s18_short_tail" : "s22_constant_trips";
  if (lean_lists_pay && fits(lists)) return *find_stage(lists);
  if (decode_warps_pay && (logits.tokens <= 8192 || config.experts <= 256) && fits("s12_decode_warps"))
    return *find_stage("s12_decode_warps");
  if (config.topk <= 16 && fits("s09_streaming_warps")) return *find_stage("s09_streaming_warps");
  if (fits(lists)) return *find_stage(lists);
  if (fits("s15_grouped_tight_scores")) return *find_stage("s15_grouped_tight_scores");
  if (logits.tokens >= 2048 && fits("s07_reloaded_scores")) return *find_stage("s07_reloaded_scores");
  if (fits("s05_warp_registers")) return *find_stage("s05_warp_registers");
  const Stage& seed = *find_stage("s04_seed_dispatch");
  if (!options.programmatic_dependent_launch && seed.refusal(config, logits, bias).empty()) return seed;
  return *find_stage("s00_naive");
}

namespace {

void launch_checked(const Stage& stage, const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                    const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  require_valid(config, logits, bias, output);
  const std::string why = stage.refusal(config, logits, bias);
  if (!why.empty())
    throw std::invalid_argument(std::string(stage.id) + " cannot route this: " + why + " (it supports " +
                                std::string(stage.supports) + ")");
  if (options.programmatic_dependent_launch && !stage.programmatic_launch) {
    std::string capable;
    for (const Stage& s : stages())
      if (s.programmatic_launch) capable += (capable.empty() ? "" : ", ") + std::string(s.id);
    throw std::invalid_argument(std::string(stage.id) + " does not support programmatic dependent launch (stages that do: " +
                                capable + ")");
  }
  if (logits.tokens == 0) return;
  stage.launch(config, logits, bias, output, stream, options);
}

}  // namespace

void route(std::string_view stage_id, const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
           const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  const Stage* stage = find_stage(stage_id);
  if (stage == nullptr) {
    std::string known;
    for (const Stage& s : stages()) known += (known.empty() ? "" : ", ") + std::string(s.id);
    throw std::invalid_argument("unknown stage '" + std::string(stage_id) + "' (stages: " + known + ")");
  }
  launch_checked(*stage, config, logits, bias, output, stream, options);
}

void route(const RouterConfig& config, const LogitsView& logits, const BiasView& bias, const OutputView& output,
           cudaStream_t stream, const LaunchOptions& options) {
  require_valid(config, logits, bias, output);
  launch_checked(default_stage(config, logits, bias, options), config, logits, bias, output, stream, options);
}

reference::RouteResult route_host(std::string_view stage_id, const RouterConfig& config,
                                  const RouterInputs& inputs) {
  detail::DeviceRun run(inputs, config.topk);
  return run.run(stage_id, config);
}

}  // namespace moegate::cuda
