/* moegate/adapter.h — the C ABI that brings an external router kernel into
 * moegate's registry, so the GPU properties, scripts/gpu-check's sanitizer
 * runs and the benchmark judge it like one of our stages (docs/adapter.md).
 *
 * An adapter is one C function returning a static description:
 *
 *     const moegate_kernel* moegate_kernel_<NAME>(void);
 *
 * compiled by moegate_add_external_kernel(NAME ...) in CMake, or named on the
 * configure line with -DMOEGATE_EXTERNAL_KERNELS="NAME:/path/file.cu". The
 * registry lists it as "ext_<NAME>". Plain C (C99 and C++); the only CUDA
 * type is cudaStream_t. */
#ifndef MOEGATE_ADAPTER_H
#define MOEGATE_ADAPTER_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a field below changes meaning or is added; the registry refuses
 * versions it does not know. Version 2 added moegate_route_args'
 * programmatic_launch and gave moegate_support's programmatic_launch its
 * meaning; version 1 descriptions are still read (without PDL). */
#define MOEGATE_ADAPTER_ABI_VERSION 2

typedef enum { MOEGATE_F32 = 0, MOEGATE_BF16 = 1, MOEGATE_F16 = 2 } moegate_dtype;
/* Bit masks of dtypes: MOEGATE_DTYPE_BIT(MOEGATE_BF16) | ... */
#define MOEGATE_DTYPE_BIT(dtype) (1u << (unsigned)(dtype))

typedef enum {
  MOEGATE_OK = 0,
  MOEGATE_UNSUPPORTED = 1, /* the kernel cannot route this call (nothing launched) */
  MOEGATE_LAUNCH_FAILED = 2
} moegate_status;

/* One routing call. Every pointer is device memory. The logits are
 * [tokens, row_stride] (row_stride >= experts, in elements), the bias
 * [experts]; the kernel writes weights and ids, [tokens, topk] each, in
 * selection order. The config fields are docs/semantics.md's. */
typedef struct {
  const void* logits;
  moegate_dtype logits_dtype;
  int64_t tokens;
  int64_t row_stride;
  const void* bias;
  moegate_dtype bias_dtype;
  float* weights;
  int32_t* ids;
  int experts;
  int topk;
  int groups;      /* 1: ungrouped */
  int topk_group;  /* groups that survive the group cut */
  int renormalize; /* 0 or 1 */
  float routed_scaling_factor;
  int apply_routed_scaling_factor_on_output; /* 0 or 1 */
  /* 1: launch with programmatic dependent launch (the launch attribute
   * cudaLaunchAttributeProgrammaticStreamSerialization): the previous kernel
   * on the stream may still be writing the logits, so the kernel must execute
   * griddepcontrol.wait (cudaGridDependencySynchronize) before it reads them.
   * Only for kernels whose support declares programmatic_launch = 1. */
  int programmatic_launch;
} moegate_route_args;

/* What the kernel takes. The registry refuses (and the tests skip) any call
 * outside it, naming the field, so the kernel sees only calls it declared. */
typedef struct {
  const int* experts_set; /* exactly these expert counts (each within 1..max_experts); NULL: any 1..max_experts */
  int experts_set_size;
  int max_experts;        /* >= 1, and >= every member of experts_set */
  int max_topk;
  int max_groups;                /* 1: ungrouped only */
  unsigned logits_dtypes;        /* MOEGATE_DTYPE_BIT mask */
  unsigned bias_dtypes;          /* MOEGATE_DTYPE_BIT mask */
  int row_stride_multiple;       /* 1: any stride; 4: vector rows */
  int pointer_alignment;         /* bytes the logits and bias pointers need (1, 4, 16) */
  int programmatic_launch;       /* 1: honours moegate_route_args.programmatic_launch (ABI 2; 0 in ABI 1) */
} moegate_support;

typedef struct {
  int abi_version;         /* MOEGATE_ADAPTER_ABI_VERSION */
  const char* description; /* one line: the idea, where it comes from */
  /* Which documented behaviour it implements (docs/semantics.md, the
   * divergence table): NULL or "moegate" for our contract, or a profile name
   * ("torch", "sglang-triton", "vllm"): NaN ranking, zero-sum and scaling are
   * then judged by that profile, everything else by the contract. */
  const char* profile;
  moegate_support support;
  /* Launches asynchronously on `stream`; MOEGATE_OK when launched. Must not
   * throw (C++ adapters catch their own exceptions and return a status). */
  moegate_status (*route)(const moegate_route_args* args, cudaStream_t stream);
} moegate_kernel;

/* The description is read once, at program start-up: keep it a constant
 * (a `static const moegate_kernel` with constant initialisers, as
 * examples/adapter does) or build it inside moegate_kernel_<NAME>() as a
 * function-local static, never as a global that needs dynamic initialisation
 * in another translation unit (its order against the registration is not
 * defined). */

#ifdef __cplusplus
}
#endif

#endif /* MOEGATE_ADAPTER_H */
