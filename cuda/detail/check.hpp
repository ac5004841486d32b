// MOEGATE_CUDA_CHECK(call): throws moegate::cuda::CudaError naming the file,
// line, call text and CUDA's error string. An exception (not exit()) so a
// property test records a failed case and goes on.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "moegate/cuda.hpp"

namespace moegate::cuda::detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file,
                                          int line) {
  throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                  cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

}  // namespace moegate::cuda::detail

#define MOEGATE_CUDA_CHECK(call)                                                      \
  do {                                                                                \
    const cudaError_t moegate_status_ = (call);                                       \
    if (moegate_status_ != cudaSuccess)                                               \
      ::moegate::cuda::detail::throw_cuda_error(moegate_status_, #call, __FILE__, __LINE__); \
  } while (0)
