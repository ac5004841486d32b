// CUDA event timing for the GPU benchmarks: events created once, the time
// between two records around some work on a stream.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>

#include "../cuda/detail/check.hpp"

namespace moegate::bench {

// A pair of CUDA events, created once: times work enqueued on a stream.
class EventTimer {
 public:
  EventTimer() {
    MOEGATE_CUDA_CHECK(cudaEventCreate(&start_));
    MOEGATE_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  ~EventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }

  // Milliseconds between the events recorded around `work`.
  template <class Work>
  double ms(cudaStream_t stream, Work&& work) {
    MOEGATE_CUDA_CHECK(cudaEventRecord(start_, stream));
    work();
    MOEGATE_CUDA_CHECK(cudaEventRecord(stop_, stream));
    MOEGATE_CUDA_CHECK(cudaEventSynchronize(stop_));
    float elapsed = 0.0f;
    MOEGATE_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start_, stop_));
    return elapsed;
  }

  // The best of `repeats` timings.
  template <class Work>
  double best_ms(cudaStream_t stream, int repeats, Work&& work) {
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) best = std::min(best, ms(stream, work));
    return best;
  }

 private:
  cudaEvent_t start_, stop_;
};

}  // namespace moegate::bench
