// The filter's cheap score (detail/approx_score.cuh) against the true
// sigmoid, over every one of the 2^32 f32 inputs on the GPU at hand: the
// largest |0.5 + 0.5 tanh.approx(x / 2) - 1 / (1 + e^-x)| (in f64) must stay
// within approx_score_error, the margin s09's filter is built on; NaN must
// stay NaN. A few milliseconds of GPU time.
#include <gtest/gtest.h>

#include <cstdio>

#include "../detail/approx_score.cuh"
#include "../detail/device_buffer.hpp"
#include "require_device.hpp"

namespace moegate::cuda {
namespace {

struct Worst {
  unsigned long long error_bits;  // the largest error, as f64 bits (non-negative: ordered as integers)
  unsigned long long worst_input;
  unsigned long long nan_mismatches;
};

__global__ void measure(Worst* worst) {
  const std::uint64_t threads = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  double largest = 0.0;
  std::uint32_t largest_input = 0;
  unsigned long long nan_mismatches = 0;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < (1ull << 32);
       i += threads) {
    const float x = __uint_as_float(static_cast<std::uint32_t>(i));
    const double approx = 0.5 + 0.5 * static_cast<double>(detail::approx_half_tanh(x));
    if (x != x) {
      nan_mismatches += approx == approx;
      continue;
    }
    const double error = fabs(approx - 1.0 / (1.0 + exp(-static_cast<double>(x))));
    if (!(error <= largest)) {  // a NaN error counts as the worst
      largest = error == error ? error : 1.0;
      largest_input = static_cast<std::uint32_t>(i);
    }
  }
  const unsigned long long bits = __double_as_longlong(largest);
  if (atomicMax(&worst->error_bits, bits) < bits) worst->worst_input = largest_input;  // any input at the max will do
  atomicAdd(&worst->nan_mismatches, nan_mismatches);
}

TEST(ApproxScore, StaysWithinTheFilterMarginForEveryInput) {
  MOEGATE_REQUIRE_DEVICE();
  detail::DeviceBuffer<Worst> worst(1);
  worst.upload(std::vector<Worst>{Worst{0, 0, 0}});
  measure<<<1024, 256>>>(worst.data());
  MOEGATE_CUDA_CHECK(cudaGetLastError());
  MOEGATE_CUDA_CHECK(cudaDeviceSynchronize());
  const Worst result = worst.download()[0];
  double error;
  std::memcpy(&error, &result.error_bits, sizeof error);
  std::printf("largest |approx - sigmoid| = %.3e = 2^%.2f (bound 2^-16) at input bits 0x%08llx; NaN mismatches %llu\n",
              error, std::log2(error), result.worst_input, result.nan_mismatches);
  EXPECT_LE(error, static_cast<double>(detail::approx_score_error));
  EXPECT_EQ(result.nan_mismatches, 0u);
}

}  // namespace
}  // namespace moegate::cuda
