// s03_cta_per_token — the seed's small-token kernel.
//
// Idea: one CTA per token, one thread per expert; each thread keeps its
// expert's selection key and score in registers. Each of k rounds: warp
// arg-max by shuffle, warp leaders to shared memory, warp 0 merges them, the
// owning thread marks its key taken. The chosen scores are collected in
// shared memory; one writeback pass by the first k threads renormalises by
// multiplying with rcp = 1 / sum (the seed's single-pass renorm) and scales.
// Thread mapping: thread e = expert e; CTA = N threads (256 or 384); grid = T.
// Shared memory: N/32 leader (key, index) pairs + the winner + 8 chosen
// (id, score): under 200 bytes. Two CTA barriers per round.
// Limits: the seed's: E in {256, 384}, k <= 8, one group, f32 logits and
// bias; no vector loads, so any row stride and alignment.
// Prediction: for small T the whole GPU is busy only with T CTAs; latency is
// launch + one row load + 2k barriers: ~3-4 us at T = 1 (the anchors' 4.1 us
// for the seed), against s01/s02 where one warp per token leaves the row load
// and k serial rounds on a single warp.
// Fixes against the seed: keys instead of -FLT_MAX sentinels (NaN ranks
// lowest everywhere, -inf/-FLT_MAX experts stay selectable); the sum runs in
// selection order at the end (the seed accumulated it while selecting, in the
// same order); rcp multiply kept (<= 1 ulp from the contract's division).
#include <climits>

#include "../detail/check.hpp"
#include "../detail/numeric.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

constexpr int max_topk = 8;

template <int N>
__global__ void __launch_bounds__(N) cta_per_token_kernel(detail::RouteParams p) {
  constexpr int warps = N / 32;
  __shared__ std::uint32_t leader_keys[warps];
  __shared__ int leader_index[warps];
  __shared__ int winner;
  __shared__ float chosen_score[max_topk];
  const int expert = threadIdx.x;
  const int lane = expert % 32;
  const int warp = expert / 32;
  const std::int64_t token = blockIdx.x;

  const float logit = static_cast<const float*>(p.logits)[token * p.row_stride + expert];
  const float score = detail::gate_sigmoid(logit);
  std::uint32_t key = detail::select_key(score + static_cast<const float*>(p.bias)[expert], p.profile);

  for (int round = 0; round < p.topk; ++round) {
    std::uint32_t best_key = key;
    int best_index = expert;
    detail::warp_argmax(best_key, best_index);
    if (lane == 0) {
      leader_keys[warp] = best_key;
      leader_index[warp] = best_index;
    }
    __syncthreads();
    if (warp == 0) {
      best_key = lane < warps ? leader_keys[lane] : detail::taken_key;
      best_index = lane < warps ? leader_index[lane] : INT_MAX;
      detail::warp_argmax(best_key, best_index);
      if (lane == 0) winner = best_index;
    }
    __syncthreads();
    if (expert == winner) {
      key = detail::taken_key;
      chosen_score[round] = score;
      p.ids[token * p.topk + round] = expert;
    }
  }
  __syncthreads();
  if (expert < p.topk) {
    float sum = 0.0f;
    for (int j = 0; j < p.topk; ++j) sum += chosen_score[j];
    float scale = 1.0f;
    if (p.renormalize) {
      const ZeroSum policy = p.profile.zero_sum;
      if (policy == ZeroSum::epsilon) scale = 1.0f / (sum + 1e-20f);
      else if (policy == ZeroSum::nan || sum > 0.0f) scale = 1.0f / sum;
    }
    float weight = chosen_score[expert] * scale;
    if (p.scales_output) weight *= p.scaling_factor;
    p.weights[token * p.topk + expert] = weight;
  }
}

}  // namespace

std::string s03_cta_per_token_refusal(const RouterConfig& config, const LogitsView& logits, const BiasView& bias) {
  return seed_shape_refusal(config, logits, bias);
}

void s03_cta_per_token_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                              const OutputView& output, cudaStream_t stream, const LaunchOptions&) {
  const auto params = detail::make_params(config, logits, bias, output);
  const auto blocks = static_cast<unsigned>(logits.tokens);
  if (config.experts == 256) cta_per_token_kernel<256><<<blocks, 256, 0, stream>>>(params);
  else cta_per_token_kernel<384><<<blocks, 384, 0, stream>>>(params);
  MOEGATE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moegate::cuda::kernels
