// Every registered stage once at its boundary shapes (T = 1, 2, 513, and 8193 for kimi-k2 and deepseek-v3; the
// smallest and largest E it takes; grouped where it can), judged by the
// comparator. Small on purpose: scripts/gpu-check runs it under each
// compute-sanitizer tool, which slows kernels down a hundredfold.
// Prints one line per stage; exit 1 on any failure, 2 without a GPU.
#include <cstdio>

#include "moegate/comparator.hpp"
#include "moegate/cuda.hpp"
#include "moegate/presets.hpp"

int main() {
  using namespace moegate;
  if (cuda::device_count() == 0) {
    std::fprintf(stderr, "stage_smoke: no CUDA device (%s)\n", cuda::version_string().c_str());
    return 2;
  }
  std::vector<RouterConfig> configs;
  for (const char* name : {"kimi-k2", "mimo256", "deepseek-v3"}) configs.push_back(find_preset(name)->config);
  for (int experts : {1, 33}) {
    RouterConfig config;
    config.experts = experts;
    config.topk = 1;
    configs.push_back(config);
  }
  int failures = 0;
  for (const cuda::Stage& stage : cuda::stages()) {
    int judged = 0, failed = 0;
    for (const RouterConfig& config : configs)
      for (std::int64_t tokens : {1, 2, 513, 8193}) {
        // Persistent warps loop over tokens: one ungrouped and one grouped shape.
        if (tokens == 8193 && config.experts != 384 && config.groups == 1) continue;
        InputSpec spec;
        spec.experts = config.experts;
        spec.tokens = tokens;
        spec.use(Distribution::extremes);
        spec.seed = static_cast<std::uint64_t>(tokens);
        const RouterInputs inputs = make_inputs(spec);
        if (!stage.refusal(config, inputs.logits(), inputs.bias()).empty()) continue;
        const auto result = cuda::route_host(stage.id, config, inputs);
        const Verdict verdict = compare(config, inputs.logits(), inputs.bias(),
                                        CandidateView{result.weights.data(), result.ids.data()});
        ++judged;
        if (!verdict.passed()) {
          ++failed;
          std::printf("%s", verdict.report().c_str());
        }
      }
    std::printf("%-28s %2d shapes, %d failed\n", std::string(stage.id).c_str(), judged, failed);
    failures += failed;
  }
  return failures == 0 ? 0 : 1;
}
