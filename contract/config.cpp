#include "moegate/config.hpp"

#include "moegate/dtype.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace moegate {
namespace {


ConfigError range_error(const std::string& field, const std::string& allowed, const std::string& got) {
  return ConfigError(field, field + ": must be " + allowed + ", got " + got);
}

}  // namespace

const std::vector<NamedProfile>& profiles() {
  static const std::vector<NamedProfile> table = {
      {"moegate", "this contract (the default)", Profile{}},
      {"sglang-triton", "SGLang Triton router: NaN score -> -1e30, scaling whenever asked",
       Profile{NanRank::replace, -1e30f, ZeroSum::raw, Scaling::when_asked}},
      {"torch", "plain torch reference: NaN ranks first (torch.topk), 0/0 renorm",
       Profile{NanRank::highest, -1e30f, ZeroSum::nan, Scaling::with_renormalize}},
      {"vllm", "vLLM / TRT-LLM / FlashInfer packed-key kernels: NaN first, sum + 1e-20, always scaled",
       Profile{NanRank::highest, -1e30f, ZeroSum::epsilon, Scaling::always}},
      {"vllm-torch", "vLLM's torch grouped_topk: NaN first (torch.topk), 0/0 renorm, scaled whenever factor != 1",
       Profile{NanRank::highest, -1e30f, ZeroSum::nan, Scaling::always}},
  };
  return table;
}

std::optional<Profile> find_profile(std::string_view name) {
  for (const auto& entry : profiles())
    if (entry.name == name) return entry.profile;
  return std::nullopt;
}

bool RouterConfig::scales_output() const {
  switch (profile.scaling) {
    case Scaling::with_renormalize: return renormalize && apply_routed_scaling_factor_on_output;
    case Scaling::when_asked: return apply_routed_scaling_factor_on_output;
    case Scaling::always: return true;
  }
  return false;
}

std::optional<ConfigError> validate(const RouterConfig& config) {
  if (config.experts < 1 || config.experts > max_experts)
    return range_error("experts", "in [1, " + std::to_string(max_experts) + "]",
                       std::to_string(config.experts));
  if (config.groups < 1 || config.groups > config.experts || config.experts % config.groups != 0)
    return range_error("groups", "a divisor of experts (" + std::to_string(config.experts) + ")",
                       std::to_string(config.groups));
  if (config.kept_groups < 1 || config.kept_groups > config.groups)
    return range_error("kept_groups", "in [1, groups = " + std::to_string(config.groups) + "]",
                       std::to_string(config.kept_groups));
  if (config.topk < 1 || config.topk > config.candidate_experts())
    return range_error("topk",
                       "in [1, kept_groups * experts / groups = " +
                           std::to_string(config.candidate_experts()) + "]",
                       std::to_string(config.topk));
  if (!std::isfinite(config.routed_scaling_factor) || !(config.routed_scaling_factor > 0.0f))
    return range_error("routed_scaling_factor", "finite and > 0",
                       shortest_decimal(config.routed_scaling_factor));
  if (std::isnan(config.profile.nan_replacement))
    return range_error("profile.nan_replacement", "a number (not NaN)", "NaN");
  return std::nullopt;
}

void require_valid(const RouterConfig& config) {
  if (auto error = validate(config)) throw *error;
}

std::string_view name_of(NanRank value) {
  switch (value) {
    case NanRank::lowest: return "lowest";
    case NanRank::highest: return "highest";
    case NanRank::replace: return "replace";
  }
  return "?";
}

std::string_view name_of(ZeroSum value) {
  switch (value) {
    case ZeroSum::raw: return "raw";
    case ZeroSum::nan: return "nan";
    case ZeroSum::epsilon: return "epsilon";
  }
  return "?";
}

std::string_view name_of(Scaling value) {
  switch (value) {
    case Scaling::with_renormalize: return "with_renormalize";
    case Scaling::when_asked: return "when_asked";
    case Scaling::always: return "always";
  }
  return "?";
}

std::string describe(const RouterConfig& config) {
  std::ostringstream out;
  out << "experts=" << config.experts << " topk=" << config.topk << " groups=" << config.groups
      << " kept_groups=" << config.kept_groups
      << " renormalize=" << (config.renormalize ? "yes" : "no")
      << " scaling_factor=" << shortest_decimal(config.routed_scaling_factor)
      << " apply_scaling=" << (config.apply_routed_scaling_factor_on_output ? "yes" : "no");
  if (!(config.profile == Profile{})) {
    out << " nan_rank=" << name_of(config.profile.nan_rank);
    if (config.profile.nan_rank == NanRank::replace)
      out << "(" << shortest_decimal(config.profile.nan_replacement) << ")";
    out << " zero_sum=" << name_of(config.profile.zero_sum)
        << " scaling=" << name_of(config.profile.scaling);
  }
  return out.str();
}

}  // namespace moegate
