// moegate::cuda — the GPU side: device discovery, the error type every CUDA
// call throws, output poisoning, and the stage ladder (one registry that
// tests, benchmarks and the CLI all enumerate).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "moegate/adapter.h"
#include "moegate/inputs.hpp"
#include "moegate/reference.hpp"
#include "moegate/tensors.hpp"

namespace moegate::cuda {

// A failed CUDA call: file, line, the call's text and CUDA's error string.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  int sm_count = 0;
  std::size_t global_memory_bytes = 0;
};

// Number of usable CUDA devices; 0 (never an exception) when there is no GPU
// or no driver, so callers can skip cleanly.
int device_count() noexcept;
std::optional<DeviceInfo> device_info(int device = 0);
// "runtime 13.0, driver 13.0" (driver "none" without a GPU driver).
std::string version_string();

// Fills [tokens, topk] outputs with poison_weight_bits / poison_id, so a slot a
// kernel never writes is caught by the comparator.
void poison_outputs(const OutputView& output, std::int64_t tokens, int topk, cudaStream_t stream);

// How a routing call is launched.
struct LaunchOptions {
  // Programmatic dependent launch (Hopper): the gate's kernel may start while
  // the kernel before it on the stream (the router GEMM) is still running; it
  // waits (griddepcontrol.wait) before reading the logits. Only for stages
  // with Stage::programmatic_launch.
  bool programmatic_dependent_launch = false;
};

// One kernel stage of the ladder (cuda/stages/sNN_<idea>.cu), or an external
// kernel brought in through the adapter (moegate/adapter.h, id "ext_<name>").
struct Stage {
  std::string_view id;        // "s02_warp_bank_conflict_free"
  std::string_view idea;      // one line
  std::string_view supports;  // what it accepts, in words
  bool programmatic_launch = false;  // supports LaunchOptions::programmatic_dependent_launch
  // Empty when the stage can route this config and these (device) views;
  // otherwise why not, naming what the stage supports.
  std::function<std::string(const RouterConfig& config, const LogitsView& logits, const BiasView& bias)> refusal;
  // Launches on `stream`; only called after refusal() came back empty.
  std::function<void(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                     const OutputView& output, cudaStream_t stream, const LaunchOptions& options)>
      launch;
  // The adapter's description for an external kernel; null for our stages.
  const moegate_kernel* external = nullptr;
};

// Every stage: the ladder in order, then the registered external kernels.
const std::deque<Stage>& stages();
const Stage* find_stage(std::string_view id);
// Adds a stage to the registry (external kernels, test-only kernels); throws
// std::invalid_argument when the id is taken. References to stages stay valid.
void register_stage(Stage stage);
// The stage `route` picks for this shape when no stage is named.
const Stage& default_stage(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                           const LaunchOptions& options = {});

// Validates, then launches asynchronously on `stream`: logits, bias and the
// outputs are device pointers. Throws std::invalid_argument (nothing is
// launched) for an invalid config, null or misaligned buffers, or a shape the
// stage does not support; CudaError if the launch itself fails.
void route(std::string_view stage_id, const RouterConfig& config, const LogitsView& logits,
           const BiasView& bias, const OutputView& output, cudaStream_t stream,
           const LaunchOptions& options = {});
// The same with the default dispatch.
void route(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
           const OutputView& output, cudaStream_t stream, const LaunchOptions& options = {});

// For tools and tests: copies host inputs to the GPU, poisons the outputs,
// routes with `stage_id` (empty: the default dispatch), copies back. Blocking.
reference::RouteResult route_host(std::string_view stage_id, const RouterConfig& config,
                                  const RouterInputs& inputs);

}  // namespace moegate::cuda
