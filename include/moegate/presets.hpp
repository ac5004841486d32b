// Named router configurations of real models and of the seed's tests.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "moegate/config.hpp"

namespace moegate {

struct Preset {
  std::string_view name;
  std::string_view source;  // where the numbers come from
  RouterConfig config;
};

const std::vector<Preset>& presets();
std::optional<Preset> find_preset(std::string_view name);

}  // namespace moegate
