// Deterministic router inputs for the CLI, benchmarks, property tests and
// test vectors: the same InputSpec always gives the same bytes, on any
// machine and thread count. Each value is a pure function of (seed, tensor,
// position); a family decides how values are drawn.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "moegate/dtype.hpp"
#include "moegate/tensors.hpp"

namespace moegate {

enum class LogitFamily {
  normal,      // N(0, 2) (an Irwin-Hall approximation; pure f32 arithmetic)
  uniform,     // the seed's tests: [0, 1)
  quantized,   // a coarse grid: many exact ties, within and across groups
  all_equal,   // one value per token, the same for every expert
  near_ties,   // one value per token, each expert a few ulp away from it
  saturating,  // |x| > 88: sigmoid exactly 0 or 1
  specials,    // NaN and +-inf among normal values
  extremes,    // +-FLT_MAX, denormals, -0.0/+0.0, NaN, +-inf, saturating, normal
  vanishing,   // every logit below -89: every s is exactly 0, so the renormalisation sum is 0
  tiny,        // logits in [-87, -80]: every s tiny (1e-38 .. 2e-35) but a normal f32, so the
               // renormalisation sum is far below 1e-20: dividing by sum + 1e-20 (vLLM's epsilon)
               // shows. Kept above the subnormal range, where flush-to-zero arithmetic (Triton's
               // default) would differ for a reason that is not the zero-sum rule.
};

enum class BiasFamily {
  zero,         // all +0.0
  normal,       // N(0, 0.1)
  uniform,      // the seed's tests: [0, 1)
  quantized,    // {0, 0.25}: ties across experts
  negative,     // in [-3, -2): c < -1 for every expert
  large,        // around 12: c - bias no longer recovers s
  neg_flt_max,  // some experts -FLT_MAX, the rest normal
  neg_inf,      // some experts -inf, the rest normal
  pos_inf,      // some experts +inf, the rest normal
  hostile_mix,  // a mix of all of the above
};

// What the padding between rows (row_stride > experts) and the elements before
// the first row (offset) hold. Real router logits are slices of a wider GEMM
// output, so the padding holds finite numbers in practice: a kernel that reads
// past E must not look correct just because NaN ranks last.
enum class PaddingFamily {
  nan,      // quiet NaN
  normal,   // values like the logits' own (shared-expert columns)
  large,    // large finite values (sigmoid 1): they would outrank every expert
  pos_inf,  // +inf
  neg_inf,  // -inf
  mixed,    // a mix of all of the above
};

// Named recipes for the CLI: a logit family with its usual bias family.
enum class Distribution {
  normal,    // normal logits, normal bias
  uniform,   // the seed's tests: uniform logits and bias
  ties,      // quantized logits and bias
  extremes,  // extreme logits, hostile biases
};

std::optional<Distribution> parse_distribution(std::string_view name);
std::string_view name_of(Distribution distribution);
std::optional<LogitFamily> parse_logit_family(std::string_view name);
std::string_view name_of(LogitFamily family);
std::optional<BiasFamily> parse_bias_family(std::string_view name);
std::string_view name_of(BiasFamily family);
std::optional<PaddingFamily> parse_padding_family(std::string_view name);
std::string_view name_of(PaddingFamily family);
const std::vector<PaddingFamily>& all_padding_families();
const std::vector<LogitFamily>& all_logit_families();
const std::vector<BiasFamily>& all_bias_families();

struct InputSpec {
  int experts = 0;
  std::int64_t tokens = 0;
  std::int64_t row_stride = 0;  // 0: dense (= experts)
  PaddingFamily padding = PaddingFamily::nan;  // what the padding past E (and the lead) holds
  // Where the rows start in the allocation a GPU harness makes: `offset`
  // elements after its (cudaMalloc-aligned) start, the lead filled like the
  // padding. A view like logits[:, 1:] or a row window of a larger tensor.
  int offset = 0;
  DType logits_dtype = DType::f32;
  DType bias_dtype = DType::f32;
  LogitFamily logit_family = LogitFamily::normal;
  BiasFamily bias_family = BiasFamily::normal;
  // For the families that mark "some" experts (neg_flt_max, neg_inf, pos_inf):
  // each expert is hostile with probability hostile_eighths / 8.
  int hostile_eighths = 4;
  std::uint64_t seed = 0;

  void use(Distribution distribution);
};

// Owns the bytes; logits() and bias() describe them.
struct RouterInputs {
  InputSpec spec;
  std::vector<std::uint8_t> logits_bytes;  // [tokens, row_stride], padding included
  std::vector<std::uint8_t> bias_bytes;
  std::vector<std::uint8_t> lead_bytes;    // the spec.offset elements that precede the rows in an allocation

  LogitsView logits() const;
  BiasView bias() const;
  // Widened to f32 (what the contract computes with).
  float logit(std::int64_t token, int expert) const;
  float bias_value(int expert) const;
};

RouterInputs make_inputs(const InputSpec& spec);

}  // namespace moegate
