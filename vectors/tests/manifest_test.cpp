// The manifest reader refuses malformed manifests, and never lets a case
// file name leave the suite's folder.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "moegate/comparator.hpp"
#include "moegate/safetensors.hpp"
#include "moegate/vectors.hpp"

namespace moegate::vectors {
namespace {

const std::string case_line =
    "experts=16 topk=4 groups=1 kept_groups=1 renormalize=1 scaling=1 apply=0 nan_rank=lowest "
    "nan_replacement=-1e+30 zero_sum=raw scaling_rule=with_renormalize tokens=3 row_stride=16 logits=normal "
    "bias=normal hostile=4 logits_dtype=f32 bias_dtype=f32 seed=1";

std::string manifest_with(const std::string& file, const std::string& line) {
  return R"({"format": "moegate-vectors", "contract_version": 1, "cases": [{"file": ")" + file + R"(", "case": ")" +
         line + R"("}]})";
}

std::string refusal(const std::string& text) {
  try {
    parse_manifest(text);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(Manifest, ReadsAValidManifest) {
  const auto cases = parse_manifest(manifest_with("case-0000.safetensors", case_line));
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].file, "case-0000.safetensors");
  EXPECT_EQ(cases[0].routing.config.topk, 4);
}

TEST(Manifest, RefusesWhatItCannotTrust) {
  EXPECT_NE(refusal("{\"format\": ").find("not a JSON object"), std::string::npos);
  EXPECT_NE(refusal("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(refusal(R"({"format": "other", "contract_version": 1, "cases": []})").find("not a moegate-vectors"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"format": "moegate-vectors", "contract_version": 2, "cases": []})").find("contract_version"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"format": "moegate-vectors", "contract_version": 1})").find("no \"cases\""), std::string::npos);
  EXPECT_NE(refusal(R"({"format": "moegate-vectors", "contract_version": 1, "cases": [{"file": 3}]})")
                .find("without \"file\""),
            std::string::npos);
  for (const char* escape : {"../case.safetensors", "/etc/passwd.safetensors", ".hidden.safetensors", "a/b.safetensors",
                             "case.json", ".safetensors"})
    EXPECT_NE(refusal(manifest_with(escape, case_line)).find("not a plain NAME.safetensors"), std::string::npos)
        << escape;
  EXPECT_NE(refusal(manifest_with("case-0000.safetensors", "experts=16 topk=many")).find("not a case line"),
            std::string::npos);
}

// Issue #15: a config error names its case; control characters are no file names; no case, no pass.
TEST(Manifest, NamesTheCaseOfABadConfigAndRefusesControlCharacters) {
  std::string zero_experts = case_line;
  zero_experts.replace(zero_experts.find("experts=16"), 10, "experts=0");
  const std::string bad_config = refusal(manifest_with("case-0007.safetensors", zero_experts));
  EXPECT_NE(bad_config.find("case 'case-0007.safetensors'"), std::string::npos) << bad_config;
  EXPECT_NE(bad_config.find("experts"), std::string::npos) << bad_config;
  std::string nan_scaling = case_line;
  nan_scaling.replace(nan_scaling.find("scaling=1"), 9, "scaling=nan");
  EXPECT_NE(refusal(manifest_with("case-0001.safetensors", nan_scaling)).find("case 'case-0001.safetensors'"),
            std::string::npos);
  EXPECT_NE(refusal(manifest_with("case\\u0000-1.safetensors", case_line)).find("not a plain NAME.safetensors"),
            std::string::npos);
  EXPECT_NE(refusal(manifest_with("case\\n.safetensors", case_line)).find("not a plain NAME.safetensors"),
            std::string::npos);
}

TEST(Manifest, ASuiteWithNoCasesIsNotAPass) {
  const std::string dir = ::testing::TempDir() + "/moegate-empty-suite";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/manifest.json") << R"({"format": "moegate-vectors", "contract_version": 1, "cases": []})";
  write_safetensors(dir + "/outputs.safetensors", {});
  try {
    check_outputs(dir, dir + "/outputs.safetensors");
    ADD_FAILURE() << "an empty suite passed";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("no cases: there is nothing to judge"), std::string::npos) << error.what();
  }
}

// near_tie_experts (exported by the comparator, written into manifests):
// a one-ulp gap across the cut may be rounded either way; an exact tie (the
// same logit and bias) may not, and clearly lower experts never appear.
TEST(NearTieExperts, FollowTheComparatorsRule) {
  RouterConfig config;
  config.experts = 4;
  config.topk = 1;
  const float logits[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  const auto near_ties = [&](std::array<float, 4> bias, std::int32_t chosen) {
    return near_tie_experts(config, LogitsView{logits, DType::f32, 1, 4}, BiasView{bias.data(), DType::f32}, 0,
                            &chosen);
  };
  EXPECT_EQ(near_ties({0.0f, 0x1p-24f, -1.0f, -1.0f}, 1), (std::vector<int>{0, 1}));
  EXPECT_EQ(near_ties({0.0f, 0.0f, -1.0f, -1.0f}, 0), std::vector<int>{});
  EXPECT_EQ(near_ties({0.5f, 0.0f, -1.0f, -1.0f}, 0), std::vector<int>{});
}

}  // namespace
}  // namespace moegate::vectors
