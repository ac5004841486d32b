// Programmatic dependent launch: a producer kernel (standing in for the
// router GEMM) lets its dependents start at once, then spins before it
// writes the logits. A gate launched right behind it with PDL may already be
// running; it must wait (griddepcontrol.wait) and route the final logits.
// Every capable stage, external kernels that declare PDL included
// (stage_suite's judge_behind_producer).
#include <gtest/gtest.h>

#include "moegate/presets.hpp"
#include "require_device.hpp"
#include "stage_suite.hpp"

namespace moegate::cuda {
namespace {

TEST(ProgrammaticDependentLaunch, EveryCapableStageWaitsForTheProducer) {
  MOEGATE_REQUIRE_DEVICE();
  int capable = 0;
  for (const Stage& stage : stages()) {
    const WorkloadVerdict verdict = judge_behind_producer(stage);
    if (!stage.programmatic_launch) continue;
    ++capable;
    EXPECT_EQ(verdict.skipped, "") << stage.id;
    EXPECT_EQ(verdict.failure, "") << stage.id;
  }
  // The default dispatch picks a capable stage.
  for (const char* preset : {"kimi-k2", "deepseek-v3"}) {
    const WorkloadVerdict verdict = judge_behind_producer("", producer_case(preset));
    EXPECT_EQ(verdict.skipped, "") << preset;
    EXPECT_EQ(verdict.failure, "") << preset;
  }
  EXPECT_GE(capable, 3);
}

TEST(ProgrammaticDependentLaunch, IsRefusedByStagesWithoutIt) {
  alignas(16) static float buffer[512] = {};
  static std::int32_t ids[8];
  const RouterConfig config = find_preset("kimi-k2")->config;
  try {
    route("s02_warp_bank_conflict_free", config, LogitsView{buffer, DType::f32, 1, 384}, BiasView{buffer, DType::f32},
          OutputView{buffer, ids}, nullptr, LaunchOptions{true});
    FAIL() << "launched";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("does not support programmatic dependent launch"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("s05_warp_registers"), std::string::npos);
  }
  EXPECT_TRUE(default_stage(config, LogitsView{buffer, DType::f32, 1, 384}, BiasView{buffer, DType::f32},
                            LaunchOptions{true})
                  .programmatic_launch);
}

}  // namespace
}  // namespace moegate::cuda
