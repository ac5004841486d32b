"""A Triton router of our own (one program per token, k rounds of arg-max under the contract's order),
written to be judged by check_router on CUDA tensors: ungrouped, f32/bf16/f16 logits, any row stride."""
import torch
import triton
import triton.language as tl
from triton.language.extra import libdevice

import moegate

# Narrow on purpose: Triton compiles one kernel per (k, expert block), so a support as wide as the suite
# (k up to 32, E up to 1024) spends minutes compiling (seen: over 170 s on an H200).
SUPPORT = moegate.Support(experts=[256, 384], max_topk=8, max_groups=1)


@triton.jit
def _route(logits, bias, weights, ids, row_stride, experts, TOPK: tl.constexpr, SLOTS: tl.constexpr,
           BLOCK: tl.constexpr, RENORMALIZE: tl.constexpr):
    token = tl.program_id(0).to(tl.int64)
    offs = tl.arange(0, BLOCK)
    slots = tl.arange(0, SLOTS)
    inside = offs < experts
    x = tl.load(logits + token * row_stride + offs, mask=inside, other=0.0).to(tl.float32)
    b = tl.load(bias + offs, mask=inside, other=0.0).to(tl.float32)
    # libdevice's expf (within 2 ulp, as the contract assumes): tl.exp is exp2.approx(x * log2 e), off by
    # about 1.2 |x| ulp, which check_router's tiny family (x near -87) caught as 20-ulp weights.
    s = 1.0 / (1.0 + libdevice.exp(-x))
    c = s + b
    taken = offs >= experts
    chosen_weights = tl.zeros([SLOTS], dtype=tl.float32)
    chosen_ids = tl.zeros([SLOTS], dtype=tl.int32)
    for j in tl.static_range(TOPK):
        # numbers first (larger c, then the lower index), NaN only when no number is left
        number = (c == c) & (taken == 0)
        best = tl.max(tl.where(number, c, -float("inf")), axis=0)
        any_number = tl.max(number.to(tl.int32), axis=0)
        pick_number = tl.min(tl.where(number & (c == best), offs, BLOCK), axis=0)
        pick_nan = tl.min(tl.where(taken == 0, offs, BLOCK), axis=0)
        pick = tl.where(any_number > 0, pick_number, pick_nan)
        chosen = offs == pick
        w = tl.sum(tl.where(chosen, s, 0.0), axis=0)
        chosen_weights = tl.where(slots == j, w, chosen_weights)
        chosen_ids = tl.where(slots == j, pick, chosen_ids)
        taken = taken | chosen
    if RENORMALIZE:
        total = tl.sum(chosen_weights, axis=0)
        chosen_weights = tl.where(total > 0, chosen_weights / total, chosen_weights)
    tl.store(weights + token * TOPK + slots, chosen_weights, mask=slots < TOPK)
    tl.store(ids + token * TOPK + slots, chosen_ids, mask=slots < TOPK)


def triton_router(logits, bias, config):
    tokens = logits.shape[0]
    topk = config.topk
    weights = torch.empty((tokens, topk), dtype=torch.float32, device=logits.device)
    ids = torch.empty((tokens, topk), dtype=torch.int32, device=logits.device)
    if tokens:
        _route[(tokens,)](logits, bias, weights, ids, logits.stride(0), config.experts, TOPK=topk,
                          SLOTS=triton.next_power_of_2(topk), BLOCK=triton.next_power_of_2(config.experts),
                          RENORMALIZE=config.renormalize)
        # The contract scales every renormalised token's weights, raw ones (NaN or zero sum) too: one f32
        # multiply after the kernel. (Two earlier versions multiplied inside the kernel by the factor passed
        # as a runtime float; check_router caught both on its first kept regression: the factor was never
        # applied on the H200, cause not established.)
        if config.renormalize and config.apply_routed_scaling_factor_on_output:
            weights.mul_(config.routed_scaling_factor)
    return weights, ids
