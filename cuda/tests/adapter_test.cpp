// The adapter without a GPU: descriptions checked before registration, the
// declared support turned into refusals, the call marshalled field by field
// into moegate_route_args, the launch status mapped to exceptions, and the
// comparator naming a different contract apart from a bug.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "moegate/adapter.hpp"
#include "moegate/comparator.hpp"
#include "moegate/inputs.hpp"
#include "moegate/presets.hpp"

namespace moegate::cuda {
namespace {

// A kernel that launches nothing: it records the call and answers `reply`.
moegate_route_args last_call{};
int calls = 0;
moegate_status reply = MOEGATE_OK;
moegate_status record(const moegate_route_args* args, cudaStream_t) {
  last_call = *args;
  ++calls;
  return reply;
}

const int seed_experts[] = {256, 384};

moegate_kernel seed_like() {
  return {MOEGATE_ADAPTER_ABI_VERSION,
          "records its calls",
          nullptr,
          moegate_support{seed_experts, 2, 384, 8, 1, MOEGATE_DTYPE_BIT(MOEGATE_F32), MOEGATE_DTYPE_BIT(MOEGATE_F32), 4,
                          16, 0},
          record};
}

alignas(16) float buffer[4096];
std::int32_t ids[64];

std::string refusal(const moegate_kernel& kernel, const RouterConfig& config, const LogitsView& logits,
                    const BiasView& bias = BiasView{buffer, DType::f32}) {
  return external_refusal(kernel, config, logits, bias);
}

TEST(Adapter, RefusesWhatTheKernelDoesNotDeclare) {
  const moegate_kernel kernel = seed_like();
  RouterConfig config = find_preset("kimi-k2")->config;
  const LogitsView rows{buffer, DType::f32, 2, 384};
  EXPECT_EQ(refusal(kernel, config, rows), "");
  RouterConfig other = config;
  other.experts = 320;
  EXPECT_NE(refusal(kernel, other, LogitsView{buffer, DType::f32, 2, 320}).find("experts = 320"), std::string::npos);
  other = config;
  other.topk = 9;
  EXPECT_NE(refusal(kernel, other, rows).find("max_topk"), std::string::npos);
  other = find_preset("deepseek-v3")->config;
  EXPECT_NE(refusal(kernel, other, LogitsView{buffer, DType::f32, 2, 256}).find("max_groups"), std::string::npos);
  EXPECT_NE(refusal(kernel, config, LogitsView{buffer, DType::bf16, 2, 384}).find("logits dtype bf16"), std::string::npos);
  EXPECT_NE(refusal(kernel, config, rows, BiasView{buffer, DType::f16}).find("bias dtype f16"), std::string::npos);
  EXPECT_NE(refusal(kernel, config, LogitsView{buffer, DType::f32, 2, 385}).find("multiple of 4"), std::string::npos);
  EXPECT_NE(refusal(kernel, config, LogitsView{buffer + 1, DType::f32, 2, 384}).find("16-byte aligned"),
            std::string::npos);
  other = config;
  other.profile = *find_profile("torch");
  EXPECT_NE(refusal(kernel, other, rows).find("profile 'moegate'"), std::string::npos);
  EXPECT_EQ(describe_support(kernel.support),
            "E in {256, 384}, k <= 8, no groups; logits f32, bias f32; row stride a multiple of 4; 16-byte aligned "
            "pointers");
}

TEST(Adapter, MarshalsTheCallAndMapsItsStatus) {
  const moegate_kernel kernel = seed_like();
  const Stage stage = external_stage("recorder", &kernel);
  EXPECT_EQ(stage.id, "ext_recorder");
  EXPECT_EQ(stage.external, &kernel);
  RouterConfig config = find_preset("kimi-k2")->config;
  config.renormalize = false;
  const LogitsView logits{buffer, DType::f32, 3, 388};
  const BiasView bias{buffer + 8, DType::f32};
  const OutputView output{buffer + 16, ids};
  auto* stream = reinterpret_cast<cudaStream_t>(std::uintptr_t{0x1234});
  calls = 0;
  reply = MOEGATE_OK;
  stage.launch(config, logits, bias, output, stream, LaunchOptions{});
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(last_call.logits, buffer);
  EXPECT_EQ(last_call.logits_dtype, MOEGATE_F32);
  EXPECT_EQ(last_call.tokens, 3);
  EXPECT_EQ(last_call.row_stride, 388);
  EXPECT_EQ(last_call.bias, buffer + 8);
  EXPECT_EQ(last_call.weights, buffer + 16);
  EXPECT_EQ(last_call.ids, ids);
  EXPECT_EQ(last_call.experts, 384);
  EXPECT_EQ(last_call.topk, config.topk);
  EXPECT_EQ(last_call.groups, 1);
  EXPECT_EQ(last_call.topk_group, 1);
  EXPECT_EQ(last_call.renormalize, 0);
  EXPECT_EQ(last_call.routed_scaling_factor, config.routed_scaling_factor);
  EXPECT_EQ(last_call.apply_routed_scaling_factor_on_output, config.apply_routed_scaling_factor_on_output ? 1 : 0);
  // route_call_of reads the call back into the same views and config.
  const RouteCall back = route_call_of(last_call);
  EXPECT_EQ(back.logits.data, logits.data);
  EXPECT_EQ(back.logits.dtype, logits.dtype);
  EXPECT_EQ(back.logits.tokens, logits.tokens);
  EXPECT_EQ(back.logits.row_stride, logits.row_stride);
  EXPECT_EQ(back.bias.data, bias.data);
  EXPECT_EQ(back.output.weights, output.weights);
  EXPECT_EQ(back.output.ids, output.ids);
  EXPECT_EQ(describe(back.config), describe(config));
  EXPECT_EQ(last_call.programmatic_launch, 0);
  // A kernel declaring PDL gets the flag with a PDL launch.
  moegate_kernel pdl_kernel = seed_like();
  pdl_kernel.support.programmatic_launch = 1;
  const Stage pdl_stage = external_stage("pdl_recorder", &pdl_kernel);
  EXPECT_TRUE(pdl_stage.programmatic_launch);
  EXPECT_NE(pdl_stage.supports.find("PDL"), std::string::npos);
  pdl_stage.launch(config, logits, bias, output, stream, LaunchOptions{true});
  EXPECT_EQ(last_call.programmatic_launch, 1);
  reply = MOEGATE_UNSUPPORTED;
  EXPECT_THROW(stage.launch(config, logits, bias, output, stream, LaunchOptions{}), std::invalid_argument);
  reply = MOEGATE_LAUNCH_FAILED;
  EXPECT_THROW(stage.launch(config, logits, bias, output, stream, LaunchOptions{}), CudaError);
  reply = MOEGATE_OK;
}

TEST(Adapter, ChecksTheDescriptionBeforeRegistering) {
  const auto why = [](const moegate_kernel* kernel) -> std::string {
    try {
      external_stage("bad", kernel);
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "(accepted)";
  };
  EXPECT_NE(why(nullptr).find("returned null"), std::string::npos);
  moegate_kernel kernel = seed_like();
  kernel.abi_version = 99;
  EXPECT_NE(why(&kernel).find("abi_version 99"), std::string::npos);
  kernel = seed_like();
  kernel.support.programmatic_launch = 2;
  EXPECT_NE(why(&kernel).find("programmatic_launch must be 0 or 1"), std::string::npos);
  // ABI 1 descriptions are still read, without PDL (their calls carry no flag).
  kernel = seed_like();
  kernel.abi_version = 1;
  EXPECT_EQ(why(&kernel), "(accepted)");
  kernel.support.programmatic_launch = 1;
  EXPECT_NE(why(&kernel).find("needs abi_version 2"), std::string::npos);
  kernel = seed_like();
  kernel.route = nullptr;
  EXPECT_NE(why(&kernel).find("route is null"), std::string::npos);
  kernel = seed_like();
  kernel.support.logits_dtypes = 0;
  EXPECT_NE(why(&kernel).find("support block"), std::string::npos);
  kernel = seed_like();
  kernel.support.max_experts = 256;  // below the set's 384
  EXPECT_NE(why(&kernel).find("experts_set holds 384"), std::string::npos);
  kernel = seed_like();
  kernel.support.bias_dtypes |= 1u << 5;
  EXPECT_NE(why(&kernel).find("unknown dtype"), std::string::npos);
  kernel = seed_like();
  kernel.profile = "numpy";
  EXPECT_NE(why(&kernel).find("unknown profile 'numpy'"), std::string::npos);
  kernel = seed_like();
  kernel.profile = "torch";
  EXPECT_EQ(why(&kernel), "(accepted)");
  EXPECT_TRUE(external_profile(kernel) == *find_profile("torch"));
}

// A kernel that does not declare PDL is never launched with it.
TEST(Adapter, RegistersOnceAndNeverWithUndeclaredProgrammaticLaunch) {
  static const moegate_kernel kernel = seed_like();
  register_external_kernel("adapter_test_recorder", &kernel, "the test's recorder");
  const Stage* stage = find_stage("ext_adapter_test_recorder");
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->supports, "the test's recorder");
  EXPECT_THROW(register_external_kernel("adapter_test_recorder", &kernel), std::invalid_argument);
  const RouterConfig config = find_preset("kimi-k2")->config;
  try {
    route("ext_adapter_test_recorder", config, LogitsView{buffer, DType::f32, 1, 384}, BiasView{buffer, DType::f32},
          OutputView{buffer + 512, ids}, nullptr, LaunchOptions{true});
    FAIL() << "launched with PDL";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("programmatic dependent launch"), std::string::npos);
  }
}

// The report's last word: an output computed under a documented profile
// (torch: NaN ranks first) fails our contract, and the comparator says which
// profile it meets; a broken output meets none.
TEST(KnownDivergence, NamesTheProfileAnOutputMeets) {
  RouterConfig config = find_preset("kimi-k2")->config;
  InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = 64;
  spec.logit_family = LogitFamily::specials;
  spec.seed = 3;
  const RouterInputs inputs = make_inputs(spec);
  RouterConfig torch = config;
  torch.profile = *find_profile("torch");
  const auto as_torch = reference::route_f32(torch, inputs.logits(), inputs.bias());
  const CandidateView candidate{as_torch.weights.data(), as_torch.ids.data()};
  ASSERT_FALSE(compare(config, inputs.logits(), inputs.bias(), candidate).passed());
  const std::string line = known_divergence(config, inputs.logits(), inputs.bias(), candidate);
  EXPECT_NE(line.find("'torch'"), std::string::npos) << line;
  EXPECT_NE(line.find("NaN ranks highest"), std::string::npos) << line;
  auto broken = reference::route_f32(config, inputs.logits(), inputs.bias());
  std::swap(broken.ids[0], broken.ids[1]);
  const std::string bug =
      known_divergence(config, inputs.logits(), inputs.bias(), CandidateView{broken.weights.data(), broken.ids.data()});
  EXPECT_NE(bug.find("a bug"), std::string::npos) << bug;
}

}  // namespace
}  // namespace moegate::cuda
