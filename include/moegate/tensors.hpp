// Views of the router's inputs and outputs. Nothing here owns memory; the
// same views describe host buffers (reference) and device buffers (CUDA).
#pragma once

#include <cstdint>

#include "moegate/config.hpp"
#include "moegate/dtype.hpp"

namespace moegate {

// logits[t, e] lives at data + (t * row_stride + e) elements: the rows may be
// a slice of a wider router-GEMM output.
struct LogitsView {
  const void* data = nullptr;
  DType dtype = DType::f32;
  std::int64_t tokens = 0;
  std::int64_t row_stride = 0;  // in elements, >= experts
};

// One correction bias per expert.
struct BiasView {
  const void* data = nullptr;
  DType dtype = DType::f32;
};

// weights[t, j] and ids[t, j], dense [tokens, topk], j in selection order.
struct OutputView {
  float* weights = nullptr;
  std::int32_t* ids = nullptr;
};

// Slots that a launch never wrote keep these values: tests fill the outputs
// with them first. The weight is a NaN with a recognisable payload.
inline constexpr std::int32_t poison_id = -1;
inline constexpr std::uint32_t poison_weight_bits = 0x7FBADBADu;

// Throw std::invalid_argument naming the problem: an invalid config, null
// buffers, a row stride below the expert count, negative token counts.
void require_valid(const RouterConfig& config, const LogitsView& logits, const BiasView& bias);
void require_valid(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                   const OutputView& output);

}  // namespace moegate
