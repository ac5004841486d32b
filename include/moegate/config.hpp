// The router configuration and the contract's switches ("profiles").
//
// docs/semantics.md is the prose form of this header: what result every
// input must produce. Validation runs before any routing, on the CPU and on
// the GPU, and names the offending field with its allowed range.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace moegate {

// Bumped whenever a clause of docs/semantics.md changes its result.
inline constexpr int contract_version = 1;

// Ids are int32 and must also be exact in f32; 2^24 keeps both true.
inline constexpr int max_experts = 1 << 24;

// Where a NaN biased score ranks. Ours: below every number, -inf included.
enum class NanRank {
  lowest,   // moegate's contract
  highest,  // torch.topk and packed-key kernels: above +inf
  replace,  // the score is replaced by Profile::nan_replacement (SGLang Triton: -1e30)
};

// What renormalisation does when the sum of the chosen weights is not > 0.
enum class ZeroSum {
  raw,      // moegate and the seed: leave the weights as they are
  nan,      // torch: divide anyway (0/0 = NaN)
  epsilon,  // vLLM / TRT-LLM / FlashInfer: always divide by (sum + 1e-20)
};

// When the routed scaling factor multiplies the output weights.
enum class Scaling {
  with_renormalize,  // moegate and the seed: renormalize && apply_routed_scaling_factor_on_output
  when_asked,        // SGLang Triton: apply_routed_scaling_factor_on_output alone
  always,            // vLLM / TRT-LLM: every call
};

// The defaults are moegate's contract; the other values reproduce the
// divergences tabled in docs/semantics.md when generating vectors.
struct Profile {
  NanRank nan_rank = NanRank::lowest;
  float nan_replacement = -1e30f;
  ZeroSum zero_sum = ZeroSum::raw;
  Scaling scaling = Scaling::with_renormalize;

  friend bool operator==(const Profile& a, const Profile& b) {
    return a.nan_rank == b.nan_rank && a.nan_replacement == b.nan_replacement &&
           a.zero_sum == b.zero_sum && a.scaling == b.scaling;
  }
};

struct NamedProfile {
  std::string_view name;
  std::string_view follows;  // which implementation this profile imitates
  Profile profile;
};

const std::vector<NamedProfile>& profiles();
std::optional<Profile> find_profile(std::string_view name);

struct RouterConfig {
  int experts = 0;
  int topk = 0;
  int groups = 1;       // expert groups G; experts / groups experts each
  int kept_groups = 1;  // topk_group: how many groups survive the group cut
  bool renormalize = true;
  float routed_scaling_factor = 1.0f;
  bool apply_routed_scaling_factor_on_output = false;
  Profile profile{};

  int experts_per_group() const { return experts / groups; }
  // Experts that may still be chosen after the group cut.
  int candidate_experts() const { return kept_groups * experts_per_group(); }
  bool grouped() const { return groups > 1; }
  // Whether the routed scaling factor multiplies the output (per the profile).
  bool scales_output() const;
};

// A configuration that breaks the contract's preconditions.
class ConfigError : public std::invalid_argument {
 public:
  ConfigError(std::string field, const std::string& message)
      : std::invalid_argument(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Returns the first violated precondition, or nothing when the config is valid.
std::optional<ConfigError> validate(const RouterConfig& config);
// Throws the error validate() would return.
void require_valid(const RouterConfig& config);

std::string describe(const RouterConfig& config);
std::string_view name_of(NanRank value);
std::string_view name_of(ZeroSum value);
std::string_view name_of(Scaling value);

}  // namespace moegate
