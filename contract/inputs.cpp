// Counter-based generation: every value is a pure function of (seed, tensor,
// position), so the bytes do not depend on thread count, platform or order.
// Only integer and exactly rounded f32 arithmetic is used (no libm).
#include "moegate/inputs.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

namespace moegate {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct Stream {
  std::uint64_t state;
  Stream(std::uint64_t seed, std::uint64_t tensor, std::uint64_t position)
      : state(splitmix64(splitmix64(seed ^ (tensor << 56)) ^ position)) {}
  std::uint64_t next() { return state = splitmix64(state); }
  // Uniform in [0, 1) on a 2^-24 grid.
  float uniform() { return static_cast<float>(next() >> 40) * 0x1p-24f; }
  // Irwin-Hall sum of four uniforms, scaled to mean 0 and variance 1.
  float normal() {
    const float sum = uniform() + uniform() + uniform() + uniform();
    return (sum - 2.0f) * 1.7320508f;
  }
};

constexpr std::uint64_t logits_tensor = 1;
constexpr std::uint64_t bias_tensor = 2;

float extreme_logit(Stream& stream) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  switch (stream.next() % 16) {
    case 0: return nan;
    case 1: return inf;
    case 2: return -inf;
    case 3: return FLT_MAX;
    case 4: return -FLT_MAX;
    case 5: return 88.0f + 20.0f * stream.uniform();   // sigmoid exactly 1
    case 6: return -89.0f - 20.0f * stream.uniform();  // sigmoid exactly 0
    case 7: return 1e-40f;                              // denormal
    case 8: return -0.0f;
    case 9: return 0.0f;
    default: return 4.0f * stream.normal();
  }
}

float extreme_bias(Stream& stream) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  switch (stream.next() % 12) {
    case 0: return -FLT_MAX;
    case 1: return -inf;
    case 2: return 12.0f;   // large: c - bias no longer recovers s
    case 3: return -2.0f;   // c < -1 breaks a -1.0 sentinel
    case 4: return -0.0f;
    default: return 0.1f * stream.normal();
  }
}

float logit_value(const InputSpec& spec, std::int64_t token, int expert) {
  Stream stream(spec.seed, logits_tensor,
                static_cast<std::uint64_t>(token) * static_cast<std::uint64_t>(spec.experts) +
                    static_cast<std::uint64_t>(expert));
  switch (spec.distribution) {
    case Distribution::normal: return 2.0f * stream.normal();
    case Distribution::uniform: return stream.uniform();
    case Distribution::ties: return std::floor(stream.uniform() * 8.0f) * 0.5f - 2.0f;
    case Distribution::extremes: return extreme_logit(stream);
  }
  return 0.0f;
}

float bias_value(const InputSpec& spec, int expert) {
  Stream stream(spec.seed, bias_tensor, static_cast<std::uint64_t>(expert));
  switch (spec.distribution) {
    case Distribution::normal: return 0.1f * stream.normal();
    case Distribution::uniform: return stream.uniform();
    case Distribution::ties: return std::floor(stream.uniform() * 2.0f) * 0.25f;
    case Distribution::extremes: return extreme_bias(stream);
  }
  return 0.0f;
}

void store(std::uint8_t* base, DType dtype, std::int64_t index, float value) {
  if (dtype == DType::f32) {
    std::memcpy(base + index * 4, &value, 4);
    return;
  }
  const std::uint16_t bits = dtype == DType::bf16 ? narrow_to_bf16(value) : narrow_to_f16(value);
  std::memcpy(base + index * 2, &bits, 2);
}

}  // namespace

std::optional<Distribution> parse_distribution(std::string_view name) {
  for (Distribution d : {Distribution::normal, Distribution::uniform, Distribution::ties,
                         Distribution::extremes})
    if (name_of(d) == name) return d;
  return std::nullopt;
}

std::string_view name_of(Distribution distribution) {
  switch (distribution) {
    case Distribution::normal: return "normal";
    case Distribution::uniform: return "uniform";
    case Distribution::ties: return "ties";
    case Distribution::extremes: return "extremes";
  }
  return "?";
}

RouterInputs make_inputs(const InputSpec& requested) {
  RouterInputs inputs{requested, {}, {}};
  InputSpec& spec = inputs.spec;
  if (spec.experts < 1 || spec.tokens < 0)
    throw std::invalid_argument("make_inputs: experts must be >= 1 and tokens >= 0");
  if (spec.row_stride == 0) spec.row_stride = spec.experts;
  if (spec.row_stride < spec.experts)
    throw std::invalid_argument("make_inputs: row_stride must be >= experts");
  // Padding between rows holds NaN so a kernel that reads past a row shows it.
  const std::int64_t elements = spec.tokens * spec.row_stride;
  inputs.logits_bytes.assign(static_cast<std::size_t>(elements) * dtype_bytes(spec.logits_dtype), 0);
  for (std::int64_t t = 0; t < spec.tokens; ++t)
    for (std::int64_t e = 0; e < spec.row_stride; ++e)
      store(inputs.logits_bytes.data(), spec.logits_dtype, t * spec.row_stride + e,
            e < spec.experts ? logit_value(spec, t, static_cast<int>(e))
                             : std::numeric_limits<float>::quiet_NaN());
  inputs.bias_bytes.assign(static_cast<std::size_t>(spec.experts) * dtype_bytes(spec.bias_dtype), 0);
  for (int e = 0; e < spec.experts; ++e)
    store(inputs.bias_bytes.data(), spec.bias_dtype, e, bias_value(spec, e));
  return inputs;
}

LogitsView RouterInputs::logits() const {
  return {logits_bytes.data(), spec.logits_dtype, spec.tokens, spec.row_stride};
}

BiasView RouterInputs::bias() const { return {bias_bytes.data(), spec.bias_dtype}; }

}  // namespace moegate
