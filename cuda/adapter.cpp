// External kernels as registry stages (moegate/adapter.hpp).
#include "moegate/adapter.hpp"

#include <cstdint>
#include <deque>
#include <mutex>
#include <stdexcept>

#include "detail/check.hpp"

namespace moegate::cuda {
namespace {

moegate_dtype c_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return MOEGATE_F32;
    case DType::bf16: return MOEGATE_BF16;
    case DType::f16: return MOEGATE_F16;
  }
  return MOEGATE_F32;
}

DType dtype_of(moegate_dtype dtype) {
  return dtype == MOEGATE_BF16 ? DType::bf16 : dtype == MOEGATE_F16 ? DType::f16 : DType::f32;
}

std::string dtype_list(unsigned mask) {
  std::string names;
  for (DType dtype : all_dtypes)
    if (mask & MOEGATE_DTYPE_BIT(c_dtype(dtype))) names += (names.empty() ? "" : "/") + std::string(dtype_name(dtype));
  return names.empty() ? "none" : names;
}

bool takes_experts(const moegate_support& support, int experts) {
  if (experts > support.max_experts) return false;
  if (support.experts_set == nullptr) return true;
  for (int i = 0; i < support.experts_set_size; ++i)
    if (support.experts_set[i] == experts) return true;
  return false;
}

// Stable storage for the ids and descriptions the registry points at.
std::string_view keep(std::string text) {
  static std::mutex mutex;
  static std::deque<std::string> kept;
  const std::lock_guard<std::mutex> lock(mutex);
  return kept.emplace_back(std::move(text));
}

}  // namespace

RouteCall route_call_of(const moegate_route_args& args) {
  RouteCall call;
  call.config.experts = args.experts;
  call.config.topk = args.topk;
  call.config.groups = args.groups;
  call.config.kept_groups = args.topk_group;
  call.config.renormalize = args.renormalize != 0;
  call.config.routed_scaling_factor = args.routed_scaling_factor;
  call.config.apply_routed_scaling_factor_on_output = args.apply_routed_scaling_factor_on_output != 0;
  call.logits = LogitsView{args.logits, dtype_of(args.logits_dtype), args.tokens, args.row_stride};
  call.bias = BiasView{args.bias, dtype_of(args.bias_dtype)};
  call.output = OutputView{args.weights, args.ids};
  return call;
}

std::string external_id(std::string_view name) { return "ext_" + std::string(name); }

Profile external_profile(const moegate_kernel& kernel) {
  if (kernel.profile == nullptr) return Profile{};
  const auto profile = find_profile(kernel.profile);
  if (!profile) throw std::invalid_argument("unknown profile '" + std::string(kernel.profile) + "'");
  return *profile;
}

std::string describe_support(const moegate_support& support) {
  std::string text;
  if (support.experts_set != nullptr) {
    text = "E in {";
    for (int i = 0; i < support.experts_set_size; ++i)
      text += (i ? ", " : "") + std::to_string(support.experts_set[i]);
    text += "}";
  } else {
    text = "E <= " + std::to_string(support.max_experts);
  }
  text += ", k <= " + std::to_string(support.max_topk);
  text += support.max_groups > 1 ? ", groups <= " + std::to_string(support.max_groups) : ", no groups";
  text += "; logits " + dtype_list(support.logits_dtypes) + ", bias " + dtype_list(support.bias_dtypes);
  if (support.row_stride_multiple > 1) text += "; row stride a multiple of " + std::to_string(support.row_stride_multiple);
  if (support.pointer_alignment > 1) text += "; " + std::to_string(support.pointer_alignment) + "-byte aligned pointers";
  if (support.programmatic_launch == 1) text += "; PDL";
  return text;
}

std::string external_refusal(const moegate_kernel& kernel, const RouterConfig& config, const LogitsView& logits,
                             const BiasView& bias) {
  const moegate_support& support = kernel.support;
  if (!takes_experts(support, config.experts))
    return "experts = " + std::to_string(config.experts) + " is outside its support";
  if (config.topk > support.max_topk) return "topk = " + std::to_string(config.topk) + " is above its max_topk";
  if (config.groups > support.max_groups) return "groups = " + std::to_string(config.groups) + " is above its max_groups";
  if (!(support.logits_dtypes & MOEGATE_DTYPE_BIT(c_dtype(logits.dtype))))
    return "logits dtype " + std::string(dtype_name(logits.dtype)) + " is not among " + dtype_list(support.logits_dtypes);
  if (!(support.bias_dtypes & MOEGATE_DTYPE_BIT(c_dtype(bias.dtype))))
    return "bias dtype " + std::string(dtype_name(bias.dtype)) + " is not among " + dtype_list(support.bias_dtypes);
  if (support.row_stride_multiple > 1 && logits.row_stride % support.row_stride_multiple != 0)
    return "row_stride = " + std::to_string(logits.row_stride) + " is not a multiple of " +
           std::to_string(support.row_stride_multiple);
  const auto misaligned = [&](const void* pointer) {
    return support.pointer_alignment > 1 &&
           reinterpret_cast<std::uintptr_t>(pointer) % static_cast<std::uintptr_t>(support.pointer_alignment) != 0;
  };
  if (misaligned(logits.data) || misaligned(bias.data))
    return "logits and bias must be " + std::to_string(support.pointer_alignment) + "-byte aligned";
  if (!(config.profile == external_profile(kernel)))
    return std::string("it implements the profile '") + (kernel.profile ? kernel.profile : "moegate") +
           "', the call asks for another";
  return {};
}

Stage external_stage(std::string_view name, const moegate_kernel* kernel, std::string_view supports) {
  const std::string id = external_id(name);
  const auto bad = [&](const std::string& why) { return std::invalid_argument("external kernel " + id + ": " + why); };
  if (kernel == nullptr) throw bad("its moegate_kernel_<name>() returned null");
  if (kernel->abi_version < 1 || kernel->abi_version > MOEGATE_ADAPTER_ABI_VERSION)
    throw bad("abi_version " + std::to_string(kernel->abi_version) + ", this build reads 1 to " +
              std::to_string(MOEGATE_ADAPTER_ABI_VERSION));
  if (kernel->route == nullptr) throw bad("route is null");
  const moegate_support& support = kernel->support;
  constexpr unsigned known_dtypes =
      MOEGATE_DTYPE_BIT(MOEGATE_F32) | MOEGATE_DTYPE_BIT(MOEGATE_BF16) | MOEGATE_DTYPE_BIT(MOEGATE_F16);
  if (support.max_experts < 1 || support.max_topk < 1 || support.max_groups < 1 ||
      (support.logits_dtypes & known_dtypes) == 0 || (support.bias_dtypes & known_dtypes) == 0 ||
      ((support.logits_dtypes | support.bias_dtypes) & ~known_dtypes) != 0 ||
      (support.experts_set != nullptr && support.experts_set_size < 1))
    throw bad("its support block is empty, incomplete or names an unknown dtype (" + describe_support(support) + ")");
  if (support.programmatic_launch != 0 && support.programmatic_launch != 1)
    throw bad("programmatic_launch must be 0 or 1, got " + std::to_string(support.programmatic_launch));
  if (support.programmatic_launch == 1 && kernel->abi_version < 2)
    throw bad("programmatic_launch = 1 needs abi_version 2 (version 1 calls carry no PDL flag)");
  for (int i = 0; support.experts_set != nullptr && i < support.experts_set_size; ++i)
    if (support.experts_set[i] < 1 || support.experts_set[i] > support.max_experts)
      throw bad("experts_set holds " + std::to_string(support.experts_set[i]) + ", outside 1..max_experts = " +
                std::to_string(support.max_experts));
  try {
    external_profile(*kernel);
  } catch (const std::invalid_argument& error) {
    throw bad(error.what());
  }
  Stage stage;
  stage.id = keep(id);
  stage.idea = keep(kernel->description ? kernel->description : "external kernel");
  stage.supports = keep(supports.empty() ? describe_support(support) : std::string(supports));
  stage.programmatic_launch = support.programmatic_launch == 1;
  stage.external = kernel;
  stage.refusal = [kernel](const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
    return external_refusal(*kernel, config, logits, bias);
  };
  const std::string_view stage_id = stage.id;
  stage.launch = [kernel, stage_id](const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                    const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
    const moegate_route_args args{logits.data,
                                  c_dtype(logits.dtype),
                                  logits.tokens,
                                  logits.row_stride,
                                  bias.data,
                                  c_dtype(bias.dtype),
                                  output.weights,
                                  output.ids,
                                  config.experts,
                                  config.topk,
                                  config.groups,
                                  config.kept_groups,
                                  config.renormalize ? 1 : 0,
                                  config.routed_scaling_factor,
                                  config.apply_routed_scaling_factor_on_output ? 1 : 0,
                                  options.programmatic_dependent_launch ? 1 : 0};
    const moegate_status status = kernel->route(&args, stream);
    if (status == MOEGATE_UNSUPPORTED)
      throw std::invalid_argument(std::string(stage_id) + " refused a call inside its declared support");
    if (status != MOEGATE_OK)
      throw CudaError(std::string(stage_id) + ": the adapter's launch failed (status " + std::to_string(status) +
                      "; last CUDA error: " + cudaGetErrorString(cudaGetLastError()) + ")");
  };
  return stage;
}

void register_external_kernel(std::string_view name, const moegate_kernel* kernel, std::string_view supports) {
  register_stage(external_stage(name, kernel, supports));
}

}  // namespace moegate::cuda
