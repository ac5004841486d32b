// The CUDA runtime plumbing. Without a GPU the device tests skip visibly,
// unless MOEGATE_REQUIRE_GPU=1 says a GPU must be there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "../detail/device_buffer.hpp"
#include "require_device.hpp"

namespace moegate::cuda {
namespace {

TEST(CudaRuntime, DiscoveryNeverThrows) {
  const int count = device_count();
  EXPECT_GE(count, 0);
  EXPECT_EQ(device_info(count).has_value(), false);
  EXPECT_NE(version_string().find("runtime "), std::string::npos);
}

TEST(CudaRuntime, CheckThrowsWithTheCallText) {
  try {
    MOEGATE_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "no exception";
  } catch (const CudaError& error) {
    EXPECT_NE(std::string(error.what()).find("cudaErrorInvalidValue"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("runtime_test.cpp"), std::string::npos);
  }
}

TEST(CudaRuntime, PoisonFillsEveryOutputSlot) {
  MOEGATE_REQUIRE_DEVICE();
  constexpr std::int64_t tokens = 1000;
  constexpr int topk = 7;
  detail::DeviceBuffer<std::uint32_t> weights(tokens * topk);
  detail::DeviceBuffer<std::int32_t> ids(tokens * topk);
  poison_outputs({reinterpret_cast<float*>(weights.data()), ids.data()}, tokens, topk, nullptr);
  MOEGATE_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<std::uint32_t> weight_bits = weights.download();
  const std::vector<std::int32_t> host_ids = ids.download();
  for (std::size_t i = 0; i < weight_bits.size(); ++i) {
    ASSERT_EQ(weight_bits[i], poison_weight_bits) << i;
    ASSERT_EQ(host_ids[i], poison_id) << i;
  }
}

}  // namespace
}  // namespace moegate::cuda
