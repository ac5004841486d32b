// s02_warp_bank_conflict_free — the seed's large-token kernel after its fix.
//
// Idea: the same warp-per-token kernel as s01, but the float4 index is
// lane-strided (lane + 32 i), so the warp's i-th 128-bit store covers 512
// contiguous bytes, and each round's scan reads the same float4s back as
// uint4: every shared access of the kernel is conflict-free.
// Thread mapping: lane l owns experts 4 (l + 32 i) .. 4 (l + 32 i) + 3 for
// i < N/128; 6 warps (6 tokens) per CTA of 192 threads.
// Shared memory: as s01, 12 KiB (256) / 18 KiB (384) per CTA.
// Limits: as s01 (the seed's shapes, f32, 16-byte aligned rows).
// Prediction vs s01: the same global traffic; only shared-memory wavefronts
// drop (stores 2x fewer at 256; scan loads 4-8x fewer), so the gain shows
// where the k scan rounds dominate: large T, ~1.2-1.5x; none at small T.
#include "../detail/check.hpp"
#include "../detail/warp_per_token.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

template <int N>
struct LaneStrided {
  static constexpr int vectors = N / 128;
  __device__ static int vector(int lane, int i) { return lane + 32 * i; }
  __device__ static void scan(const std::uint32_t* keys, int lane, std::uint32_t& key, int& index) {
#pragma unroll
    for (int i = 0; i < vectors; ++i) {
      const int v = lane + 32 * i;
      const uint4 four = reinterpret_cast<const uint4*>(keys)[v];
      const std::uint32_t values[4] = {four.x, four.y, four.z, four.w};
#pragma unroll
      for (int c = 0; c < 4; ++c)
        if (detail::wins(values[c], 4 * v + c, key, index)) {
          key = values[c];
          index = 4 * v + c;
        }
    }
  }
};

}  // namespace

std::string s02_warp_bank_conflict_free_refusal(const RouterConfig& config, const LogitsView& logits,
                                                const BiasView& bias) {
  std::string why = seed_shape_refusal(config, logits, bias);
  return why.empty() ? vector_alignment_refusal(logits, bias) : why;
}

void s02_warp_bank_conflict_free_launch(const RouterConfig& config, const LogitsView& logits,
                                        const BiasView& bias, const OutputView& output, cudaStream_t stream, const LaunchOptions&) {
  const auto params = detail::make_params(config, logits, bias, output);
  if (config.experts == 256) detail::launch_warp_per_token<256, LaneStrided<256>>(params, stream);
  else detail::launch_warp_per_token<384, LaneStrided<384>>(params, stream);
  MOEGATE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moegate::cuda::kernels
