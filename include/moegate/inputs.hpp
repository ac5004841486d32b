// Deterministic router inputs for the CLI, benchmarks and tests: the same
// (seed, distribution, shape, dtypes) always gives the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "moegate/dtype.hpp"
#include "moegate/tensors.hpp"

namespace moegate {

enum class Distribution {
  normal,    // logits ~ N(0, 2), bias ~ N(0, 0.1)
  uniform,   // the seed's tests: logits and bias uniform in [0, 1)
  ties,      // logits and bias on a coarse grid: many exact ties
  extremes,  // NaN, +-inf, +-FLT_MAX, saturating and denormal logits; hostile biases
};

std::optional<Distribution> parse_distribution(std::string_view name);
std::string_view name_of(Distribution distribution);

struct InputSpec {
  int experts = 0;
  std::int64_t tokens = 0;
  std::int64_t row_stride = 0;  // 0: dense (= experts)
  DType logits_dtype = DType::f32;
  DType bias_dtype = DType::f32;
  Distribution distribution = Distribution::normal;
  std::uint64_t seed = 0;
};

// Owns the bytes; views() describes them.
struct RouterInputs {
  InputSpec spec;
  std::vector<std::uint8_t> logits_bytes;
  std::vector<std::uint8_t> bias_bytes;

  LogitsView logits() const;
  BiasView bias() const;
};

RouterInputs make_inputs(const InputSpec& spec);

}  // namespace moegate
