// A measuring instrument, not a stage: what s09's memory traffic alone
// costs. It runs s09's grid (persistent warps of 4 per CTA, as many CTAs as
// fit), its loads (load_row: 16-byte f32 / 8-byte 16-bit vector loads when
// aligned, the next row in flight) and its bias fill after the PDL wait, and
// writes k slots per token, but routes nothing: each lane's largest
// logit + bias goes out as a weight, so no load can be dropped. The
// contract does not hold for its outputs, so it is not in the registry;
// stage_bench times it beside the stages as "floor_memory".
// What it tells: at T = 1 the latency floor of any gate kernel reading one
// row and the bias behind a launch in a graph; at large T the bandwidth
// s09's access pattern reaches with no arithmetic at all.
#pragma once

#include <algorithm>
#include <cmath>

#include "../cuda/detail/streaming.cuh"

namespace moegate::bench {

template <int VPT, int Chunk>
__global__ void __launch_bounds__(cuda::detail::streaming_warps_per_cta * 32, 8)
    memory_floor_kernel(cuda::detail::RouteParams p) {
  constexpr int warps_per_cta = cuda::detail::streaming_warps_per_cta;
  __shared__ float bias_of[32 * VPT];
  __shared__ float half_plus_bias_of[32 * VPT];
  const int lane = threadIdx.x % 32;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * warps_per_cta;
  std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + threadIdx.x / 32;
  cuda::detail::wait_for_producer();
  cuda::detail::fill_bias<VPT>(p, bias_of, half_plus_bias_of);
  __syncthreads();
  if (token >= p.tokens) return;
  float logits[VPT];
  cuda::detail::load_row<VPT, Chunk>(p, token * p.row_stride, lane, logits);
  for (; token < p.tokens; token += stride) {
    float next[VPT];
    if (token + stride < p.tokens)
      cuda::detail::load_row<VPT, Chunk>(p, (token + stride) * p.row_stride, lane, next);
    float lane_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < VPT; ++j)
      lane_max = fmaxf(lane_max, logits[j] + bias_of[cuda::detail::expert_of<Chunk>(lane, j)]);
    if (lane < p.topk) {
      p.weights[token * p.topk + lane] = lane_max;
      p.ids[token * p.topk + lane] = lane;
    }
#pragma unroll
    for (int j = 0; j < VPT; ++j) logits[j] = next[j];
  }
}

inline void launch_memory_floor(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                const OutputView& output, cudaStream_t stream) {
  const auto params = cuda::detail::make_params(config, logits, bias, output);
  cuda::detail::with_values_per_lane(config.experts, [&](auto vpt) {
    constexpr int VPT = decltype(vpt)::value;
    const auto run = [&](auto kernel) { cuda::detail::launch_streaming(kernel, params, stream, {}); };
    if constexpr (VPT % 4 == 0) {
      if (cuda::detail::vector_loads_fit(config, logits, VPT)) return run(memory_floor_kernel<VPT, 4>);
    }
    run(memory_floor_kernel<VPT, 1>);
  });
}

}  // namespace moegate::bench
