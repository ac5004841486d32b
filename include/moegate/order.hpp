// The contract's one total order, as integer keys.
//
// order_key maps a biased score to a uint32 whose unsigned order is the
// contract's order of scores: larger first, -0.0 equal to +0.0, NaN placed
// by the profile (lowest by default: below -inf). ranked_key appends the
// index so that equal scores rank the lower index first; every key is then
// unique and "top-k" is simply "the k largest keys".
#pragma once

#include <cstdint>

#include "moegate/config.hpp"
#include "moegate/dtype.hpp"

namespace moegate {

inline constexpr std::uint32_t nan_lowest_key = 0u;
inline constexpr std::uint32_t nan_highest_key = 0xFFFFFFFFu;

// Keys of numbers lie strictly between the two NaN keys: -inf maps to
// 0x007FFFFF and +inf to 0xFF800000.
MOEGATE_HOST_DEVICE inline std::uint32_t number_key(float score) {
  const std::uint32_t bits = bits_from_float(score == 0.0f ? 0.0f : score);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// NanRank::replace is applied to the score itself before keys are made
// (see replace_nan), so here it only has to name lowest or highest.
MOEGATE_HOST_DEVICE inline std::uint32_t order_key(float score, NanRank nan_rank) {
  if (score != score) return nan_rank == NanRank::highest ? nan_highest_key : nan_lowest_key;
  return number_key(score);
}

MOEGATE_HOST_DEVICE inline float replace_nan(float score, const Profile& profile) {
  return (profile.nan_rank == NanRank::replace && score != score) ? profile.nan_replacement
                                                                   : score;
}

// Larger ranked key = ranked earlier. Unique per (score, index).
MOEGATE_HOST_DEVICE inline std::uint64_t ranked_key(std::uint32_t score_key, std::int32_t index) {
  return (static_cast<std::uint64_t>(score_key) << 32) |
         (0xFFFFFFFFu - static_cast<std::uint32_t>(index));
}

MOEGATE_HOST_DEVICE inline std::int32_t index_of(std::uint64_t ranked) {
  return static_cast<std::int32_t>(0xFFFFFFFFu - static_cast<std::uint32_t>(ranked));
}

}  // namespace moegate
