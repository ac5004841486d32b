// route_f32: the contract's f32 arithmetic, literally. One token per loop
// iteration, OpenMP over tokens; each token's result depends on nothing but
// its own row, so the output is bitwise the same for any thread count.
#include <omp.h>

#include <Eigen/Core>

#include <vector>

#include "moegate/order.hpp"
#include "moegate/reference.hpp"
#include "keys.hpp"
#include "selection.hpp"

namespace moegate::reference {
namespace {

// Same layout as ranked_key's uint64 (rank_keys_f32 writes them as such).
struct F32Key {
  std::uint64_t ranked;
  bool operator>(const F32Key& other) const { return ranked > other.ranked; }
  std::int32_t index() const { return index_of(ranked); }
  std::uint32_t score_key() const { return static_cast<std::uint32_t>(ranked >> 32); }
  static F32Key none() { return {0}; }
};

void widen_row(const LogitsView& logits, std::int64_t token, int experts, float* row) {
  for (int e = 0; e < experts; ++e)
    row[e] = load_widened(logits.data, logits.dtype, token * logits.row_stride + e);
}

struct TokenWork {
  std::vector<float> widened, weights;
  std::vector<F32Key> keys;
  std::vector<std::uint32_t> chunk_maxima;
  Eigen::ArrayXf scores, biased;
  detail::Selector<float, F32Key> selector;
};

static_assert(sizeof(F32Key) == sizeof(std::uint64_t), "F32Key must be a plain ranked key");

}  // namespace

void route_f32(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
               const OutputView& output, const RunOptions& options) {
  require_valid(config, logits, bias, output);
  const int experts = config.experts;
  const int topk = config.topk;
  Eigen::ArrayXf bias_f32(experts);
  for (int e = 0; e < experts; ++e) bias_f32[e] = load_widened(bias.data, bias.dtype, e);
  const bool replaces_nan = config.profile.nan_rank == NanRank::replace;
  const NanRank nan_rank = config.profile.nan_rank;
  const auto make_key = [nan_rank](float score, int index) {
    return F32Key{ranked_key(order_key(score, nan_rank), index)};
  };

  const int threads = thread_team(logits.tokens * logits.row_stride, options.threads);
#pragma omp parallel num_threads(threads)
  {
    TokenWork work;
    work.widened.resize(static_cast<std::size_t>(experts));
    work.scores.resize(experts);
    work.biased.resize(experts);
    work.weights.resize(static_cast<std::size_t>(topk));
    work.keys.resize(static_cast<std::size_t>(experts));
    work.chunk_maxima.resize(static_cast<std::size_t>(experts + 15) / 16);
#pragma omp for schedule(static)
    for (std::int64_t t = 0; t < logits.tokens; ++t) {
      const float* row;
      if (logits.dtype == DType::f32) {
        row = static_cast<const float*>(logits.data) + t * logits.row_stride;
      } else {
        widen_row(logits, t, experts, work.widened.data());
        row = work.widened.data();
      }
      sigmoid_f32(row, work.scores.data(), experts);
      work.biased = work.scores + bias_f32;
      if (replaces_nan)
        for (int e = 0; e < experts; ++e) work.biased[e] = replace_nan(work.biased[e], config.profile);
      std::int32_t* ids = output.ids + t * topk;
      detail::rank_keys_f32(work.biased.data(), reinterpret_cast<std::uint64_t*>(work.keys.data()),
                            work.chunk_maxima.data(), experts, nan_rank);
      work.selector.run(config, work.biased.data(), work.keys.data(), make_key, ids, nullptr,
                        nullptr, work.chunk_maxima.data());
      for (int j = 0; j < topk; ++j) work.weights[j] = work.scores[ids[j]];
      detail::finish_weights(config, work.weights.data(), topk);
      std::copy(work.weights.begin(), work.weights.end(), output.weights + t * topk);
    }
  }
}

RouteResult route_f32(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                      const RunOptions& options) {
  require_valid(config);
  RouteResult result;
  const auto size = static_cast<std::size_t>(std::max<std::int64_t>(logits.tokens, 0) * config.topk);
  result.weights.resize(size);
  result.ids.resize(size);
  route_f32(config, logits, bias, OutputView{result.weights.data(), result.ids.data()}, options);
  return result;
}

}  // namespace moegate::reference
