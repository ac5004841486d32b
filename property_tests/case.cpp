#include "moegate/case.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <map>
#include <sstream>

namespace moegate {
namespace {

template <class Enum>
std::optional<Enum> enum_named(std::string_view name, std::initializer_list<Enum> all) {
  for (Enum value : all)
    if (name_of(value) == name) return value;
  return std::nullopt;
}

}  // namespace

std::string describe(const RouterCase& c) {
  std::ostringstream out;
  const RouterConfig& k = c.config;
  const InputSpec& s = c.spec;
  out << "experts=" << k.experts << " topk=" << k.topk << " groups=" << k.groups << " kept_groups=" << k.kept_groups
      << " renormalize=" << k.renormalize << " scaling=" << shortest_decimal(k.routed_scaling_factor)
      << " apply=" << k.apply_routed_scaling_factor_on_output << " nan_rank=" << name_of(k.profile.nan_rank)
      << " nan_replacement=" << shortest_decimal(k.profile.nan_replacement) << " zero_sum=" << name_of(k.profile.zero_sum)
      << " scaling_rule=" << name_of(k.profile.scaling) << " tokens=" << s.tokens << " row_stride=" << s.row_stride
      << " padding=" << name_of(s.padding) << " offset=" << s.offset
      << " logits=" << name_of(s.logit_family) << " bias=" << name_of(s.bias_family)
      << " hostile=" << s.hostile_eighths << " logits_dtype=" << dtype_name(s.logits_dtype)
      << " bias_dtype=" << dtype_name(s.bias_dtype) << " seed=" << s.seed;
  return out.str();
}

namespace {

// Reads one whole value or says why not: no trailing characters, no sign
// where none is allowed, nothing out of range (a seed of -1 or 2^64 is refused,
// never wrapped or saturated).
struct ValueReader {
  std::string why;

  template <class Int>
  bool integer(const std::string& key, const std::string& text, Int& out, bool allow_negative) {
    const bool negative = !text.empty() && text[0] == '-';
    if (text.empty() || (!std::isdigit(static_cast<unsigned char>(text[0])) && !(negative && allow_negative)))
      return fail(key, text, allow_negative ? "an integer" : "a non-negative integer");
    errno = 0;
    char* end = nullptr;
    if (negative) {
      const long long value = std::strtoll(text.c_str(), &end, 10);
      if (errno != 0 || *end != '\0' || value < static_cast<long long>(std::numeric_limits<Int>::min()))
        return fail(key, text, "an integer in range");
      out = static_cast<Int>(value);
    } else {
      const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
      if (errno != 0 || *end != '\0' || value > static_cast<unsigned long long>(std::numeric_limits<Int>::max()))
        return fail(key, text, "an integer in range");
      out = static_cast<Int>(value);
    }
    return true;
  }

  bool real(const std::string& key, const std::string& text, float& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtof(text.c_str(), &end);
    if (text.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(text[0])))
      return fail(key, text, "a number");
    return true;
  }

  // The spellings moegate prints: 1/0 in case lines, yes/no in config descriptions.
  bool flag(const std::string& key, const std::string& text, bool& out) {
    if (text == "1" || text == "yes" || text == "true") return out = true, true;
    if (text == "0" || text == "no" || text == "false") return out = false, true;
    return fail(key, text, "1, 0, yes, no, true or false");
  }

  bool fail(const std::string& key, const std::string& text, const char* wanted) {
    why = key + ": must be " + wanted + ", got '" + text + "'";
    return false;
  }
};

}  // namespace

std::optional<RouterCase> parse_case(std::string_view line, std::string* why) {
  const auto refuse = [why](std::string reason) -> std::optional<RouterCase> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  const char* names[] = {"experts", "topk", "groups", "kept_groups", "renormalize", "scaling", "apply",
                         "nan_rank", "nan_replacement", "zero_sum", "scaling_rule", "tokens", "row_stride",
                         "padding", "offset", "logits", "bias", "hostile", "logits_dtype", "bias_dtype", "seed"};
  std::map<std::string, std::string> fields;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) {
    const auto equals = word.find('=');
    if (equals == std::string::npos) return refuse("'" + word + "' is not key=value");
    const std::string key = word.substr(0, equals);
    if (std::find(std::begin(names), std::end(names), key) == std::end(names)) return refuse("unknown key '" + key + "'");
    if (!fields.emplace(key, word.substr(equals + 1)).second) return refuse("key '" + key + "' given twice");
  }
  // Lines kept before padding and offset existed mean NaN padding at offset 0.
  fields.emplace("padding", "nan");
  fields.emplace("offset", "0");
  for (const char* name : names)
    if (!fields.count(name)) return refuse(std::string("missing key '") + name + "'");
  RouterCase c;
  RouterConfig& k = c.config;
  InputSpec& s = c.spec;
  ValueReader read;
  const bool values_ok =
      read.integer("experts", fields["experts"], k.experts, true) && read.integer("topk", fields["topk"], k.topk, true) &&
      read.integer("groups", fields["groups"], k.groups, true) &&
      read.integer("kept_groups", fields["kept_groups"], k.kept_groups, true) &&
      read.flag("renormalize", fields["renormalize"], k.renormalize) &&
      read.real("scaling", fields["scaling"], k.routed_scaling_factor) &&
      read.flag("apply", fields["apply"], k.apply_routed_scaling_factor_on_output) &&
      read.real("nan_replacement", fields["nan_replacement"], k.profile.nan_replacement) &&
      read.integer("tokens", fields["tokens"], s.tokens, false) &&
      read.integer("row_stride", fields["row_stride"], s.row_stride, false) &&
      read.integer("offset", fields["offset"], s.offset, false) &&
      read.integer("hostile", fields["hostile"], s.hostile_eighths, false) &&
      read.integer("seed", fields["seed"], s.seed, false);
  if (!values_ok) return refuse(read.why);
  const auto nan_rank = enum_named(fields["nan_rank"], {NanRank::lowest, NanRank::highest, NanRank::replace});
  const auto zero_sum = enum_named(fields["zero_sum"], {ZeroSum::raw, ZeroSum::nan, ZeroSum::epsilon});
  const auto scaling = enum_named(fields["scaling_rule"], {Scaling::with_renormalize, Scaling::when_asked, Scaling::always});
  const auto logit_family = parse_logit_family(fields["logits"]);
  const auto bias_family = parse_bias_family(fields["bias"]);
  const auto padding = parse_padding_family(fields["padding"]);
  const auto logits_dtype = parse_dtype(fields["logits_dtype"]);
  const auto bias_dtype = parse_dtype(fields["bias_dtype"]);
  if (!nan_rank) return refuse("nan_rank: unknown value '" + fields["nan_rank"] + "'");
  if (!zero_sum) return refuse("zero_sum: unknown value '" + fields["zero_sum"] + "'");
  if (!scaling) return refuse("scaling_rule: unknown value '" + fields["scaling_rule"] + "'");
  if (!logit_family) return refuse("logits: unknown family '" + fields["logits"] + "'");
  if (!bias_family) return refuse("bias: unknown family '" + fields["bias"] + "'");
  if (!padding) return refuse("padding: unknown family '" + fields["padding"] + "'");
  if (s.offset > 64) return refuse("offset: must be in [0, 64], got " + fields["offset"]);
  if (!logits_dtype) return refuse("logits_dtype: unknown dtype '" + fields["logits_dtype"] + "'");
  if (!bias_dtype) return refuse("bias_dtype: unknown dtype '" + fields["bias_dtype"] + "'");
  if (s.hostile_eighths > 8) return refuse("hostile: must be in [0, 8], got " + fields["hostile"]);
  k.profile.nan_rank = *nan_rank;
  k.profile.zero_sum = *zero_sum;
  k.profile.scaling = *scaling;
  s.experts = k.experts;
  s.logit_family = *logit_family;
  s.bias_family = *bias_family;
  s.padding = *padding;
  s.logits_dtype = *logits_dtype;
  s.bias_dtype = *bias_dtype;
  return c;
}

}  // namespace moegate
