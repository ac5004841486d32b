// An adapter, as docs/adapter.md describes it: a router kernel (here our own
// s09_streaming_warps, reached through moegate::cuda::route; yours would call
// its own launcher) behind moegate/adapter.h. Everything moegate needs to
// know is in the moegate_kernel it returns: what the kernel takes, which
// behaviour it implements, and how to launch it.
#include <exception>

#include "moegate/adapter.hpp"

namespace {

moegate_status route_with_s09(const moegate_route_args* args, cudaStream_t stream) {
  // moegate's own types for the call; a kernel of yours reads args directly.
  const moegate::cuda::RouteCall call = moegate::cuda::route_call_of(*args);
  try {
    moegate::cuda::route("s09_streaming_warps", call.config, call.logits, call.bias, call.output, stream,
                         moegate::cuda::LaunchOptions{args->programmatic_launch != 0});
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
                    /*row_stride_multiple=*/1, /*pointer_alignment=*/4, /*programmatic_launch=*/1},
    route_with_s09,
};

}  // namespace

extern "C" const moegate_kernel* moegate_kernel_example_s09(void) { return &example_s09; }
