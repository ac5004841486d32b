"""Routers written the way kernel engineers write them in torch / numpy: one that meets moegate's
contract, and planted bugs of the classes real routers have had (../shared/anchors.md). The tests
judge them with moegate.check_router."""
import numpy as np
import torch


def _order_key(values, eligible):
    """Stable descending order under the contract: eligible first, then numbers before NaN, then larger
    value, then lower index (three stable sorts, the last key sorted last)."""
    filled = torch.where(torch.isnan(values), torch.full_like(values, -float("inf")), values)
    order = torch.sort(filled, dim=-1, descending=True, stable=True).indices
    nan_last = torch.isnan(values).gather(-1, order).to(torch.int8)
    order = order.gather(-1, torch.sort(nan_last, dim=-1, stable=True).indices)
    not_eligible = (~eligible).gather(-1, order).to(torch.int8)
    return order.gather(-1, torch.sort(not_eligible, dim=-1, stable=True).indices)


def contract_router(logits, bias, config, *, nan_first=False, ties_high=False, sorted_slots=True,
                    compute_dtype=None, group_cut_top1=False, extra_group=False, bias_in_weights=False):
    """noaux_tc in plain torch, every step as docs/semantics.md says (f32 unless compute_dtype)."""
    dtype = compute_dtype or torch.float32
    x = logits.float()
    s = torch.sigmoid(x).to(dtype) if compute_dtype is not None else 1.0 / (1.0 + torch.exp(-x))
    b = bias.to(dtype)
    c = (s + b).to(dtype)
    tokens, experts = c.shape
    if nan_first:
        c = torch.where(torch.isnan(c), torch.full_like(c, float("inf")), c)
    if ties_high:
        c_rank, flip = c.flip(-1), True
    else:
        c_rank, flip = c, False
    eligible = torch.ones_like(c, dtype=torch.bool)
    if config.groups > 1:
        size = experts // config.groups
        grouped = c.view(tokens, config.groups, size)
        top = _order_key(grouped, torch.ones_like(grouped, dtype=torch.bool))
        first = grouped.gather(-1, top[..., :1]).squeeze(-1)
        second = grouped.gather(-1, top[..., 1:2]).squeeze(-1) if size > 1 else torch.zeros_like(first)
        score = first if group_cut_top1 else (first + second).to(dtype)
        kept_count = min(config.groups, config.kept_groups + (1 if extra_group else 0))
        kept = _order_key(score, torch.ones_like(score, dtype=torch.bool))[:, :kept_count]
        group_mask = torch.zeros(tokens, config.groups, dtype=torch.bool).scatter(1, kept, True)
        eligible = group_mask.repeat_interleave(size, dim=1)
    if flip:
        order = _order_key(c_rank, eligible.flip(-1))
        order = experts - 1 - order
    else:
        order = _order_key(c_rank, eligible)
    ids = order[:, :config.topk]
    if not sorted_slots:
        ids = ids.flip(-1)
    w = s.gather(-1, ids)
    if bias_in_weights:
        w = w + b[ids.long()]
    if config.renormalize:
        total = w.sum(-1, keepdim=True, dtype=torch.float32).to(dtype)
        w = torch.where(total > 0, (w / total).to(dtype), w)
        if config.apply_routed_scaling_factor_on_output:
            w = (w * config.routed_scaling_factor).to(dtype)
    return w.float(), ids.to(torch.int32)


def numpy_router(logits, bias, config):
    """The contract in numpy, ungrouped, f32: a second framework."""
    x = np.asarray(logits, dtype=np.float32)
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x < -709: s = 0, as the contract says
        s = (np.float32(1) / (np.float32(1) + np.exp(-x.astype(np.float64)).astype(np.float32))).astype(np.float32)
    c = (s + np.asarray(bias, dtype=np.float32)).astype(np.float32)
    key = np.where(np.isnan(c), -np.inf, c)
    nan = np.isnan(c)
    index = np.broadcast_to(np.arange(c.shape[1]), c.shape)
    order = np.lexsort((index, -key, nan), axis=-1)  # last key sorts first: numbers before NaN, larger c, lower index
    ids = order[:, :config.topk].astype(np.int32)
    w = np.take_along_axis(s, ids, axis=-1)
    if config.renormalize:
        total = w.sum(-1, keepdims=True, dtype=np.float32)
        w = np.where(total > 0, w / np.where(total > 0, total, 1), w).astype(np.float32)
        if config.apply_routed_scaling_factor_on_output:
            w = (w * np.float32(config.routed_scaling_factor)).astype(np.float32)
    return w, ids
