// Programmatic dependent launch: a producer kernel (standing in for the
// router GEMM) lets its dependents start at once, then spins before it
// writes the logits. A gate launched right behind it with PDL may already be
// running; it must wait (griddepcontrol.wait) and route the final logits.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "../detail/device_buffer.hpp"
#include "moegate/comparator.hpp"
#include "moegate/presets.hpp"
#include "require_device.hpp"

namespace moegate::cuda {
namespace {

__global__ void slow_producer(float* logits, const float* source, std::int64_t count, long long spin_cycles) {
  asm volatile("griddepcontrol.launch_dependents;");
  const long long start = clock64();
  while (clock64() - start < spin_cycles) {
  }
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    logits[i] = source[i];
}

void route_behind_producer(std::string_view stage, const char* preset) {
  const RouterConfig config = find_preset(preset)->config;
  InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = 4096;
  spec.seed = 21;
  const RouterInputs inputs = make_inputs(spec);
  const auto count = static_cast<std::size_t>(spec.tokens * spec.experts);
  std::vector<float> source(count), poison(count, std::numeric_limits<float>::quiet_NaN());
  std::memcpy(source.data(), inputs.logits_bytes.data(), count * sizeof(float));
  detail::DeviceBuffer<float> source_device(count), logits(count), bias(static_cast<std::size_t>(spec.experts)),
      weights(static_cast<std::size_t>(spec.tokens * config.topk));
  detail::DeviceBuffer<std::int32_t> ids(static_cast<std::size_t>(spec.tokens * config.topk));
  source_device.upload(source);
  logits.upload(poison);
  std::vector<float> bias_host(static_cast<std::size_t>(spec.experts));
  std::memcpy(bias_host.data(), inputs.bias_bytes.data(), bias_host.size() * sizeof(float));
  bias.upload(bias_host);
  cudaStream_t stream;
  MOEGATE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  slow_producer<<<264, 256, 0, stream>>>(logits.data(), source_device.data(), static_cast<std::int64_t>(count), 200000);
  MOEGATE_CUDA_CHECK(cudaGetLastError());
  const LogitsView view{logits.data(), DType::f32, spec.tokens, spec.experts};
  const LaunchOptions pdl{true};
  if (stage.empty()) route(config, view, BiasView{bias.data(), DType::f32}, {weights.data(), ids.data()}, stream, pdl);
  else route(stage, config, view, BiasView{bias.data(), DType::f32}, {weights.data(), ids.data()}, stream, pdl);
  MOEGATE_CUDA_CHECK(cudaStreamSynchronize(stream));
  MOEGATE_CUDA_CHECK(cudaStreamDestroy(stream));
  const std::vector<float> w = weights.download();
  const std::vector<std::int32_t> i = ids.download();
  const Verdict verdict = compare(config, inputs.logits(), inputs.bias(), CandidateView{w.data(), i.data()});
  EXPECT_TRUE(verdict.passed()) << (stage.empty() ? "default" : stage) << "\n" << verdict.report();
}

TEST(ProgrammaticDependentLaunch, EveryCapableStageWaitsForTheProducer) {
  MOEGATE_REQUIRE_DEVICE();
  int capable = 0;
  alignas(16) static const float probe[4] = {};
  for (const Stage& stage : stages()) {
    if (!stage.programmatic_launch) continue;
    ++capable;
    // kimi-k2, or DeepSeek V3 for the stages that take only grouped shapes.
    const bool ungrouped = stage.refusal(find_preset("kimi-k2")->config, LogitsView{probe, DType::f32, 1, 384},
                                         BiasView{probe, DType::f32}).empty();
    route_behind_producer(stage.id, ungrouped ? "kimi-k2" : "deepseek-v3");
  }
  route_behind_producer("", "kimi-k2");  // the default dispatch picks a capable stage
  route_behind_producer("", "deepseek-v3");
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
