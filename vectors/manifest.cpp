// The suite manifest's reader (include/moegate/vectors.hpp): every field is
// type-checked before use, case file names may not leave the suite's folder
// (vectors/fuzz runs libFuzzer on this too).
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "moegate/vectors.hpp"

namespace moegate::vectors {
namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument("vectors: " + why); }

}  // namespace

std::vector<ManifestCase> parse_manifest(std::string_view text) {
  const Json manifest = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object()) bad("the manifest is not a JSON object");
  if (!manifest.contains("format") || manifest["format"] != "moegate-vectors") bad("not a moegate-vectors manifest");
  if (!manifest.contains("contract_version") || manifest["contract_version"] != contract_version)
    bad("contract_version is not " + std::to_string(contract_version));
  if (!manifest.contains("cases") || !manifest["cases"].is_array()) bad("no \"cases\" array");
  std::vector<ManifestCase> cases;
  for (const Json& entry : manifest["cases"]) {
    if (!entry.is_object() || !entry.contains("file") || !entry["file"].is_string() || !entry.contains("case") ||
        !entry["case"].is_string())
      bad("a case without \"file\" and \"case\" strings");
    const std::string file = entry["file"].get<std::string>();
    const std::string suffix = ".safetensors";
    // A plain file name in the suite's folder: no paths out of it.
    if (file.empty() || file[0] == '.' || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos || file.size() <= suffix.size() ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      bad("case file '" + file + "' is not a plain NAME.safetensors");
    const auto routing = parse_case(entry["case"].get<std::string>());
    if (!routing) bad("case '" + file + "': not a case line");
    if (routing->spec.tokens < 0 || routing->spec.tokens > (std::int64_t{1} << 24))
      bad("case '" + file + "': tokens out of range");
    cases.push_back(ManifestCase{file, *routing});
  }
  return cases;
}

}  // namespace moegate::vectors
