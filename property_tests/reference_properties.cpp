// Properties of the CPU reference. Each property draws whole routing cases
// (config + input recipe) from generators.hpp; a failure prints the case as
// one line (paste it into regressions.txt) and RapidCheck's reproduce string.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "generators.hpp"
#include "moegate/order.hpp"
#include "moegate/reference.hpp"
#include "support.hpp"

namespace moegate {
namespace {

using testing::count_case;

// The contract's f32 biased scores of one token, and which experts survive
// its group cut, recomputed independently of the reference's code.
struct TokenView {
  std::vector<float> score, biased;
  std::vector<bool> candidate;
};

TokenView view_token(const RouterCase& c, const RouterInputs& inputs, std::int64_t t) {
  const RouterConfig& config = c.config;
  TokenView view{std::vector<float>(static_cast<std::size_t>(config.experts)),
                 std::vector<float>(static_cast<std::size_t>(config.experts)),
                 std::vector<bool>(static_cast<std::size_t>(config.experts), true)};
  for (int e = 0; e < config.experts; ++e) {
    view.score[e] = reference::sigmoid_f32(inputs.logit(t, e));
    view.biased[e] = replace_nan(view.score[e] + inputs.bias_value(e), config.profile);
  }
  if (!config.grouped()) return view;
  const int size = config.experts_per_group();
  std::vector<std::uint64_t> group_keys;
  for (int g = 0; g < config.groups; ++g) {
    std::vector<std::uint64_t> keys;
    for (int e = g * size; e < (g + 1) * size; ++e)
      keys.push_back(ranked_key(order_key(view.biased[e], config.profile.nan_rank), e));
    std::sort(keys.rbegin(), keys.rend());
    float score = view.biased[index_of(keys[0])];
    if (size > 1) score += view.biased[index_of(keys[1])];
    group_keys.push_back(ranked_key(order_key(score, config.profile.nan_rank), g));
  }
  std::sort(group_keys.rbegin(), group_keys.rend());
  std::vector<bool> kept(static_cast<std::size_t>(config.groups), false);
  for (int j = 0; j < config.kept_groups; ++j) kept[index_of(group_keys[j])] = true;
  for (int e = 0; e < config.experts; ++e) view.candidate[e] = kept[e / size];
  return view;
}

RC_GTEST_PROP(ReferenceProperties, MeetsTheComparatorAgainstTheOracle, (const RouterCase& c)) {
  count_case("MeetsTheComparatorAgainstTheOracle");
  const RouterInputs inputs = make_inputs(c.spec);
  const auto result = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  testing::assert_passes(c, inputs, result.ids, result.weights);
}

// ids: k distinct, in range, from the kept groups; no expert left out
// outranks a chosen one; slots in descending order (the exact f32 order).
RC_GTEST_PROP(ReferenceProperties, ChoosesTheBestCandidatesInOrder, (const RouterCase& c)) {
  count_case("ChoosesTheBestCandidatesInOrder");
  const RouterInputs inputs = make_inputs(c.spec);
  const auto result = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  const int k = c.config.topk;
  const NanRank nan_rank = c.config.profile.nan_rank;
  for (std::int64_t t = 0; t < c.spec.tokens; ++t) {
    const TokenView view = view_token(c, inputs, t);
    std::set<int> chosen;
    std::vector<std::uint64_t> chosen_keys;
    for (int j = 0; j < k; ++j) {
      const int id = result.ids[static_cast<std::size_t>(t * k + j)];
      RC_ASSERT(id >= 0 && id < c.config.experts);
      RC_ASSERT(chosen.insert(id).second);
      RC_ASSERT(view.candidate[static_cast<std::size_t>(id)]);
      chosen_keys.push_back(ranked_key(order_key(view.biased[id], nan_rank), id));
    }
    RC_ASSERT(std::is_sorted(chosen_keys.rbegin(), chosen_keys.rend()));
    for (int e = 0; e < c.config.experts; ++e)
      if (view.candidate[e] && !chosen.count(e))
        RC_ASSERT(ranked_key(order_key(view.biased[e], nan_rank), e) < chosen_keys.back());
  }
}

RC_GTEST_PROP(ReferenceProperties, ExactTiesGoToTheLowerIndex, (RouterCase c)) {
  count_case("ExactTiesGoToTheLowerIndex");
  c.spec.logit_family = LogitFamily::all_equal;
  c.spec.bias_family = *rc::gen::element(BiasFamily::zero, BiasFamily::large, BiasFamily::negative);
  InputSpec spec = c.spec;
  RouterInputs inputs = make_inputs(spec);
  // Every expert gets expert 0's bias, so all biased scores tie exactly.
  for (int e = 1; e < c.config.experts; ++e)
    std::memcpy(inputs.bias_bytes.data() + e * dtype_bytes(spec.bias_dtype), inputs.bias_bytes.data(),
                dtype_bytes(spec.bias_dtype));
  const auto result = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  std::vector<std::int32_t> expected(static_cast<std::size_t>(c.config.topk));
  std::iota(expected.begin(), expected.end(), 0);  // all groups tie too: the lowest ones are kept
  for (std::int64_t t = 0; t < c.spec.tokens; ++t)
    RC_ASSERT(std::equal(expected.begin(), expected.end(), result.ids.begin() + t * c.config.topk));
}

// NaN is chosen only when fewer than k numbers remain; -inf and -FLT_MAX
// biases are chosen whenever they are needed to fill k slots.
RC_GTEST_PROP(ReferenceProperties, NanRanksLowestAndHostileBiasesStaySelectable, (RouterCase c)) {
  count_case("NanRanksLowestAndHostileBiasesStaySelectable");
  c.config.profile = Profile{};
  c.spec.logit_family = *rc::gen::element(LogitFamily::specials, LogitFamily::extremes, LogitFamily::normal);
  c.spec.bias_family = *rc::gen::element(BiasFamily::neg_inf, BiasFamily::neg_flt_max, BiasFamily::hostile_mix);
  const RouterInputs inputs = make_inputs(c.spec);
  const auto result = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  const int k = c.config.topk;
  for (std::int64_t t = 0; t < c.spec.tokens; ++t) {
    const TokenView view = view_token(c, inputs, t);
    int numbers = 0, finite = 0;
    for (int e = 0; e < c.config.experts; ++e) {
      if (!view.candidate[e]) continue;
      numbers += !std::isnan(view.biased[e]);
      finite += std::isfinite(view.biased[e]) && view.biased[e] > -FLT_MAX;
    }
    int chosen_nan = 0, chosen_hostile = 0;
    for (int j = 0; j < k; ++j) {
      const float c_value = view.biased[result.ids[static_cast<std::size_t>(t * k + j)]];
      chosen_nan += std::isnan(c_value);
      chosen_hostile += !std::isnan(c_value) && (c_value == -INFINITY || c_value == -FLT_MAX);
    }
    RC_ASSERT(chosen_nan == std::max(0, k - numbers));
    RC_ASSERT(chosen_hostile >= std::max(0, std::min(k, numbers) - finite));
  }
}

// Without renormalisation (and the default profile: no scaling) a weight is
// the chosen expert's f32 score, bit for bit; never c - bias.
RC_GTEST_PROP(ReferenceProperties, RawWeightsAreTheScoresBitForBit, (RouterCase c)) {
  count_case("RawWeightsAreTheScoresBitForBit");
  c.config.renormalize = false;
  c.config.profile = Profile{};
  const RouterInputs inputs = make_inputs(c.spec);
  const auto result = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  for (std::int64_t t = 0; t < c.spec.tokens; ++t)
    for (int j = 0; j < c.config.topk; ++j) {
      const std::size_t slot = static_cast<std::size_t>(t * c.config.topk + j);
      const float want = reference::sigmoid_f32(inputs.logit(t, result.ids[slot]));
      RC_ASSERT(std::memcmp(&want, &result.weights[slot], sizeof want) == 0);
    }
}

// Renormalised weights sum to 1 (x the factor when applied) within
// 2 + k/2 ulps of the target when the sum is > 0 (the k-term sum's rounding,
// the division, the scaling); raw when it is 0.
double renorm_sum_ulps(int topk) { return 2.0 + 0.5 * topk; }
double worst_sum_ulps = 0.0;
double worst_sum_share = 0.0;

void renormalized_weights_sum_to_the_factor(RouterCase c) {
  count_case("RenormalizedWeightsSumToTheFactor");
  c.config.renormalize = true;
  c.config.profile = Profile{};
  const RouterInputs inputs = make_inputs(c.spec);
  const auto result = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  const double target = c.config.scales_output() ? c.config.routed_scaling_factor : 1.0;
  const int k = c.config.topk;
  for (std::int64_t t = 0; t < c.spec.tokens; ++t) {
    float raw_sum = 0.0f;
    double sum = 0.0;
    for (int j = 0; j < k; ++j) {
      const std::size_t slot = static_cast<std::size_t>(t * k + j);
      raw_sum += reference::sigmoid_f32(inputs.logit(t, result.ids[slot]));
      sum += result.weights[slot];
    }
    if (std::isnan(raw_sum)) continue;
    if (raw_sum > 0.0f) {
      const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(target)) - 23);
      const double ulps = std::fabs(sum - target) / ulp;
      worst_sum_ulps = std::max(worst_sum_ulps, ulps);
      worst_sum_share = std::max(worst_sum_share, ulps / renorm_sum_ulps(k));
      RC_ASSERT(ulps <= renorm_sum_ulps(k));
    } else {
      RC_ASSERT(sum == 0.0);
    }
  }
}

TEST(ReferenceProperties, RenormalizedWeightsSumToTheFactor) {
  const bool passed = rc::check("renormalised weights sum to the factor", renormalized_weights_sum_to_the_factor);
  std::printf("measured: worst renormalised sum error %.3f ulp of the target; worst share of the bound 2 + k/2: %.2f\n",
              worst_sum_ulps, worst_sum_share);
  EXPECT_TRUE(passed);
}

// Permuting the experts (with their biases) permutes the result, for tokens
// whose biased scores are all distinct (no ties to break by index).
RC_GTEST_PROP(ReferenceProperties, PermutingExpertsPermutesTheResult, (RouterCase c)) {
  count_case("PermutingExpertsPermutesTheResult");
  c.config.groups = 1;
  c.config.kept_groups = 1;
  c.config.topk = std::min(c.config.topk, c.config.experts);
  c.spec.logit_family = LogitFamily::normal;
  c.spec.bias_family = *rc::gen::element(BiasFamily::normal, BiasFamily::large, BiasFamily::zero);
  c.spec.logits_dtype = DType::f32;
  c.spec.bias_dtype = DType::f32;
  c.spec.row_stride = 0;
  const RouterInputs inputs = make_inputs(c.spec);
  const int experts = c.config.experts;
  std::vector<int> permutation(static_cast<std::size_t>(experts));
  std::iota(permutation.begin(), permutation.end(), 0);
  const std::uint64_t shuffle_seed = *rc::gen::arbitrary<std::uint32_t>();
  std::uint64_t state = shuffle_seed * 2654435761u + 1;
  for (int i = experts - 1; i > 0; --i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::swap(permutation[i], permutation[static_cast<int>((state >> 33) % static_cast<std::uint64_t>(i + 1))]);
  }
  // permuted expert permutation[e] holds original expert e
  std::vector<float> logits(static_cast<std::size_t>(c.spec.tokens * experts)), bias(static_cast<std::size_t>(experts));
  for (int e = 0; e < experts; ++e) {
    bias[permutation[e]] = inputs.bias_value(e);
    for (std::int64_t t = 0; t < c.spec.tokens; ++t) logits[t * experts + permutation[e]] = inputs.logit(t, e);
  }
  const auto original = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  const auto permuted = reference::route_f32(c.config, LogitsView{logits.data(), DType::f32, c.spec.tokens, experts},
                                             BiasView{bias.data(), DType::f32});
  const int k = c.config.topk;
  for (std::int64_t t = 0; t < c.spec.tokens; ++t) {
    const TokenView view = view_token(c, inputs, t);
    std::set<std::uint32_t> keys;
    for (float value : view.biased) keys.insert(order_key(value, NanRank::lowest));
    if (static_cast<int>(keys.size()) < experts) continue;  // a tie: the index decides
    for (int j = 0; j < k; ++j) {
      const std::size_t slot = static_cast<std::size_t>(t * k + j);
      RC_ASSERT(permuted.ids[slot] == permutation[original.ids[slot]]);
      RC_ASSERT(std::memcmp(&permuted.weights[slot], &original.weights[slot], sizeof(float)) == 0);
    }
  }
}

RC_GTEST_PROP(ReferenceProperties, SplittingTheBatchOrThreadsChangesNoBit, (const RouterCase& c)) {
  count_case("SplittingTheBatchOrThreadsChangesNoBit");
  const RouterInputs inputs = make_inputs(c.spec);
  const auto whole = reference::route_f32(c.config, inputs.logits(), inputs.bias(), {1});
  const auto threaded = reference::route_f32(c.config, inputs.logits(), inputs.bias(), {3});
  RC_ASSERT(whole.ids == threaded.ids);
  RC_ASSERT(std::memcmp(whole.weights.data(), threaded.weights.data(), whole.weights.size() * 4) == 0);
  const std::int64_t split = *rc::gen::inRange<std::int64_t>(0, c.spec.tokens + 1);
  const auto k = static_cast<std::size_t>(c.config.topk);
  LogitsView tail = inputs.logits();
  tail.tokens = c.spec.tokens - split;
  tail.data = inputs.logits_bytes.data() + split * tail.row_stride * static_cast<std::int64_t>(dtype_bytes(tail.dtype));
  const auto second = reference::route_f32(c.config, tail, inputs.bias());
  RC_ASSERT(std::equal(second.ids.begin(), second.ids.end(), whole.ids.begin() + static_cast<std::ptrdiff_t>(split * k)));
  RC_ASSERT(std::memcmp(second.weights.data(), whole.weights.data() + split * k, second.weights.size() * 4) == 0);
}

RC_GTEST_PROP(ReferenceProperties, RowStrideDoesNotMatter, (RouterCase c)) {
  count_case("RowStrideDoesNotMatter");
  c.spec.row_stride = c.config.experts;
  const RouterInputs dense = make_inputs(c.spec);
  c.spec.row_stride = c.config.experts + *rc::gen::inRange(1, 65);
  const RouterInputs strided = make_inputs(c.spec);
  const auto a = reference::route_f32(c.config, dense.logits(), dense.bias());
  const auto b = reference::route_f32(c.config, strided.logits(), strided.bias());
  RC_ASSERT(a.ids == b.ids);
  RC_ASSERT(std::memcmp(a.weights.data(), b.weights.data(), a.weights.size() * 4) == 0);
}

// f32 mode vs the f64 oracle: where the ids agree (outside near-ties), every
// weight within 3 + k/2 ulps (s: 1.5 ulp, the k-term sum, the division and
// the scaling). The worst error seen, in ulps and as a share of that bound,
// is printed; docs/semantics.md quotes the measurement.
double f32_weight_ulps_bound(int topk) { return 3.0 + 0.5 * topk; }
double worst_weight_ulps = 0.0;
double worst_weight_share = 0.0;

void f32_weights_stay_within_the_bound(RouterCase c) {
  count_case("F32WeightsStayWithinTheMeasuredBoundOfTheOracle");
  c.config.profile.zero_sum = ZeroSum::raw;
  const RouterInputs inputs = make_inputs(c.spec);
  const auto f32 = reference::route_f32(c.config, inputs.logits(), inputs.bias());
  const auto f64 = reference::route_f64(c.config, inputs.logits(), inputs.bias());
  const int k = c.config.topk;
  for (std::int64_t t = 0; t < c.spec.tokens; ++t) {
    const auto first = static_cast<std::ptrdiff_t>(t * k);
    if (!std::equal(f32.ids.begin() + first, f32.ids.begin() + first + k, f64.ids.begin() + first)) continue;
    // Subnormal scores carry an absolute, not relative, error: a token whose
    // f32 sum is subnormal (or 0: the raw branch) is outside this bound.
    std::vector<float> scores;
    float sum = 0.0f;
    for (int j = 0; j < k; ++j) {
      scores.push_back(reference::sigmoid_f32(inputs.logit(t, f32.ids[static_cast<std::size_t>(first + j)])));
      sum += scores.back();
    }
    if (!(sum >= FLT_MIN)) continue;
    for (int j = 0; j < k; ++j) {
      const double want = f64.weights[static_cast<std::size_t>(first + j)];
      const double got = f32.weights[static_cast<std::size_t>(first + j)];
      if (std::isnan(want) || std::isnan(got) || std::fabs(want) < FLT_MIN || scores[j] < FLT_MIN) continue;
      const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
      const double ulps = std::fabs(got - want) / ulp;
      worst_weight_ulps = std::max(worst_weight_ulps, ulps);
      worst_weight_share = std::max(worst_weight_share, ulps / f32_weight_ulps_bound(k));
      RC_ASSERT(ulps <= f32_weight_ulps_bound(k));
    }
  }
}

TEST(ReferenceProperties, F32WeightsStayWithinTheMeasuredBoundOfTheOracle) {
  const bool passed = rc::check("f32 weights stay within the bound of the oracle", f32_weights_stay_within_the_bound);
  std::printf("measured: worst f32-vs-oracle weight error %.3f ulp; worst share of the bound 3 + k/2: %.2f\n",
              worst_weight_ulps, worst_weight_share);
  EXPECT_TRUE(passed);
}

}  // namespace
}  // namespace moegate
