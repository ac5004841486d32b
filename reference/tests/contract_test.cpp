// The contract's plumbing: validation messages, presets, profiles, dtypes,
// the order keys.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "moegate/config.hpp"
#include "moegate/dtype.hpp"
#include "moegate/inputs.hpp"
#include "moegate/order.hpp"
#include "moegate/presets.hpp"

namespace moegate {
namespace {

RouterConfig valid_config() {
  RouterConfig config;
  config.experts = 256;
  config.topk = 8;
  config.groups = 8;
  config.kept_groups = 4;
  config.routed_scaling_factor = 2.5f;
  return config;
}

std::string error_field(const RouterConfig& config) {
  const auto error = validate(config);
  return error ? error->field() : std::string("(valid)");
}

TEST(Validation, AcceptsAValidConfig) { EXPECT_FALSE(validate(valid_config()).has_value()); }

TEST(Validation, NamesTheFieldAndTheRange) {
  RouterConfig config = valid_config();
  config.experts = 0;
  const auto error = validate(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field(), "experts");
  EXPECT_STREQ(error->what(), "experts: must be in [1, 16777216], got 0");
}

TEST(Validation, RejectsEachBrokenField) {
  RouterConfig config = valid_config();
  config.groups = 7;  // does not divide 256
  EXPECT_EQ(error_field(config), "groups");
  config = valid_config();
  config.kept_groups = 9;
  EXPECT_EQ(error_field(config), "kept_groups");
  config = valid_config();
  config.kept_groups = 0;
  EXPECT_EQ(error_field(config), "kept_groups");
  config = valid_config();
  config.topk = 129;  // 4 kept groups of 32 experts
  EXPECT_EQ(error_field(config), "topk");
  EXPECT_NE(std::string(validate(config)->what()).find("= 128]"), std::string::npos);
  config.topk = 128;
  EXPECT_EQ(error_field(config), "(valid)");
  config.topk = 0;
  EXPECT_EQ(error_field(config), "topk");
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    config = valid_config();
    config.routed_scaling_factor = bad;
    EXPECT_EQ(error_field(config), "routed_scaling_factor") << bad;
  }
  config = valid_config();
  config.profile.nan_replacement = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(error_field(config), "profile.nan_replacement");
}

TEST(Validation, RequireValidThrowsConfigError) {
  RouterConfig config = valid_config();
  config.topk = -3;
  EXPECT_THROW(require_valid(config), ConfigError);
}

TEST(Presets, AreValidAndCarryTheirNumbers) {
  ASSERT_GE(presets().size(), 8u);
  for (const auto& preset : presets()) {
    EXPECT_FALSE(validate(preset.config).has_value()) << preset.name;
    EXPECT_FALSE(preset.source.empty()) << preset.name;
  }
  const auto kimi = find_preset("kimi-k2");
  ASSERT_TRUE(kimi.has_value());
  EXPECT_EQ(kimi->config.experts, 384);
  EXPECT_EQ(kimi->config.topk, 8);
  EXPECT_EQ(kimi->config.routed_scaling_factor, 2.827f);
  const auto deepseek = find_preset("deepseek-v3");
  ASSERT_TRUE(deepseek.has_value());
  EXPECT_EQ(deepseek->config.groups, 8);
  EXPECT_EQ(deepseek->config.kept_groups, 4);
  EXPECT_EQ(find_preset("kimi384")->config.topk, 6);
  EXPECT_EQ(find_preset("kimi384")->config.routed_scaling_factor, 2.872f);
  EXPECT_EQ(find_preset("mimo256")->config.experts, 256);
  EXPECT_FALSE(find_preset("no-such-model").has_value());
}

TEST(Profiles, DefaultIsOurs) {
  EXPECT_EQ(*find_profile("moegate"), Profile{});
  EXPECT_EQ(find_profile("torch")->nan_rank, NanRank::highest);
  EXPECT_EQ(find_profile("vllm")->zero_sum, ZeroSum::epsilon);
  EXPECT_EQ(find_profile("sglang-triton")->nan_rank, NanRank::replace);
}

TEST(Profiles, ScalingRules) {
  RouterConfig config = valid_config();
  config.apply_routed_scaling_factor_on_output = true;
  config.renormalize = false;
  EXPECT_FALSE(config.scales_output());  // the seed: not without renormalize
  config.profile.scaling = Scaling::when_asked;
  EXPECT_TRUE(config.scales_output());
  config.apply_routed_scaling_factor_on_output = false;
  EXPECT_FALSE(config.scales_output());
  config.profile.scaling = Scaling::always;
  EXPECT_TRUE(config.scales_output());
}

TEST(DType, Bf16WidensEveryPatternExactlyAndRoundTrips) {
  for (std::uint32_t bits = 0; bits <= 0xFFFFu; ++bits) {
    const float wide = widen_bf16(static_cast<std::uint16_t>(bits));
    ASSERT_EQ(bits_from_float(wide), bits << 16);
    if (!std::isnan(wide)) {
      ASSERT_EQ(narrow_to_bf16(wide), bits);
    }
  }
}

TEST(DType, F16WidensEveryPatternExactlyAndRoundTrips) {
  for (std::uint32_t bits = 0; bits <= 0xFFFFu; ++bits) {
    const auto half = static_cast<std::uint16_t>(bits);
    const float wide = widen_f16(half);
    const std::uint32_t exponent = (bits >> 10) & 0x1F;
    const std::uint32_t mantissa = bits & 0x3FF;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24)
                             : exponent == 31 ? std::numeric_limits<double>::infinity()
                                              : std::ldexp(1024 + mantissa, static_cast<int>(exponent) - 25);
    if (exponent == 31 && mantissa != 0) {
      ASSERT_TRUE(std::isnan(wide)) << bits;
      continue;
    }
    ASSERT_EQ(static_cast<double>(wide), (bits & 0x8000) ? -magnitude : magnitude) << bits;
    ASSERT_EQ(std::signbit(wide), (bits & 0x8000) != 0) << bits;
    ASSERT_EQ(narrow_to_f16(wide), half) << bits;
  }
}

TEST(DType, NarrowingRoundsHalfToEven) {
  EXPECT_EQ(narrow_to_f16(65520.0f), 0x7C00);  // halfway to 65536 rounds to inf
  EXPECT_EQ(narrow_to_f16(65519.0f), 0x7BFF);
  EXPECT_EQ(narrow_to_f16(std::ldexp(1.0f, -25)), 0x0000);            // half of the smallest subnormal
  EXPECT_EQ(narrow_to_f16(std::ldexp(3.0f, -25)), 0x0002);            // 1.5 units -> 2
  EXPECT_EQ(narrow_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);    // tie to even
  EXPECT_EQ(narrow_to_bf16(1.0f + std::ldexp(3.0f, -8)), 0x3F82);
  EXPECT_EQ(parse_dtype("bf16"), DType::bf16);
  EXPECT_FALSE(parse_dtype("f64").has_value());
}

TEST(Order, NanIsLowestAndSignedZerosAreEqual) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(order_key(-0.0f, NanRank::lowest), order_key(0.0f, NanRank::lowest));
  EXPECT_LT(order_key(nan, NanRank::lowest), order_key(-inf, NanRank::lowest));
  EXPECT_LT(order_key(-inf, NanRank::lowest), order_key(-FLT_MAX, NanRank::lowest));
  EXPECT_LT(order_key(-FLT_MAX, NanRank::lowest), order_key(-1.0f, NanRank::lowest));
  EXPECT_LT(order_key(-1e-45f, NanRank::lowest), order_key(0.0f, NanRank::lowest));
  EXPECT_LT(order_key(0.0f, NanRank::lowest), order_key(1e-45f, NanRank::lowest));
  EXPECT_LT(order_key(FLT_MAX, NanRank::lowest), order_key(inf, NanRank::lowest));
  EXPECT_GT(order_key(nan, NanRank::highest), order_key(inf, NanRank::highest));
  // Equal scores: the lower index ranks first.
  EXPECT_GT(ranked_key(order_key(0.5f, NanRank::lowest), 3), ranked_key(order_key(0.5f, NanRank::lowest), 4));
  EXPECT_EQ(index_of(ranked_key(123, 1023)), 1023);
}

TEST(Inputs, AreDeterministicAndHonourStride) {
  InputSpec spec;
  spec.experts = 33;
  spec.tokens = 5;
  spec.row_stride = 40;
  spec.seed = 7;
  spec.use(Distribution::extremes);
  spec.logits_dtype = DType::bf16;
  const RouterInputs a = make_inputs(spec);
  const RouterInputs b = make_inputs(spec);
  EXPECT_EQ(a.logits_bytes, b.logits_bytes);
  EXPECT_EQ(a.bias_bytes, b.bias_bytes);
  EXPECT_EQ(a.logits_bytes.size(), 5u * 40u * 2u);
  EXPECT_TRUE(std::isnan(load_widened(a.logits_bytes.data(), DType::bf16, 33)));  // padding
  spec.seed = 8;
  EXPECT_NE(make_inputs(spec).logits_bytes, a.logits_bytes);
  EXPECT_EQ(parse_distribution("ties"), Distribution::ties);
}

}  // namespace
}  // namespace moegate
