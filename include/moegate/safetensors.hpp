// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the data. The reader refuses anything
// malformed with a SafetensorsError that says what and where; it never
// reads outside the buffer and never trusts a size it has not checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace moegate::vectors {

enum class TensorType : std::uint8_t { f64, f32, bf16, f16, i64, i32, u8 };

std::string_view type_name(TensorType type);  // the file's spelling: "F64", "F32", ...
std::size_t type_bytes(TensorType type);

struct Tensor {
  std::string name;
  TensorType type = TensorType::f32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  // row-major, little-endian

  std::int64_t elements() const;
};

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<Tensor> tensors;  // in data order

  const Tensor* find(std::string_view name) const;
  // The named tensor with this type and shape, or a SafetensorsError saying
  // which of the three is wrong.
  const Tensor& require(std::string_view name, TensorType type, const std::vector<std::int64_t>& shape) const;
};

// Limits the reader enforces (a header or a tensor past them is refused).
inline constexpr std::uint64_t max_header_bytes = 64ull << 20;
inline constexpr std::int64_t max_dimension = std::int64_t{1} << 40;

SafetensorsFile parse_safetensors(const std::uint8_t* bytes, std::size_t size);
SafetensorsFile read_safetensors(const std::string& path);

// Deterministic: the same tensors and metadata give the same bytes (header
// keys sorted, no whitespace but the padding to 8 bytes, data in the given
// order).
std::vector<std::uint8_t> serialize_safetensors(const std::vector<Tensor>& tensors,
                                                const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path, const std::vector<Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace moegate::vectors
