// Vectorised ranked keys for a row of f32 biased scores (internal).
#pragma once

#include <cstdint>

#include "moegate/config.hpp"

namespace moegate::reference::detail {

// keys[e] = ranked_key(order_key(biased[e], nan_rank), e), for every e < n;
// chunk_maxima[c] = the largest order_key among experts [16 c, 16 c + 16).
void rank_keys_f32(const float* biased, std::uint64_t* keys, std::uint32_t* chunk_maxima, int n,
                   NanRank nan_rank);

}  // namespace moegate::reference::detail
