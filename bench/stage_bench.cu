// The stage ladder side by side on the GPU (benchmarks measure; tests never
// assert a time). Every registered stage x preset x T x logit dtype it
// supports, in two launch modes:
//   graph  — 50 calls captured in one CUDA graph, replayed; per-call time.
//            The headline number, as in ../shared/anchors.md.
//   stream — 50 back-to-back launches on a stream (host launch cost included).
// and two cache states:
//   cold   — the 50 calls rotate over enough copies of the inputs to cover
//            4x the L2 cache, so no call finds its logits cached;
//   hot    — every call reads the same buffers (T <= 1024 only): what a
//            serving engine sees right after the router GEMM.
// CUDA events are created once per benchmark. Inputs: normal logits and
// bias, seed 1, the same for every stage. The run first measures the card's
// device-to-device copy bandwidth (bytes read + written) and an empty
// kernel's per-launch time in a graph; both go into the JSON context, and
// every case reports us_per_call, bytes_per_call, GB/s and % of copy.
// Beside the stages, "floor_memory" (memory_floor.cuh): s09's loads and
// grid with no routing, the floor any gate kernel of that shape stands on;
// and "floor_latency" (latency_floor.cuh): one memory round trip behind the
// launch, the decode-size floor.
// Without a GPU it prints a skip line and exits 0.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "../cuda/detail/device_buffer.hpp"
#include "event_timer.hpp"
#include "latency_floor.cuh"
#include "memory_floor.cuh"
#include "moegate/cuda.hpp"
#include "moegate/presets.hpp"

namespace {

using namespace moegate;
using bench::EventTimer;
using cuda::detail::DeviceBuffer;

constexpr int calls_per_sample = 50;

struct Machine {
  cuda::DeviceInfo info;
  int l2_bytes = 0;
  int clock_khz = 0;
  int memory_clock_khz = 0;
  double copy_gbps = 0.0;
  double empty_launch_us = 0.0;
};

Machine machine;

__global__ void empty_kernel() {}

void measure_machine() {
  machine.info = *cuda::device_info(0);
  cudaDeviceGetAttribute(&machine.l2_bytes, cudaDevAttrL2CacheSize, 0);
  cudaDeviceGetAttribute(&machine.clock_khz, cudaDevAttrClockRate, 0);
  cudaDeviceGetAttribute(&machine.memory_clock_khz, cudaDevAttrMemoryClockRate, 0);
  cudaStream_t stream;
  MOEGATE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  constexpr std::size_t copy_bytes = std::size_t{1} << 30;
  DeviceBuffer<std::uint8_t> from(copy_bytes), to(copy_bytes);
  MOEGATE_CUDA_CHECK(cudaMemsetAsync(from.data(), 1, copy_bytes, stream));
  EventTimer timer;
  const double copy_ms = timer.best_ms(stream, 20, [&] {
    MOEGATE_CUDA_CHECK(cudaMemcpyAsync(to.data(), from.data(), copy_bytes, cudaMemcpyDeviceToDevice, stream));
  });
  machine.copy_gbps = 2.0 * copy_bytes / (copy_ms * 1e-3) / 1e9;
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  MOEGATE_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < calls_per_sample; ++i) empty_kernel<<<1, 32, 0, stream>>>();
  MOEGATE_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  MOEGATE_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  const double graph_ms = timer.best_ms(stream, 20, [&] { MOEGATE_CUDA_CHECK(cudaGraphLaunch(exec, stream)); });
  machine.empty_launch_us = graph_ms * 1e3 / calls_per_sample;
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

// A benchmarked shape: a preset (or a named wide config), dtype, tokens, cache state.
struct Shape {
  std::string label;
  RouterConfig config;
  DType dtype;
  std::int64_t tokens;
  bool cold;
  bool operator<(const Shape& o) const {
    return std::tie(label, dtype, tokens, cold) < std::tie(o.label, o.dtype, o.tokens, o.cold);
  }
};

// Device copies of one shape's inputs (several when cold), kept until the
// next shape is asked for: benchmarks are registered shape by shape.
struct DeviceInputs {
  RouterConfig config;
  RouterInputs host;
  std::vector<DeviceBuffer<std::uint8_t>> logits;
  DeviceBuffer<std::uint8_t> bias;
  DeviceBuffer<float> weights;
  DeviceBuffer<std::int32_t> ids;
  std::int64_t bytes_per_call = 0;

  DeviceInputs(const Shape& shape)
      : config(shape.config), host(make_inputs([&] {
          InputSpec spec;
          spec.experts = config.experts;
          spec.tokens = shape.tokens;
          spec.logits_dtype = shape.dtype;
          spec.seed = 1;
          return spec;
        }())),
        bias(host.bias_bytes.size()),
        weights(static_cast<std::size_t>(shape.tokens * config.topk)),
        ids(static_cast<std::size_t>(shape.tokens * config.topk)) {
    const auto logits_bytes = static_cast<double>(host.logits_bytes.size());
    const int copies = shape.cold ? static_cast<int>(std::clamp(std::ceil(4.0 * machine.l2_bytes / logits_bytes), 1.0, 64.0)) : 1;
    for (int c = 0; c < copies; ++c) {
      logits.emplace_back(host.logits_bytes.size());
      logits.back().upload(host.logits_bytes);
    }
    bias.upload(host.bias_bytes);
    bytes_per_call = static_cast<std::int64_t>(host.logits_bytes.size() + host.bias_bytes.size()) +
                     shape.tokens * config.topk * 8;
  }

  LogitsView logits_view(int call) const {
    const auto& buffer = logits[static_cast<std::size_t>(call) % logits.size()];
    return {buffer.data(), host.spec.logits_dtype, host.spec.tokens, host.spec.row_stride};
  }
  BiasView bias_view() const { return {bias.data(), host.spec.bias_dtype}; }
  OutputView output() const { return {weights.data(), ids.data()}; }
};

std::shared_ptr<DeviceInputs> inputs_for(const Shape& shape) {
  static Shape current{};
  static std::shared_ptr<DeviceInputs> held;
  if (!held || current < shape || shape < current) {
    held.reset();
    held = std::make_shared<DeviceInputs>(shape);
    current = shape;
  }
  return held;
}

// The instruments timed beside the stages (no routing, not in the registry).
enum class Floor { none, memory, latency };

// One call of what a benchmark times: a registered stage, or a floor
// (memory_floor.cuh, latency_floor.cuh).
void enqueue_call(const cuda::Stage* stage, Floor floor, const DeviceInputs& inputs, int call, cudaStream_t stream) {
  const LogitsView logits = inputs.logits_view(call);
  if (stage) cuda::route(stage->id, inputs.config, logits, inputs.bias_view(), inputs.output(), stream);
  else if (floor == Floor::memory)
    bench::launch_memory_floor(inputs.config, logits, inputs.bias_view(), inputs.output(), stream);
  else bench::launch_latency_floor(inputs.config, logits, inputs.bias_view(), inputs.output(), stream);
}

void run_case(benchmark::State& state, const cuda::Stage* stage, Floor floor, Shape shape, bool graph_mode) {
  const auto inputs = inputs_for(shape);
  cudaStream_t stream;
  MOEGATE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  EventTimer timer;
  const auto enqueue_calls = [&] {
    for (int call = 0; call < calls_per_sample; ++call) enqueue_call(stage, floor, *inputs, call, stream);
  };
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  if (graph_mode) {
    MOEGATE_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    enqueue_calls();
    MOEGATE_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    MOEGATE_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  }
  const auto sample = [&] {
    if (graph_mode) MOEGATE_CUDA_CHECK(cudaGraphLaunch(exec, stream));
    else enqueue_calls();
  };
  sample();  // warm-up
  MOEGATE_CUDA_CHECK(cudaStreamSynchronize(stream));
  double total_seconds = 0.0;
  for (auto _ : state) {
    const double seconds = timer.ms(stream, sample) * 1e-3;
    state.SetIterationTime(seconds);
    total_seconds += seconds;
  }
  const double calls = static_cast<double>(state.iterations()) * calls_per_sample;
  const double us = total_seconds / calls * 1e6;
  const double gbps = static_cast<double>(inputs->bytes_per_call) / (us * 1e-6) / 1e9;
  state.counters["us_per_call"] = us;
  state.counters["bytes_per_call"] = static_cast<double>(inputs->bytes_per_call);
  state.counters["GBps"] = gbps;
  state.counters["pct_of_copy"] = 100.0 * gbps / machine.copy_gbps;
  state.counters["tokens"] = static_cast<double>(shape.tokens);
  if (exec) cudaGraphExecDestroy(exec);
  if (graph) cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

void register_case(std::string_view stage_id, const cuda::Stage* stage, Floor floor, const Shape& shape,
                   bool graph_mode) {
  const std::string name = std::string(stage_id) + "/" + shape.label + "/" + std::string(dtype_name(shape.dtype)) +
                           "/T:" + std::to_string(shape.tokens) + "/" + (graph_mode ? "graph" : "stream") + "/" +
                           (shape.cold ? "cold" : "hot");
  benchmark::RegisterBenchmark(name.c_str(), run_case, stage, floor, shape, graph_mode)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(0.02);
}

// Every stage that takes the shape; the two floors beside them (graph
// replay only) where with_floor.
void register_shape(const Shape& shape, bool with_stream_mode, bool with_floor) {
  alignas(256) static const float probe[4] = {};
  for (const cuda::Stage& stage : cuda::stages()) {
    const LogitsView logits{probe, shape.dtype, shape.tokens, shape.config.experts};
    if (!stage.refusal(shape.config, logits, BiasView{probe, DType::f32}).empty()) continue;
    for (bool graph_mode : {true, false}) {
      if (!graph_mode && (!shape.cold || !with_stream_mode)) continue;
      register_case(stage.id, &stage, Floor::none, shape, graph_mode);
    }
  }
  if (with_floor && shape.config.experts <= 1024) {
    register_case("floor_memory", nullptr, Floor::memory, shape, true);
    register_case("floor_latency", nullptr, Floor::latency, shape, true);
  }
}

RouterConfig wide_config(int experts, int topk) {
  RouterConfig config;
  config.experts = experts;
  config.topk = topk;
  config.apply_routed_scaling_factor_on_output = true;
  return config;
}

void register_all() {
  const char* main_presets[] = {"kimi-k2", "mimo-v2-flash", "deepseek-v3", "kimi384", "mimo256"};
  const std::int64_t token_counts[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 513, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
  for (const char* preset : main_presets)
    for (DType dtype : all_dtypes)
      for (std::int64_t tokens : token_counts)
        for (bool cold : {true, false}) {
          if (!cold && tokens > 1024) continue;
          // bf16/f16 logits for one preset: enough to compare dtypes, half the run time.
          if (dtype != DType::f32 && std::string_view(preset) != "kimi-k2") continue;
          register_shape({preset, find_preset(preset)->config, dtype, tokens, cold}, true, true);
        }
  // Issue #16's shapes at decode and prefill sizes: wide top-k (the wider shapes of
  // ../shared/anchors.md, E = 896 for Kimi K3) and GLM-4.5's 160 experts.
  // 128 and 256 locate where s19's CTA per token hands over to the one-warp stages.
  const std::int64_t issue16_tokens[] = {1, 64, 128, 256, 512, 4096, 65536};
  for (std::int64_t tokens : issue16_tokens)
    register_shape({"glm-4.5", find_preset("glm-4.5")->config, DType::f32, tokens, true}, false, true);
  // T = 1 latency for every other preset.
  for (const Preset& preset : presets()) {
    bool listed = preset.name == "glm-4.5";
    for (const char* name : main_presets) listed = listed || preset.name == name;
    if (!listed) register_shape({std::string(preset.name), preset.config, DType::f32, 1, true}, false, false);
  }
  const std::pair<int, int> wide[] = {{512, 16}, {512, 22}, {896, 16}, {1024, 16}, {1024, 32}};
  for (auto [experts, topk] : wide)
    for (std::int64_t tokens : issue16_tokens)
      register_shape({"wide-" + std::to_string(experts) + "-k" + std::to_string(topk), wide_config(experts, topk),
                      DType::f32, tokens, true},
                     false, true);
}

}  // namespace

int main(int argc, char** argv) {
  if (cuda::device_count() == 0) {
    std::printf("stage_bench: skipped: no CUDA device (%s); the CPU reference benchmarks are in reference_bench\n",
                cuda::version_string().c_str());
    return 0;
  }
  measure_machine();
  const char* commit = std::getenv("MOEGATE_COMMIT");
  benchmark::AddCustomContext("card", machine.info.name);
  benchmark::AddCustomContext("sm_count", std::to_string(machine.info.sm_count));
  benchmark::AddCustomContext("sm_clock_mhz", std::to_string(machine.clock_khz / 1000));
  benchmark::AddCustomContext("memory_clock_mhz", std::to_string(machine.memory_clock_khz / 1000));
  benchmark::AddCustomContext("l2_bytes", std::to_string(machine.l2_bytes));
  benchmark::AddCustomContext("cuda", cuda::version_string());
  benchmark::AddCustomContext("commit", commit ? commit : "unknown");
  benchmark::AddCustomContext("copy_gbps", std::to_string(machine.copy_gbps));
  benchmark::AddCustomContext("empty_launch_us_in_graph", std::to_string(machine.empty_launch_us));
  benchmark::AddCustomContext("calls_per_sample", std::to_string(calls_per_sample));
  std::printf("card %s: copy %.1f GB/s (read + written), empty kernel %.2f us per launch in a graph\n",
              machine.info.name.c_str(), machine.copy_gbps, machine.empty_launch_us);
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
