// s01_warp_lane_contiguous — the seed's large-token kernel before its fix.
//
// Idea: one warp per token (detail/warp_per_token.cuh); each lane owns a
// contiguous chunk of N/32 experts (8 for N = 256, 12 for N = 384), loads it
// as 2 or 3 float4 and stores it to shared memory as is; each round a lane
// scans its chunk one 32-bit value at a time.
// Thread mapping: lane l owns experts [l * N/32, (l + 1) * N/32); 6 warps (6
// tokens) per CTA of 192 threads.
// Shared memory: 6 warps x N x (4-byte key + 4-byte score) = 12 KiB (256) /
// 18 KiB (384) per CTA.
// Bank conflicts (the point of this stage): the scan reads, for a fixed m,
// word l * N/32 + m across the warp: a stride of 8 words (256: 8-way
// conflict) or 12 words (384: 4-way); the float4 stores have a 32- or 48-byte
// lane stride (256: 2-way; 384: conflict-free).
// Limits: the seed's: E in {256, 384}, k <= 8, one group, f32 logits and
// bias, rows and bias 16-byte aligned (row stride a multiple of 4).
// Prediction vs s00: one coalesced pass per token instead of a thread walking
// its row k times: 10-50x faster at T >= 4096; the k scan rounds over shared
// memory with conflicts cap it well below memory bandwidth.
#include "../detail/check.hpp"
#include "../detail/warp_per_token.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

template <int N>
struct LaneContiguous {
  static constexpr int per_lane = N / 32;
  __device__ static int vector(int lane, int i) { return lane * (per_lane / 4) + i; }
  __device__ static void scan(const std::uint32_t* keys, int lane, std::uint32_t& key, int& index) {
#pragma unroll
    for (int m = 0; m < per_lane; ++m) {
      const int e = lane * per_lane + m;
      if (detail::wins(keys[e], e, key, index)) {
        key = keys[e];
        index = e;
      }
    }
  }
};

}  // namespace

std::string s01_warp_lane_contiguous_refusal(const RouterConfig& config, const LogitsView& logits,
                                             const BiasView& bias) {
  std::string why = seed_shape_refusal(config, logits, bias);
  return why.empty() ? vector_alignment_refusal(logits, bias) : why;
}

void s01_warp_lane_contiguous_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                     const OutputView& output, cudaStream_t stream, const LaunchOptions&) {
  const auto params = detail::make_params(config, logits, bias, output);
  if (config.experts == 256) detail::launch_warp_per_token<256, LaneContiguous<256>>(params, stream);
  else detail::launch_warp_per_token<384, LaneContiguous<384>>(params, stream);
  MOEGATE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moegate::cuda::kernels
