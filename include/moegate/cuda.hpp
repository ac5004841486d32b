// moegate::cuda — the GPU side. For now: device discovery, the error type
// every CUDA call throws, and output poisoning. The stage ladder (registry,
// launchers) is added here by the CUDA stage-ladder issue.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "moegate/tensors.hpp"

namespace moegate::cuda {

// A failed CUDA call: file, line, the call's text and CUDA's error string.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  int sm_count = 0;
  std::size_t global_memory_bytes = 0;
};

// Number of usable CUDA devices; 0 (never an exception) when there is no GPU
// or no driver, so callers can skip cleanly.
int device_count() noexcept;
std::optional<DeviceInfo> device_info(int device = 0);
// "runtime 13.0, driver 13.0" (driver "none" without a GPU driver).
std::string version_string();

// Fills [tokens, topk] outputs with poison_weight_bits / poison_id, so a slot a
// kernel never writes is caught by the comparator.
void poison_outputs(const OutputView& output, std::int64_t tokens, int topk, cudaStream_t stream);

}  // namespace moegate::cuda
