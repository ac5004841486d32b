// What programmatic dependent launch saves behind a real router GEMM.
// Per T: the router GEMM (cuBLAS, bf16 hidden states x bf16 router weight ->
// f32 logits, hidden 7168, kimi-k2's E = 384) and the gate (the default
// dispatch), each alone and back to back with and without PDL; the same
// behind a copy kernel that releases its dependents at once (what PDL can
// hide when the producer cooperates, which cuBLAS's GEMM may not); every
// variant captured as 20 iterations in one CUDA graph and replayed; per-pair
// time = the best of 7 replays / 20. The gate's output behind the GEMM is
// judged by the comparator once per T (with PDL), so the overlap is never
// bought with a read of unfinished logits.
// Prints the card, the commit (MOEGATE_COMMIT) and a table; exit 0 without
// a GPU (a skip line), 1 when a judged output fails.
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "../cuda/detail/device_buffer.hpp"
#include "event_timer.hpp"
#include "moegate/comparator.hpp"
#include "moegate/cuda.hpp"
#include "moegate/presets.hpp"

namespace {

using namespace moegate;
using cuda::detail::DeviceBuffer;

constexpr int hidden = 7168;
constexpr int iterations = 20;

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + " failed: " + std::to_string(status));
}

std::vector<__nv_bfloat16> random_bf16(std::size_t count, std::uint64_t seed, float scale) {
  std::vector<__nv_bfloat16> values(count);
  std::uint64_t state = seed;
  for (auto& v : values) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const float unit = static_cast<float>(state >> 40) / static_cast<float>(1ull << 24) - 0.5f;  // [-0.5, 0.5)
    v = __float2bfloat16(scale * unit);
  }
  return values;
}

struct Pair {
  cublasHandle_t blas;
  cudaStream_t stream;
  RouterConfig config;
  std::int64_t tokens;
  DeviceBuffer<__nv_bfloat16> states, weight;
  DeviceBuffer<float> logits, bias, weights;
  DeviceBuffer<std::int32_t> ids;

  void gemm() const {
    const float one = 1.0f, zero = 0.0f;
    // Row-major logits[T][E] = states[T][H] . weight[E][H]^T, as column-major E x T.
    check_cublas(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, config.experts, static_cast<int>(tokens), hidden, &one,
                              weight.data(), CUDA_R_16BF, hidden, states.data(), CUDA_R_16BF, hidden, &zero,
                              logits.data(), CUDA_R_32F, config.experts, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx");
  }
  void gate(bool programmatic) const {
    cuda::route(config, LogitsView{logits.data(), DType::f32, tokens, config.experts},
                BiasView{bias.data(), DType::f32}, OutputView{weights.data(), ids.data()}, stream,
                cuda::LaunchOptions{programmatic});
  }
};

// Per-iteration microseconds of `work` captured `iterations` times in one graph.
template <class Work>
double graph_us(const Pair& pair, bench::EventTimer& timer, Work&& work) {
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  MOEGATE_CUDA_CHECK(cudaStreamBeginCapture(pair.stream, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < iterations; ++i) work();
  MOEGATE_CUDA_CHECK(cudaStreamEndCapture(pair.stream, &graph));
  MOEGATE_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  MOEGATE_CUDA_CHECK(cudaGraphLaunch(exec, pair.stream));  // warm-up
  const double ms = timer.best_ms(pair.stream, 7, [&] { MOEGATE_CUDA_CHECK(cudaGraphLaunch(exec, pair.stream)); });
  MOEGATE_CUDA_CHECK(cudaGraphExecDestroy(exec));
  MOEGATE_CUDA_CHECK(cudaGraphDestroy(graph));
  return 1000.0 * ms / iterations;
}

// A producer that lets its dependents launch at once, then writes the
// logits (a copy standing in for a GEMM that releases them early): what PDL
// can hide when the kernel before the gate cooperates.
__global__ void releasing_copy(float* logits, const float* source, std::int64_t count) {
  asm volatile("griddepcontrol.launch_dependents;");
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    logits[i] = source[i];
}

// The gate behind the GEMM (with PDL) judged by the comparator.
bool judged_behind_gemm(const Pair& pair) {
  pair.gemm();
  pair.gate(true);
  MOEGATE_CUDA_CHECK(cudaStreamSynchronize(pair.stream));
  const std::vector<float> logits = pair.logits.download(), bias = pair.bias.download(), w = pair.weights.download();
  const std::vector<std::int32_t> ids = pair.ids.download();
  const Verdict verdict = compare(pair.config, LogitsView{logits.data(), DType::f32, pair.tokens, pair.config.experts},
                                  BiasView{bias.data(), DType::f32}, CandidateView{w.data(), ids.data()});
  if (!verdict.passed()) std::printf("%s", verdict.report().c_str());
  return verdict.passed();
}

}  // namespace

int main() {
  if (cuda::device_count() == 0) {
    std::printf("pdl_bench: skipped: no CUDA device (%s)\n", cuda::version_string().c_str());
    return 0;
  }
  const char* commit = std::getenv("MOEGATE_COMMIT");
  std::printf("card %s, commit %s; router GEMM: cuBLAS bf16 x bf16 -> f32, hidden %d; gate: kimi-k2 (E = 384, k = 8),\n"
              "default dispatch; %d iterations per CUDA graph, best of 7 replays; us per GEMM + gate pair\n\n",
              cuda::device_info(0)->name.c_str(), commit ? commit : "unknown", hidden, iterations);
  std::printf("| T | GEMM alone | gate alone | GEMM + gate | GEMM + gate, PDL | saved | releasing copy alone | copy + gate "
              "| copy + gate, PDL | saved |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  bool all_passed = true;
  bench::EventTimer timer;
  for (std::int64_t tokens : {1, 16, 128, 1024, 4096, 16384}) {
    Pair pair{nullptr, nullptr, find_preset("kimi-k2")->config, tokens, DeviceBuffer<__nv_bfloat16>(tokens * hidden),
              DeviceBuffer<__nv_bfloat16>(static_cast<std::size_t>(384) * hidden),
              DeviceBuffer<float>(tokens * 384), DeviceBuffer<float>(384), DeviceBuffer<float>(tokens * 8),
              DeviceBuffer<std::int32_t>(tokens * 8)};
    check_cublas(cublasCreate(&pair.blas), "cublasCreate");
    MOEGATE_CUDA_CHECK(cudaStreamCreateWithFlags(&pair.stream, cudaStreamNonBlocking));
    check_cublas(cublasSetStream(pair.blas, pair.stream), "cublasSetStream");
    pair.states.upload(random_bf16(pair.states.size(), 1 + tokens, 1.0f));
    pair.weight.upload(random_bf16(pair.weight.size(), 7, 0.05f));
    std::vector<float> bias(384);
    for (std::size_t e = 0; e < bias.size(); ++e) bias[e] = 0.001f * static_cast<float>(e % 17);
    pair.bias.upload(bias);
    pair.gemm();  // cuBLAS picks and loads its kernel before capture
    pair.gate(false);
    MOEGATE_CUDA_CHECK(cudaStreamSynchronize(pair.stream));
    const double gemm = graph_us(pair, timer, [&] { pair.gemm(); });
    const double gate = graph_us(pair, timer, [&] { pair.gate(false); });
    const double both = graph_us(pair, timer, [&] { pair.gemm(); pair.gate(false); });
    const double overlapped = graph_us(pair, timer, [&] { pair.gemm(); pair.gate(true); });
    DeviceBuffer<float> source(pair.logits.size());
    MOEGATE_CUDA_CHECK(cudaMemcpy(source.data(), pair.logits.data(), source.bytes(), cudaMemcpyDeviceToDevice));
    const auto copy = [&] {
      releasing_copy<<<264, 256, 0, pair.stream>>>(pair.logits.data(), source.data(),
                                                   static_cast<std::int64_t>(source.size()));
      MOEGATE_CUDA_CHECK(cudaGetLastError());
    };
    const double copy_alone = graph_us(pair, timer, copy);
    const double copy_gate = graph_us(pair, timer, [&] { copy(); pair.gate(false); });
    const double copy_gate_pdl = graph_us(pair, timer, [&] { copy(); pair.gate(true); });
    all_passed = judged_behind_gemm(pair) && all_passed;
    std::printf("| %lld | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                static_cast<long long>(tokens), gemm, gate, both, overlapped, both - overlapped, copy_alone, copy_gate,
                copy_gate_pdl, copy_gate - copy_gate_pdl);
    cublasDestroy(pair.blas);
    MOEGATE_CUDA_CHECK(cudaStreamDestroy(pair.stream));
  }
  std::printf("\ngate outputs behind the GEMM (PDL), judged by the comparator: %s\n", all_passed ? "all passed" : "FAILED");
  return all_passed ? 0 : 1;
}
