// Launching with or without programmatic dependent launch (PDL), and the
// kernel side of it. A stage that supports PDL calls wait_for_producer()
// before its first read of the logits or the bias, and release_dependents()
// once its first loads are issued (the streaming stages, s09, s16, s17 and s18, go on
// reading later rows after it: a dependent kernel may start early, but its
// own wait still holds until this grid has finished and its writes are
// visible, so an early release only lets the next kernel's prologue overlap);
// both are no-ops when the kernel was launched without PDL.
#pragma once

#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "moegate/cuda.hpp"

namespace moegate::cuda::detail {

// MOEGATE_PLANT_MISSING_PDL_WAIT (a planted bug, never set in a normal
// build) removes the wait; docs/validation.md records that pdl_tests then fails.
__device__ __forceinline__ void wait_for_producer() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && !defined(MOEGATE_PLANT_MISSING_PDL_WAIT)
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void release_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;");
#endif
}

template <class... KernelArgs, class... Args>
void launch_kernel(void (*kernel)(KernelArgs...), unsigned blocks, unsigned threads, cudaStream_t stream,
                   const LaunchOptions& options, Args... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(blocks);
  config.blockDim = dim3(threads);
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = options.programmatic_dependent_launch ? &attribute : nullptr;
  config.numAttrs = options.programmatic_dependent_launch ? 1 : 0;
  MOEGATE_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, args...));
}

// The refusal of a stage whose grid holds one CTA per `tokens_per_cta`
// tokens (no persistent loop) when the call needs more than the grid's
// 2^31 - 1 CTAs; empty otherwise.
inline std::string grid_limit_refusal(std::int64_t tokens, int tokens_per_cta) {
  const std::int64_t most = std::int64_t{INT_MAX} * tokens_per_cta;
  if (tokens <= most) return {};
  return "one CTA per " + std::to_string(tokens_per_cta) + " token(s): tokens must be at most " +
         std::to_string(most) + " (the grid's 2^31 - 1 CTAs), got " + std::to_string(tokens);
}

}  // namespace moegate::cuda::detail
