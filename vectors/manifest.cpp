// The suite manifest's reader (include/moegate/vectors.hpp): every field is
// type-checked before use, case file names may not leave the suite's folder
// (vectors/fuzz runs libFuzzer on this too).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "moegate/vectors.hpp"

namespace moegate::vectors {
namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument("vectors: " + why); }

// A file name as it can be printed: control characters (a NUL would cut the message) as \xNN.
std::string printable(const std::string& name) {
  std::string out;
  for (char ch : name) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(ch));
      out += escaped;
    } else {
      out += ch;
    }
  }
  return out;
}

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
    const bool control = std::any_of(file.begin(), file.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
    if (file.empty() || control || file[0] == '.' || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos || file.size() <= suffix.size() ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      bad("case file '" + printable(file) + "' is not a plain NAME.safetensors");
    std::string why;
    const auto routing = parse_case(entry["case"].get<std::string>(), &why);
    if (!routing) bad("case '" + file + "': not a case line (" + why + ")");
    if (auto error = validate(routing->config)) bad("case '" + file + "': " + error->what());
    if (routing->spec.tokens < 0 || routing->spec.tokens > (std::int64_t{1} << 24))
      bad("case '" + file + "': tokens out of range");
    cases.push_back(ManifestCase{file, *routing});
  }
  return cases;
}

}  // namespace moegate::vectors
