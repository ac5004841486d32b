// The safetensors reader refuses every malformed file with a message that
// names the problem, and reads back exactly what the writer wrote.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <string>

#include "moegate/safetensors.hpp"
#include "moegate/vectors.hpp"

namespace moegate::vectors {
namespace {

std::vector<std::uint8_t> bytes_of(const std::vector<float>& values) {
  std::vector<std::uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<Tensor> two_tensors() {
  return {Tensor{"logits", TensorType::f32, {2, 3}, bytes_of({1, 2, 3, 4, 5, 6})},
          Tensor{"ids", TensorType::i32, {2, 1}, std::vector<std::uint8_t>{7, 0, 0, 0, 9, 0, 0, 0}}};
}

// A file from a header text and a data block, as a hostile writer would make it.
std::vector<std::uint8_t> raw_file(const std::string& header, std::size_t data_bytes, std::uint64_t declared_length) {
  std::vector<std::uint8_t> file;
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<std::uint8_t>(declared_length >> (8 * i)));
  for (char c : header) file.push_back(static_cast<std::uint8_t>(c));
  file.resize(file.size() + data_bytes, 0);
  return file;
}
std::vector<std::uint8_t> raw_file(const std::string& header, std::size_t data_bytes) {
  return raw_file(header, data_bytes, header.size());
}

// The reader's message for `file`, or "" when it was accepted.
std::string refusal(const std::vector<std::uint8_t>& file) {
  try {
    parse_safetensors(file.data(), file.size());
  } catch (const SafetensorsError& error) {
    return error.what();
  }
  return "";
}

TEST(Safetensors, RoundTripsTensorsAndMetadata) {
  const auto bytes = serialize_safetensors(two_tensors(), {{"suite", "kimi-k2"}});
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  EXPECT_EQ(file.metadata.at("suite"), "kimi-k2");
  const Tensor& logits = file.require("logits", TensorType::f32, {2, 3});
  EXPECT_EQ(logits.data, bytes_of({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(file.require("ids", TensorType::i32, {2, 1}).data[4], 9);
  EXPECT_EQ((8 + (bytes[0] | bytes[1] << 8)) % 8, 0) << "the header is padded to 8 bytes";
}

TEST(Safetensors, SerializesDeterministically) {
  EXPECT_EQ(serialize_safetensors(two_tensors(), {{"a", "1"}}), serialize_safetensors(two_tensors(), {{"a", "1"}}));
}

TEST(Safetensors, NamesWhatIsMissingOrDifferent) {
  const auto bytes = serialize_safetensors(two_tensors());
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  const auto message = [&](auto&& call) -> std::string {
    try {
      call();
    } catch (const SafetensorsError& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_NE(message([&] { file.require("bias", TensorType::f32, {3}); }).find("missing tensor 'bias'"), std::string::npos);
  EXPECT_NE(message([&] { file.require("logits", TensorType::f16, {2, 3}); }).find("is F32, expected F16"),
            std::string::npos);
  EXPECT_NE(message([&] { file.require("logits", TensorType::f32, {3, 2}); }).find("shape [2, 3], expected [3, 2]"),
            std::string::npos);
}

TEST(Safetensors, RefusesBadHeaderLengths) {
  EXPECT_NE(refusal({1, 2, 3}).find("truncated: 3 bytes"), std::string::npos);
  EXPECT_NE(refusal(raw_file("{}", 0, 0)).find("empty header"), std::string::npos);
  EXPECT_NE(refusal(raw_file("{}", 0, 1000)).find("past the end of the file"), std::string::npos);
  EXPECT_NE(refusal(raw_file("{}", 0, std::uint64_t{1} << 62)).find("absurd"), std::string::npos);
}

TEST(Safetensors, RefusesHeadersThatAreNotTheRightJson) {
  EXPECT_NE(refusal(raw_file("{\"a\": [1, 2", 0)).find("not JSON"), std::string::npos);
  EXPECT_NE(refusal(raw_file("[1, 2, 3]", 0)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": 5}", 0)).find("not an object"), std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4)).find("no \"data_offsets\""),
            std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": 3, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4))
                .find("dtype is not a string"),
            std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1))
                .find("unsupported dtype 'F8'"),
            std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4))
                .find("negative"),
            std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4))
                .find("not an integer"),
            std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"__metadata__\": {\"a\": 1}}", 0)).find("is not a string"), std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}, "
                             "\"t\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}",
                             2))
                .find("appears twice"),
            std::string::npos);
}

TEST(Safetensors, RefusesOffsetsThatDoNotFit) {
  // Out of range / truncated data.
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4))
                .find("past the data"),
            std::string::npos);
  // begin > end.
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [4, 2]}}", 4))
                .find("begin > end"),
            std::string::npos);
  // Overlapping tensors.
  EXPECT_NE(refusal(raw_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                             "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
                             12))
                .find("overlap"),
            std::string::npos);
  // dtype/shape mismatch with the byte range.
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8))
                .find("needs 12 bytes, data_offsets give 8"),
            std::string::npos);
  // Absurd sizes: a shape whose element count overflows, a dimension past the limit.
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [1099511627776, 1099511627776], "
                             "\"data_offsets\": [0, 4]}}",
                             4))
                .find("absurd"),
            std::string::npos);
  EXPECT_NE(refusal(raw_file("{\"t\": {\"dtype\": \"F32\", \"shape\": [18446744073709551615], "
                             "\"data_offsets\": [0, 4]}}",
                             4))
                .find("absurd"),
            std::string::npos);
}

TEST(Safetensors, TruncatingAValidFileAnywhereIsRefused) {
  const auto bytes = serialize_safetensors(two_tensors(), {{"suite", "x"}});
  for (std::size_t size = 0; size < bytes.size(); ++size)
    EXPECT_NE(refusal(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size))), "")
        << "accepted a file cut to " << size << " of " << bytes.size() << " bytes";
}

std::vector<std::uint8_t> base64_decode(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<std::uint8_t> out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const auto position = alphabet.find(c);
    if (position == std::string::npos) continue;  // '=' padding and whitespace
    bits = bits << 6 | static_cast<std::uint32_t>(position);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> count));
    }
  }
  return out;
}

// Every input of the kept fuzz corpus (vectors/fuzz/corpus.b64), as a
// safetensors file and as a manifest: accepted or refused with the reader's
// error, never anything else (ASan/UBSan runs of
// the same inputs are scripts/fuzz's job).
TEST(Safetensors, ReplaysTheFuzzCorpus) {
  std::ifstream file(MOEGATE_FUZZ_CORPUS);
  ASSERT_TRUE(file) << "cannot read " << MOEGATE_FUZZ_CORPUS;
  std::string line;
  int accepted = 0, refused = 0, manifests = 0;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::uint8_t> input = base64_decode(line);
    try {
      parse_safetensors(input.data(), input.size());
      ++accepted;
    } catch (const SafetensorsError&) {
      ++refused;
    }
    try {
      parse_manifest(std::string_view(reinterpret_cast<const char*>(input.data()), input.size()));
      ++manifests;
    } catch (const std::invalid_argument&) {
    }
  }
  EXPECT_GT(accepted + refused, 100);
  std::printf("fuzz corpus: %d inputs accepted as safetensors, %d refused; %d read as manifests\n", accepted, refused,
              manifests);
}

// Issue #15: a header of tens of thousands of entries parses in linear time
// (the duplicate check was quadratic: 28 s for 40k entries).
TEST(Safetensors, ParsesAHugeHeaderInLinearTime) {
  std::string header = "{";
  constexpr int entries = 40000;
  for (int i = 0; i < entries; ++i)
    header += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}";
  header += "}";
  std::vector<std::uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(header.size() >> (8 * i));
  bytes.insert(bytes.end(), header.begin(), header.end());
  const auto start = std::chrono::steady_clock::now();
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(file.tensors.size(), static_cast<std::size_t>(entries));
  EXPECT_LT(seconds, 3.0) << "a " << header.size() << "-byte header took " << seconds << " s";
  header.insert(header.size() - 1, ",\"t7\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}");
  std::vector<std::uint8_t> twice(8);
  for (int i = 0; i < 8; ++i) twice[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(header.size() >> (8 * i));
  twice.insert(twice.end(), header.begin(), header.end());
  EXPECT_NE(refusal(twice).find("tensor 't7' appears twice"), std::string::npos);
}

// Issue #15: files are refused before they cost anything: not regular files
// (a directory, a device, a FIFO: never opened for reading, so nothing blocks),
// and a large file whose prefix is absurd (only 8 bytes are read).
TEST(Safetensors, ReadsOnlyRegularFilesAndOnlyWhatTheHeaderDeclares) {
  const std::string dir = ::testing::TempDir() + "/moegate-read-bounds";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto message = [](const std::string& path) {
    try {
      read_safetensors(path);
    } catch (const SafetensorsError& error) {
      return std::string(error.what());
    }
    return std::string("(read)");
  };
  EXPECT_NE(message(dir).find(dir + ": not a regular file"), std::string::npos) << message(dir);
  EXPECT_NE(message("/dev/zero").find("/dev/zero: not a regular file"), std::string::npos);
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(message(fifo).find("not a regular file"), std::string::npos);
  std::filesystem::create_symlink("/dev/zero", dir + "/link");
  EXPECT_NE(message(dir + "/link").find("not a regular file"), std::string::npos);
  const std::string sparse = dir + "/large.safetensors";
  {
    std::ofstream out(sparse, std::ios::binary);
    const std::uint8_t absurd[8] = {0, 0, 0, 0, 0, 1, 0, 0};  // 2^40 bytes of header
    out.write(reinterpret_cast<const char*>(absurd), 8);
  }
  std::filesystem::resize_file(sparse, std::uint64_t{1} << 30);  // 1 GiB, sparse: cheap unless read
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(message(sparse).find("is absurd"), std::string::npos) << message(sparse);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0.5);
  EXPECT_NE(message(dir + "/missing").find("cannot open"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace moegate::vectors
