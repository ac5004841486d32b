// order_key + ranked_key (moegate/order.hpp) for a whole row, written without
// branches so the compiler vectorises it; identical results by construction,
// and checked against the scalar definition in reference_test.
#include "keys.hpp"

#include <algorithm>
#include <cstring>

namespace moegate::reference::detail {

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void rank_keys_f32(const float* biased, std::uint64_t* keys, std::uint32_t* chunk_maxima, int n,
                   NanRank nan_rank) {
  const std::uint32_t nan_key = nan_rank == NanRank::highest ? 0xFFFFFFFFu : 0u;
  for (int base = 0; base < n; base += 16) {
    const int end = std::min(base + 16, n);
    std::uint32_t chunk_max = 0;
    for (int e = base; e < end; ++e) {
      std::uint32_t bits;
      std::memcpy(&bits, &biased[e], sizeof bits);
      const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
      bits &= 0u - static_cast<std::uint32_t>(magnitude != 0);  // -0.0 -> +0.0
      const std::uint32_t sign_mask = static_cast<std::uint32_t>(static_cast<std::int32_t>(bits) >> 31);
      std::uint32_t key = bits ^ (sign_mask | 0x80000000u);
      key = magnitude > 0x7F800000u ? nan_key : key;
      keys[e] = (static_cast<std::uint64_t>(key) << 32) | (0xFFFFFFFFu - static_cast<std::uint32_t>(e));
      chunk_max = std::max(chunk_max, key);
    }
    chunk_maxima[base / 16] = chunk_max;
  }
}

}  // namespace moegate::reference::detail
