// The seed's large-token kernel skeleton, shared by s01 and s02, which differ
// only in the shared-memory layout (the Layout parameter, defined in each
// stage file): one warp per token, 6 warps per CTA, float4 loads of logits
// and bias, biased-score keys and scores staged in shared memory, k rounds
// of (each lane scans its values, warp arg-max by shuffle, lane 0 marks the
// winner taken), lane 0 keeps ids and weights in registers and writes once.
//
// Layout must provide, for N experts (vectors = N / 128 float4 per lane):
//   static int vector(int lane, int i)   the float4 index lane loads/stores i-th
//   static void scan(const uint32_t* keys, int lane, uint32_t& key, int& index)
//       the lane's best (key, index) over the values it owns, ties to the lower index
#pragma once

#include "numeric.cuh"

namespace moegate::cuda::detail {

inline constexpr int warps_per_cta = 6;
inline constexpr int seed_max_topk = 8;

template <int N, class Layout>
__global__ void __launch_bounds__(warps_per_cta * 32) warp_per_token_kernel(RouteParams p) {
  static_assert(N % 128 == 0, "each lane loads whole float4s");
  constexpr int vectors = N / 128;
  __shared__ __align__(16) std::uint32_t keys[warps_per_cta][N];
  __shared__ __align__(16) float scores[warps_per_cta][N];
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const std::int64_t token = blockIdx.x * static_cast<std::int64_t>(warps_per_cta) + warp;
  if (token >= p.tokens) return;  // whole warps leave; no CTA-wide barrier follows

  const auto* row = reinterpret_cast<const float4*>(static_cast<const float*>(p.logits) + token * p.row_stride);
  const auto* bias = static_cast<const float4*>(p.bias);
#pragma unroll
  for (int i = 0; i < vectors; ++i) {
    const int v = Layout::vector(lane, i);
    const float4 x = row[v];
    const float4 b = bias[v];
    const float4 s = {gate_sigmoid(x.x), gate_sigmoid(x.y), gate_sigmoid(x.z), gate_sigmoid(x.w)};
    const uint4 k = {select_key(s.x + b.x, p.profile), select_key(s.y + b.y, p.profile),
                     select_key(s.z + b.z, p.profile), select_key(s.w + b.w, p.profile)};
    reinterpret_cast<float4*>(scores[warp])[v] = s;
    reinterpret_cast<uint4*>(keys[warp])[v] = k;
  }
  __syncwarp();

  float weights[seed_max_topk];
  int ids[seed_max_topk];
  for (int round = 0; round < p.topk; ++round) {
    std::uint32_t key = taken_key;
    int index = N;
    Layout::scan(keys[warp], lane, key, index);
    warp_argmax(key, index);
    if (lane == 0) {
      ids[round] = index;
      weights[round] = scores[warp][index];
      keys[warp][index] = taken_key;
    }
    __syncwarp();
  }
  if (lane == 0) {
    finish_weights(weights, p.topk, p);
    for (int j = 0; j < p.topk; ++j) {
      p.ids[token * p.topk + j] = ids[j];
      p.weights[token * p.topk + j] = weights[j];
    }
  }
}

template <int N, class Layout>
void launch_warp_per_token(const RouteParams& params, cudaStream_t stream) {
  const auto blocks = static_cast<unsigned>((params.tokens + warps_per_cta - 1) / warps_per_cta);
  warp_per_token_kernel<N, Layout><<<blocks, warps_per_cta * 32, 0, stream>>>(params);
}

}  // namespace moegate::cuda::detail
