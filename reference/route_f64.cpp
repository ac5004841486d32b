// route_f64: the oracle. The contract's decisions with every operation in
// double, plus the decision margins a comparator needs to tell a rounding
// flip (near-tie) from a wrong answer.
#include <omp.h>

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <vector>

#include "moegate/reference.hpp"
#include "selection.hpp"

namespace moegate::reference {
namespace {

// Ranks like order_key + ranked_key, for doubles: class first (NaN below or
// above every number), then value (-0.0 == +0.0), then the lower index.
struct F64Key {
  int rank_class;  // 0: NaN ranked lowest, 1: number, 2: NaN ranked highest; -1: none
  double value;
  std::int32_t position;

  bool operator>(const F64Key& other) const {
    if (rank_class != other.rank_class) return rank_class > other.rank_class;
    if (rank_class == 1 && value != other.value) return value > other.value;
    return position < other.position;
  }
  std::int32_t index() const { return position; }
  static F64Key none() { return {-1, 0.0, 0}; }
};

constexpr double infinity = std::numeric_limits<double>::infinity();

// How far `kept` ranks above `dropped`, in score units.
double margin(const F64Key& kept, const F64Key& dropped) {
  if (dropped.rank_class < 0 || kept.rank_class != dropped.rank_class) return infinity;
  if (kept.rank_class != 1 || kept.value == dropped.value) return 0.0;
  return kept.value - dropped.value;
}

struct TokenWork {
  Eigen::ArrayXd logits, scores, biased;
  std::vector<double> weights;
  std::vector<F64Key> keys;
  detail::Selector<double, F64Key> selector;
};

}  // namespace

OracleResult route_f64(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                       const RunOptions& options) {
  require_valid(config, logits, bias);
  const int experts = config.experts;
  const int topk = config.topk;
  const std::int64_t tokens = std::max<std::int64_t>(logits.tokens, 0);
  OracleResult result;
  result.weights.resize(static_cast<std::size_t>(tokens * topk));
  result.ids.resize(static_cast<std::size_t>(tokens * topk));
  result.keys.resize(static_cast<std::size_t>(tokens * topk));
  result.selection_margin.resize(static_cast<std::size_t>(tokens));
  result.group_margin.resize(static_cast<std::size_t>(tokens), infinity);
  Eigen::ArrayXd bias_f64(experts);
  for (int e = 0; e < experts; ++e) bias_f64[e] = load_widened(bias.data, bias.dtype, e);
  const Profile profile = config.profile;
  const auto make_key = [profile](double score, int index) {
    if (std::isnan(score))
      return F64Key{profile.nan_rank == NanRank::highest ? 2 : 0, 0.0, index};
    return F64Key{1, score, index};
  };

  const int threads = thread_team(logits.tokens * logits.row_stride, options.threads);
#pragma omp parallel num_threads(threads)
  {
    TokenWork work;
    work.logits.resize(experts);
    work.keys.resize(static_cast<std::size_t>(experts));
    work.weights.resize(static_cast<std::size_t>(topk));
#pragma omp for schedule(static)
    for (std::int64_t t = 0; t < tokens; ++t) {
      for (int e = 0; e < experts; ++e)
        work.logits[e] = load_widened(logits.data, logits.dtype, t * logits.row_stride + e);
      work.scores = (1.0 + (-work.logits).exp()).inverse();
      work.biased = work.scores + bias_f64;
      if (profile.nan_rank == NanRank::replace)
        work.biased = work.biased.isNaN().select(double{profile.nan_replacement}, work.biased);
      std::int32_t* ids = result.ids.data() + t * topk;
      F64Key kth_and_next[2];
      F64Key group_cut[2] = {F64Key::none(), F64Key::none()};
      for (int e = 0; e < experts; ++e) work.keys[e] = make_key(work.biased[e], e);
      work.selector.run(config, work.biased.data(), work.keys.data(), make_key, ids, kth_and_next,
                        config.grouped() ? group_cut : nullptr);
      result.selection_margin[t] = margin(kth_and_next[0], kth_and_next[1]);
      if (config.grouped()) result.group_margin[t] = margin(group_cut[0], group_cut[1]);
      for (int j = 0; j < topk; ++j) {
        work.weights[j] = work.scores[ids[j]];
        result.keys[t * topk + j] = work.biased[ids[j]];
      }
      detail::finish_weights(config, work.weights.data(), topk);
      std::copy(work.weights.begin(), work.weights.end(), result.weights.begin() + t * topk);
    }
  }
  return result;
}

}  // namespace moegate::reference
