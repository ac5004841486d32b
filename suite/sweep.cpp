// The deterministic cases: the sweep and the kept regressions.
#include <algorithm>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "moegate/presets.hpp"
#include "moegate/suite.hpp"

namespace moegate::suite {

// property_tests/regressions.txt, embedded by suite/CMakeLists.txt.
extern const char* const regressions_text;

std::vector<RouterCase> sweep() {
  std::vector<RouterConfig> configs;
  for (const Preset& preset : presets()) configs.push_back(preset.config);
  // Every valid (E, k) of the grid, ungrouped, 8 groups keeping 4, and 4 groups keeping 1.
  const auto add_grid = [&configs](std::initializer_list<int> experts_list, std::initializer_list<int> topk_list) {
    for (int experts : experts_list)
      for (int topk : topk_list)
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
  };
  add_grid({1, 2, 31, 32, 33, 64, 160, 256, 384, 512, 1024}, {1, 2, 8, 32});
  // Wide top-k (issue #16): k = 16 at Kimi K3's 896 experts, k just above 16 (where the filter
  // stages' candidates stop fitting one per lane), Nemotron's 22, and 24 / 25 on either side of s16's
  // change of list depth.
  add_grid({64, 512, 896, 1024}, {16, 17, 22, 24, 25});
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
        // Padding families and view offsets (0..3 elements: odd ones for
        // 16-bit rows too) cycle independently of the stride and dtype.
        c.spec.padding = all_padding_families()[(seed / 2) % all_padding_families().size()];
        c.spec.offset = static_cast<int>((seed / 7) % 4);
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
  // Past a 16-bit token index (65536) and a 17-bit one, with finite padding:
  // Kimi K2 in padded rows its vector loads take, DeepSeek V3's groups in odd
  // rows at an odd offset. One preset each: judged on a CPU, they are the
  // sweep's largest cases.
  for (auto [name, tokens, padding, offset] : {std::tuple{"kimi-k2", 65537, 4, 0}, std::tuple{"deepseek-v3", 131073, 3, 1}}) {
    RouterCase c{find_preset(name)->config, InputSpec{}};
    c.spec.experts = c.config.experts;
    c.spec.tokens = tokens;
    c.spec.row_stride = c.config.experts + padding;
    c.spec.padding = PaddingFamily::large;
    c.spec.offset = offset;
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

std::vector<RouterCase> kept_regressions() {
  std::vector<RouterCase> cases;
  std::istringstream in(regressions_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto kept = parse_case(line);
    if (!kept) throw std::logic_error("property_tests/regressions.txt: not a case line: " + line);
    cases.push_back(*kept);
  }
  return cases;
}

}  // namespace moegate::suite
