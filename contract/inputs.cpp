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

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();

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
  std::uint32_t below(std::uint32_t bound) { return static_cast<std::uint32_t>(next() % bound); }
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
constexpr std::uint64_t token_tensor = 3;  // per-token values shared by a whole row
constexpr std::uint64_t padding_tensor = 4;

float step_ulps(float value, int ulps) {
  std::uint32_t bits = bits_from_float(value);
  bits = static_cast<std::uint32_t>(static_cast<std::int64_t>(bits) + ulps);
  return float_from_bits(bits);
}

float extreme_logit(Stream& stream) {
  switch (stream.below(16)) {
    case 0: return nan;
    case 1: return inf;
    case 2: return -inf;
    case 3: return FLT_MAX;
    case 4: return -FLT_MAX;
    case 5: return 88.0f + 20.0f * stream.uniform();
    case 6: return -89.0f - 20.0f * stream.uniform();
    case 7: return 1e-40f;   // denormal
    case 8: return -1e-40f;
    case 9: return -0.0f;
    case 10: return 0.0f;
    default: return 4.0f * stream.normal();
  }
}

float logit_value(const InputSpec& spec, std::int64_t token, int expert) {
  const auto position = static_cast<std::uint64_t>(token) * static_cast<std::uint64_t>(spec.experts) +
                        static_cast<std::uint64_t>(expert);
  Stream stream(spec.seed, logits_tensor, position);
  Stream row(spec.seed, token_tensor, static_cast<std::uint64_t>(token));
  switch (spec.logit_family) {
    case LogitFamily::normal: return 2.0f * stream.normal();
    case LogitFamily::uniform: return stream.uniform();
    case LogitFamily::quantized: return static_cast<float>(stream.below(8)) * 0.5f - 2.0f;
    case LogitFamily::all_equal: return 3.0f * row.normal();
    case LogitFamily::near_ties: return step_ulps(3.0f * row.normal(), static_cast<int>(stream.below(9)) - 4);
    case LogitFamily::saturating:
      return (stream.below(2) ? 1.0f : -1.0f) * (88.5f + 30.0f * stream.uniform());
    case LogitFamily::specials:
      switch (stream.below(8)) {
        case 0: return nan;
        case 1: return inf;
        case 2: return -inf;
        default: return 2.0f * stream.normal();
      }
    case LogitFamily::extremes: return extreme_logit(stream);
    case LogitFamily::vanishing: return -89.0f - 20.0f * stream.uniform();
    case LogitFamily::tiny: return -80.0f - 7.0f * stream.uniform();
  }
  return 0.0f;
}

float bias_value(const InputSpec& spec, int expert) {
  Stream stream(spec.seed, bias_tensor, static_cast<std::uint64_t>(expert));
  const bool hostile = stream.below(8) < static_cast<std::uint32_t>(spec.hostile_eighths);
  switch (spec.bias_family) {
    case BiasFamily::zero: return 0.0f;
    case BiasFamily::normal: return 0.1f * stream.normal();
    case BiasFamily::uniform: return stream.uniform();
    case BiasFamily::quantized: return static_cast<float>(stream.below(2)) * 0.25f;
    case BiasFamily::negative: return -2.0f - stream.uniform();
    case BiasFamily::large: return 12.0f + 0.5f * stream.normal();
    case BiasFamily::neg_flt_max: return hostile ? -FLT_MAX : 0.1f * stream.normal();
    case BiasFamily::neg_inf: return hostile ? -inf : 0.1f * stream.normal();
    case BiasFamily::pos_inf: return hostile ? inf : 0.1f * stream.normal();
    case BiasFamily::hostile_mix:
      switch (stream.below(12)) {
        case 0: return -FLT_MAX;
        case 1: return -inf;
        case 2: return 12.0f;
        case 3: return -2.0f;
        case 4: return -0.0f;
        case 5: return nan;
        default: return 0.1f * stream.normal();
      }
  }
  return 0.0f;
}

// `position` counts the padding elements of the allocation (the lead first).
float padding_value(const InputSpec& spec, std::uint64_t position) {
  Stream stream(spec.seed, padding_tensor, position);
  switch (spec.padding) {
    case PaddingFamily::nan: return nan;
    case PaddingFamily::normal: return 2.0f * stream.normal();
    case PaddingFamily::large: return 30.0f + 1e4f * stream.uniform();
    case PaddingFamily::pos_inf: return inf;
    case PaddingFamily::neg_inf: return -inf;
    case PaddingFamily::mixed:
      switch (stream.below(6)) {
        case 0: return nan;
        case 1: return inf;
        case 2: return -inf;
        case 3: return FLT_MAX;
        case 4: return 30.0f + 1e4f * stream.uniform();
        default: return 2.0f * stream.normal();
      }
  }
  return nan;
}

void store(std::uint8_t* base, DType dtype, std::int64_t index, float value) {
  if (dtype == DType::f32) {
    std::memcpy(base + index * 4, &value, 4);
    return;
  }
  const std::uint16_t bits = dtype == DType::bf16 ? narrow_to_bf16(value) : narrow_to_f16(value);
  std::memcpy(base + index * 2, &bits, 2);
}

template <class Enum>
std::optional<Enum> parse_enum(const std::vector<Enum>& all, std::string_view name) {
  for (Enum value : all)
    if (name_of(value) == name) return value;
  return std::nullopt;
}

}  // namespace

const std::vector<LogitFamily>& all_logit_families() {
  static const std::vector<LogitFamily> all = {
      LogitFamily::normal,    LogitFamily::uniform,    LogitFamily::quantized, LogitFamily::all_equal,
      LogitFamily::near_ties, LogitFamily::saturating, LogitFamily::specials,  LogitFamily::extremes,
      LogitFamily::vanishing, LogitFamily::tiny};
  return all;
}

const std::vector<PaddingFamily>& all_padding_families() {
  static const std::vector<PaddingFamily> all = {PaddingFamily::nan,     PaddingFamily::normal,  PaddingFamily::large,
                                                 PaddingFamily::pos_inf, PaddingFamily::neg_inf, PaddingFamily::mixed};
  return all;
}

std::string_view name_of(PaddingFamily family) {
  switch (family) {
    case PaddingFamily::nan: return "nan";
    case PaddingFamily::normal: return "normal";
    case PaddingFamily::large: return "large";
    case PaddingFamily::pos_inf: return "pos_inf";
    case PaddingFamily::neg_inf: return "neg_inf";
    case PaddingFamily::mixed: return "mixed";
  }
  return "?";
}

std::optional<PaddingFamily> parse_padding_family(std::string_view name) {
  return parse_enum(all_padding_families(), name);
}

const std::vector<BiasFamily>& all_bias_families() {
  static const std::vector<BiasFamily> all = {
      BiasFamily::zero,  BiasFamily::normal,      BiasFamily::uniform, BiasFamily::quantized,
      BiasFamily::negative, BiasFamily::large,    BiasFamily::neg_flt_max, BiasFamily::neg_inf,
      BiasFamily::pos_inf,  BiasFamily::hostile_mix};
  return all;
}

std::string_view name_of(LogitFamily family) {
  switch (family) {
    case LogitFamily::normal: return "normal";
    case LogitFamily::uniform: return "uniform";
    case LogitFamily::quantized: return "quantized";
    case LogitFamily::all_equal: return "all_equal";
    case LogitFamily::near_ties: return "near_ties";
    case LogitFamily::saturating: return "saturating";
    case LogitFamily::specials: return "specials";
    case LogitFamily::extremes: return "extremes";
    case LogitFamily::vanishing: return "vanishing";
    case LogitFamily::tiny: return "tiny";
  }
  return "?";
}

std::string_view name_of(BiasFamily family) {
  switch (family) {
    case BiasFamily::zero: return "zero";
    case BiasFamily::normal: return "normal";
    case BiasFamily::uniform: return "uniform";
    case BiasFamily::quantized: return "quantized";
    case BiasFamily::negative: return "negative";
    case BiasFamily::large: return "large";
    case BiasFamily::neg_flt_max: return "neg_flt_max";
    case BiasFamily::neg_inf: return "neg_inf";
    case BiasFamily::pos_inf: return "pos_inf";
    case BiasFamily::hostile_mix: return "hostile_mix";
  }
  return "?";
}

std::optional<LogitFamily> parse_logit_family(std::string_view name) {
  return parse_enum(all_logit_families(), name);
}

std::optional<BiasFamily> parse_bias_family(std::string_view name) {
  return parse_enum(all_bias_families(), name);
}

std::optional<Distribution> parse_distribution(std::string_view name) {
  return parse_enum(std::vector<Distribution>{Distribution::normal, Distribution::uniform,
                                              Distribution::ties, Distribution::extremes},
                    name);
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

void InputSpec::use(Distribution distribution) {
  switch (distribution) {
    case Distribution::normal: logit_family = LogitFamily::normal; bias_family = BiasFamily::normal; break;
    case Distribution::uniform: logit_family = LogitFamily::uniform; bias_family = BiasFamily::uniform; break;
    case Distribution::ties: logit_family = LogitFamily::quantized; bias_family = BiasFamily::quantized; break;
    case Distribution::extremes: logit_family = LogitFamily::extremes; bias_family = BiasFamily::hostile_mix; break;
  }
}

RouterInputs make_inputs(const InputSpec& requested) {
  RouterInputs inputs{requested, {}, {}, {}};
  InputSpec& spec = inputs.spec;
  if (spec.experts < 1 || spec.tokens < 0)
    throw std::invalid_argument("make_inputs: experts must be >= 1 and tokens >= 0");
  if (spec.row_stride == 0) spec.row_stride = spec.experts;
  if (spec.row_stride < spec.experts)
    throw std::invalid_argument("make_inputs: row_stride must be >= experts");
  if (spec.offset < 0 || spec.offset > 64) throw std::invalid_argument("make_inputs: offset must be in [0, 64]");
  // The padding between rows and the lead before them hold the padding
  // family's values, so a kernel that reads past a row (or before it) shows it.
  const std::int64_t elements = spec.tokens * spec.row_stride;
  const std::int64_t padding = spec.row_stride - spec.experts;
  inputs.logits_bytes.assign(static_cast<std::size_t>(elements) * dtype_bytes(spec.logits_dtype), 0);
  for (std::int64_t t = 0; t < spec.tokens; ++t)
    for (std::int64_t e = 0; e < spec.row_stride; ++e)
      store(inputs.logits_bytes.data(), spec.logits_dtype, t * spec.row_stride + e,
            e < spec.experts ? logit_value(spec, t, static_cast<int>(e))
                             : padding_value(spec, static_cast<std::uint64_t>(spec.offset + t * padding + e - spec.experts)));
  inputs.lead_bytes.assign(static_cast<std::size_t>(spec.offset) * dtype_bytes(spec.logits_dtype), 0);
  for (int i = 0; i < spec.offset; ++i)
    store(inputs.lead_bytes.data(), spec.logits_dtype, i, padding_value(spec, static_cast<std::uint64_t>(i)));
  inputs.bias_bytes.assign(static_cast<std::size_t>(spec.experts) * dtype_bytes(spec.bias_dtype), 0);
  for (int e = 0; e < spec.experts; ++e)
    store(inputs.bias_bytes.data(), spec.bias_dtype, e, bias_value(spec, e));
  return inputs;
}

LogitsView RouterInputs::logits() const {
  return {logits_bytes.data(), spec.logits_dtype, spec.tokens, spec.row_stride};
}

BiasView RouterInputs::bias() const { return {bias_bytes.data(), spec.bias_dtype}; }

float RouterInputs::logit(std::int64_t token, int expert) const {
  return load_widened(logits_bytes.data(), spec.logits_dtype, token * spec.row_stride + expert);
}

float RouterInputs::bias_value(int expert) const {
  return load_widened(bias_bytes.data(), spec.bias_dtype, expert);
}

}  // namespace moegate
