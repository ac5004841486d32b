// The comparator (see include/moegate/comparator.hpp for the rules).
//
// Per token it recomputes every expert's score twice: exactly (double) to
// rank, and in the contract's f32 arithmetic to know which ties are exact
// (a tie that survives any allowed rounding of s) and which sum decides the
// zero-sum branch. With a declared bf16/f16 precision it also bounds every
// value that arithmetic may give (an interval per expert and per group); the
// f32 path is the band model, unchanged. Tokens are judged in parallel; the
// report is ordered.
#include "moegate/comparator.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>

#include "moegate/order.hpp"

namespace moegate {
namespace {

constexpr std::size_t kept_each_end = 200;
constexpr double infinity = std::numeric_limits<double>::infinity();

double ulp_f32(double value) {
  const double magnitude = std::fabs(value);
  if (!(magnitude <= FLT_MAX)) return 0.0;  // inf, NaN
  if (magnitude < FLT_MIN) return 0x1p-149;
  int exponent = 0;
  std::frexp(static_cast<float>(magnitude), &exponent);
  return std::ldexp(1.0, exponent - 24);
}

float step_toward(float value, int ulps, bool up) {
  for (int i = 0; i < ulps; ++i) value = std::nextafter(value, up ? 2.0f : -1.0f);
  return std::clamp(value, 0.0f, 1.0f);
}

bool same_float(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// A binary floating-point format: significand digits (with the hidden one),
// the exponent of its smallest normal value, its largest finite value.
struct Format {
  int digits;
  int min_exponent;
  double max;
};

Format format_of(DType precision) {
  switch (precision) {
    case DType::bf16: return {8, -126, 0x1.FEp127};
    case DType::f16: return {11, -14, 65504.0};
    case DType::f32: break;
  }
  return {24, -126, static_cast<double>(FLT_MAX)};
}

// The spacing of the format's values around `value` (its ulp there): that of
// the largest binade beyond the largest finite value, that of the subnormals
// below the smallest normal one.
double quantum(double value, const Format& format) {
  const double magnitude = std::min(std::fabs(value), format.max);
  int binade = format.min_exponent;
  if (magnitude >= std::ldexp(1.0, format.min_exponent)) {
    int exponent = 0;
    std::frexp(magnitude, &exponent);
    binade = exponent - 1;
  }
  return std::ldexp(1.0, binade - (format.digits - 1));
}

enum class Direction { down, nearest, up };

// `value` rounded to the format (toward -inf, to nearest even, toward +inf),
// overflowing as the format does: round to nearest gives +-inf beyond
// max + ulp/2 (so f16 turns -FLT_MAX into -inf).
double round_to(double value, const Format& format, Direction direction) {
  if (!std::isfinite(value)) return value;
  const double step = quantum(value, format);
  const double steps = value / step;
  const double rounded =
      (direction == Direction::down ? std::floor(steps)
                                    : direction == Direction::up ? std::ceil(steps) : std::nearbyint(steps)) *
      step;
  if (rounded > format.max) return direction == Direction::down ? format.max : infinity;
  if (rounded < -format.max) return direction == Direction::up ? -format.max : -infinity;
  return rounded;
}

// NaN prints as "nan" whatever its sign bit (which arithmetic on NaN leaves to the compiler's operand order).
std::string number(double value) {
  if (std::isnan(value)) return "nan";
  char text[40];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::string short_number(double value) {
  if (std::isnan(value)) return "nan";
  char text[40];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

struct Expert {
  float logit, bias;   // widened inputs
  float s32, c32;      // the contract's f32 values
  double s, c;         // exact (double)
  double band;         // rounding band e(x) (f32)
  int rank_class;      // 0: NaN ranked lowest, 1: number, 2: NaN ranked highest
  bool robust;         // c32 is the same for every s within the score bound (bf16/f16: every variant below)
  // Declared bf16/f16 precision: every c an implementation in it may compute,
  // and c in each way of computing it (bias as given or rounded; c rounded to
  // f32, to p, or to f32 then p), the same for every s in the allowed range
  // when `robust`.
  double low = 0.0, high = 0.0;
  std::array<float, 6> variants{};
};

class TokenJudge {
 public:
  TokenJudge(const RouterConfig& config, const Tolerance& tolerance)
      : config_(config), tolerance_(tolerance), experts_(static_cast<std::size_t>(config.experts)),
        logits32_(experts_.size()), scores32_(experts_.size()) {}

  // Neither ranks clearly above the other and they are no exact tie: an
  // implementation within the allowed rounding may order them either way.
  bool may_trade(int a, int b) const {
    const Expert& x = experts_[static_cast<std::size_t>(a)];
    const Expert& y = experts_[static_cast<std::size_t>(b)];
    return x.rank_class == y.rank_class && !exact_tie(a, b) && !clearly_better(a, b) && !clearly_better(b, a);
  }

  // Every expert's exact c and rounding band for one token (near_tie_experts).
  const std::vector<Expert>& scored(const LogitsView& logits, const BiasView& bias, std::int64_t token) {
    token_ = token;
    score_experts(logits, bias);
    return experts_;
  }

  void judge(const LogitsView& logits, const BiasView& bias, std::int64_t token, const std::int32_t* ids,
             const float* weights, const std::int32_t* oracle_ids, std::vector<Violation>& out) {
    token_ = token;
    out_ = &out;
    oracle_ids_ = oracle_ids;
    if (!structure_ok(ids, weights)) return;
    score_experts(logits, bias);
    std::vector<bool> chosen(experts_.size(), false);
    for (int j = 0; j < config_.topk; ++j) chosen[static_cast<std::size_t>(ids[j])] = true;
    const std::vector<bool> eligible = eligible_experts(ids);
    check_set(ids, chosen, eligible);
    if (tolerance_.order == SlotOrder::selection) check_order(ids);
    check_weights(ids, weights);
  }

 private:
  void add(Clause clause, int slot, std::string expected, std::string got, double margin) {
    out_->push_back({clause, token_, slot, std::move(expected), std::move(got), margin});
  }

  // " [oracle: 3 17 5]": the f64 oracle's choice for this token, as context.
  std::string oracle_choice() const {
    std::string text = " [oracle:";
    for (int j = 0; j < config_.topk; ++j) text += " " + std::to_string(oracle_ids_[j]);
    return text + "]";
  }

  std::string describe_expert(int e) const {
    const Expert& x = experts_[static_cast<std::size_t>(e)];
    return "expert " + std::to_string(e) + " (c=" + number(x.c) + ")";
  }

  bool structure_ok(const std::int32_t* ids, const float* weights) {
    const std::size_t before = out_->size();
    std::set<std::int32_t> seen;
    for (int j = 0; j < config_.topk; ++j) {
      const bool poisoned_weight = bits_from_float(weights[j]) == poison_weight_bits;
      if (ids[j] == poison_id || poisoned_weight) {
        add(Clause::unwritten, j, "a written slot",
            ids[j] == poison_id ? "poison id" : "poison weight", std::nan(""));
        continue;
      }
      if (ids[j] < 0 || ids[j] >= config_.experts) {
        add(Clause::id_range, j, "id in [0, " + std::to_string(config_.experts) + ")",
            std::to_string(ids[j]), std::nan(""));
        continue;
      }
      if (!seen.insert(ids[j]).second)
        add(Clause::duplicate_id, j, "distinct ids", "expert " + std::to_string(ids[j]) + " again", std::nan(""));
    }
    return out_->size() == before;
  }

  void score_experts(const LogitsView& logits, const BiasView& bias) {
    const int n = config_.experts;
    for (int e = 0; e < n; ++e)
      logits32_[static_cast<std::size_t>(e)] =
          load_widened(logits.data, logits.dtype, token_ * logits.row_stride + e);
    reference::sigmoid_f32(logits32_.data(), scores32_.data(), n);
    const Profile& profile = config_.profile;
    const int score_ulps = tolerance_.score_ulps_used();
    for (int e = 0; e < n; ++e) {
      Expert& x = experts_[static_cast<std::size_t>(e)];
      x.logit = logits32_[static_cast<std::size_t>(e)];
      x.bias = load_widened(bias.data, bias.dtype, e);
      x.s32 = scores32_[static_cast<std::size_t>(e)];
      x.c32 = replace_nan(x.s32 + x.bias, profile);
      x.s = 1.0 / (1.0 + std::exp(-static_cast<double>(x.logit)));
      x.c = x.s + static_cast<double>(x.bias);
      if (std::isnan(x.c) && profile.nan_rank == NanRank::replace) x.c = profile.nan_replacement;
      x.rank_class = std::isnan(x.c) ? (profile.nan_rank == NanRank::highest ? 2 : 0) : 1;
      // An implementation may be as far from exact as the contract's own f32
      // answer (large where exp overflows f32: s = 0 against an exact 1e-39),
      // plus its own rounding allowance.
      const double contract_error = x.c32 == x.c ? 0.0 : std::fabs(static_cast<double>(x.c32) - x.c);
      x.band = score_ulps * ulp_f32(x.s) + ulp_f32(x.c) + (std::isnan(contract_error) ? 0.0 : contract_error);
      const float low = replace_nan(step_toward(x.s32, score_ulps, false) + x.bias, profile);
      const float high = replace_nan(step_toward(x.s32, score_ulps, true) + x.bias, profile);
      x.robust = std::isnan(x.s32) || (same_float(low, x.c32) && same_float(high, x.c32));
      if (declared()) bound_in_precision(x);
    }
  }

  bool declared() const { return tolerance_.precision != DType::f32; }

  // The interval of c and the variants for the declared precision p
  // (docs/semantics.md, "Declared arithmetic precision"). Rounding is
  // monotone, so the ends of s's range give the ends of c's; rounding is
  // taken as faithful (floor or ceiling in p), which covers round to nearest
  // and an f32 result rounded again to p.
  void bound_in_precision(Expert& x) const {
    const Format p = format_of(tolerance_.precision);
    const Format f32 = format_of(DType::f32);
    if (std::isnan(x.s) || std::isnan(static_cast<double>(x.bias))) {
      // NaN, or the profile's replacement: the same value for every such expert.
      x.low = std::isnan(x.c) ? x.c : round_to(x.c, p, Direction::down);
      x.high = std::isnan(x.c) ? x.c : round_to(x.c, p, Direction::up);
      x.variants.fill(static_cast<float>(x.c));
      x.robust = true;
      return;
    }
    const int ulps = tolerance_.score_ulps_used();
    const double s_min = std::min(x.s, static_cast<double>(x.s32));
    const double s_max = std::max(x.s, static_cast<double>(x.s32));
    const double s_low = std::max(0.0, round_to(s_min - ulps * quantum(s_min, p), p, Direction::down));
    const double s_high = std::min(1.0, round_to(s_max + ulps * quantum(s_max, p), p, Direction::up));
    const double biases[2] = {static_cast<double>(x.bias), round_to(x.bias, p, Direction::nearest)};
    x.low = round_to(s_low + std::min(biases[0], biases[1]), p, Direction::down);
    x.high = round_to(s_high + std::max(biases[0], biases[1]), p, Direction::up);
    x.robust = true;
    std::size_t variant = 0;
    for (const double bias : biases) {
      for (int rounding = 0; rounding < 3; ++rounding) {
        const auto biased = [&](double score) {
          const double sum = score + bias;
          if (rounding == 0) return static_cast<float>(round_to(sum, f32, Direction::nearest));
          if (rounding == 1) return static_cast<float>(round_to(sum, p, Direction::nearest));
          return static_cast<float>(round_to(round_to(sum, f32, Direction::nearest), p, Direction::nearest));
        };
        const float at_low = biased(s_low);
        x.robust = x.robust && same_float(at_low, biased(s_high));
        x.variants[variant++] = at_low;
      }
    }
  }

  // Ties that every allowed rounding keeps: the lower index must win them.
  bool exact_tie(int a, int b) const {
    const Expert& x = experts_[static_cast<std::size_t>(a)];
    const Expert& y = experts_[static_cast<std::size_t>(b)];
    if (x.rank_class != y.rank_class) return false;
    if (x.rank_class != 1) return true;
    if (bits_from_float(x.logit) == bits_from_float(y.logit) && bits_from_float(x.bias) == bits_from_float(y.bias))
      return true;
    if (declared())
      return x.robust && y.robust &&
             std::equal(x.variants.begin(), x.variants.end(), y.variants.begin(), same_float);
    return x.robust && y.robust && x.c32 == y.c32;
  }

  // b ranks above a by more than any allowed rounding.
  bool clearly_better(int b, int a) const {
    const Expert& x = experts_[static_cast<std::size_t>(a)];
    const Expert& y = experts_[static_cast<std::size_t>(b)];
    if (x.rank_class != y.rank_class) return y.rank_class > x.rank_class;
    if (x.rank_class != 1 || exact_tie(a, b) || x.c == y.c) return false;
    if (declared()) return y.low > x.high;
    if (std::isinf(x.c) || std::isinf(y.c)) return y.c > x.c;
    return y.c - x.c > x.band + y.band;
  }

  // How far b clearly beats a beyond the band (both numbers).
  double clear_margin(int b, int a) const {
    const Expert& x = experts_[static_cast<std::size_t>(a)];
    const Expert& y = experts_[static_cast<std::size_t>(b)];
    if (declared()) return y.low - x.high;
    return (y.c - x.c) - (x.band + y.band);
  }

  // The exact order: class, value, then the lower index.
  bool ranks_before(int b, int a) const {
    const Expert& x = experts_[static_cast<std::size_t>(a)];
    const Expert& y = experts_[static_cast<std::size_t>(b)];
    if (x.rank_class != y.rank_class) return y.rank_class > x.rank_class;
    if (x.rank_class == 1 && x.c != y.c) return y.c > x.c;
    return b < a;
  }

  struct Group {
    int top[2];
    int size;
    double score, band;
    int rank_class;
    std::uint64_t contract_key;  // the contract's f32 ranking of the group (ranked_key)
    // Declared bf16/f16 precision: every score it may give; `uncertain` when
    // that includes NaN (+inf + -inf in p only).
    double low = 0.0, high = 0.0;
    bool uncertain = false;
  };

  Group score_group(int g) const {
    const int size = config_.experts_per_group();
    Group group{{g * size, -1}, std::min(size, 2), 0.0, 0.0, 1, 0};
    for (int e = g * size + 1; e < (g + 1) * size; ++e) {
      if (ranks_before(e, group.top[0])) {
        group.top[1] = group.top[0];
        group.top[0] = e;
      } else if (group.top[1] < 0 || ranks_before(e, group.top[1])) {
        group.top[1] = e;
      }
    }
    const Expert& first = experts_[static_cast<std::size_t>(group.top[0])];
    group.score = first.c;
    group.band = first.band;
    if (group.size == 2) {
      const Expert& second = experts_[static_cast<std::size_t>(group.top[1])];
      group.score += second.c;
      group.band += second.band + ulp_f32(group.score);
    }
    group.rank_class = std::isnan(group.score) ? (config_.profile.nan_rank == NanRank::highest ? 2 : 0) : 1;
    // The contract's own cut: top two by the f32 order, summed in f32.
    const NanRank nan_rank = config_.profile.nan_rank;
    std::uint64_t best[2] = {0, 0};
    for (int e = g * size; e < (g + 1) * size; ++e) {
      const std::uint64_t key = ranked_key(order_key(experts_[static_cast<std::size_t>(e)].c32, nan_rank), e);
      if (key > best[0]) {
        best[1] = best[0];
        best[0] = key;
      } else if (key > best[1]) {
        best[1] = key;
      }
    }
    float score32 = experts_[static_cast<std::size_t>(index_of(best[0]))].c32;
    if (size > 1) score32 += experts_[static_cast<std::size_t>(index_of(best[1]))].c32;
    group.contract_key = ranked_key(order_key(score32, nan_rank), g);
    if (declared() && group.rank_class == 1) {
      // The top-two sum is monotone in every c: the two largest lows bound it
      // from below, the two largest highs from above, whichever experts they are.
      double lows[2] = {-infinity, -infinity}, highs[2] = {-infinity, -infinity};
      const auto keep_two = [](double (&top)[2], double value) {
        if (value > top[0]) {
          top[1] = top[0];
          top[0] = value;
        } else if (value > top[1]) {
          top[1] = value;
        }
      };
      for (int e = g * size; e < (g + 1) * size; ++e) {
        const Expert& x = experts_[static_cast<std::size_t>(e)];
        if (x.rank_class != 1) continue;
        keep_two(lows, x.low);
        keep_two(highs, x.high);
      }
      const Format p = format_of(tolerance_.precision);
      group.low = round_to(group.size == 2 ? lows[0] + lows[1] : lows[0], p, Direction::down);
      group.high = round_to(group.size == 2 ? highs[0] + highs[1] : highs[0], p, Direction::up);
      group.uncertain = std::isnan(group.low) || std::isnan(group.high);
    }
    return group;
  }

  bool group_exact_tie(const Group& a, const Group& b) const {
    if (a.rank_class != b.rank_class) return false;
    if (a.rank_class != 1) return true;
    for (int i = 0; i < a.size; ++i)
      if (!exact_tie(a.top[i], b.top[i])) return false;
    return true;
  }

  bool group_clearly_better(const Group& b, const Group& a) const {
    if (declared() && (a.uncertain || b.uncertain)) return false;
    if (a.rank_class != b.rank_class) return b.rank_class > a.rank_class;
    if (a.rank_class != 1 || group_exact_tie(a, b) || a.score == b.score) return false;
    if (declared()) return b.low > a.high;
    if (std::isinf(a.score) || std::isinf(b.score)) return b.score > a.score;
    return b.score - a.score > a.band + b.band;
  }

  // The two groups' rounding band, as the reports state it: in f32 the sum of
  // the bands; in p how far each score may move toward the other.
  double group_band(const Group& kept, const Group& dropped) const {
    if (declared()) return (kept.score - kept.low) + (dropped.high - dropped.score);
    return kept.band + dropped.band;
  }

  // What decided the cut between a kept group and a dropped one
  // (docs/semantics.md, "What decided the group cut").
  std::string cut_reason(int kept_group, int dropped_group) const {
    const Group& kept = groups_[static_cast<std::size_t>(kept_group)];
    const Group& dropped = groups_[static_cast<std::size_t>(dropped_group)];
    const std::string dropped_text =
        "group " + std::to_string(dropped_group) + " (score " + number(dropped.score) + ")";
    const std::string kept_name = "group " + std::to_string(kept_group);
    if (kept.rank_class != dropped.rank_class)
      return dropped_text + " was dropped by the group score: the last kept " + kept_name + " scores " +
             number(kept.score) + ", and a NaN group score ranks " +
             (config_.profile.nan_rank == NanRank::highest ? "above" : "below") + " every number";
    if (group_exact_tie(kept, dropped))
      return dropped_text + " was dropped by an exact tie with " + kept_name + " (score " + number(kept.score) +
             "): the lower group index is kept";
    const std::string gap = short_number(kept.score - dropped.score);
    const std::string band = short_number(group_band(kept, dropped));
    if (group_clearly_better(kept, dropped))
      return dropped_text + " was dropped by the group score: the last kept " + kept_name + " scores " +
             number(kept.score) + ", gap " + gap + " > band " + band;
    return dropped_text + " and the last kept " + kept_name + " (score " + number(kept.score) +
           ") are a near-tie within the rounding band (gap " + gap + " <= band " + band +
           "): either group may be kept";
  }

  // The contract's cut, between its last kept group and its first dropped one.
  std::string contract_cut() const {
    if (config_.kept_groups >= config_.groups) return "every group is kept";
    return cut_reason(group_order_[static_cast<std::size_t>(config_.kept_groups - 1)],
                      group_order_[static_cast<std::size_t>(config_.kept_groups)]);
  }

  // Experts the set rule compares against: all of them, or those of the
  // groups that are surely kept plus the groups the candidate used.
  std::vector<bool> eligible_experts(const std::int32_t* ids) {
    std::vector<bool> eligible(experts_.size(), true);
    if (!config_.grouped()) return eligible;
    const int groups = config_.groups;
    const int size = config_.experts_per_group();
    std::vector<Group>& scored = groups_;
    std::vector<int>& order = group_order_;
    scored.clear();
    order.assign(static_cast<std::size_t>(groups), 0);
    for (int g = 0; g < groups; ++g) {
      scored.push_back(score_group(g));
      order[static_cast<std::size_t>(g)] = g;
    }
    // The contract's kept groups; near-ties around the cut may swap (below).
    std::sort(order.begin(), order.end(), [&](int b, int a) {
      return scored[static_cast<std::size_t>(b)].contract_key > scored[static_cast<std::size_t>(a)].contract_key;
    });
    std::vector<bool> kept(static_cast<std::size_t>(groups), false);
    for (int j = 0; j < config_.kept_groups; ++j) kept[static_cast<std::size_t>(order[static_cast<std::size_t>(j)])] = true;
    const auto swappable = [&](int out_group, int in_group) {
      const Group& out = scored[static_cast<std::size_t>(out_group)];
      const Group& in = scored[static_cast<std::size_t>(in_group)];
      return !group_clearly_better(in, out) && !group_exact_tie(in, out);
    };
    std::vector<bool> used(static_cast<std::size_t>(groups), false);
    int used_count = 0;
    for (int j = 0; j < config_.topk; ++j) {
      const int g = ids[j] / size;
      if (used[static_cast<std::size_t>(g)]) continue;
      used[static_cast<std::size_t>(g)] = true;
      ++used_count;
      if (kept[static_cast<std::size_t>(g)]) continue;
      bool could_be_kept = false;
      for (int h = 0; h < groups; ++h)
        could_be_kept = could_be_kept || (kept[static_cast<std::size_t>(h)] && swappable(g, h));
      if (!could_be_kept)
        add(Clause::dropped_group, j,
            "experts of kept groups only" + oracle_choice() + "; " +
                cut_reason(order[static_cast<std::size_t>(config_.kept_groups - 1)], g),
            describe_expert(ids[j]) + " of group " + std::to_string(g) + " (score " +
                number(scored[static_cast<std::size_t>(g)].score) + ", the cut is at " +
                number(scored[static_cast<std::size_t>(order[static_cast<std::size_t>(config_.kept_groups - 1)])].score) + ")",
            std::nan(""));
    }
    if (used_count > config_.kept_groups)
      add(Clause::dropped_group, 0,
          "experts from at most " + std::to_string(config_.kept_groups) + " groups; group cut: " + contract_cut(),
          std::to_string(used_count) + " groups", std::nan(""));
    for (int h = 0; h < groups; ++h) {
      bool surely_kept = kept[static_cast<std::size_t>(h)];
      for (int g = 0; g < groups && surely_kept; ++g)
        if (!kept[static_cast<std::size_t>(g)] && swappable(g, h)) surely_kept = false;
      const bool usable = surely_kept || used[static_cast<std::size_t>(h)];
      for (int e = h * size; e < (h + 1) * size; ++e) eligible[static_cast<std::size_t>(e)] = usable;
    }
    return eligible;
  }

  // Equal f32 values share a class (+0 with -0, every NaN with every NaN).
  static std::uint32_t c32_class(float value) {
    if (std::isnan(value)) return 0x7FC00000u;
    return value == 0.0f ? 0u : bits_from_float(value);
  }

  void check_set(const std::int32_t* ids, const std::vector<bool>& chosen, const std::vector<bool>& eligible) {
    int best_left_out = -1;
    for (int e = 0; e < config_.experts; ++e)
      if (eligible[static_cast<std::size_t>(e)] && !chosen[static_cast<std::size_t>(e)] &&
          (best_left_out < 0 || ranks_before(e, best_left_out)))
        best_left_out = e;
    if (best_left_out < 0) return;
    for (int j = 0; j < config_.topk; ++j) {
      if (clearly_better(best_left_out, ids[j])) {
        const Expert& b = experts_[static_cast<std::size_t>(best_left_out)];
        const Expert& a = experts_[static_cast<std::size_t>(ids[j])];
        const double margin =
            a.rank_class == b.rank_class && a.rank_class == 1 ? clear_margin(best_left_out, ids[j]) : std::nan("");
        std::string expected = describe_expert(best_left_out) + oracle_choice();
        if (config_.grouped()) expected += "; group cut: " + contract_cut();
        add(Clause::wrong_set, j, expected, describe_expert(ids[j]), margin);
        break;
      }
    }
    // Exact ties across the cut: the lower index must be the one chosen. An
    // exact tie needs equal f32 biased scores (NaN with NaN), so only the
    // left-out experts of the same c32 are candidates: grouped once per token,
    // in index order (linear, where scanning every lower index was O(k * E):
    // 20 s for two tokens of E = 65536, k = 32768).
    std::unordered_map<std::uint32_t, std::vector<int>> left_out_by_c32;
    for (int b = 0; b < config_.experts; ++b)
      if (!chosen[static_cast<std::size_t>(b)] && eligible[static_cast<std::size_t>(b)])
        left_out_by_c32[c32_class(experts_[static_cast<std::size_t>(b)].c32)].push_back(b);
    for (int j = 0; j < config_.topk; ++j) {
      const int a = ids[j];
      const auto group = left_out_by_c32.find(c32_class(experts_[static_cast<std::size_t>(a)].c32));
      if (group == left_out_by_c32.end()) continue;
      for (int b : group->second) {
        if (b >= a) break;
        if (exact_tie(a, b)) {
          add(Clause::tie_order, j, describe_expert(b) + " (exact tie, lower index)", describe_expert(a), 0.0);
          break;
        }
      }
    }
  }

  void check_order(const std::int32_t* ids) {
    for (int j = 0; j + 1 < config_.topk; ++j) {
      const int a = ids[j];
      const int next = ids[j + 1];
      if (clearly_better(next, a)) {
        add(Clause::selection_order, j + 1, describe_expert(next) + " before " + describe_expert(a),
            describe_expert(next) + " after it", std::nan(""));
      } else if (next < a && exact_tie(a, next)) {
        add(Clause::tie_order, j + 1, describe_expert(next) + " first (exact tie, lower index)",
            describe_expert(a) + " first", 0.0);
      }
    }
  }

  enum class Scores { exact, contract, rounded };

  // s of one expert: exact, the contract's f32, or the contract's rounded to
  // the declared precision.
  double score_of(const Expert& x, Scores scores) const {
    if (scores == Scores::exact) return x.s;
    if (scores == Scores::contract) return static_cast<double>(x.s32);
    return round_to(x.s32, format_of(tolerance_.precision), Direction::nearest);
  }

  // The weights the contract's rules give for these ids, from the given
  // scores, in double arithmetic; `branch_sum` (> 0 or not) picks the
  // zero-sum branch.
  std::vector<double> weights_from(const std::int32_t* ids, Scores scores, float branch_sum) const {
    const int k = config_.topk;
    std::vector<double> w(static_cast<std::size_t>(k));
    double sum = 0.0;
    for (int j = 0; j < k; ++j) {
      w[static_cast<std::size_t>(j)] = score_of(experts_[static_cast<std::size_t>(ids[j])], scores);
      sum += w[static_cast<std::size_t>(j)];
    }
    if (config_.renormalize) {
      const ZeroSum policy = config_.profile.zero_sum;
      for (double& value : w) {
        if (policy == ZeroSum::epsilon) value = value / (sum + static_cast<double>(1e-20f));
        else if (branch_sum > 0.0f) value = value / sum;
        else if (policy == ZeroSum::nan) value = std::nan("");
      }
    }
    if (config_.scales_output())
      for (double& value : w) value *= static_cast<double>(config_.routed_scaling_factor);
    return w;
  }

  // A weight passes when it lies within the bound of the interval between the
  // exact weight and the contract's own f32-score weight (they differ where
  // f32 scores underflow: s = 0 against an exact 1e-39) and, for a declared
  // bf16/f16 precision, the weight from scores rounded to it (whose sum picks
  // its own zero-sum branch: f16 rounds s < 2^-25 to 0). The bound is in ulps
  // of the precision.
  void check_weights(const std::int32_t* ids, const float* weights) {
    const int k = config_.topk;
    float contract_sum = 0.0f, rounded_sum = 0.0f;
    for (int j = 0; j < k; ++j) contract_sum += experts_[static_cast<std::size_t>(ids[j])].s32;
    const std::vector<double> exact = weights_from(ids, Scores::exact, contract_sum);
    const std::vector<double> contract = weights_from(ids, Scores::contract, contract_sum);
    std::vector<double> rounded;
    if (declared()) {
      for (int j = 0; j < k; ++j)
        rounded_sum += static_cast<float>(score_of(experts_[static_cast<std::size_t>(ids[j])], Scores::rounded));
      rounded = weights_from(ids, Scores::rounded, rounded_sum);
    }
    const Format precision = format_of(tolerance_.precision);
    const int bound = tolerance_.weight_ulps_for(k);
    const double floor = FLT_MIN * std::max(1.0, static_cast<double>(config_.routed_scaling_factor));
    for (int j = 0; j < k; ++j) {
      const double want = exact[static_cast<std::size_t>(j)];
      const double also = contract[static_cast<std::size_t>(j)];
      const double third = declared() ? rounded[static_cast<std::size_t>(j)] : also;
      const double got = weights[j];
      // f32: the exact and the contract's weight are NaN together, so these
      // reduce to "NaN where the contract's weight is NaN".
      const bool nan_expected = std::isnan(also) || std::isnan(third);
      const bool number_expected = !std::isnan(also) || !std::isnan(third);
      bool ok;
      double excess = std::nan("");
      if (std::isnan(got) || !number_expected) {
        ok = std::isnan(got) && nan_expected;
      } else {
        double low = infinity, high = -infinity;
        for (const double expected : {want, also, third}) {
          if (std::isnan(expected)) continue;
          low = std::min(low, expected);
          high = std::max(high, expected);
        }
        const double distance = got < low ? low - got : (got > high ? got - high : 0.0);
        const double magnitude = std::max(std::fabs(low), std::fabs(high));
        const double unit = declared() ? quantum(magnitude, precision) : std::max(ulp_f32(magnitude), 0x1p-149);
        ok = distance <= bound * unit + floor;
        excess = distance / unit - bound;
      }
      if (!ok) {
        std::string expected = number(want);
        if (also != want) expected += " (contract's f32 scores: " + number(also) + ")";
        if (declared() && third != also && !(std::isnan(third) && std::isnan(also)))
          expected += " (" + std::string(dtype_name(tolerance_.precision)) + " scores: " + number(third) + ")";
        expected += " +-" + std::to_string(bound) + " ulp";
        if (declared()) expected += " (" + std::string(dtype_name(tolerance_.precision)) + " ulps)";
        add(Clause::weight, j, expected, number(got), excess);
      }
    }
  }

  const RouterConfig& config_;
  const Tolerance& tolerance_;
  std::vector<Expert> experts_;
  std::vector<float> logits32_, scores32_;
  std::vector<Group> groups_;     // this token's groups (grouped configs)
  std::vector<int> group_order_;  // group indices in the contract's order
  std::int64_t token_ = 0;
  const std::int32_t* oracle_ids_ = nullptr;
  std::vector<Violation>* out_ = nullptr;
};

}  // namespace

std::string_view name_of(Clause clause) {
  switch (clause) {
    case Clause::unwritten: return "unwritten";
    case Clause::id_range: return "id_range";
    case Clause::duplicate_id: return "duplicate_id";
    case Clause::dropped_group: return "dropped_group";
    case Clause::wrong_set: return "wrong_set";
    case Clause::tie_order: return "tie_order";
    case Clause::selection_order: return "selection_order";
    case Clause::weight: return "weight";
  }
  return "?";
}

std::string_view name_of(SlotOrder order) {
  switch (order) {
    case SlotOrder::selection: return "selection";
    case SlotOrder::any: return "any";
  }
  return "?";
}

std::optional<SlotOrder> parse_slot_order(std::string_view name) {
  for (const SlotOrder order : {SlotOrder::selection, SlotOrder::any})
    if (name == name_of(order)) return order;
  return std::nullopt;
}

std::int64_t Verdict::total() const {
  std::int64_t sum = 0;
  for (std::int64_t count : counts) sum += count;
  return sum;
}

std::string Verdict::report(int shown) const {
  std::ostringstream out;
  out << "comparator: " << tokens << " tokens x " << topk << " slots; " << config << "\n"
      << "tolerance: " << dtype_name(precision) << " arithmetic, scores +-" << score_ulps << " ulp, weights +-"
      << weight_ulps << " ulp (" << dtype_name(precision) << " ulps)"
      << (order == SlotOrder::any ? "; slot order not judged" : "") << "\n";
  if (passed()) {
    out << "verdict: PASS\n";
    return out.str();
  }
  out << "verdict: FAIL: " << total() << " violations in " << failing_tokens << " of " << tokens << " tokens (";
  bool first = true;
  for (int c = 0; c < clause_count; ++c) {
    if (counts[static_cast<std::size_t>(c)] == 0) continue;
    out << (first ? "" : ", ") << name_of(static_cast<Clause>(c)) << " " << counts[static_cast<std::size_t>(c)];
    first = false;
  }
  out << ")\n";
  const auto row = [&](const Violation& v) {
    char margin[32] = "-";
    if (!std::isnan(v.margin)) std::snprintf(margin, sizeof margin, "%.3g", v.margin);
    out << "  token " << v.token << " slot " << v.slot << " " << name_of(v.clause) << ": expected "
        << v.expected << "; got " << v.got << "; margin " << margin << "\n";
  };
  const std::size_t n = violations.size();
  const auto limit = static_cast<std::size_t>(std::max(shown, 0));
  if (n <= 2 * limit) {
    for (const Violation& v : violations) row(v);
  } else {
    out << "first " << limit << ":\n";
    for (std::size_t i = 0; i < limit; ++i) row(violations[i]);
    out << "last " << limit << ":\n";
    for (std::size_t i = n - limit; i < n; ++i) row(violations[i]);
  }
  return out.str();
}

std::vector<int> near_tie_experts(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                                  std::int64_t token, const std::int32_t* chosen_ids, const Tolerance& tolerance) {
  TokenJudge judge(config, tolerance);
  const int n = static_cast<int>(judge.scored(logits, bias, token).size());
  std::vector<bool> chosen(static_cast<std::size_t>(n), false), near(static_cast<std::size_t>(n), false);
  for (int j = 0; j < config.topk; ++j) chosen[static_cast<std::size_t>(chosen_ids[j])] = true;
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b)
      if (chosen[static_cast<std::size_t>(a)] && !chosen[static_cast<std::size_t>(b)] && judge.may_trade(a, b))
        near[static_cast<std::size_t>(a)] = near[static_cast<std::size_t>(b)] = true;
  std::vector<int> out;
  for (int e = 0; e < n; ++e)
    if (near[static_cast<std::size_t>(e)]) out.push_back(e);
  return out;
}

Verdict compare(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                const CandidateView& candidate, const reference::OracleResult& oracle,
                const Tolerance& tolerance) {
  require_valid(config, logits, bias);
  if (logits.tokens > 0 && (candidate.ids == nullptr || candidate.weights == nullptr))
    throw std::invalid_argument("compare: null candidate buffers");
  if (static_cast<std::int64_t>(oracle.ids.size()) != logits.tokens * config.topk)
    throw std::invalid_argument("compare: the oracle result does not match the inputs' shape");
  Verdict verdict;
  verdict.tokens = logits.tokens;
  verdict.topk = config.topk;
  verdict.score_ulps = tolerance.score_ulps_used();
  verdict.weight_ulps = tolerance.weight_ulps_for(config.topk);
  verdict.precision = tolerance.precision;
  verdict.order = tolerance.order;
  verdict.config = describe(config);
  std::vector<std::vector<Violation>> per_token(static_cast<std::size_t>(logits.tokens));
#pragma omp parallel num_threads(reference::thread_team(logits.tokens * config.experts))
  {
    TokenJudge judge(config, tolerance);
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t t = 0; t < logits.tokens; ++t)
      judge.judge(logits, bias, t, candidate.ids + t * config.topk, candidate.weights + t * config.topk,
                  oracle.ids.data() + t * config.topk, per_token[static_cast<std::size_t>(t)]);
  }
  std::deque<Violation> last;
  for (auto& token_violations : per_token) {
    if (token_violations.empty()) continue;
    ++verdict.failing_tokens;
    for (Violation& v : token_violations) {
      ++verdict.counts[static_cast<std::size_t>(v.clause)];
      if (verdict.violations.size() < kept_each_end) {
        verdict.violations.push_back(std::move(v));
      } else {
        last.push_back(std::move(v));
        if (last.size() > kept_each_end) last.pop_front();
      }
    }
  }
  verdict.violations.insert(verdict.violations.end(), last.begin(), last.end());
  return verdict;
}

Verdict compare(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                const CandidateView& candidate, const Tolerance& tolerance) {
  return compare(config, logits, bias, candidate, reference::route_f64(config, logits, bias), tolerance);
}

std::string known_divergence(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                             const CandidateView& candidate, const Tolerance& tolerance) {
  std::string accepted;
  for (const NamedProfile& named : profiles()) {
    if (named.profile == config.profile) continue;
    RouterConfig other = config;
    other.profile = named.profile;
    if (!compare(other, logits, bias, candidate, tolerance).passed()) continue;
    std::string switches;
    const auto differs = [&](std::string_view what, std::string_view ours, std::string_view theirs) {
      if (ours != theirs) switches += (switches.empty() ? "" : ", ") + std::string(what) + " " + std::string(theirs);
    };
    differs("NaN ranks", name_of(config.profile.nan_rank), name_of(named.profile.nan_rank));
    differs("zero sum", name_of(config.profile.zero_sum), name_of(named.profile.zero_sum));
    differs("scaling", name_of(config.profile.scaling), name_of(named.profile.scaling));
    if (switches.empty()) switches = "the NaN replacement value";
    accepted += (accepted.empty() ? "" : "; ") + std::string("'") + std::string(named.name) + "' (" +
                std::string(named.follows) + "; differs in: " + switches + ")";
  }
  if (accepted.empty())
    return "known divergence: none; no documented profile accepts this output either (a bug, not another contract)\n";
  return "known divergence: the output meets the documented profile " + accepted +
         ": a different contract, not necessarily a bug\n";
}

}  // namespace moegate
