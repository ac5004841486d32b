// The installed CPU components without CUDA: one token of kimi-k2 through the
// reference, judged by the comparator, and the suite's sweep.
#include <moegate/comparator.hpp>
#include <moegate/inputs.hpp>
#include <moegate/presets.hpp>
#include <moegate/reference.hpp>
#include <moegate/suite.hpp>

#include <cstdio>

int main() {
  const moegate::RouterConfig config = moegate::find_preset("kimi-k2")->config;
  moegate::InputSpec spec;
  spec.experts = config.experts;
  spec.tokens = 1;
  const moegate::RouterInputs inputs = moegate::make_inputs(spec);
  const auto result = moegate::reference::route_f32(config, inputs.logits(), inputs.bias());
  const moegate::Verdict verdict = moegate::compare(config, inputs.logits(), inputs.bias(),
                                                    moegate::CandidateView{result.weights.data(), result.ids.data()});
  const std::size_t sweep = moegate::suite::sweep().size();
  std::printf("cpu consumer: verdict %s, %zu sweep cases\n", verdict.passed() ? "PASS" : "FAIL", sweep);
  return verdict.passed() && sweep > 1000 ? 0 : 1;
}
