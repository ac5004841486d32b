// An empty kernel, launched from Python by moegate.bench: the per-launch cost
// of a graph node on the card, measured in the same run as the routers.
#include <cuda_runtime_api.h>

#include "../../cuda/detail/check.hpp"

namespace moegate::python {

__global__ void empty_kernel() {}

void launch_empty_kernels(cudaStream_t stream, int count) {
  for (int i = 0; i < count; ++i) empty_kernel<<<1, 32, 0, stream>>>();
  MOEGATE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moegate::python
