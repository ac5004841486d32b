// A thread's experts held in registers with their scores and keys, sorted
// best first by the contract's order, key then the lower expert (s19, s20):
// the thread owns experts position + Stride j, j < V, so its experts rise
// with j.
#pragma once

#include <climits>

#include "launch.cuh"
#include "warp_registers.cuh"

namespace moegate::cuda::detail {

// Past E: the taken key and expert INT_MAX (never a round's winner: every
// real key is >= 1 and k <= E).
template <int V>
struct Held {
  std::uint32_t key[V];
  int expert[V];
  float score[V];

  __device__ __forceinline__ void swap_entries(int a, int b) {
    const std::uint32_t k = key[a];
    const int e = expert[a];
    const float s = score[a];
    key[a] = key[b], expert[a] = expert[b], score[a] = score[b];
    key[b] = k, expert[b] = e, score[b] = s;
  }
  __device__ __forceinline__ void exchange_if_worse(int a, int b) {
    if (wins(key[b], expert[b], key[a], expert[a])) swap_entries(a, b);
  }
  // Only a larger key moves up: adjacent exchanges keep equal keys in
  // place, so the lower expert stays first (experts rise with j).
  __device__ __forceinline__ void exchange_adjacent_if_smaller(int a) {
    if (key[a + 1] > key[a]) swap_entries(a, a + 1);
  }
  // Best first: the smallest networks for 2 and 4 entries (1 and 5
  // exchanges, which compare experts too: non-adjacent exchanges are not
  // stable); otherwise V passes of odd-even transposition, stable, one
  // comparison per exchange (V (V - 1) / 2 exchanges, V deep: 10 at V = 5,
  // 28 at 8, 66 at 12).
  __device__ __forceinline__ void sort() {
    if constexpr (V == 2) {
      exchange_if_worse(0, 1);
    } else if constexpr (V == 4) {
      exchange_if_worse(0, 1), exchange_if_worse(2, 3);
      exchange_if_worse(0, 2), exchange_if_worse(1, 3);
      exchange_if_worse(1, 2);
    } else {
#pragma unroll
      for (int pass = 0; pass < V; ++pass)
#pragma unroll
        for (int i = pass % 2; i + 1 < V; i += 2) exchange_adjacent_if_smaller(i);
    }
  }
  // Drops the best: the rest move up, the taken key comes in last.
  __device__ __forceinline__ void pop() {
#pragma unroll
    for (int j = 0; j + 1 < V; ++j) key[j] = key[j + 1], expert[j] = expert[j + 1], score[j] = score[j + 1];
    key[V - 1] = taken_key, expert[V - 1] = INT_MAX, score[V - 1] = 0.0f;
  }
};

// The experts position + Stride j of the token's row with their scores and
// keys, sorted (all loads issued before the first score, then the
// dependents released; 0 past E). The scores are the contract's f32 ones
// (gate_sigmoid's, bit for bit) with Reciprocal::exact.
template <int V, int Stride, Reciprocal reciprocal = Reciprocal::exact>
__device__ __forceinline__ Held<V> load_held(const RouteParams& p, std::int64_t token, int position) {
  float logit[V], bias[V];
  Held<V> held;
  load_lane_strided<V, Stride>(p.logits, p.logits_dtype, token * p.row_stride, position, p.experts, logit);
  load_lane_strided<V, Stride>(p.bias, p.bias_dtype, 0, position, p.experts, bias);
  release_dependents();
  sigmoids_with<reciprocal>(logit, held.score);
#pragma unroll
  for (int j = 0; j < V; ++j) {
    const int e = position + Stride * j;
    const std::uint32_t key = select_key(held.score[j] + bias[j], p.profile);
    held.key[j] = e < p.experts ? key : taken_key;
    held.expert[j] = e < p.experts ? e : INT_MAX;
  }
  held.sort();
  return held;
}

}  // namespace moegate::cuda::detail
