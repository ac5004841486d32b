// RapidCheck generators for routing cases. A case is a config plus an input
// recipe (seed, families, dtypes, shape), never megabytes of floats, so
// shrinking acts on structure: fewer tokens, fewer experts, simpler families.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "moegate/case.hpp"
#include "moegate/presets.hpp"
#include "moegate/suite.hpp"

namespace moegate::generators {

// Like rc::gen::weightedOneOf, but the choice itself is an integer that
// RapidCheck shrinks toward 0, so a counterexample moves to the first
// (simplest) option: fewer tokens, one group, the default profile.
template <class T>
rc::Gen<T> simplest_first(std::vector<std::pair<int, rc::Gen<T>>> options) {
  int total = 0;
  for (const auto& option : options) total += option.first;
  return rc::gen::mapcat(rc::gen::inRange(0, total), [options](int pick) {
    for (const auto& option : options) {
      if (pick < option.first) return option.second;
      pick -= option.first;
    }
    return options.back().second;
  });
}

// Expert counts weighted toward the presets, the wide shapes (512, 896 and
// 1024: issue #16) and the boundaries of warps and tiles.
inline rc::Gen<int> experts() {
  return simplest_first<int>({
      {3, rc::gen::element(1, 2, 31, 32, 33, 64, 128, 160, 256, 384, 512, 896, 1024)},
      {1, rc::gen::inRange(1, 1025)},
  });
}

inline std::vector<int> group_counts(int experts) {
  std::vector<int> counts;
  for (int g = 1; g <= std::min(experts, 32); ++g)
    if (experts % g == 0) counts.push_back(g);
  return counts;
}

inline rc::Gen<RouterConfig> config_for(int experts) {
  return rc::gen::exec([experts] {
    RouterConfig config;
    config.experts = experts;
    const std::vector<int> counts = group_counts(experts);
    config.groups = *simplest_first<int>({{2, rc::gen::just(1)}, {1, rc::gen::elementOf(counts)}});
    config.kept_groups = *rc::gen::inRange(1, config.groups + 1);
    const int most = std::min(32, config.candidate_experts());
    // The presets' k, the wide shapes' 16 and 22 (kernels compile them as
    // constants: s22), and the largest.
    config.topk = *simplest_first<int>({
        {2, rc::gen::inRange(1, most + 1)},
        {1, rc::gen::element(1, std::min(6, most), std::min(8, most), std::min(16, most), std::min(22, most), most)},
    });
    config.renormalize = *simplest_first<bool>({{3, rc::gen::just(true)}, {1, rc::gen::just(false)}});
    config.apply_routed_scaling_factor_on_output = *rc::gen::arbitrary<bool>();
    config.routed_scaling_factor = *rc::gen::element(1.0f, 2.5f, 2.827f, 2.872f, 0.3f, 17.0f, 1e-3f);
    return config;
  });
}

// Profiles other than the default, now and then.
inline rc::Gen<Profile> profile() {
  return simplest_first<Profile>({
      {6, rc::gen::just(Profile{})},
      {1, rc::gen::exec([] {
         Profile p;
         p.nan_rank = *rc::gen::element(NanRank::lowest, NanRank::highest, NanRank::replace);
         p.nan_replacement = *rc::gen::element(-1e30f, 0.0f, 5.0f);
         p.zero_sum = *rc::gen::element(ZeroSum::raw, ZeroSum::nan, ZeroSum::epsilon);
         p.scaling = *rc::gen::element(Scaling::with_renormalize, Scaling::when_asked, Scaling::always);
         return p;
       })},
  });
}

// Token counts weighted toward 1..9, warp and 512/513 boundaries and powers
// of two; the largest ones appear as RapidCheck's size grows (65536 at size
// 100; 65537 and 131073, past a 16-bit token index, now and then from size
// 50), and only while tokens x experts stays below max_logits
// (suite::max_case_logits).
inline rc::Gen<std::int64_t> tokens(int experts, std::int64_t max_logits = suite::max_case_logits) {
  return rc::gen::withSize([experts, max_logits](int size) {
    const int shift = std::clamp(6 + size / 10, 6, 16);
    std::vector<std::int64_t> powers;
    for (int p = 1; p <= shift; ++p) powers.push_back(std::int64_t{1} << p);
    const auto capped = [experts, max_logits](std::int64_t t) {
      return std::max<std::int64_t>(1, std::min<std::int64_t>(t, max_logits / experts));
    };
    return rc::gen::map(simplest_first<std::int64_t>({
                            {24, rc::gen::inRange<std::int64_t>(1, 10)},
                            {8, rc::gen::element<std::int64_t>(31, 32, 33)},
                            {4, rc::gen::element<std::int64_t>(512, 513)},
                            {4, rc::gen::elementOf(powers)},
                            // past a 16-bit token index, in the second half of a run: about one case
                            // in 80 (each costs a CPU-side reference seconds)
                            {size >= 50 ? 1 : 0, rc::gen::element<std::int64_t>(65537, 131073)},
                        }),
                        capped);
  });
}

inline rc::Gen<InputSpec> inputs_for(int experts) {
  return rc::gen::exec([experts] {
    InputSpec spec;
    spec.experts = experts;
    spec.tokens = *tokens(experts);
    spec.row_stride = experts + *rc::gen::element(0, 0, 0, 1, 3, 64);
    spec.padding = *rc::gen::elementOf(all_padding_families());
    spec.offset = *rc::gen::element(0, 0, 1, 2, 3);
    spec.logit_family = *rc::gen::elementOf(all_logit_families());
    spec.bias_family = *rc::gen::elementOf(all_bias_families());
    spec.hostile_eighths = *rc::gen::element(4, 1, 7, 8);
    spec.logits_dtype = *rc::gen::element(DType::f32, DType::f32, DType::bf16, DType::f16);
    spec.bias_dtype = *rc::gen::element(DType::f32, DType::f32, DType::bf16, DType::f16);
    spec.seed = *rc::gen::inRange<std::uint64_t>(0, 1u << 30);
    return spec;
  });
}

// A whole case: now and then a preset's config, otherwise a random valid one.
inline rc::Gen<RouterCase> router_case() {
  return rc::gen::exec([] {
    RouterCase c;
    c.config = *simplest_first<RouterConfig>({
        {4, rc::gen::mapcat(experts(), [](int e) { return config_for(e); })},
        {1, rc::gen::map(rc::gen::elementOf(presets()), [](const Preset& p) { return p.config; })},
    });
    c.config.profile = *profile();
    c.spec = *inputs_for(c.config.experts);
    return c;
  });
}

}  // namespace moegate::generators

namespace rc {

template <>
struct Arbitrary<moegate::RouterConfig> {
  static Gen<moegate::RouterConfig> arbitrary() {
    return gen::mapcat(moegate::generators::experts(), [](int e) { return moegate::generators::config_for(e); });
  }
};

template <>
struct Arbitrary<moegate::RouterCase> {
  static Gen<moegate::RouterCase> arbitrary() { return moegate::generators::router_case(); }
};

}  // namespace rc
