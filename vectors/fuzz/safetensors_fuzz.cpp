// libFuzzer target: the safetensors reader and the manifest reader must
// refuse any input with their error (or accept it), never crash, hang or
// throw anything else.
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>

#include <stdexcept>
#include <string_view>

#include "moegate/safetensors.hpp"
#include "moegate/vectors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = moegate::vectors::parse_safetensors(data, size);
    // Whatever was accepted must survive a round trip.
    const auto bytes = moegate::vectors::serialize_safetensors(file.tensors, file.metadata);
    moegate::vectors::parse_safetensors(bytes.data(), bytes.size());
  } catch (const moegate::vectors::SafetensorsError&) {
  }
  // The same bytes as a suite manifest.
  try {
    moegate::vectors::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
