// The planted-bug kernels (cuda/mutants/planted_router.cuh), each behind the
// adapter's C ABI like any external kernel.
#pragma once

#include <string_view>
#include <vector>

#include "moegate/adapter.h"

namespace moegate::cuda::mutants {

struct PlantedKernel {
  std::string_view name;  // the bug class
  const moegate_kernel* kernel;
};

// Every mutant: one historical bug class each (../shared/anchors.md).
const std::vector<PlantedKernel>& planted_kernels();
// The same body with no bug: it must meet the contract.
const moegate_kernel& planted_control();
// The control declaring a narrow support (E in {48, 160}, k <= 4, bf16
// logits only, rows a multiple of 8): exercises the suite's fitting.
const moegate_kernel& planted_control_narrow();

}  // namespace moegate::cuda::mutants
