// A measuring instrument, not a stage: the latency floor of a gate kernel at
// decode batch sizes (issue #14). One warp per token, CTAs of 4 warps, no
// persistence, no shared memory and no PDL wait: every lane requests its
// share of the row and of the bias at once, so the kernel pays exactly one
// dependent memory round trip behind its launch, then writes k slots (each
// lane's largest logit + bias, so no load can be dropped; nothing is routed,
// so it is not in the registry). stage_bench times it as "floor_latency".
// floor_memory (memory_floor.cuh) pays two round trips at T = 1 (the bias
// fill, then the row) and launches s09's full persistent grid.
// Prediction (H200, graph replay, kimi-k2, T = 1): the empty kernel (0.56 µs)
// plus one DRAM round trip (~0.7 µs) plus the write, about 1.3-1.5 µs,
// against floor_memory's 1.63 µs; near floor_memory once T fills the GPU.
#pragma once

#include <cmath>

#include "../cuda/detail/launch.cuh"
#include "../cuda/detail/params.hpp"
#include "../cuda/detail/warp_registers.cuh"

namespace moegate::bench {

inline constexpr int latency_floor_warps = 4;

template <int VPT>
__global__ void __launch_bounds__(latency_floor_warps * 32) latency_floor_kernel(cuda::detail::RouteParams p) {
  const int lane = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(latency_floor_warps) + threadIdx.x / 32;
  if (token >= p.tokens) return;
  float logits[VPT], bias[VPT];
#pragma unroll
  for (int j = 0; j < VPT; ++j) {  // every load issued before any is used
    const int e = j * 32 + lane;
    const bool expert = e < p.experts;
    logits[j] = expert ? load_widened(p.logits, p.logits_dtype, token * p.row_stride + e) : -INFINITY;
    bias[j] = expert ? load_widened(p.bias, p.bias_dtype, e) : 0.0f;
  }
  float lane_max = -INFINITY;
#pragma unroll
  for (int j = 0; j < VPT; ++j) lane_max = fmaxf(lane_max, logits[j] + bias[j]);
  if (lane < p.topk) {
    p.weights[token * p.topk + lane] = lane_max;
    p.ids[token * p.topk + lane] = lane;
  }
}

inline void launch_latency_floor(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                 const OutputView& output, cudaStream_t stream) {
  const auto params = cuda::detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>((params.tokens + latency_floor_warps - 1) / latency_floor_warps);
  cuda::detail::with_values_per_lane(config.experts, [&](auto vpt) {
    cuda::detail::launch_kernel(latency_floor_kernel<decltype(vpt)::value>, blocks, latency_floor_warps * 32, stream,
                                cuda::LaunchOptions{}, params);
  });
}

}  // namespace moegate::bench
