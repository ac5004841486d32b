// s00_naive — the correctness baseline.
//
// Idea: one thread per token does exactly what docs/semantics.md says, in
// the most literal way: k rounds, each scanning every candidate for the best
// ranked key below the previous round's (keys are unique, so no "taken"
// marks are needed); the group cut first finds the topk_group-th best group
// key the same way.
// Thread mapping: thread t = token t; 128 threads per CTA.
// Shared memory: none. Work: O(k * E) sigmoids and key compares per token,
// recomputed (nothing cached), plus O(topk_group * E) for the group cut.
// Limits: any E, k, G the contract allows; any dtypes, stride, alignment;
// programmatic dependent launch (waits before the first read).
// Expected speed: far below the others (no coalescing: each thread walks its
// own row; k * E recomputed sigmoids); it exists to be right, not fast.
#include "../detail/check.hpp"
#include "../detail/launch.cuh"
#include "../detail/numeric.cuh"
#include "stages.hpp"

namespace moegate::cuda::kernels {
namespace {

using detail::RouteParams;

struct Token {
  const RouteParams& p;
  std::int64_t token;

  __device__ float score(int expert) const {
    return detail::gate_sigmoid(load_widened(p.logits, p.logits_dtype, token * p.row_stride + expert));
  }
  __device__ float biased(int expert) const {
    return replace_nan(score(expert) + load_widened(p.bias, p.bias_dtype, expert), p.profile);
  }
  __device__ std::uint64_t expert_key(int expert) const {
    return ranked_key(detail::select_key(biased(expert), p.profile), expert);
  }
  __device__ std::uint64_t group_key(int group) const {
    const int size = p.experts / p.groups;
    std::uint64_t first = 0, second = 0;
    for (int e = group * size; e < (group + 1) * size; ++e) {
      const std::uint64_t key = expert_key(e);
      if (key > first) {
        second = first;
        first = key;
      } else if (key > second) {
        second = key;
      }
    }
    float group_score = biased(index_of(first));
    if (size > 1) group_score += biased(index_of(second));
    return ranked_key(detail::select_key(group_score, p.profile), group);
  }
};

__global__ void naive_kernel(RouteParams p) {
  detail::wait_for_producer();  // PDL: the logits are complete from here on
  const std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (t >= p.tokens) return;
  const Token token{p, t};
  const int size = p.experts / p.groups;
  // The weakest kept group's key: groups at or above it survive the cut.
  // (Round 0 has no bound: with NaN ranked highest, group or expert 0's key
  // is the largest 64-bit value, so no sentinel bound may stand in for it.)
  std::uint64_t cut = 0;
  if (p.groups > 1) {
    std::uint64_t previous = 0;
    for (int round = 0; round < p.kept_groups; ++round) {
      std::uint64_t best = 0;
      for (int g = 0; g < p.groups; ++g) {
        const std::uint64_t key = token.group_key(g);
        if ((round == 0 || key < previous) && key > best) best = key;
      }
      previous = best;
    }
    cut = previous;
  }
  float* weights = p.weights + t * p.topk;
  std::int32_t* ids = p.ids + t * p.topk;
  std::uint64_t previous = 0;
  for (int round = 0; round < p.topk; ++round) {
    std::uint64_t best = 0;
    for (int g = 0; g < p.groups; ++g) {
      if (p.groups > 1 && token.group_key(g) < cut) continue;
      for (int e = g * size; e < (g + 1) * size; ++e) {
        const std::uint64_t key = token.expert_key(e);
        if ((round == 0 || key < previous) && key > best) best = key;
      }
    }
    previous = best;
    ids[round] = index_of(best);
    weights[round] = token.score(index_of(best));
  }
  detail::finish_weights(weights, p.topk, p);  // in global memory: k is unbounded here
}

}  // namespace

std::string s00_naive_refusal(const RouterConfig&, const LogitsView&, const BiasView&) { return {}; }

void s00_naive_launch(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                      const OutputView& output, cudaStream_t stream, const LaunchOptions& options) {
  constexpr int threads = 128;
  const auto blocks = static_cast<unsigned>((logits.tokens + threads - 1) / threads);
  detail::launch_kernel(naive_kernel, blocks, threads, stream, options, detail::make_params(config, logits, bias, output));
}

}  // namespace moegate::cuda::kernels
