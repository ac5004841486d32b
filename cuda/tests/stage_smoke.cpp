// Every registered stage once at its boundary shapes (T = 1, 2, 513, and
// 8193 for kimi-k2 and deepseek-v3; the smallest and largest E it takes;
// grouped where it can; wide top-k, E = 1024 and k = 32, on normal inputs,
// where s16 ranks two candidates per lane; an external kernel's shapes fitted to its declared
// support, and a stage that takes none of them fails), judged by the
// comparator. Small on purpose: scripts/gpu-check runs it under each
// compute-sanitizer tool, which slows kernels down a hundredfold.
// Prints one line per stage; exit 1 on any failure, 2 without a GPU.
// `stage_smoke STAGE...` runs only the named stages (a sanitizer pass over a
// new stage without the whole ladder's time).
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "moegate/comparator.hpp"
#include "moegate/cuda.hpp"
#include "moegate/presets.hpp"
#include "stage_suite.hpp"

int main(int argc, char** argv) {
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
  RouterConfig wide;
  wide.experts = 1024;
  wide.topk = 32;
  configs.push_back(wide);
  int failures = 0;
  const std::vector<std::string_view> only(argv + 1, argv + argc);
  for (const cuda::Stage& stage : cuda::stages()) {
    if (!only.empty() && std::find(only.begin(), only.end(), stage.id) == only.end()) continue;
    int judged = 0, failed = 0;
    for (const RouterConfig& config : configs)
      for (std::int64_t tokens : {1, 2, 513, 8193}) {
        // Persistent warps loop over tokens: one ungrouped and one grouped shape.
        if (tokens == 8193 && config.experts != 384 && config.groups == 1) continue;
        RouterCase c{config, InputSpec{}};
        c.spec.experts = config.experts;
        c.spec.tokens = tokens;
        // Extreme inputs send most tokens down the exact paths; the wide shape's normal ones fill the filters.
        c.spec.use(config.topk == 32 ? Distribution::normal : Distribution::extremes);
        c.spec.seed = static_cast<std::uint64_t>(tokens);
        // An external kernel gets the shape fitted to what it declares (docs/adapter.md).
        if (stage.external != nullptr) c = cuda::fit_to(stage, c);
        const RouterInputs inputs = make_inputs(c.spec);
        if (!stage.refusal(c.config, inputs.logits(), inputs.bias()).empty()) continue;
        const auto result = cuda::route_host(stage.id, c.config, inputs);
        const Verdict verdict = compare(c.config, inputs.logits(), inputs.bias(),
                                        CandidateView{result.weights.data(), result.ids.data()});
        ++judged;
        if (!verdict.passed()) {
          ++failed;
          std::printf("%s", verdict.report().c_str());
        }
      }
    std::printf("%-28s %2d shapes, %d failed\n", std::string(stage.id).c_str(), judged, failed);
    failures += failed;
    if (judged == 0) {
      std::printf("%s took none of the shapes: not exercised, which counts as a failure\n", std::string(stage.id).c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
