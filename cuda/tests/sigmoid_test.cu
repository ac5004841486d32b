// The stages' batched sigmoids (detail/numeric.cuh) over every one of the
// 2^32 f32 inputs on the GPU at hand: sigmoids_with<exact> (the IEEE division's
// fast path without its branch) must give gate_sigmoid's score bit for bit,
// and the approximate reciprocal (s20b) must stay within the contract's
// default score_ulps = 4 of the sigmoid rounded from f64 (or equal the f32
// formula's value, where its exp overflows). Four inputs per
// call, as a lane of V = 4 holds them. And reciprocal_of_moderate alone,
// against IEEE division, over every f32 in its domain [1, 2^125]: the
// sigmoid test reaches it only at the y = 1 + exp(-x) that occur.
// Milliseconds of GPU time.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "../detail/device_buffer.hpp"
#include "../detail/numeric.cuh"
#include "require_device.hpp"

namespace moegate::cuda {
namespace {

constexpr int per_call = 4;

struct Tally {
  unsigned long long mismatches;  // exact: scores whose bits differ from gate_sigmoid's (NaN: not NaN)
  unsigned long long first_mismatch;
  unsigned long long worst;  // approximate: the largest distance from the rounded f64 sigmoid << 32 | its input's bits
};

// Distance in f32 ulps between two non-negative scores (their bits are ordered).
__device__ unsigned ulps_apart(float a, float b) {
  const unsigned x = __float_as_uint(a), y = __float_as_uint(b);
  return x > y ? x - y : y - x;
}

template <detail::Reciprocal reciprocal>
__global__ void tally(Tally* out) {
  const std::uint64_t threads = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  unsigned long long mismatches = 0, first = ~0ull, worst = 0;
  for (std::uint64_t i = (blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x) * per_call;
       i < (1ull << 32); i += threads * per_call) {
    float logit[per_call], score[per_call];
#pragma unroll
    for (int j = 0; j < per_call; ++j) logit[j] = __uint_as_float(static_cast<std::uint32_t>(i + j));
    detail::sigmoids_with<reciprocal>(logit, score);
#pragma unroll
    for (int j = 0; j < per_call; ++j) {
      const float x = logit[j];
      if constexpr (reciprocal == detail::Reciprocal::exact) {
        const float expected = detail::gate_sigmoid(x);
        const bool same = x != x ? score[j] != score[j] : __float_as_uint(score[j]) == __float_as_uint(expected);
        if (!same) {
          ++mismatches;
          if (i + j < first) first = i + j;
        }
      } else {
        if (x != x) {
          mismatches += score[j] == score[j];
          continue;
        }
        // The contract's bound (docs/semantics.md, "Tolerance"): within score_ulps of the sigmoid, or
        // the f32 formula's own value where its exp overflows (x below -88.72: 0 against ~1e-39).
        const float rounded = static_cast<float>(1.0 / (1.0 + exp(-static_cast<double>(x))));
        const unsigned apart = min(ulps_apart(score[j], rounded), ulps_apart(score[j], detail::gate_sigmoid(x)));
        const unsigned long long packed = static_cast<unsigned long long>(apart) << 32 | (i + j);
        if (packed > worst) worst = packed;
      }
    }
  }
  atomicAdd(&out->mismatches, mismatches);
  atomicMin(&out->first_mismatch, first);
  atomicMax(&out->worst, worst);  // one word: the distance and its input stay together
}

// reciprocal_of_moderate against IEEE division for every f32 y in [1, 2^125].
__global__ void tally_reciprocals(Tally* out) {
  constexpr std::uint32_t one = 0x3F800000u, top = 0x7E000000u;  // 1 and 2^125
  const std::uint32_t threads = gridDim.x * blockDim.x;
  unsigned long long mismatches = 0, first = ~0ull;
  for (std::uint32_t bits = one + blockIdx.x * blockDim.x + threadIdx.x; bits <= top; bits += threads) {
    const float y = __uint_as_float(bits);
    if (__float_as_uint(detail::reciprocal_of_moderate(y)) != __float_as_uint(1.0f / y)) {
      ++mismatches;
      if (bits < first) first = bits;
    }
  }
  atomicAdd(&out->mismatches, mismatches);
  atomicMin(&out->first_mismatch, first);
}

template <class Kernel>
Tally run_tally(Kernel kernel) {
  detail::DeviceBuffer<Tally> out(1);
  out.upload(std::vector<Tally>{Tally{0, ~0ull, 0}});
  kernel<<<1024, 256>>>(out.data());
  MOEGATE_CUDA_CHECK(cudaGetLastError());
  MOEGATE_CUDA_CHECK(cudaDeviceSynchronize());
  return out.download()[0];
}

TEST(Sigmoids, BatchedExactScoresAreGateSigmoidsBitForBitForEveryInput) {
  MOEGATE_REQUIRE_DEVICE();
  const Tally t = run_tally(tally<detail::Reciprocal::exact>);
  std::printf("sigmoids_with<exact> against gate_sigmoid over 2^32 inputs: %llu differ (first at input bits 0x%08llx)\n",
              t.mismatches, t.mismatches ? t.first_mismatch : 0ull);
  EXPECT_EQ(t.mismatches, 0u);
}

TEST(Sigmoids, ApproximateReciprocalStaysWithinTheScoreBandForEveryInput) {
  MOEGATE_REQUIRE_DEVICE();
  const Tally t = run_tally(tally<detail::Reciprocal::approximate>);
  std::printf("rcp.approx sigmoid over 2^32 inputs: at most %llu ulp from the rounded f64 sigmoid (input bits "
              "0x%08llx); NaN mismatches %llu\n",
              t.worst >> 32, t.worst & 0xFFFFFFFFull, t.mismatches);
  EXPECT_LE(t.worst >> 32, 4u);  // Tolerance::score_ulps' default
  EXPECT_EQ(t.mismatches, 0u);
}

TEST(Sigmoids, ModerateReciprocalIsIeeeDivisionOverItsWholeDomain) {
  MOEGATE_REQUIRE_DEVICE();
  const Tally t = run_tally(tally_reciprocals);
  std::printf("reciprocal_of_moderate against 1.0f / y for every f32 y in [1, 2^125]: %llu differ (first at y bits "
              "0x%08llx)\n",
              t.mismatches, t.mismatches ? t.first_mismatch : 0ull);
  EXPECT_EQ(t.mismatches, 0u);
}

}  // namespace
}  // namespace moegate::cuda
