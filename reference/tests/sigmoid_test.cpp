// The f32 sigmoid: the vector path equals the scalar definition, special
// values land where the contract says.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "moegate/dtype.hpp"
#include "moegate/reference.hpp"

namespace moegate {
namespace {

float definition(float x) {
  const float e = static_cast<float>(std::exp(-static_cast<long double>(x)));
  return 1.0f / (1.0f + e);
}

TEST(Sigmoid, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(reference::sigmoid_f32(0.0f), 0.5f);
  EXPECT_EQ(reference::sigmoid_f32(-0.0f), 0.5f);
  EXPECT_EQ(reference::sigmoid_f32(inf), 1.0f);
  EXPECT_EQ(reference::sigmoid_f32(-inf), 0.0f);
  EXPECT_EQ(reference::sigmoid_f32(FLT_MAX), 1.0f);
  EXPECT_EQ(reference::sigmoid_f32(-FLT_MAX), 0.0f);
  EXPECT_EQ(reference::sigmoid_f32(17.0f), 1.0f);   // e < 2^-24: 1 + e rounds to 1
  EXPECT_EQ(reference::sigmoid_f32(-89.0f), 0.0f);  // e overflows f32
  EXPECT_GT(reference::sigmoid_f32(-88.0f), 0.0f);  // e finite: a subnormal score
  EXPECT_TRUE(std::isnan(reference::sigmoid_f32(std::numeric_limits<float>::quiet_NaN())));
}

// Every 997th f32 bit pattern, through the vector path, against the
// definition (the exhaustive_sigmoid tool runs all 2^32 on demand).
TEST(Sigmoid, VectorPathMatchesTheDefinitionOnAStrideOfAllFloats) {
  std::vector<float> logits;
  for (std::uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 997)
    logits.push_back(float_from_bits(static_cast<std::uint32_t>(bits)));
  std::vector<float> scores(logits.size());
  reference::sigmoid_f32(logits.data(), scores.data(), static_cast<std::int64_t>(logits.size()));
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float expected = definition(logits[i]);
    const bool same = std::isnan(expected) ? std::isnan(scores[i])
                                           : bits_from_float(expected) == bits_from_float(scores[i]);
    if (!same && ++mismatches <= 5)
      ADD_FAILURE() << "x=" << logits[i] << " got " << scores[i] << " want " << expected;
  }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace moegate
