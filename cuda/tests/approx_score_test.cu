// The filters' cheap scores (detail/approx_score.cuh) against the true
// sigmoid, over every one of the 2^32 f32 inputs on the GPU at hand: the
// largest |0.5 + 0.5 tanh.approx(x / 2) - 1 / (1 + e^-x)| (in f64) must stay
// within approx_score_error, the margin s09's filter is built on, and the
// largest |rcp.approx(1 + ex2.approx(-x log2 e)) - 1 / (1 + e^-x)| within
// tight_score_error (s15's); NaN must stay NaN. Milliseconds of GPU time.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

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

// The sigmoid each score stands for, in f64 (0.5 + 0.5 t unrounded for
// the tanh score: its callers fold the 0.5 into an fma).
struct HalfTanh {
  __device__ static double score(float x) { return 0.5 + 0.5 * static_cast<double>(detail::approx_half_tanh(x)); }
};
struct Tight {
  __device__ static double score(float x) { return detail::tight_sigmoid(x); }
};

template <class Score>
__global__ void measure(Worst* worst) {
  const std::uint64_t threads = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  double largest = 0.0;
  std::uint32_t largest_input = 0;
  unsigned long long nan_mismatches = 0;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < (1ull << 32);
       i += threads) {
    const float x = __uint_as_float(static_cast<std::uint32_t>(i));
    const double approx = Score::score(x);
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

template <class Score>
void expect_within(const char* name, float bound) {
  detail::DeviceBuffer<Worst> worst(1);
  worst.upload(std::vector<Worst>{Worst{0, 0, 0}});
  measure<Score><<<1024, 256>>>(worst.data());
  MOEGATE_CUDA_CHECK(cudaGetLastError());
  MOEGATE_CUDA_CHECK(cudaDeviceSynchronize());
  const Worst result = worst.download()[0];
  double error;
  std::memcpy(&error, &result.error_bits, sizeof error);
  std::printf("%s: largest |approx - sigmoid| = %.3e = 2^%.2f (bound 2^%.0f) at input bits 0x%08llx; NaN mismatches %llu\n",
              name, error, std::log2(error), std::log2(static_cast<double>(bound)), result.worst_input,
              result.nan_mismatches);
  EXPECT_LE(error, static_cast<double>(bound)) << name;
  EXPECT_EQ(result.nan_mismatches, 0u) << name;
}

TEST(ApproxScore, StaysWithinTheFilterMarginForEveryInput) {
  MOEGATE_REQUIRE_DEVICE();
  expect_within<HalfTanh>("tanh score (s08-s14)", detail::approx_score_error);
}

TEST(ApproxScore, TightScoreStaysWithinItsMarginForEveryInput) {
  MOEGATE_REQUIRE_DEVICE();
  expect_within<Tight>("tight score (s15)", detail::tight_score_error);
}

}  // namespace
}  // namespace moegate::cuda
