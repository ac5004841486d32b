// The safetensors reader and writer (include/moegate/safetensors.hpp).
// Every field of the header is type-checked before it is used and every
// size is checked against the buffer before anything is read, so hostile
// input ends in a SafetensorsError (vectors/fuzz runs libFuzzer on this).
#include "moegate/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_set>

namespace moegate::vectors {
namespace {

using Json = nlohmann::json;

constexpr TensorType all_types[] = {TensorType::f64, TensorType::f32, TensorType::bf16, TensorType::f16,
                                    TensorType::i64, TensorType::i32, TensorType::u8};

[[noreturn]] void refuse(const std::string& why) { throw SafetensorsError("safetensors: " + why); }

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

TensorType type_named(const std::string& name, const std::string& tensor) {
  for (TensorType type : all_types)
    if (type_name(type) == name) return type;
  refuse("tensor '" + tensor + "': unsupported dtype '" + name + "'");
}

// A JSON value as a non-negative integer, or a refusal naming `what`.
std::uint64_t unsigned_field(const Json& value, const std::string& what) {
  if (!value.is_number_integer()) refuse(what + " is not an integer");
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  const auto number = value.get<std::int64_t>();
  if (number < 0) refuse(what + " is negative");
  return static_cast<std::uint64_t>(number);
}

struct Entry {
  std::string name;
  TensorType type;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;
};

Entry parse_entry(const std::string& name, const Json& value, std::uint64_t data_bytes) {
  if (!value.is_object()) refuse("tensor '" + name + "': header entry is not an object");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!value.contains(field)) refuse("tensor '" + name + "': no \"" + field + "\"");
  const Json& dtype = value["dtype"];
  if (!dtype.is_string()) refuse("tensor '" + name + "': dtype is not a string");
  Entry entry{name, type_named(dtype.get<std::string>(), name), {}, 0, 0};
  const Json& shape = value["shape"];
  if (!shape.is_array()) refuse("tensor '" + name + "': shape is not an array");
  if (shape.size() > 16) refuse("tensor '" + name + "': " + std::to_string(shape.size()) + " dimensions (limit 16)");
  std::uint64_t elements = 1;
  for (const Json& dimension : shape) {
    const std::uint64_t size = unsigned_field(dimension, "tensor '" + name + "': a dimension");
    if (size > static_cast<std::uint64_t>(max_dimension))
      refuse("tensor '" + name + "': dimension " + std::to_string(size) + " is absurd");
    entry.shape.push_back(static_cast<std::int64_t>(size));
    if (size != 0 && elements > static_cast<std::uint64_t>(max_dimension) / size)
      refuse("tensor '" + name + "': shape " + shape_text(entry.shape) + " has an absurd number of elements");
    elements *= size;
  }
  const Json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) refuse("tensor '" + name + "': data_offsets is not [begin, end]");
  entry.begin = unsigned_field(offsets[0], "tensor '" + name + "': data_offsets begin");
  entry.end = unsigned_field(offsets[1], "tensor '" + name + "': data_offsets end");
  if (entry.begin > entry.end) refuse("tensor '" + name + "': data_offsets begin > end");
  if (entry.end > data_bytes)
    refuse("tensor '" + name + "': data_offsets end " + std::to_string(entry.end) + " is past the data (" +
           std::to_string(data_bytes) + " bytes): truncated or out of range");
  const std::uint64_t bytes = elements * type_bytes(entry.type);
  if (entry.end - entry.begin != bytes)
    refuse("tensor '" + name + "': " + std::string(type_name(entry.type)) + " " + shape_text(entry.shape) + " needs " +
           std::to_string(bytes) + " bytes, data_offsets give " + std::to_string(entry.end - entry.begin));
  return entry;
}

}  // namespace

std::string_view type_name(TensorType type) {
  switch (type) {
    case TensorType::f64: return "F64";
    case TensorType::f32: return "F32";
    case TensorType::bf16: return "BF16";
    case TensorType::f16: return "F16";
    case TensorType::i64: return "I64";
    case TensorType::i32: return "I32";
    case TensorType::u8: return "U8";
  }
  return "?";
}

std::size_t type_bytes(TensorType type) {
  switch (type) {
    case TensorType::f64:
    case TensorType::i64: return 8;
    case TensorType::f32:
    case TensorType::i32: return 4;
    case TensorType::bf16:
    case TensorType::f16: return 2;
    case TensorType::u8: return 1;
  }
  return 0;
}

std::int64_t Tensor::elements() const {
  std::int64_t count = 1;
  for (std::int64_t size : shape) count *= size;
  return count;
}

const Tensor* SafetensorsFile::find(std::string_view name) const {
  for (const Tensor& tensor : tensors)
    if (tensor.name == name) return &tensor;
  return nullptr;
}

const Tensor& SafetensorsFile::require(std::string_view name, TensorType type,
                                       const std::vector<std::int64_t>& shape) const {
  const Tensor* tensor = find(name);
  if (tensor == nullptr) refuse("missing tensor '" + std::string(name) + "'");
  if (tensor->type != type)
    refuse("tensor '" + std::string(name) + "' is " + std::string(type_name(tensor->type)) + ", expected " +
           std::string(type_name(type)));
  if (tensor->shape != shape)
    refuse("tensor '" + std::string(name) + "' has shape " + shape_text(tensor->shape) + ", expected " +
           shape_text(shape));
  return *tensor;
}

namespace {

// The header's length from the 8-byte prefix, checked against the limit and the file size.
std::uint64_t header_length(const std::uint8_t* prefix, std::uint64_t size) {
  if (size < 8) refuse("truncated: " + std::to_string(size) + " bytes, the 8-byte header length alone needs 8");
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | prefix[i];
  if (header_bytes == 0) refuse("empty header");
  if (header_bytes > max_header_bytes)
    refuse("header length " + std::to_string(header_bytes) + " is absurd (limit " + std::to_string(max_header_bytes) +
           ")");
  if (header_bytes > size - 8)
    refuse("header length " + std::to_string(header_bytes) + " is past the end of the file (" + std::to_string(size) +
           " bytes): truncated");
  return header_bytes;
}

// Top-level keys seen once each, in one linear SAX pass (a JSON object would
// silently keep only one of two equal names; the DOM parser's callback made
// this check quadratic in the number of entries).
struct DuplicateKeys : nlohmann::json_sax<Json> {
  std::unordered_set<std::string> names;
  std::string duplicate;
  int depth = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth, true; }
  bool end_object() override { return --depth, true; }
  bool start_array(std::size_t) override { return ++depth, true; }
  bool end_array() override { return --depth, true; }
  bool key(string_t& name) override {
    if (depth == 1 && !names.insert(name).second && duplicate.empty()) duplicate = name;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;  // sorted by offset
  std::uint64_t data_end = 0;  // the furthest byte any tensor uses
};

Header parse_header(const char* text, std::uint64_t length, std::uint64_t data_bytes) {
  DuplicateKeys keys;
  if (!Json::sax_parse(text, text + length, &keys)) refuse("the header is not JSON");
  const Json root = Json::parse(text, text + length, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) refuse("the header is not JSON");
  if (!root.is_object()) refuse("the header is not a JSON object");
  if (!keys.duplicate.empty()) refuse("tensor '" + keys.duplicate + "' appears twice in the header");
  Header header;
  for (auto item = root.begin(); item != root.end(); ++item) {
    if (item.key() == "__metadata__") {
      if (!item.value().is_object()) refuse("__metadata__ is not an object");
      for (auto field = item.value().begin(); field != item.value().end(); ++field) {
        if (!field.value().is_string()) refuse("__metadata__['" + field.key() + "'] is not a string");
        header.metadata[field.key()] = field.value().get<std::string>();
      }
      continue;
    }
    header.entries.push_back(parse_entry(item.key(), item.value(), data_bytes));
  }
  std::sort(header.entries.begin(), header.entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < header.entries.size(); ++i)
    if (header.entries[i].begin < header.entries[i - 1].end)
      refuse("tensors '" + header.entries[i - 1].name + "' and '" + header.entries[i].name + "' overlap in the data");
  for (const Entry& entry : header.entries) header.data_end = std::max(header.data_end, entry.end);
  return header;
}

SafetensorsFile with_data(Header header, const std::uint8_t* data) {
  SafetensorsFile file;
  file.metadata = std::move(header.metadata);
  for (const Entry& entry : header.entries)
    file.tensors.push_back(Tensor{entry.name, entry.type, entry.shape,
                                  std::vector<std::uint8_t>(data + entry.begin, data + entry.end)});
  return file;
}

}  // namespace

SafetensorsFile parse_safetensors(const std::uint8_t* bytes, std::size_t size) {
  const std::uint64_t header_bytes = header_length(bytes, size);
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  return with_data(parse_header(text, header_bytes, size - 8 - header_bytes), bytes + 8 + header_bytes);
}

// Reads no more than the header declares: the prefix, then the header, then
// only the bytes its tensors use, each bounded by the file's real size; a
// directory, FIFO or device is refused before it is opened (a symlink is
// followed and judged by what it points to).
SafetensorsFile read_safetensors(const std::string& path) {
  try {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (error || !std::filesystem::exists(status)) refuse("cannot open " + path);
    if (!std::filesystem::is_regular_file(status))
      refuse(path + ": not a regular file (a directory, FIFO or device)");
    const std::uint64_t size = std::filesystem::file_size(path, error);
    if (error) refuse("cannot read the size of " + path);
    std::ifstream in(path, std::ios::binary);
    if (!in) refuse("cannot open " + path);
    const auto read = [&](std::vector<std::uint8_t>& into, std::uint64_t count) {
      const std::size_t at = into.size();
      into.resize(at + count);
      if (count > 0 && !in.read(reinterpret_cast<char*>(into.data() + at), static_cast<std::streamsize>(count)))
        refuse("read failed (the file changed while read?)");
    };
    std::vector<std::uint8_t> bytes;
    read(bytes, std::min<std::uint64_t>(size, 8));
    const std::uint64_t header_bytes = header_length(bytes.data(), size);
    read(bytes, header_bytes);
    const Header header = parse_header(reinterpret_cast<const char*>(bytes.data() + 8), header_bytes, size - 8 - header_bytes);
    read(bytes, header.data_end);
    return with_data(header, bytes.data() + 8 + header_bytes);
  } catch (const SafetensorsError& error) {
    throw SafetensorsError(std::string(error.what()).find(path) == std::string::npos ? path + ": " + error.what()
                                                                                       : error.what());
  }
}

std::vector<std::uint8_t> serialize_safetensors(const std::vector<Tensor>& tensors,
                                                const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const Tensor& tensor : tensors) {
    const auto bytes = static_cast<std::uint64_t>(tensor.elements()) * type_bytes(tensor.type);
    if (tensor.data.size() != bytes)
      throw SafetensorsError("safetensors: tensor '" + tensor.name + "' holds " + std::to_string(tensor.data.size()) +
                             " bytes, its dtype and shape need " + std::to_string(bytes));
    if (header.contains(tensor.name)) throw SafetensorsError("safetensors: tensor '" + tensor.name + "' given twice");
    header[tensor.name] = {{"dtype", type_name(tensor.type)}, {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t length = text.size();
  std::vector<std::uint8_t> out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  for (char c : text) out.push_back(static_cast<std::uint8_t>(c));
  for (const Tensor& tensor : tensors)
    for (std::uint8_t byte : tensor.data) out.push_back(byte);
  return out;
}

void write_safetensors(const std::string& path, const std::vector<Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::vector<std::uint8_t> bytes = serialize_safetensors(tensors, metadata);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw SafetensorsError("safetensors: cannot write " + path);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw SafetensorsError("safetensors: write failed: " + path);
}

}  // namespace moegate::vectors
