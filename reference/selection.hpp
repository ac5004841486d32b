// Selection helpers shared by the f32 reference and the f64 oracle.
//
// Both modes rank with keys that are unique and totally ordered (larger key =
// ranked first), so "top-k" and "top groups" are the same operation: the
// `count` largest keys, in descending order. Internal to reference/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "moegate/config.hpp"

namespace moegate::reference::detail {

template <class Key, class = void>
struct has_score_key : std::false_type {};
template <class Key>
struct has_score_key<Key, std::void_t<decltype(std::declval<Key>().score_key())>> : std::true_type {};

inline constexpr int chunk_size = 16;

// Insertion into a sorted window: cheap when count is small, since most keys
// fail the first comparison.
template <class Key>
int insert_top_keys(const Key* keys, int n, int count, Key* best) {
  count = std::min(count, n);
  int filled = 0;
  for (int i = 0; i < n; ++i) {
    const Key key = keys[i];
    int slot;
    if (filled < count) {
      slot = filled++;
    } else if (key > best[count - 1]) {
      slot = count - 1;
    } else {
      continue;
    }
    while (slot > 0 && key > best[slot - 1]) {
      best[slot] = best[slot - 1];
      --slot;
    }
    best[slot] = key;
  }
  return count;
}

// Writes the min(count, n) largest of keys[0, n) into best, largest first.
template <class Key>
int top_keys(const Key* keys, int n, int count, Key* best, std::vector<Key>& scratch) {
  count = std::min(count, n);
  if (count <= 32 && count * 4 <= n) return insert_top_keys(keys, n, count, best);
  scratch.assign(keys, keys + n);
  std::partial_sort(scratch.begin(), scratch.begin() + count, scratch.end(), std::greater<Key>());
  std::copy(scratch.begin(), scratch.begin() + count, best);
  return count;
}

// The same, for keys with a score_key(), using chunk_maxima[c] = the largest
// score key among keys [16 c, 16 c + 16). The count-th largest chunk maximum
// L is a lower bound: `count` chunks each hold a key scoring >= L, so no key
// scoring below L can be chosen. Only keys scoring >= L are ranked.
template <class Key>
int top_keys_bounded(const Key* keys, int n, int count, Key* best, std::vector<Key>& scratch,
                     const std::uint32_t* chunk_maxima, std::vector<std::uint32_t>& maxima_scratch) {
  const int chunks = (n + chunk_size - 1) / chunk_size;
  if (count > chunks || count > 32) return top_keys(keys, n, count, best, scratch);
  maxima_scratch.assign(chunk_maxima, chunk_maxima + chunks);
  std::nth_element(maxima_scratch.begin(), maxima_scratch.begin() + (count - 1), maxima_scratch.end(),
                   std::greater<std::uint32_t>());
  const std::uint32_t bound = maxima_scratch[static_cast<std::size_t>(count - 1)];
  scratch.clear();
  for (int c = 0; c < chunks; ++c) {
    if (chunk_maxima[c] < bound) continue;
    const int end = std::min((c + 1) * chunk_size, n);
    for (int i = c * chunk_size; i < end; ++i)
      if (keys[i].score_key() >= bound) scratch.push_back(keys[i]);
  }
  return insert_top_keys(scratch.data(), static_cast<int>(scratch.size()), count, best);
}

// The contract's output weights from the chosen experts' unbiased scores, in
// selection order: renormalise, then scale, each per the profile.
template <class Real>
void finish_weights(const RouterConfig& config, Real* weights, int topk) {
  if (config.renormalize) {
    Real sum = 0;
    for (int j = 0; j < topk; ++j) sum += weights[j];
    const Profile& profile = config.profile;
    const bool divide = profile.zero_sum != ZeroSum::raw || sum > Real(0);
    const Real divisor =
        profile.zero_sum == ZeroSum::epsilon ? sum + static_cast<Real>(1e-20f) : sum;
    if (divide)
      for (int j = 0; j < topk; ++j) weights[j] /= divisor;
  }
  if (config.scales_output()) {
    const Real factor = config.routed_scaling_factor;
    for (int j = 0; j < topk; ++j) weights[j] *= factor;
  }
}

// Group cut and expert selection over one token's biased scores.
//   expert_keys[e] = make_key(biased[e], e); make_key(score, index) -> Key is
//   unique and ordered as the contract says (it also ranks the groups).
// Fills `chosen` (topk expert ids, selection order). On request it also
// reports the k-th key with the best one left out, and the same at the group cut.
template <class Real, class Key>
struct Selector {
  std::vector<Key> candidate_keys, group_keys, best, scratch, bounded_scratch;
  std::vector<std::uint32_t> maxima_scratch;
  std::vector<int> kept;

  template <class MakeKey>
  void run(const RouterConfig& config, const Real* biased, const Key* expert_keys,
           MakeKey make_key, std::int32_t* chosen, Key* kth_and_next = nullptr,
           Key* group_cut = nullptr, const std::uint32_t* chunk_maxima = nullptr) {
    const Key* candidates = expert_keys;
    int candidate_count = config.experts;
    if (config.grouped()) {
      choose_groups(config, biased, expert_keys, make_key, group_cut);
      candidate_keys.clear();
      const int size = config.experts_per_group();
      for (int g : kept)
        candidate_keys.insert(candidate_keys.end(), expert_keys + g * size,
                              expert_keys + (g + 1) * size);
      candidates = candidate_keys.data();
      candidate_count = static_cast<int>(candidate_keys.size());
    }
    const int wanted = config.topk + (kth_and_next ? 1 : 0);
    best.resize(static_cast<std::size_t>(wanted));
    int found;
    if constexpr (has_score_key<Key>::value) {
      found = chunk_maxima && !config.grouped()
                  ? top_keys_bounded(candidates, candidate_count, wanted, best.data(), bounded_scratch,
                                     chunk_maxima, maxima_scratch)
                  : top_keys(candidates, candidate_count, wanted, best.data(), scratch);
    } else {
      found = top_keys(candidates, candidate_count, wanted, best.data(), scratch);
    }
    for (int j = 0; j < config.topk; ++j) chosen[j] = best[j].index();
    if (kth_and_next) {
      kth_and_next[0] = best[config.topk - 1];
      kth_and_next[1] = found > config.topk ? best[config.topk] : Key::none();
    }
  }

 private:
  template <class MakeKey>
  void choose_groups(const RouterConfig& config, const Real* biased, const Key* expert_keys,
                     MakeKey make_key, Key* group_cut) {
    const int size = config.experts_per_group();
    group_keys.resize(static_cast<std::size_t>(config.groups));
    Key top_two[2];
    for (int g = 0; g < config.groups; ++g) {
      const int found = top_keys(expert_keys + g * size, size, 2, top_two, scratch);
      Real score = biased[top_two[0].index()];
      if (found == 2) score += biased[top_two[1].index()];
      group_keys[g] = make_key(score, g);
    }
    const int wanted = config.kept_groups + (group_cut ? 1 : 0);
    best.resize(static_cast<std::size_t>(wanted));
    const int found = top_keys(group_keys.data(), config.groups, wanted, best.data(), scratch);
    kept.clear();
    for (int j = 0; j < config.kept_groups; ++j) kept.push_back(best[j].index());
    std::sort(kept.begin(), kept.end());
    if (group_cut) {
      group_cut[0] = best[config.kept_groups - 1];
      group_cut[1] = found > config.kept_groups ? best[config.kept_groups] : Key::none();
    }
  }
};

}  // namespace moegate::reference::detail
