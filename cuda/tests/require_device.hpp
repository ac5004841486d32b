// The GPU tests' guard: skip (visibly) without a GPU, fail instead when
// MOEGATE_REQUIRE_GPU=1 says one must be there.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "moegate/cuda.hpp"

namespace moegate::cuda::testing {

inline bool gpu_required() {
  const char* value = std::getenv("MOEGATE_REQUIRE_GPU");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

}  // namespace moegate::cuda::testing

#define MOEGATE_REQUIRE_DEVICE()                                                        \
  do {                                                                                  \
    if (::moegate::cuda::device_count() == 0) {                                         \
      if (::moegate::cuda::testing::gpu_required())                                     \
        FAIL() << "MOEGATE_REQUIRE_GPU=1 but no CUDA device was found";                 \
      GTEST_SKIP() << "no CUDA device (" << ::moegate::cuda::version_string() << ")";  \
    }                                                                                   \
  } while (0)
