// Device discovery and output poisoning: the host API's plumbing that every
// stage launcher and GPU test relies on.
#include <cuda_runtime.h>

#include "detail/check.hpp"
#include "moegate/cuda.hpp"

namespace moegate::cuda {
namespace {

__global__ void poison_kernel(float* weights, std::int32_t* ids, std::int64_t count) {
  const float poison_weight = __uint_as_float(poison_weight_bits);
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       i < count; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    weights[i] = poison_weight;
    ids[i] = poison_id;
  }
}

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

}  // namespace

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

std::optional<DeviceInfo> device_info(int device) {
  if (device < 0 || device >= device_count()) return std::nullopt;
  cudaDeviceProp properties{};
  MOEGATE_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  DeviceInfo info;
  info.index = device;
  info.name = properties.name;
  info.compute_major = properties.major;
  info.compute_minor = properties.minor;
  info.sm_count = properties.multiProcessorCount;
  info.global_memory_bytes = properties.totalGlobalMem;
  return info;
}

std::string version_string() {
  int runtime = 0;
  int driver = 0;
  cudaRuntimeGetVersion(&runtime);
  const bool has_driver = cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0;
  return "runtime " + version_text(runtime) + ", driver " +
         (has_driver ? version_text(driver) : std::string("none"));
}

void poison_outputs(const OutputView& output, std::int64_t tokens, int topk, cudaStream_t stream) {
  const std::int64_t count = tokens * topk;
  if (count <= 0) return;
  if (output.weights == nullptr || output.ids == nullptr)
    throw std::invalid_argument("poison_outputs: null output pointer");
  constexpr int threads = 256;
  const auto blocks = static_cast<unsigned>(std::min<std::int64_t>((count + threads - 1) / threads, 4096));
  poison_kernel<<<blocks, threads, 0, stream>>>(output.weights, output.ids, count);
  MOEGATE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moegate::cuda
