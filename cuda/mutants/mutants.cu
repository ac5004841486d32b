// The planted-bug kernels behind the adapter (moegate/adapter.h), exactly as
// an external kernel comes in: one moegate_kernel per Mutation, all declaring
// the same support (E <= 1024, k <= 32, G <= 32, every dtype, any stride,
// PDL, our contract). Built only into mutant_tests.
#include "mutants.hpp"

#include <exception>

#include "../detail/params.hpp"
#include "moegate/adapter.hpp"
#include "planted_router.cuh"

namespace moegate::cuda::mutants {
namespace {

template <Mutation M>
moegate_status route_planted(const moegate_route_args* args, cudaStream_t stream) {
  const RouteCall call = route_call_of(*args);
  if (call.config.experts > planted_max_experts || call.config.topk > 32 || call.config.groups > 32)
    return MOEGATE_UNSUPPORTED;
  try {
    launch_planted<M>(detail::make_params(call.config, call.logits, call.bias, call.output), stream,
                      LaunchOptions{args->programmatic_launch != 0});
  } catch (const std::exception&) {
    return MOEGATE_LAUNCH_FAILED;
  }
  return MOEGATE_OK;
}

constexpr unsigned every_dtype =
    MOEGATE_DTYPE_BIT(MOEGATE_F32) | MOEGATE_DTYPE_BIT(MOEGATE_BF16) | MOEGATE_DTYPE_BIT(MOEGATE_F16);

// Every planted kernel declares PDL (it waits for the producer before its
// first read of the logits, pdl_wait_in_one_warp aside) and takes views at
// any element offset (masks_pointer_alignment: 4-byte aligned ones).
template <Mutation M>
constexpr moegate_kernel planted(const char* description, int pointer_alignment = 1) {
  return {MOEGATE_ADAPTER_ABI_VERSION,
          description,
          nullptr,
          moegate_support{nullptr, 0, planted_max_experts, 32, 32, every_dtype, every_dtype, 1, pointer_alignment, 1},
          route_planted<M>};
}

const moegate_kernel control = planted<Mutation::none>("the planted-bug kernels' body with no bug (the control)");
// The control again, declaring far less than it takes: the suite must fit
// every case to this (E in {48, 160}, k <= 4, no groups, bf16 logits, f32
// bias, rows a multiple of 8) and still find cases to judge.
const int narrow_experts[] = {48, 160};
const moegate_kernel narrow_control = {
    MOEGATE_ADAPTER_ABI_VERSION, "the control declaring a narrow support", nullptr,
    moegate_support{narrow_experts, 2, 160, 4, 1, MOEGATE_DTYPE_BIT(MOEGATE_BF16), MOEGATE_DTYPE_BIT(MOEGATE_F32), 8, 1,
                    1},
    route_planted<Mutation::none>};
const moegate_kernel ties_to_higher_index = planted<Mutation::ties_to_higher_index>("equal keys: the higher index wins");
const moegate_kernel nan_first = planted<Mutation::nan_first>("a NaN biased score ranks above every number");
const moegate_kernel flt_max_sentinel =
    planted<Mutation::flt_max_sentinel>("-FLT_MAX as the taken mark and search start; id 0, weight 0 when short");
const moegate_kernel minus_one_sentinel =
    planted<Mutation::minus_one_sentinel>("-1.0 as the taken mark and search start: c <= -1 never picked");
const moegate_kernel unwritten_when_short =
    planted<Mutation::unwritten_when_short>("a round whose best is -inf or NaN leaves its slot unwritten");
const moegate_kernel unwritten_partial_slots =
    planted<Mutation::unwritten_partial_slots>("slots stored in whole fours only: k % 4 slots left unwritten");
const moegate_kernel wrong_group_bound = planted<Mutation::wrong_group_bound>("topk_group + 1 groups survive the cut");
const moegate_kernel bias_in_weights = planted<Mutation::bias_in_weights>("weight = s + bias");
const moegate_kernel missing_barrier =
    planted<Mutation::missing_barrier>("no barrier before the next token's staging: a race once T > 32");
const moegate_kernel wrong_chunk_stride =
    planted<Mutation::wrong_chunk_stride>("lane-contiguous shared chunks E / chunks apart instead of 128");
const moegate_kernel reads_row_padding =
    planted<Mutation::reads_row_padding>("the row padding past E read and ranked as experts (bias 0)");
const moegate_kernel masks_pointer_alignment = planted<Mutation::masks_pointer_alignment>(
    "declares 4-byte pointers, rounds the logits pointer down to 16 bytes", 4);
const moegate_kernel token_index_16bit =
    planted<Mutation::token_index_16bit>("the row of token t read at (uint16_t)t");
const moegate_kernel int32_element_offset =
    planted<Mutation::int32_element_offset>("token * row_stride + e computed in a 32-bit int");
const moegate_kernel static_staging_buffer =
    planted<Mutation::static_staging_buffer>("results staged in one static device buffer shared by all calls");
const moegate_kernel pdl_wait_in_one_warp =
    planted<Mutation::pdl_wait_in_one_warp>("declares PDL, only warp 0 waits for the producer");

}  // namespace

const std::vector<PlantedKernel>& planted_kernels() {
  static const std::vector<PlantedKernel> table = {
      {"ties_to_higher_index", &ties_to_higher_index}, {"nan_first", &nan_first},
      {"flt_max_sentinel", &flt_max_sentinel},         {"minus_one_sentinel", &minus_one_sentinel},
      {"unwritten_when_short", &unwritten_when_short}, {"unwritten_partial_slots", &unwritten_partial_slots},
      {"wrong_group_bound", &wrong_group_bound},
      {"bias_in_weights", &bias_in_weights},           {"missing_barrier", &missing_barrier},
      {"wrong_chunk_stride", &wrong_chunk_stride},
      {"reads_row_padding", &reads_row_padding},       {"masks_pointer_alignment", &masks_pointer_alignment},
      {"token_index_16bit", &token_index_16bit},       {"int32_element_offset", &int32_element_offset},
      {"static_staging_buffer", &static_staging_buffer}, {"pdl_wait_in_one_warp", &pdl_wait_in_one_warp},
  };
  return table;
}

const moegate_kernel& planted_control() { return control; }
const moegate_kernel& planted_control_narrow() { return narrow_control; }

}  // namespace moegate::cuda::mutants
