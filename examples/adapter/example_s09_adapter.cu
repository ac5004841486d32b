// An adapter, as docs/adapter.md describes it: a router kernel (here our own
// s09_streaming_warps, reached through moegate::cuda::route; yours would call
// its own launcher) behind moegate/adapter.h. Everything moegate needs to
// know is in the moegate_kernel it returns: what the kernel takes, which
// behaviour it implements, and how to launch it.
#include <exception>

#include "moegate/adapter.h"
#include "moegate/cuda.hpp"

namespace {

moegate::DType dtype_of(moegate_dtype dtype) {
  return dtype == MOEGATE_BF16 ? moegate::DType::bf16 : dtype == MOEGATE_F16 ? moegate::DType::f16 : moegate::DType::f32;
}

moegate_status route_with_s09(const moegate_route_args* args, cudaStream_t stream) {
  moegate::RouterConfig config;
  config.experts = args->experts;
  config.topk = args->topk;
  config.groups = args->groups;
  config.kept_groups = args->topk_group;
  config.renormalize = args->renormalize != 0;
  config.routed_scaling_factor = args->routed_scaling_factor;
  config.apply_routed_scaling_factor_on_output = args->apply_routed_scaling_factor_on_output != 0;
  try {
    moegate::cuda::route("s09_streaming_warps", config,
                         moegate::LogitsView{args->logits, dtype_of(args->logits_dtype), args->tokens, args->row_stride},
                         moegate::BiasView{args->bias, dtype_of(args->bias_dtype)},
                         moegate::OutputView{args->weights, args->ids}, stream);
  } catch (const std::invalid_argument&) {
    return MOEGATE_UNSUPPORTED;
  } catch (const std::exception&) {
    return MOEGATE_LAUNCH_FAILED;
  }
  return MOEGATE_OK;
}

const unsigned every_dtype = MOEGATE_DTYPE_BIT(MOEGATE_F32) | MOEGATE_DTYPE_BIT(MOEGATE_BF16) | MOEGATE_DTYPE_BIT(MOEGATE_F16);

const moegate_kernel example_s09 = {
    MOEGATE_ADAPTER_ABI_VERSION,
    "s09_streaming_warps wrapped by the example adapter (examples/adapter)",
    nullptr,  // our contract
    moegate_support{nullptr, 0, /*max_experts=*/1024, /*max_topk=*/16, /*max_groups=*/1, every_dtype, every_dtype,
                    /*row_stride_multiple=*/1, /*pointer_alignment=*/4, /*programmatic_launch=*/0},
    route_with_s09,
};

}  // namespace

extern "C" const moegate_kernel* moegate_kernel_example_s09(void) { return &example_s09; }
