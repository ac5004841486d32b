// The stage ladder on the GPU, judged by the comparator: every registered
// stage over a deterministic sweep of its supported shapes and over random
// RapidCheck cases, plus determinism, concurrency and the registry's
// refusals. GPU tests skip visibly without a GPU (MOEGATE_REQUIRE_GPU=1:
// fail instead).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstring>

#include "../../property_tests/generators.hpp"
#include "../detail/device_run.hpp"
#include "require_device.hpp"
#include "stage_suite.hpp"
#include "moegate/case.hpp"
#include "moegate/comparator.hpp"
#include "moegate/presets.hpp"
#include "moegate/suite.hpp"

namespace moegate::cuda {
namespace {

using detail::DeviceRun;

class EveryStage : public ::testing::TestWithParam<std::string_view> {};

TEST_P(EveryStage, MeetsTheContractOnTheSweep) {
  MOEGATE_REQUIRE_DEVICE();
  const Stage& stage = *find_stage(GetParam());
  int judged = 0, failed = 0;
  for (const RouterCase& c : sweep_for(stage)) {
    if (!supported(stage, c)) continue;
    ++judged;
    const std::string report = judge(stage.id, c);
    if (!report.empty() && ++failed <= 3) ADD_FAILURE() << report;
  }
  EXPECT_EQ(failed, 0) << failed << " of " << judged << " sweep cases failed";
  EXPECT_GT(judged, 0);
  std::printf("%s: %d sweep cases judged, %d failed\n", std::string(stage.id).c_str(), judged, failed);
}

TEST_P(EveryStage, MeetsTheContractOnRandomCases) {
  MOEGATE_REQUIRE_DEVICE();
  const std::string stage(GetParam());
  const bool passed = rc::check("stage " + stage + " meets the contract", [&stage](const RouterCase& generated) {
    const RouterCase c = fit_to(*find_stage(stage), generated);
    RC_PRE(supported(*find_stage(stage), c));
    const std::string report = judge(stage, c);
    if (!report.empty()) RC_LOG() << report;
    RC_ASSERT(report.empty());
  });
  EXPECT_TRUE(passed);
}

// Every case kept in property_tests/regressions.txt (the reference's corners
// and the counterexamples GPU properties found), on every stage that takes it.
TEST_P(EveryStage, PassesTheKeptRegressions) {
  MOEGATE_REQUIRE_DEVICE();
  const Stage& stage = *find_stage(GetParam());
  int judged = 0;
  for (const RouterCase& kept : suite::kept_regressions()) {
    if (!supported(stage, kept)) continue;
    ++judged;
    EXPECT_EQ(judge(stage.id, kept), "");
  }
  std::printf("%s: %d kept cases judged\n", std::string(stage.id).c_str(), judged);
}

TEST_P(EveryStage, IsDeterministic) {
  MOEGATE_REQUIRE_DEVICE();
  const std::string stage(GetParam());
  RouterCase c{find_preset(grouped_only(stage) ? "deepseek-v3" : "kimi-k2")->config, InputSpec{}};
  c.spec.experts = c.config.experts;
  c.spec.tokens = 4099;
  c.spec.use(Distribution::extremes);
  c.spec.seed = 99;
  c = fit_to(*find_stage(stage), c);
  if (!supported(*find_stage(stage), c)) GTEST_SKIP() << stage << " takes no 4099-token case of this shape";
  const RouterInputs inputs = make_inputs(c.spec);
  DeviceRun run(inputs, c.config.topk);
  const auto first = run.run(stage, c.config);
  const auto second = run.run(stage, c.config);
  EXPECT_EQ(first.ids, second.ids);
  EXPECT_EQ(0, std::memcmp(first.weights.data(), second.weights.data(), first.weights.size() * sizeof(float)));
}

// Four streams of 65536 tokens each at once, launched and as graph replays,
// three times: a stage that shares state between calls (a static staging
// buffer, a workspace) mixes their results.
TEST_P(EveryStage, RoutesOverlappingStreamsLikeOne) {
  MOEGATE_REQUIRE_DEVICE();
  const WorkloadVerdict verdict = judge_overlapping_streams(*find_stage(GetParam()));
  if (!verdict.skipped.empty()) GTEST_SKIP() << verdict.skipped;
  EXPECT_EQ(verdict.failure, "");
}

// More than 2^31 logits in one call: a 32-bit element offset overflows.
TEST_P(EveryStage, RoutesPastInt32Logits) {
  MOEGATE_REQUIRE_DEVICE();
  const WorkloadVerdict verdict = judge_past_int32_logits(*find_stage(GetParam()));
  if (!verdict.skipped.empty()) GTEST_SKIP() << verdict.skipped;
  EXPECT_EQ(verdict.failure, "");
}

std::vector<std::string_view> stage_ids() {
  std::vector<std::string_view> ids;
  for (const Stage& stage : stages()) ids.push_back(stage.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Ladder, EveryStage, ::testing::ValuesIn(stage_ids()),
                         [](const ::testing::TestParamInfo<std::string_view>& param) { return std::string(param.param); });

// Group scores whose top two cancel: |c| ~ 2^23, so each c carries a whole
// unit of rounding while the sum is 1 (found by review of s10's first cheap
// cut, whose margin scaled with the sum and kept the wrong group). The
// contract's f32 answer is unique here; every stage that takes the shape must give exactly the
// reference's expert.
TEST(GroupCut, SettlesCancellingGroupScoresExactly) {
  MOEGATE_REQUIRE_DEVICE();
  RouterCase c{RouterConfig{}, InputSpec{}};
  c.config.experts = 128;
  c.config.groups = 32;
  c.config.kept_groups = 1;
  c.config.topk = 1;
  c.spec.experts = 128;
  c.spec.tokens = 1;
  RouterInputs inputs = make_inputs(c.spec);
  std::vector<float> logits(128, 0.0f), bias(128, -0x1p24f);
  const float group0_logits[4] = {20.0f, -20.0f, 0.0f, 0.0f}, group0_bias[4] = {0x1p23f, -0x1p23f, -0x1p24f, -0x1p24f};
  const float group1_logits[4] = {0.0f, -INFINITY, -INFINITY, -INFINITY}, group1_bias[4] = {0.0f, 0.0f, -1.0f, -1.0f};
  for (int i = 0; i < 4; ++i) {
    logits[i] = group0_logits[i], bias[i] = group0_bias[i];
    logits[4 + i] = group1_logits[i], bias[4 + i] = group1_bias[i];
  }
  std::memcpy(inputs.logits_bytes.data(), logits.data(), logits.size() * sizeof(float));
  std::memcpy(inputs.bias_bytes.data(), bias.data(), bias.size() * sizeof(float));
  const auto expected = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  ASSERT_EQ(expected.ids[0], 0);  // group 0 scores 1, group 1 scores 0.5
  DeviceRun run(inputs, c.config.topk);
  std::string judged;
  for (const Stage& stage : stages()) {
    if (!supported(stage, c)) continue;
    judged += " " + std::string(stage.id);
    EXPECT_EQ(run.run(stage.id, c.config).ids, expected.ids) << stage.id;
  }
  EXPECT_NE(judged.find("s10_grouped_streaming"), std::string::npos);
  EXPECT_NE(judged.find("s13_grouped_decode_warps"), std::string::npos);
  EXPECT_NE(judged.find("s15_grouped_tight_scores"), std::string::npos);
  std::printf("judged:%s\n", judged.c_str());
}

TEST(DefaultDispatch, PicksTheMeasuredFastestStage) {
  alignas(16) static const float probe[4] = {};
  const BiasView bias{probe, DType::f32};
  const RouterConfig kimi = find_preset("kimi-k2")->config;
  const RouterConfig mimo = find_preset("mimo256")->config;
  const RouterConfig deepseek = find_preset("deepseek-v3")->config;
  RouterConfig wide;
  wide.experts = 2048;
  wide.topk = 8;
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 1, 384}, bias).id, "s14_decode_short_chain");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 16, 384}, bias).id, "s14_decode_short_chain");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 17, 384}, bias).id, "s12_decode_warps");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 512, 384}, bias).id, "s12_decode_warps");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 4096, 384}, bias).id, "s12_decode_warps");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 8192, 384}, bias).id, "s12_decode_warps");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 8193, 384}, bias).id, "s09_streaming_warps");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::f32, 65536, 384}, bias).id, "s09_streaming_warps");
  EXPECT_EQ(default_stage(deepseek, LogitsView{probe, DType::f32, 65536, 256}, bias).id, "s15_grouped_tight_scores");
  EXPECT_EQ(default_stage(deepseek, LogitsView{probe, DType::f32, 65536, 258}, bias).id, "s07_reloaded_scores");
  EXPECT_EQ(default_stage(mimo, LogitsView{probe, DType::f32, 64, 256}, bias).id, "s12_decode_warps");
  EXPECT_EQ(default_stage(mimo, LogitsView{probe, DType::f32, 65536, 256}, bias).id, "s12_decode_warps");
  RouterConfig small = mimo;
  small.experts = 32;
  EXPECT_EQ(default_stage(small, LogitsView{probe, DType::f32, 1, 32}, bias).id, "s20_sorted_rounds");
  EXPECT_EQ(default_stage(deepseek, LogitsView{probe, DType::f32, 1, 256}, bias).id, "s15_grouped_tight_scores");
  EXPECT_EQ(default_stage(deepseek, LogitsView{probe, DType::f32, 4096, 256}, bias).id, "s15_grouped_tight_scores");
  EXPECT_EQ(default_stage(deepseek, LogitsView{probe, DType::f32, 4097, 256}, bias).id, "s15_grouped_tight_scores");
  EXPECT_EQ(default_stage(deepseek, LogitsView{probe, DType::f32, 1, 258}, bias).id, "s05_warp_registers");
  EXPECT_EQ(default_stage(kimi, LogitsView{probe, DType::bf16, 1, 384}, bias).id, "s14_decode_short_chain");
  EXPECT_EQ(default_stage(wide, LogitsView{probe, DType::f32, 1, 2048}, bias).id, "s00_naive");
  RouterConfig wide_k16;
  wide_k16.experts = 1024;
  wide_k16.topk = 16;
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 1, 1024}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 256, 1024}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 257, 1024}, bias).id, "s18_short_tail");
  RouterConfig wide_k8 = wide_k16;  // s19 was measured at k >= 16 only: k = 8 keeps the narrow rules
  wide_k8.topk = 8;
  EXPECT_EQ(default_stage(wide_k8, LogitsView{probe, DType::f32, 1, 1024}, bias).id, "s09_streaming_warps");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 4096, 1024}, bias).id, "s18_short_tail");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 4097, 1024}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 65536, 1024}, bias).id, "s22_constant_trips");
  wide_k16.experts = 512;
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 1, 512}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 256, 512}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 257, 512}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 4095, 512}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 4096, 512}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(wide_k16, LogitsView{probe, DType::f32, 65536, 512}, bias).id, "s22_constant_trips");
  RouterConfig wide_k32;
  wide_k32.experts = 1024;
  wide_k32.topk = 32;
  EXPECT_EQ(default_stage(wide_k32, LogitsView{probe, DType::f32, 65536, 1024}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(wide_k32, LogitsView{probe, DType::f32, 1, 1024}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(wide_k32, LogitsView{probe, DType::f32, 256, 1024}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(wide_k32, LogitsView{probe, DType::f32, 257, 1024}, bias).id, "s18_short_tail");
  EXPECT_EQ(default_stage(wide_k32, LogitsView{probe, DType::f32, 4096, 1024}, bias).id, "s18_short_tail");
  EXPECT_EQ(default_stage(wide_k32, LogitsView{probe, DType::f32, 4097, 1024}, bias).id, "s22_constant_trips");
  RouterConfig nemotron;
  nemotron.experts = 512;
  nemotron.topk = 22;
  EXPECT_EQ(default_stage(nemotron, LogitsView{probe, DType::f32, 1, 512}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(nemotron, LogitsView{probe, DType::f32, 256, 512}, bias).id, "s19_warp_team");
  EXPECT_EQ(default_stage(nemotron, LogitsView{probe, DType::f32, 257, 512}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(nemotron, LogitsView{probe, DType::f32, 512, 512}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(nemotron, LogitsView{probe, DType::f32, 513, 512}, bias).id, "s22_constant_trips");
  EXPECT_EQ(default_stage(nemotron, LogitsView{probe, DType::f32, 4096, 512}, bias).id, "s22_constant_trips");
  RouterConfig glm = find_preset("glm-4.5")->config;
  EXPECT_EQ(default_stage(glm, LogitsView{probe, DType::f32, 1, 160}, bias).id, "s20_sorted_rounds");
  EXPECT_EQ(default_stage(glm, LogitsView{probe, DType::f32, 512, 160}, bias).id, "s20_sorted_rounds");
  EXPECT_EQ(default_stage(glm, LogitsView{probe, DType::f32, 513, 160}, bias).id, "s12_decode_warps");
  EXPECT_EQ(default_stage(glm, LogitsView{probe, DType::f32, 65536, 160}, bias).id, "s12_decode_warps");
  // Grouped wide top-k stays with the group-cut stages (s16 to s19 take no groups).
  RouterConfig grouped_wide = deepseek;
  grouped_wide.topk = 22;
  EXPECT_EQ(default_stage(grouped_wide, LogitsView{probe, DType::f32, 1, 256}, bias).id, "s15_grouped_tight_scores");
}

TEST(DefaultDispatch, MeetsTheContract) {
  MOEGATE_REQUIRE_DEVICE();
  for (const char* name : {"kimi-k2", "deepseek-v3", "glm-4.5"})
    for (std::int64_t tokens : {1, 700}) {
      RouterCase c{find_preset(name)->config, InputSpec{}};
      c.spec.experts = c.config.experts;
      c.spec.tokens = tokens;
      c.spec.seed = 5;
      EXPECT_EQ(judge("", c), "") << name;
    }
}

TEST(Registry, ListsTheLadderInOrderThenTheExternalKernels) {
  std::vector<std::string_view> ids = stage_ids();
  // This build's external kernels follow the ladder (examples/adapter at least).
  const auto first_external = std::find_if(ids.begin(), ids.end(), [](std::string_view id) { return id.substr(0, 4) == "ext_"; });
  ASSERT_NE(first_external, ids.end());
  EXPECT_TRUE(std::all_of(first_external, ids.end(), [](std::string_view id) { return id.substr(0, 4) == "ext_"; }));
  EXPECT_NE(std::find(first_external, ids.end(), "ext_example_s09"), ids.end());
  ids.erase(first_external, ids.end());
  const std::vector<std::string_view> expected = {"s00_naive",         "s01_warp_lane_contiguous",
                                                  "s02_warp_bank_conflict_free", "s03_cta_per_token",
                                                  "s04_seed_dispatch", "s05_warp_registers",
                                                  "s06_lazy_lane_candidates", "s07_reloaded_scores",
                                                  "s08_approximate_filter", "s09_streaming_warps",
                                                  "s10_grouped_streaming", "s12_decode_warps",
                                                  "s13_grouped_decode_warps", "s14_decode_short_chain",
                                                  "s15_grouped_tight_scores", "s16_lane_lists",
                                                  "s17_lean_lists", "s18_short_tail", "s19_warp_team",
                                                  "s20_sorted_rounds", "s20b_approximate_reciprocal",
                                                  "s21_counted_bound", "s22_constant_trips"};
  EXPECT_EQ(ids, expected);
  for (const Stage& stage : stages()) {
    EXPECT_FALSE(stage.idea.empty());
    EXPECT_FALSE(stage.supports.empty());
  }
  EXPECT_EQ(find_stage("s99"), nullptr);
}

// Refusals happen before any launch, so these run without a GPU too.
TEST(Registry, RefusesBadInputBeforeLaunching) {
  alignas(16) static float buffer[1024] = {};
  static std::int32_t ids[64];
  RouterConfig config = find_preset("mimo256")->config;
  const LogitsView logits{buffer, DType::f32, 1, 256};
  const BiasView bias{buffer, DType::f32};
  const OutputView output{buffer, ids};
  const auto message = [&](std::string_view stage, const RouterConfig& c, const LogitsView& l, const BiasView& b,
                           const OutputView& o) -> std::string {
    try {
      route(stage, c, l, b, o, nullptr);
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "(launched)";
  };
  EXPECT_NE(message("s99", config, logits, bias, output).find("unknown stage 's99'"), std::string::npos);
  EXPECT_NE(message("s00_naive", config, LogitsView{nullptr, DType::f32, 1, 256}, bias, output).find("logits: null"),
            std::string::npos);
  EXPECT_NE(message("s00_naive", config, logits, bias, OutputView{nullptr, ids}).find("weights: null"), std::string::npos);
  EXPECT_NE(message("s00_naive", config, LogitsView{buffer, DType::f32, 1, 255}, bias, output).find("row_stride"),
            std::string::npos);
  RouterConfig bad = config;
  bad.topk = 0;
  EXPECT_NE(message("s00_naive", bad, logits, bias, output).find("topk"), std::string::npos);
  RouterConfig glm = find_preset("glm-4.5")->config;
  const std::string refusal = message("s02_warp_bank_conflict_free", glm, LogitsView{buffer, DType::f32, 1, 160}, bias, output);
  EXPECT_NE(refusal.find("experts must be 256 or 384"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("it supports"), std::string::npos) << refusal;
  EXPECT_NE(message("s01_warp_lane_contiguous", config, LogitsView{buffer + 1, DType::f32, 1, 256}, bias, output)
                .find("16-byte aligned"),
            std::string::npos);
  EXPECT_NE(message("s03_cta_per_token", config, LogitsView{buffer, DType::bf16, 1, 256}, bias, output).find("f32"),
            std::string::npos);
  config.topk = 9;
  EXPECT_NE(message("s04_seed_dispatch", config, logits, bias, output).find("topk must be <= 8"), std::string::npos);
  // The stages whose grid holds one CTA per token or per two (s19; s20, s12, s13, s14) or four (s05), with
  // no persistent loop, refuse what the grid cannot hold (by the refusal alone: nothing is read).
  RouterConfig one_expert;
  one_expert.experts = 1;
  const std::pair<const char*, std::int64_t> grids[] = {{"s19_warp_team", 1}, {"s20_sorted_rounds", 2},
                                                        {"s20b_approximate_reciprocal", 2}, {"s12_decode_warps", 2},
                                                        {"s14_decode_short_chain", 2}, {"s05_warp_registers", 4}};
  for (auto [id, per_cta] : grids) {
    const std::int64_t most = (std::int64_t{1} << 31) - 1;
    const std::string grid = find_stage(id)->refusal(one_expert, LogitsView{buffer, DType::f32, most * per_cta + 1, 1}, bias);
    EXPECT_NE(grid.find("the grid's 2^31 - 1 CTAs"), std::string::npos) << id << ": " << grid;
    EXPECT_EQ(find_stage(id)->refusal(one_expert, LogitsView{buffer, DType::f32, most * per_cta, 1}, bias), "") << id;
  }
  RouterConfig grouped_small = find_preset("deepseek-v3")->config;
  const std::int64_t most_pairs = ((std::int64_t{1} << 31) - 1) * 2;
  EXPECT_NE(find_stage("s13_grouped_decode_warps")
                ->refusal(grouped_small, LogitsView{buffer, DType::f32, most_pairs + 1, 256}, bias)
                .find("the grid's 2^31 - 1 CTAs"),
            std::string::npos);
  // s10's vector rows must fill a compiled bucket exactly: E = 640 would be read as 768 (found by review).
  RouterConfig grouped = find_preset("deepseek-v3")->config;
  grouped.experts = 640;
  grouped.groups = 5;
  grouped.kept_groups = 2;
  EXPECT_NE(message("s10_grouped_streaming", grouped, LogitsView{buffer, DType::f32, 1, 640}, bias, output)
                .find("must fill a compiled bucket"),
            std::string::npos);
  EXPECT_NE(message("s10_grouped_streaming", config, logits, bias, output).find("groups must be in [2, 32]"),
            std::string::npos);
}

}  // namespace
}  // namespace moegate::cuda
