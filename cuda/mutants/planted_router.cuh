// The planted-bug kernels' common body: a router written like our stages
// (s03's CTA cooperation, s01's lane-contiguous chunks of four, s05's keys
// and warp arg-max, the shared epilogue of warp_registers.cuh) with one
// historical bug class switched on at compile time. Mutation::none is the
// control: it meets the contract, so the suite's verdict on each mutant is
// about its planted bug alone.
//
// Thread mapping: a persistent CTA of 4 warps routes tokens b, b + G, ...
// (G = min(T, 32) CTAs). Per token the four warps stage the scores in shared
// memory (warp w takes the 128-expert chunks w, w + 4; lane l experts
// 128 c + 4 l .. + 3), the CTA synchronises, warp 0 cuts groups and selects
// k winners round by round, and the CTA synchronises again before the next
// token's scores overwrite the shared arrays.
// Shared memory: 3 x 1024 words (12 KiB). Limits: E <= 1024, k <= 32, G <= 32.
#pragma once

#include <cfloat>
#include <climits>

#include "../detail/launch.cuh"
#include "../detail/warp_registers.cuh"

namespace moegate::cuda::mutants {

enum class Mutation {
  none,                  // the control: the contract
  ties_to_higher_index,  // equal keys: the higher expert index wins
  nan_first,             // a NaN biased score ranks above every number
  flt_max_sentinel,      // -FLT_MAX marks "taken" and starts the search: experts at -FLT_MAX or -inf are never
                         // picked; a round with no candidate writes id 0, weight 0
  minus_one_sentinel,    // -1.0 marks "taken" and starts the search: experts with c <= -1 are never picked
  unwritten_when_short,  // a round whose best is -inf or NaN finds "nothing" and leaves its slot unwritten
  unwritten_partial_slots,  // slots stored four at a time, only whole fours: slots past 4 floor(k / 4) stay
                            // unwritten when k is not a multiple of 4 (kimi384's k = 6)
  wrong_group_bound,     // topk_group + 1 groups survive the group cut
  bias_in_weights,       // weight = s + bias instead of s
  missing_barrier,       // no barrier between warp 0's selection and the next token's staging: a race once a
                         // CTA routes two tokens (T > 32)
  wrong_chunk_stride,    // shared chunks stored E / chunks apart instead of 128: wrong when E % 128 != 0, E > 128
  // The blind spots of issue 17, each seen only by the input that shows it:
  reads_row_padding,     // tail lanes read and rank the row padding past E (bias 0 there) as experts: invisible
                         // while the padding is NaN or -inf, ids >= E once it holds finite numbers
  masks_pointer_alignment,  // declares 4-byte pointers but rounds the logits pointer down to 16 bytes (as a
                            // vector path that trusts cudaMalloc's alignment): wrong on views like logits[:, 1:]
  token_index_16bit,     // the row of token t read at (uint16_t)t: wrong past 65536 tokens
  int32_element_offset,  // token * row_stride + e in a 32-bit int: wrong past 2^31 logits
  static_staging_buffer,  // results staged in one static device buffer shared by every call, then copied out:
                          // right on one stream, mixed when calls overlap on several
  pdl_wait_in_one_warp,  // declares PDL but only warp 0 executes griddepcontrol.wait: warps 1-3 load
                         // experts 128..511 of their first tokens while the producer may still write them
};

inline constexpr int planted_warps = 4;
inline constexpr int planted_max_ctas = 32;
inline constexpr int planted_max_experts = 1024;

template <Mutation M>
__device__ __forceinline__ bool planted_wins(std::uint32_t key, int index, std::uint32_t other_key, int other_index) {
  if constexpr (M == Mutation::ties_to_higher_index) return key > other_key || (key == other_key && index > other_index);
  return detail::wins(key, index, other_key, other_index);
}

template <Mutation M>
__device__ __forceinline__ void planted_argmax(std::uint32_t& key, int& index) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    const std::uint32_t other_key = __shfl_xor_sync(detail::full_mask, key, offset);
    const int other_index = __shfl_xor_sync(detail::full_mask, index, offset);
    if (planted_wins<M>(other_key, other_index, key, index)) key = other_key, index = other_index;
  }
}

template <Mutation M>
__device__ __forceinline__ std::uint32_t planted_key(float biased, const Profile& profile) {
  if constexpr (M == Mutation::nan_first)
    if (biased != biased) return 0xFFFFFFFFu;
  return detail::select_key(biased, profile);
}

// Warp 0: the group cut (lane g < G scores group g by its two best biased
// scores; topk_group rounds of arg-max keep groups, lower index on ties);
// every expert of a dropped group gets the taken key and a -inf score.
template <Mutation M>
__device__ void planted_cut_groups(const detail::RouteParams& p, int lane, std::uint32_t* key_of, float* biased_of) {
  const int size = p.experts / p.groups;
  std::uint32_t group_key = detail::taken_key;
  if (lane < p.groups) {
    std::uint32_t first_key = 0, second_key = 0;
    int first = INT_MAX, second = INT_MAX;
    for (int e = lane * size; e < (lane + 1) * size; ++e) {
      const std::uint32_t key = detail::select_key(biased_of[e], p.profile);
      if (detail::wins(key, e, first_key, first)) {
        second_key = first_key, second = first;
        first_key = key, first = e;
      } else if (detail::wins(key, e, second_key, second)) {
        second_key = key, second = e;
      }
    }
    float score = biased_of[first];
    if (size > 1) score += biased_of[second];
    group_key = detail::select_key(score, p.profile);
  }
  const int survivors = M == Mutation::wrong_group_bound ? min(p.kept_groups + 1, p.groups) : p.kept_groups;
  unsigned kept = 0;
  for (int round = 0; round < survivors; ++round) {
    std::uint32_t key = group_key;
    int group = lane;
    detail::warp_argmax(key, group);
    kept |= 1u << group;
    if (lane == group) group_key = detail::taken_key;
  }
  __syncwarp();  // every lane's group scan is done before the cut rewrites the arrays
  for (int e = lane; e < p.experts; e += 32)
    if (!(kept >> (e / size) & 1u)) {
      key_of[e] = detail::taken_key;
      biased_of[e] = -INFINITY;
    }
  __syncwarp();
}

// Warp 0: k rounds; lane j ends with slot j's expert (-1: left unwritten) and weight.
// The columns ranked as experts: E, or (reads_row_padding) the row's padding too.
template <Mutation M>
__device__ __forceinline__ int ranked_columns(const detail::RouteParams& p) {
  if constexpr (M == Mutation::reads_row_padding)
    return p.row_stride < planted_max_experts ? static_cast<int>(p.row_stride) : planted_max_experts;
  return p.experts;
}

// Element `e` of token `token`'s row, addressed as the mutation does.
template <Mutation M>
__device__ __forceinline__ float planted_load(const detail::RouteParams& p, std::int64_t token, int e) {
  const void* logits = p.logits;
  if constexpr (M == Mutation::masks_pointer_alignment)
    logits = reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p.logits) & ~std::uintptr_t{15});
  if constexpr (M == Mutation::token_index_16bit) token = static_cast<std::uint16_t>(token);
  std::int64_t element = token * p.row_stride + e;
  if constexpr (M == Mutation::int32_element_offset) element = static_cast<int>(token * p.row_stride + e);
  return load_widened(logits, p.logits_dtype, element);
}

template <Mutation M>
__device__ void planted_select(const detail::RouteParams& p, int lane, std::uint32_t* key_of, float* biased_of,
                               const float* score_of, int& chosen, float& weight) {
  const int columns = ranked_columns<M>(p);
  constexpr bool float_search = M == Mutation::flt_max_sentinel || M == Mutation::minus_one_sentinel;
  constexpr float sentinel = M == Mutation::minus_one_sentinel ? -1.0f : -FLT_MAX;
  for (int round = 0; round < p.topk; ++round) {
    int winner = -1;        // -1: the slot stays unwritten
    bool weightless = false;  // the slot gets weight 0
    if constexpr (float_search) {
      // The search of the seed's small-token kernel: a strict > from the sentinel.
      float best = sentinel;
      int index = INT_MAX;
      for (int e = lane; e < columns; e += 32)
        if (biased_of[e] > best) best = biased_of[e], index = e;
      std::uint32_t key = index == INT_MAX ? 0u : number_key(best);
      planted_argmax<M>(key, index);
      weightless = index == INT_MAX;  // nothing above the sentinel: id 0, weight 0
      winner = weightless ? 0 : index;
      __syncwarp();  // every lane's scan is done before the winner is marked
      if (lane == 0 && !weightless) biased_of[winner] = sentinel;
    } else {
      std::uint32_t key = detail::taken_key;
      int index = INT_MAX;
      for (int e = lane; e < columns; e += 32)
        if (planted_wins<M>(key_of[e], e, key, index)) key = key_of[e], index = e;
      planted_argmax<M>(key, index);
      winner = index;
      if (M == Mutation::unwritten_when_short && key <= number_key(-INFINITY)) winner = -1;
      __syncwarp();  // every lane's scan is done before the winner is marked
      if (lane == 0) key_of[index] = detail::taken_key;
    }
    __syncwarp();
    if (lane == round) {
      chosen = winner;
      if (winner < 0 || weightless) weight = 0.0f;
      else weight = M == Mutation::bias_in_weights ? biased_of[winner] : score_of[winner];
    }
  }
}

template <Mutation M>
__global__ void __launch_bounds__(planted_warps * 32) planted_kernel(detail::RouteParams p) {
  __shared__ float score_of[planted_max_experts];
  __shared__ float biased_of[planted_max_experts];
  __shared__ std::uint32_t key_of[planted_max_experts];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int chunks = (p.experts + 127) / 128;
  const int chunk_stride = M == Mutation::wrong_chunk_stride ? p.experts / chunks : 128;
  const int columns = ranked_columns<M>(p);
  float current[2][4], next[2][4] = {};
  const auto load = [&](std::int64_t token, float(&values)[2][4]) {
    for (int q = 0; q < 2; ++q)
      for (int i = 0; i < 4; ++i) {
        const int e = (warp + 4 * q) * 128 + 4 * lane + i;
        values[q][i] = e < columns ? planted_load<M>(p, token, e) : 0.0f;
      }
  };
  std::int64_t token = blockIdx.x;
  if (token >= p.tokens) return;
  // Launched with PDL: wait until the producer's logits are written.
  if (M != Mutation::pdl_wait_in_one_warp || warp == 0) detail::wait_for_producer();
  load(token, current);
  for (; token < p.tokens; token += gridDim.x) {
    if (token + gridDim.x < p.tokens) load(token + gridDim.x, next);
    for (int q = 0; q < 2; ++q)
      for (int i = 0; i < 4; ++i) {
        const int chunk = warp + 4 * q, e = chunk * 128 + 4 * lane + i;
        if (e >= columns) continue;
        const int slot = chunk * chunk_stride + 4 * lane + i;
        const float s = detail::gate_sigmoid(current[q][i]);
        const float c = s + (e < p.experts ? load_widened(p.bias, p.bias_dtype, e) : 0.0f);
        score_of[slot] = s;
        biased_of[slot] = c;
        key_of[slot] = planted_key<M>(c, p.profile);
      }
    __syncthreads();  // the token's scores are staged
    if (warp == 0) {
      if (p.groups > 1) planted_cut_groups<M>(p, lane, key_of, biased_of);
      int chosen = 0;
      float weight = 0.0f;
      planted_select<M>(p, lane, key_of, biased_of, score_of, chosen, weight);
      float sum = 0.0f;
      if (p.renormalize)
        for (int j = 0; j < p.topk; ++j) sum += __shfl_sync(detail::full_mask, weight, j);
      const bool stored = M == Mutation::unwritten_partial_slots ? lane < p.topk / 4 * 4 : chosen >= 0;
      if (stored) detail::store_weighted(p, token, lane, chosen, weight, sum);
    }
    if constexpr (M != Mutation::missing_barrier) __syncthreads();  // warp 0 is done with them
    for (int q = 0; q < 2; ++q)
      for (int i = 0; i < 4; ++i) current[q][i] = next[q][i];
  }
}

// static_staging_buffer's staging: a chunk of tokens' slots at a time.
inline constexpr std::int64_t staged_tokens = 32768;
__device__ float staged_weights[staged_tokens * 32];
__device__ std::int32_t staged_ids[staged_tokens * 32];

template <Mutation M>
void launch_planted(const detail::RouteParams& params, cudaStream_t stream, const LaunchOptions& options) {
  const auto launch = [&](const detail::RouteParams& p) {
    const auto blocks = static_cast<unsigned>(std::min<std::int64_t>(p.tokens, planted_max_ctas));
    detail::launch_kernel(planted_kernel<M>, blocks, planted_warps * 32, stream, options, p);
  };
  if constexpr (M != Mutation::static_staging_buffer) {
    launch(params);
  } else {
    const auto address_of = [](const auto& symbol) {
      void* address = nullptr;
      MOEGATE_CUDA_CHECK(cudaGetSymbolAddress(&address, symbol));
      return address;
    };
    static float* const weights = static_cast<float*>(address_of(staged_weights));
    static std::int32_t* const ids = static_cast<std::int32_t*>(address_of(staged_ids));
    const std::size_t row_bytes = static_cast<std::size_t>(params.row_stride) * dtype_bytes(params.logits_dtype);
    for (std::int64_t first = 0; first < params.tokens; first += staged_tokens) {
      detail::RouteParams chunk = params;
      chunk.logits = static_cast<const std::uint8_t*>(params.logits) + static_cast<std::size_t>(first) * row_bytes;
      chunk.tokens = std::min(staged_tokens, params.tokens - first);
      chunk.weights = weights;
      chunk.ids = ids;
      launch(chunk);
      const auto slots = static_cast<std::size_t>(chunk.tokens * params.topk);
      const auto at = static_cast<std::size_t>(first * params.topk);
      MOEGATE_CUDA_CHECK(cudaMemcpyAsync(params.weights + at, weights, slots * sizeof(float), cudaMemcpyDeviceToDevice, stream));
      MOEGATE_CUDA_CHECK(cudaMemcpyAsync(params.ids + at, ids, slots * sizeof(std::int32_t), cudaMemcpyDeviceToDevice, stream));
    }
  }
}

}  // namespace moegate::cuda::mutants
