// Speed of the CPU reference (benchmarks measure; tests never assert a time).
// Goal on the 2-core development machine: <= 2 ns per logit at T = 65536,
// E = 384, k = 8, f32 mode. bench/compare-numpy runs this beside numpy.
#include <benchmark/benchmark.h>

#include <omp.h>

#include "moegate/inputs.hpp"
#include "moegate/presets.hpp"
#include "moegate/reference.hpp"

namespace {

using namespace moegate;

void route(benchmark::State& state, const char* preset, DType dtype, bool oracle) {
  const RouterConfig config = find_preset(preset)->config;
  InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = state.range(0);
  spec.seed = 1;
  spec.logits_dtype = dtype;
  const RouterInputs inputs = make_inputs(spec);
  std::vector<float> weights(static_cast<std::size_t>(spec.tokens * config.topk));
  std::vector<std::int32_t> ids(weights.size());
  for (auto _ : state) {
    if (oracle) {
      benchmark::DoNotOptimize(reference::route_f64(config, inputs.logits(), inputs.bias()));
    } else {
      reference::route_f32(config, inputs.logits(), inputs.bias(), {weights.data(), ids.data()});
      benchmark::DoNotOptimize(ids.data());
    }
  }
  const double logits = static_cast<double>(spec.tokens) * config.experts;
  // A rate, inverted: seconds per logit (the console shows it as ns).
  state.counters["time_per_logit"] = benchmark::Counter(
      logits, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["threads"] = omp_get_max_threads();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * spec.tokens);
}

// The vectorised sigmoid alone (one thread), over the same logits: the share of
// route_f32's time (at OMP_NUM_THREADS=1) that the division and the FMA chain
// take, as against keys and selection (docs/perf.md, the Intel/AMD gap).
void f32_sigmoid_kimi_k2(benchmark::State& state) {
  InputSpec spec;
  spec.experts = find_preset("kimi-k2")->config.experts;
  spec.tokens = state.range(0);
  spec.seed = 1;
  const RouterInputs inputs = make_inputs(spec);
  const auto n = static_cast<std::int64_t>(spec.tokens) * spec.experts;
  const auto* logits = static_cast<const float*>(inputs.logits().data);
  std::vector<float> scores(static_cast<std::size_t>(n));
  for (auto _ : state) {
    reference::sigmoid_f32(logits, scores.data(), n);
    benchmark::DoNotOptimize(scores.data());
  }
  state.counters["time_per_logit"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["threads"] = 1;
}

void f32_kimi_k2(benchmark::State& state) { route(state, "kimi-k2", DType::f32, false); }
void bf16_kimi_k2(benchmark::State& state) { route(state, "kimi-k2", DType::bf16, false); }
void f32_deepseek_v3(benchmark::State& state) { route(state, "deepseek-v3", DType::f32, false); }
void f64_oracle_kimi_k2(benchmark::State& state) { route(state, "kimi-k2", DType::f32, true); }

BENCHMARK(f32_kimi_k2)->ArgName("tokens")->Arg(1)->Arg(512)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(f32_sigmoid_kimi_k2)->ArgName("tokens")->Arg(65536)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bf16_kimi_k2)->ArgName("tokens")->Arg(65536)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(f32_deepseek_v3)->ArgName("tokens")->Arg(65536)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(f64_oracle_kimi_k2)->ArgName("tokens")->Arg(65536)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
