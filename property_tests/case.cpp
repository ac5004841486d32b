#include "moegate/case.hpp"

#include <cstdio>
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
      << " logits=" << name_of(s.logit_family) << " bias=" << name_of(s.bias_family)
      << " hostile=" << s.hostile_eighths << " logits_dtype=" << dtype_name(s.logits_dtype)
      << " bias_dtype=" << dtype_name(s.bias_dtype) << " seed=" << s.seed;
  return out.str();
}

std::optional<RouterCase> parse_case(std::string_view line) {
  std::map<std::string, std::string> fields;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) {
    const auto equals = word.find('=');
    if (equals == std::string::npos) return std::nullopt;
    fields[word.substr(0, equals)] = word.substr(equals + 1);
  }
  const char* names[] = {"experts", "topk", "groups", "kept_groups", "renormalize", "scaling", "apply",
                         "nan_rank", "nan_replacement", "zero_sum", "scaling_rule", "tokens", "row_stride",
                         "logits", "bias", "hostile", "logits_dtype", "bias_dtype", "seed"};
  for (const char* name : names)
    if (!fields.count(name)) return std::nullopt;
  try {
    RouterCase c;
    RouterConfig& k = c.config;
    InputSpec& s = c.spec;
    k.experts = std::stoi(fields["experts"]);
    k.topk = std::stoi(fields["topk"]);
    k.groups = std::stoi(fields["groups"]);
    k.kept_groups = std::stoi(fields["kept_groups"]);
    k.renormalize = fields["renormalize"] == "1";
    k.routed_scaling_factor = std::stof(fields["scaling"]);
    k.apply_routed_scaling_factor_on_output = fields["apply"] == "1";
    k.profile.nan_replacement = std::stof(fields["nan_replacement"]);
    const auto nan_rank = enum_named(fields["nan_rank"], {NanRank::lowest, NanRank::highest, NanRank::replace});
    const auto zero_sum = enum_named(fields["zero_sum"], {ZeroSum::raw, ZeroSum::nan, ZeroSum::epsilon});
    const auto scaling =
        enum_named(fields["scaling_rule"], {Scaling::with_renormalize, Scaling::when_asked, Scaling::always});
    const auto logit_family = parse_logit_family(fields["logits"]);
    const auto bias_family = parse_bias_family(fields["bias"]);
    const auto logits_dtype = parse_dtype(fields["logits_dtype"]);
    const auto bias_dtype = parse_dtype(fields["bias_dtype"]);
    if (!nan_rank || !zero_sum || !scaling || !logit_family || !bias_family || !logits_dtype || !bias_dtype)
      return std::nullopt;
    k.profile.nan_rank = *nan_rank;
    k.profile.zero_sum = *zero_sum;
    k.profile.scaling = *scaling;
    s.experts = k.experts;
    s.tokens = std::stoll(fields["tokens"]);
    s.row_stride = std::stoll(fields["row_stride"]);
    s.logit_family = *logit_family;
    s.bias_family = *bias_family;
    s.hostile_eighths = std::stoi(fields["hostile"]);
    s.logits_dtype = *logits_dtype;
    s.bias_dtype = *bias_dtype;
    s.seed = std::stoull(fields["seed"]);
    return c;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace moegate
