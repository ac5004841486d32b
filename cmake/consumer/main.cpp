// Routes one token of kimi-k2 through the installed reference and asks the
// installed CUDA library for its device count.
#include <moegate/cuda.hpp>
#include <moegate/inputs.hpp>
#include <moegate/presets.hpp>
#include <moegate/reference.hpp>

#include <cstdio>

int main() {
  const moegate::RouterConfig config = moegate::find_preset("kimi-k2")->config;
  moegate::InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = 1;
  const moegate::RouterInputs inputs = moegate::make_inputs(spec);
  const auto result = moegate::reference::route_f32(config, inputs.logits(), inputs.bias());
  float sum = 0;
  for (float w : result.weights) sum += w;
  std::printf("consumer: %zu ids, weight sum %.4f, %d CUDA device(s)\n", result.ids.size(),
              static_cast<double>(sum), moegate::cuda::device_count());
  return result.ids.size() == 8 && sum > 2.826f && sum < 2.828f ? 0 : 1;
}
