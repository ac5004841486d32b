// libFuzzer target: the safetensors reader must refuse any input with a
// SafetensorsError (or accept it), never crash, hang or throw anything else.
// Built and run by scripts/fuzz.
#include <cstddef>
#include <cstdint>

#include "moegate/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = moegate::vectors::parse_safetensors(data, size);
    // Whatever was accepted must survive a round trip.
    const auto bytes = moegate::vectors::serialize_safetensors(file.tensors, file.metadata);
    moegate::vectors::parse_safetensors(bytes.data(), bytes.size());
  } catch (const moegate::vectors::SafetensorsError&) {
  }
  return 0;
}
