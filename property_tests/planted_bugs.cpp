#include "planted_bugs.hpp"

#include <cfloat>
#include <cmath>
#include <limits>

#include "moegate/order.hpp"

namespace moegate::planted {
namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

struct Row {
  std::vector<float> score, biased;
};

// Does `candidate` rank before `incumbent` (contract order, or the bug's)?
bool ranks_before(float candidate_score, int candidate, float incumbent_score, int incumbent,
                  NanRank nan_rank, Bug bug) {
  const NanRank rank = bug == Bug::nan_first ? NanRank::highest : nan_rank;
  const std::uint32_t a = order_key(candidate_score, rank);
  const std::uint32_t b = order_key(incumbent_score, rank);
  if (a != b) return a > b;
  return bug == Bug::ties_to_higher_index ? candidate > incumbent : candidate < incumbent;
}

std::vector<bool> kept_experts(const RouterConfig& config, const Row& row, Bug bug) {
  std::vector<bool> allowed(static_cast<std::size_t>(config.experts), true);
  if (!config.grouped()) return allowed;
  const int size = config.experts_per_group();
  const NanRank nan_rank = config.profile.nan_rank;
  std::vector<float> group_score(static_cast<std::size_t>(config.groups));
  for (int g = 0; g < config.groups; ++g) {
    int first = -1, second = -1;
    for (int e = g * size; e < (g + 1) * size; ++e) {
      if (first < 0 || ranks_before(row.biased[e], e, row.biased[first], first, nan_rank, Bug::none)) {
        second = first;
        first = e;
      } else if (second < 0 || ranks_before(row.biased[e], e, row.biased[second], second, nan_rank, Bug::none)) {
        second = e;
      }
    }
    group_score[g] = row.biased[first] + (second >= 0 ? row.biased[second] : 0.0f);
  }
  int keep = config.kept_groups;
  if (bug == Bug::wrong_group_bound && keep < config.groups) ++keep;
  std::vector<bool> kept(static_cast<std::size_t>(config.groups), false);
  for (int round = 0; round < keep; ++round) {
    int best = -1;
    for (int g = 0; g < config.groups; ++g)
      if (!kept[g] && (best < 0 || ranks_before(group_score[g], g, group_score[best], best, nan_rank, Bug::none)))
        best = g;
    kept[best] = true;
  }
  for (int e = 0; e < config.experts; ++e) allowed[e] = kept[e / size];
  return allowed;
}

// The seed's loop: a work copy where taken (and dropped) experts hold a
// sentinel; the argmax starts from (sentinel, id 0) and needs a strict win.
void select_with_sentinel(const RouterConfig& config, const Row& row, const std::vector<bool>& allowed,
                          float sentinel, std::int32_t* ids, float* weights) {
  std::vector<float> work(row.biased);
  for (int e = 0; e < config.experts; ++e)
    if (!allowed[e]) work[e] = sentinel;
  for (int j = 0; j < config.topk; ++j) {
    int best = 0;
    float best_value = sentinel;
    for (int e = 0; e < config.experts; ++e)
      if (work[e] > best_value) {
        best_value = work[e];
        best = e;
      }
    const bool found = best_value > sentinel;
    ids[j] = best;
    weights[j] = found || sentinel == -inf ? row.score[best] : 0.0f;
    work[best] = sentinel;
  }
}

void select(const RouterConfig& config, const Row& row, const std::vector<bool>& allowed, Bug bug,
            std::int32_t* ids, float* weights) {
  std::vector<bool> taken(static_cast<std::size_t>(config.experts), false);
  for (int j = 0; j < config.topk; ++j) {
    int best = -1;
    for (int e = 0; e < config.experts; ++e)
      if (allowed[e] && !taken[e] &&
          (best < 0 || ranks_before(row.biased[e], e, row.biased[best], best, config.profile.nan_rank, bug)))
        best = e;
    taken[best] = true;
    ids[j] = best;
    weights[j] = bug == Bug::bias_in_weights ? row.biased[best] : row.score[best];
  }
}

void finish(const RouterConfig& config, Bug bug, float* weights) {
  const int k = config.topk;
  if (config.renormalize && bug != Bug::renorm_skipped) {
    float sum = 0.0f;
    for (int j = 0; j < k; ++j) sum += weights[j];
    const ZeroSum policy = config.profile.zero_sum;
    for (int j = 0; j < k; ++j) {
      if (policy == ZeroSum::epsilon) weights[j] /= sum + 1e-20f;
      else if (policy == ZeroSum::nan || sum > 0.0f) weights[j] /= sum;
    }
  }
  if (config.scales_output()) {
    const int times = bug == Bug::scaling_twice ? 2 : 1;
    for (int j = 0; j < k; ++j)
      for (int i = 0; i < times; ++i) weights[j] *= config.routed_scaling_factor;
  }
}

}  // namespace

const std::vector<Bug>& all_bugs() {
  static const std::vector<Bug> bugs = {Bug::ties_to_higher_index, Bug::nan_first,       Bug::flt_max_sentinel,
                                        Bug::bias_in_weights,      Bug::renorm_skipped,  Bug::scaling_twice,
                                        Bug::wrong_group_bound,    Bug::duplicate_when_exhausted};
  return bugs;
}

std::string_view name_of(Bug bug) {
  switch (bug) {
    case Bug::none: return "none";
    case Bug::ties_to_higher_index: return "ties_to_higher_index";
    case Bug::nan_first: return "nan_first";
    case Bug::flt_max_sentinel: return "flt_max_sentinel";
    case Bug::bias_in_weights: return "bias_in_weights";
    case Bug::renorm_skipped: return "renorm_skipped";
    case Bug::scaling_twice: return "scaling_twice";
    case Bug::wrong_group_bound: return "wrong_group_bound";
    case Bug::duplicate_when_exhausted: return "duplicate_when_exhausted";
  }
  return "?";
}

reference::RouteResult route(const RouterCase& routing_case, const RouterInputs& inputs, Bug bug) {
  const RouterConfig& config = routing_case.config;
  const auto experts = static_cast<std::size_t>(config.experts);
  const auto tokens = inputs.spec.tokens;
  reference::RouteResult result;
  result.ids.resize(static_cast<std::size_t>(tokens * config.topk));
  result.weights.resize(result.ids.size());
  Row row{std::vector<float>(experts), std::vector<float>(experts)};
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (int e = 0; e < config.experts; ++e) {
      row.score[e] = reference::sigmoid_f32(inputs.logit(t, e));
      row.biased[e] = replace_nan(row.score[e] + inputs.bias_value(e), config.profile);
    }
    const std::vector<bool> allowed = kept_experts(config, row, bug);
    std::int32_t* ids = result.ids.data() + t * config.topk;
    float* weights = result.weights.data() + t * config.topk;
    if (bug == Bug::flt_max_sentinel) select_with_sentinel(config, row, allowed, -FLT_MAX, ids, weights);
    else if (bug == Bug::duplicate_when_exhausted) select_with_sentinel(config, row, allowed, -inf, ids, weights);
    else select(config, row, allowed, bug, ids, weights);
    finish(config, bug, weights);
  }
  return result;
}

}  // namespace moegate::planted
