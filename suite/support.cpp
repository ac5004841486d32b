// Support declarations: checked, printed as one line and read back, and the
// fitting of any case inside one (include/moegate/suite.hpp).
#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "moegate/suite.hpp"

namespace moegate::suite {
namespace {

std::string dtype_list(unsigned mask) {
  std::string text;
  for (DType dtype : all_dtypes)
    if (mask & dtype_bit(dtype)) text += (text.empty() ? "" : ",") + std::string(dtype_name(dtype));
  return text;
}

unsigned parse_dtype_list(const std::string& key, const std::string& value) {
  unsigned mask = 0;
  std::istringstream in(value);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto dtype = parse_dtype(item);
    if (!dtype) throw std::invalid_argument(key + ": '" + item + "' is not f32, bf16 or f16");
    mask |= dtype_bit(*dtype);
  }
  return mask;
}

int parse_int(const std::string& key, const std::string& value) {
  std::size_t used = 0;
  int parsed = 0;
  try {
    parsed = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) throw std::invalid_argument(key + ": '" + value + "' is not an integer");
  return parsed;
}

std::string describe_config(const RouterConfig& c) {
  return std::to_string(c.experts) + ":" + std::to_string(c.topk) + ":" + std::to_string(c.groups) + ":" +
         std::to_string(c.kept_groups) + ":" + (c.renormalize ? "1" : "0") + ":" +
         shortest_decimal(c.routed_scaling_factor) + ":" + (c.apply_routed_scaling_factor_on_output ? "1" : "0");
}

RouterConfig parse_config(const std::string& value) {
  std::vector<std::string> parts;
  std::istringstream in(value);
  std::string item;
  while (std::getline(in, item, ':')) parts.push_back(item);
  if (parts.size() != 7) throw std::invalid_argument("config: '" + value + "' is not E:k:G:kept:renormalize:scaling:apply");
  RouterConfig c;
  c.experts = parse_int("config experts", parts[0]);
  c.topk = parse_int("config topk", parts[1]);
  c.groups = parse_int("config groups", parts[2]);
  c.kept_groups = parse_int("config kept_groups", parts[3]);
  c.renormalize = parse_int("config renormalize", parts[4]) != 0;
  try {
    c.routed_scaling_factor = std::stof(parts[5]);
  } catch (const std::exception&) {
    throw std::invalid_argument("config: scaling '" + parts[5] + "' is not a number");
  }
  c.apply_routed_scaling_factor_on_output = parse_int("config apply", parts[6]) != 0;
  return c;
}

DType fit_dtype(DType dtype, unsigned mask) {
  if (mask & dtype_bit(dtype)) return dtype;
  for (DType d : all_dtypes)
    if (mask & dtype_bit(d)) return d;
  return dtype;
}

}  // namespace

std::string check(const Support& s) {
  if (s.max_experts < 1 || s.max_experts > max_experts) return "max_experts must be in [1, 2^24]";
  for (int e : s.experts_set)
    if (e < 1 || e > s.max_experts) return "experts " + std::to_string(e) + " is outside [1, max_experts]";
  if (s.max_topk < 1) return "max_topk must be >= 1";
  if (s.max_groups < 1) return "max_groups must be >= 1";
  if ((s.logits_dtypes & 0b111u) == 0) return "no logits dtype";
  if ((s.bias_dtypes & 0b111u) == 0) return "no bias dtype";
  if (s.row_stride_multiple < 1) return "row_stride_multiple must be >= 1";
  if (s.pointer_alignment < 1 || s.pointer_alignment > 256 || (s.pointer_alignment & (s.pointer_alignment - 1)))
    return "pointer_alignment must be a power of two in [1, 256]";
  if (s.max_tokens < 0) return "max_tokens must be >= 0";
  for (const RouterConfig& c : s.configs) {
    if (auto error = validate(c)) return std::string("configs: ") + error->what();
    if (!s.padded_rows && c.experts % s.row_stride_multiple != 0)
      return "configs: experts=" + std::to_string(c.experts) + " is no multiple of row_stride_multiple and padded rows are refused";
  }
  if (s.configs.empty() && !s.padded_rows && s.row_stride_multiple > 1)
    return "padded_rows=false with row_stride_multiple > 1 needs configs (which expert counts fill the rows?)";
  return {};
}

std::string describe(const Support& s) {
  std::ostringstream out;
  if (!s.experts_set.empty()) {
    out << "experts=";
    for (std::size_t i = 0; i < s.experts_set.size(); ++i) out << (i ? "," : "") << s.experts_set[i];
    out << " ";
  }
  out << "max_experts=" << s.max_experts << " max_topk=" << s.max_topk << " max_groups=" << s.max_groups;
  for (const RouterConfig& c : s.configs) out << " config=" << describe_config(c);
  out << " logits=" << dtype_list(s.logits_dtypes) << " bias=" << dtype_list(s.bias_dtypes)
      << " padded_rows=" << (s.padded_rows ? 1 : 0) << " row_stride_multiple=" << s.row_stride_multiple
      << " pointer_alignment=" << s.pointer_alignment
      << " max_tokens=" << s.max_tokens << " nan_rank=" << name_of(s.profile.nan_rank)
      << " nan_replacement=" << shortest_decimal(s.profile.nan_replacement) << " zero_sum=" << name_of(s.profile.zero_sum)
      << " scaling_rule=" << name_of(s.profile.scaling);
  return out.str();
}

Support parse_support(std::string_view line) {
  Support s;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) {
    const auto equals = word.find('=');
    if (equals == std::string::npos) throw std::invalid_argument("support: '" + word + "' is not key=value");
    const std::string key = word.substr(0, equals), value = word.substr(equals + 1);
    if (key == "experts") {
      std::istringstream items(value);
      std::string item;
      while (std::getline(items, item, ',')) s.experts_set.push_back(parse_int(key, item));
    } else if (key == "max_experts") {
      s.max_experts = parse_int(key, value);
    } else if (key == "max_topk") {
      s.max_topk = parse_int(key, value);
    } else if (key == "max_groups") {
      s.max_groups = parse_int(key, value);
    } else if (key == "config") {
      s.configs.push_back(parse_config(value));
    } else if (key == "logits") {
      s.logits_dtypes = parse_dtype_list(key, value);
    } else if (key == "bias") {
      s.bias_dtypes = parse_dtype_list(key, value);
    } else if (key == "padded_rows") {
      s.padded_rows = parse_int(key, value) != 0;
    } else if (key == "row_stride_multiple") {
      s.row_stride_multiple = parse_int(key, value);
    } else if (key == "pointer_alignment") {
      s.pointer_alignment = parse_int(key, value);
    } else if (key == "max_tokens") {
      s.max_tokens = parse_int(key, value);
    } else if (key == "profile") {
      const auto profile = find_profile(value);
      if (!profile) throw std::invalid_argument("profile: unknown profile '" + value + "'");
      s.profile = *profile;
    } else if (key == "nan_rank" || key == "nan_replacement" || key == "zero_sum" || key == "scaling_rule") {
      // The profile's switches, as describe() prints them: read through a case line's parser.
      const std::string probe = "experts=1 topk=1 groups=1 kept_groups=1 renormalize=1 scaling=1 apply=0 nan_rank=" +
                                std::string(key == "nan_rank" ? value : name_of(s.profile.nan_rank)) +
                                " nan_replacement=" +
                                (key == "nan_replacement" ? value : shortest_decimal(s.profile.nan_replacement)) +
                                " zero_sum=" + std::string(key == "zero_sum" ? value : name_of(s.profile.zero_sum)) +
                                " scaling_rule=" + std::string(key == "scaling_rule" ? value : name_of(s.profile.scaling)) +
                                " tokens=1 row_stride=1 logits=normal bias=zero hostile=4 logits_dtype=f32 "
                                "bias_dtype=f32 seed=0";
      const auto parsed = parse_case(probe);
      if (!parsed) throw std::invalid_argument(key + ": '" + value + "' is not a valid value");
      s.profile = parsed->config.profile;
    } else {
      throw std::invalid_argument("support: unknown key '" + key + "'");
    }
  }
  if (const std::string problem = check(s); !problem.empty()) throw std::invalid_argument("support: " + problem);
  return s;
}

RouterCase fit(const Support& support, RouterCase c) {
  RouterConfig& config = c.config;
  const auto pick = static_cast<int>(c.spec.seed % 1000003u);
  if (!support.configs.empty()) {
    config = support.configs[static_cast<std::size_t>(pick) % support.configs.size()];
  } else {
    if (!support.experts_set.empty())
      config.experts = support.experts_set[static_cast<std::size_t>(pick) % support.experts_set.size()];
    else if (config.experts > support.max_experts)
      config.experts = 1 + pick % support.max_experts;
    if (config.groups > support.max_groups || config.experts % config.groups != 0) config.groups = config.kept_groups = 1;
    config.topk = std::clamp(config.topk, 1, std::min(support.max_topk, config.candidate_experts()));
  }
  config.profile = support.profile;
  c.spec.logits_dtype = fit_dtype(c.spec.logits_dtype, support.logits_dtypes);
  c.spec.bias_dtype = fit_dtype(c.spec.bias_dtype, support.bias_dtypes);
  // The generated padding past E kept (odd strides stay tested), then rounded
  // up to the declared multiple; T capped as the generator caps T x E.
  const std::int64_t padding =
      support.padded_rows ? std::max<std::int64_t>(0, c.spec.row_stride - c.spec.experts) : 0;
  c.spec.experts = config.experts;
  const std::int64_t multiple = std::max(1, support.row_stride_multiple);
  c.spec.row_stride = (config.experts + padding + multiple - 1) / multiple * multiple;
  // The view's offset kept where the alignment allows it (rows after the
  // first keep theirs through the row stride multiple).
  const int element = static_cast<int>(dtype_bytes(c.spec.logits_dtype));
  const int step = std::max(1, support.pointer_alignment / element);
  c.spec.offset = c.spec.offset / step * step;
  std::int64_t most = std::max<std::int64_t>(1, max_case_logits / config.experts);
  if (support.max_tokens > 0) most = std::min(most, support.max_tokens);
  c.spec.tokens = std::clamp<std::int64_t>(c.spec.tokens, 1, most);
  return c;
}

}  // namespace moegate::suite
