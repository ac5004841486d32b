// Properties of the CPU reference that need no oracle: structure of the
// output, optimality under the contract's order, and invariance to how the
// work is split. Failures print RC_PARAMS="reproduce=..." to replay.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "moegate/inputs.hpp"
#include "moegate/order.hpp"
#include "moegate/reference.hpp"

namespace moegate {
namespace {

struct Scenario {
  RouterConfig config;
  InputSpec spec;
};

// A valid config and a small input set, drawn from structure (not floats).
rc::Gen<Scenario> scenarios() {
  return rc::gen::exec([] {
    Scenario s;
    const int groups = *rc::gen::element(1, 1, 2, 4, 8);
    const int per_group =
        groups == 1 ? *rc::gen::oneOf(rc::gen::element(1, 2, 31, 32, 33, 64, 160, 256, 384, 512, 1024),
                                      rc::gen::inRange(1, 1025))
                    : *rc::gen::inRange(1, 49);
    s.config.experts = groups * per_group;
    s.config.groups = groups;
    s.config.kept_groups = *rc::gen::inRange(1, groups + 1);
    s.config.topk = *rc::gen::inRange(1, std::min(s.config.candidate_experts(), 32) + 1);
    s.config.renormalize = *rc::gen::arbitrary<bool>();
    s.config.apply_routed_scaling_factor_on_output = *rc::gen::arbitrary<bool>();
    s.config.routed_scaling_factor = *rc::gen::element(1.0f, 2.5f, 2.827f, 0.3f);
    s.spec.experts = s.config.experts;
    s.spec.tokens = *rc::gen::inRange(1, s.config.experts > 256 ? 9 : 40);
    s.spec.row_stride = s.config.experts + *rc::gen::element(0, 0, 1, 7);
    s.spec.seed = *rc::gen::arbitrary<std::uint32_t>();
    s.spec.distribution = *rc::gen::element(Distribution::normal, Distribution::uniform,
                                            Distribution::ties, Distribution::extremes);
    s.spec.logits_dtype = *rc::gen::element(DType::f32, DType::bf16, DType::f16);
    s.spec.bias_dtype = *rc::gen::element(DType::f32, DType::bf16, DType::f16);
    return s;
  });
}

float biased_score(const RouterInputs& inputs, std::int64_t token, int expert) {
  const LogitsView logits = inputs.logits();
  const float s = reference::sigmoid_f32(
      load_widened(logits.data, logits.dtype, token * logits.row_stride + expert));
  return s + load_widened(inputs.bias_bytes.data(), inputs.spec.bias_dtype, expert);
}

RC_GTEST_PROP(ReferenceProperties, IdsAreDistinctInRangeAndOptimal, ()) {
  const Scenario s = *scenarios();
  const RouterInputs inputs = make_inputs(s.spec);
  const auto result = reference::route_f32(s.config, inputs.logits(), inputs.bias());
  const int k = s.config.topk;
  for (std::int64_t t = 0; t < s.spec.tokens; ++t) {
    std::vector<std::uint64_t> chosen_keys;
    std::set<int> chosen;
    for (int j = 0; j < k; ++j) {
      const int id = result.ids[static_cast<std::size_t>(t * k + j)];
      RC_ASSERT(id >= 0);
      RC_ASSERT(id < s.config.experts);
      RC_ASSERT(chosen.insert(id).second);
      chosen_keys.push_back(ranked_key(order_key(biased_score(inputs, t, id), NanRank::lowest), id));
    }
    // Selection order: strictly descending ranked keys.
    RC_ASSERT(std::is_sorted(chosen_keys.rbegin(), chosen_keys.rend()));
    if (s.config.groups == 1) {
      // No expert left out outranks the last one chosen.
      for (int e = 0; e < s.config.experts; ++e)
        if (!chosen.count(e))
          RC_ASSERT(ranked_key(order_key(biased_score(inputs, t, e), NanRank::lowest), e) <
                    chosen_keys.back());
    } else {
      // Every chosen expert lies in one of at most kept_groups groups.
      std::set<int> groups;
      for (int id : chosen) groups.insert(id / s.config.experts_per_group());
      RC_ASSERT(static_cast<int>(groups.size()) <= s.config.kept_groups);
    }
  }
}

// Ungrouped selection equals a full sort of every expert's ranked key.
RC_GTEST_PROP(ReferenceProperties, UngroupedSelectionIsAFullSortPrefix, ()) {
  Scenario s = *scenarios();
  s.config.groups = 1;
  s.config.kept_groups = 1;
  s.config.profile.nan_rank = *rc::gen::element(NanRank::lowest, NanRank::highest);
  const RouterInputs inputs = make_inputs(s.spec);
  const auto result = reference::route_f32(s.config, inputs.logits(), inputs.bias());
  const int k = s.config.topk;
  for (std::int64_t t = 0; t < s.spec.tokens; ++t) {
    std::vector<std::uint64_t> keys;
    for (int e = 0; e < s.config.experts; ++e)
      keys.push_back(ranked_key(order_key(biased_score(inputs, t, e), s.config.profile.nan_rank), e));
    std::sort(keys.rbegin(), keys.rend());
    for (int j = 0; j < k; ++j)
      RC_ASSERT(result.ids[static_cast<std::size_t>(t * k + j)] == index_of(keys[static_cast<std::size_t>(j)]));
  }
}

RC_GTEST_PROP(ReferenceProperties, SplittingTheBatchOrThreadsChangesNoBit, ()) {
  const Scenario s = *scenarios();
  const RouterInputs inputs = make_inputs(s.spec);
  const auto whole = reference::route_f32(s.config, inputs.logits(), inputs.bias(), {1});
  const auto threaded = reference::route_f32(s.config, inputs.logits(), inputs.bias(), {2});
  RC_ASSERT(whole.ids == threaded.ids);
  RC_ASSERT(std::memcmp(whole.weights.data(), threaded.weights.data(), whole.weights.size() * 4) == 0);
  const std::int64_t split = *rc::gen::inRange<std::int64_t>(0, s.spec.tokens + 1);
  const std::size_t k = static_cast<std::size_t>(s.config.topk);
  LogitsView head = inputs.logits();
  head.tokens = split;
  LogitsView tail = inputs.logits();
  tail.tokens = s.spec.tokens - split;
  tail.data = inputs.logits_bytes.data() + split * head.row_stride * dtype_bytes(head.dtype);
  const auto first = reference::route_f32(s.config, head, inputs.bias());
  const auto second = reference::route_f32(s.config, tail, inputs.bias());
  RC_ASSERT(std::equal(first.ids.begin(), first.ids.end(), whole.ids.begin()));
  RC_ASSERT(std::equal(second.ids.begin(), second.ids.end(), whole.ids.begin() + static_cast<std::ptrdiff_t>(split * k)));
  RC_ASSERT(std::memcmp(second.weights.data(), whole.weights.data() + split * k, second.weights.size() * 4) == 0);
}

RC_GTEST_PROP(ReferenceProperties, RowStrideDoesNotMatter, ()) {
  Scenario s = *scenarios();
  s.spec.row_stride = s.config.experts;
  const RouterInputs dense = make_inputs(s.spec);
  s.spec.row_stride = s.config.experts + *rc::gen::inRange(1, 65);
  const RouterInputs strided = make_inputs(s.spec);
  const auto a = reference::route_f32(s.config, dense.logits(), dense.bias());
  const auto b = reference::route_f32(s.config, strided.logits(), strided.bias());
  RC_ASSERT(a.ids == b.ids);
  RC_ASSERT(std::memcmp(a.weights.data(), b.weights.data(), a.weights.size() * 4) == 0);
}

RC_GTEST_PROP(ReferenceProperties, OracleAgreesOutsideNearTies, ()) {
  Scenario s = *scenarios();
  s.spec.distribution = Distribution::normal;
  const RouterInputs inputs = make_inputs(s.spec);
  const auto f32 = reference::route_f32(s.config, inputs.logits(), inputs.bias());
  const auto f64 = reference::route_f64(s.config, inputs.logits(), inputs.bias());
  const std::size_t k = static_cast<std::size_t>(s.config.topk);
  for (std::int64_t t = 0; t < s.spec.tokens; ++t) {
    // Both modes' scores differ by well under 1e-6; wider margins cannot flip.
    if (f64.selection_margin[static_cast<std::size_t>(t)] < 1e-6 ||
        f64.group_margin[static_cast<std::size_t>(t)] < 1e-6)
      continue;
    std::vector<std::int32_t> a(f32.ids.begin() + static_cast<std::ptrdiff_t>(t * k), f32.ids.begin() + static_cast<std::ptrdiff_t>((t + 1) * k));
    std::vector<std::int32_t> b(f64.ids.begin() + static_cast<std::ptrdiff_t>(t * k), f64.ids.begin() + static_cast<std::ptrdiff_t>((t + 1) * k));
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    RC_ASSERT(a == b);
  }
}

}  // namespace
}  // namespace moegate
