// Routing host-side inputs on the GPU: upload a case's inputs (the rows at
// the case's element offset from a cudaMalloc-aligned start), poison the
// outputs, launch a stage (or the default dispatch), bring the result back.
// Launch and result are separate so several runs can share a GPU at once.
#pragma once

#include <string_view>

#include "device_buffer.hpp"
#include "moegate/cuda.hpp"
#include "moegate/inputs.hpp"
#include "moegate/reference.hpp"

namespace moegate::cuda::detail {

class DeviceRun {
 public:
  DeviceRun(const RouterInputs& inputs, int topk)
      : inputs_(inputs),
        topk_(topk),
        logits_(inputs.lead_bytes.size() + inputs.logits_bytes.size()),
        bias_(inputs.bias_bytes.size()),
        weights_(static_cast<std::size_t>(inputs.spec.tokens * topk)),
        ids_(static_cast<std::size_t>(inputs.spec.tokens * topk)) {
    // The rows start spec.offset elements into the allocation (a view such
    // as logits[:, 1:]); the lead holds the padding family's values.
    logits_.upload(inputs.lead_bytes);
    logits_.upload_at(inputs.lead_bytes.size(), inputs.logits_bytes);
    bias_.upload(inputs.bias_bytes);
  }

  LogitsView logits() const {
    return {logits_.data() + inputs_.lead_bytes.size(), inputs_.spec.logits_dtype, inputs_.spec.tokens,
            inputs_.spec.row_stride};
  }
  BiasView bias() const { return {bias_.data(), inputs_.spec.bias_dtype}; }
  OutputView output() const { return {weights_.data(), ids_.data()}; }

  // Poisons the outputs, launches (the named stage, or the default dispatch
  // when `stage` is empty) on `stream`, and does not wait.
  void launch(std::string_view stage, const RouterConfig& config, cudaStream_t stream) {
    poison_outputs(output(), inputs_.spec.tokens, topk_, stream);
    if (stage.empty()) route(config, logits(), bias(), output(), stream);
    else route(stage, config, logits(), bias(), output(), stream);
  }

  reference::RouteResult result() const { return {weights_.download(), ids_.download()}; }

  reference::RouteResult run(std::string_view stage, const RouterConfig& config) {
    launch(stage, config, nullptr);
    MOEGATE_CUDA_CHECK(cudaDeviceSynchronize());
    return result();
  }

 private:
  const RouterInputs& inputs_;
  int topk_;
  DeviceBuffer<std::uint8_t> logits_, bias_;
  DeviceBuffer<float> weights_;
  DeviceBuffer<std::int32_t> ids_;
};

}  // namespace moegate::cuda::detail
