#include "moegate/presets.hpp"

namespace moegate {
namespace {

RouterConfig model(int experts, int topk, int groups, int kept_groups, float scaling_factor) {
  RouterConfig config;
  config.experts = experts;
  config.topk = topk;
  config.groups = groups;
  config.kept_groups = kept_groups;
  config.renormalize = true;
  config.routed_scaling_factor = scaling_factor;
  // Presets describe the whole routing result, so the factor is applied.
  config.apply_routed_scaling_factor_on_output = true;
  return config;
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> table = {
      {"kimi-k2",
       "Kimi K2 config.json: n_routed_experts 384, num_experts_per_tok 8, n_group 1, "
       "topk_group 1, routed_scaling_factor 2.827, norm_topk_prob true",
       model(384, 8, 1, 1, 2.827f)},
      {"kimi384",
       "SGLang kimi_k2_moe_fused_gate test parameters (384, 6, 2.872): the seed's 384-expert case",
       model(384, 6, 1, 1, 2.872f)},
      {"mimo256",
       "SGLang kimi_k2_moe_fused_gate test parameters (256, 8, 1.0): the seed's 256-expert case",
       model(256, 8, 1, 1, 1.0f)},
      {"mimo-v2-flash",
       "MiMo V2 Flash config: 256 routed experts, 8 per token, no groups, scaling 1.0, "
       "renormalized",
       model(256, 8, 1, 1, 1.0f)},
      {"deepseek-v3",
       "DeepSeek V3 / R1 config.json: n_routed_experts 256, num_experts_per_tok 8, n_group 8, "
       "topk_group 4, routed_scaling_factor 2.5, norm_topk_prob true",
       model(256, 8, 8, 4, 2.5f)},
      {"glm-4.5",
       "GLM-4.5 config.json: n_routed_experts 160, num_experts_per_tok 8, n_group 1, "
       "topk_group 1, routed_scaling_factor 2.5, norm_topk_prob true",
       model(160, 8, 1, 1, 2.5f)},
      {"glm-4.5-air",
       "GLM-4.5-Air config.json: n_routed_experts 128, num_experts_per_tok 8, n_group 1, "
       "topk_group 1, routed_scaling_factor 1.0, norm_topk_prob true",
       model(128, 8, 1, 1, 1.0f)},
      {"minimax-m2",
       "MiniMax-M2 config.json: num_local_experts 256, num_experts_per_tok 8, sigmoid scoring "
       "with e_score_correction_bias, no routed scaling (1.0), renormalized",
       model(256, 8, 1, 1, 1.0f)},
  };
  return table;
}

std::optional<Preset> find_preset(std::string_view name) {
  for (const auto& preset : presets())
    if (preset.name == name) return preset;
  return std::nullopt;
}

}  // namespace moegate
