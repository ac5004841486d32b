"""moegate's CUDA stages from Python: route CUDA arrays (torch, CuPy, JAX) with the fastest stage
or a named one, on the caller's stream, inside CUDA graph capture too; registered as the torch
custom op `torch.ops.moegate.route` when torch has torch.library.custom_op (2.4 and later)."""
from . import _moegate
from ._arrays import framework_of
from ._contract import RouterConfig

CudaError = _moegate.CudaError


def device_count():
    """Usable CUDA devices (0 without a GPU or driver; never raises)."""
    return _moegate._cuda_device_count()


def version():
    return _moegate._cuda_version()


def device_name(device=0):
    return _moegate._cuda_device_name(device)


def stages():
    """The stage ladder and the registered external kernels: [{id, idea, supports, pdl}]."""
    return [dict(id=i, idea=idea, supports=supports, pdl=pdl) for i, idea, supports, pdl in _moegate._cuda_stages()]


def default_stage(logits, bias, config):
    """The stage route() picks for these inputs when no stage is named."""
    return _moegate._cuda_default_stage(config, logits, bias)


def _check_config(config):
    if not isinstance(config, RouterConfig):
        raise TypeError(f"config: expected a moegate.RouterConfig, got {type(config).__name__}")


def route(logits, bias, config, stage=None, *, stream=None, out=None, pdl=False):
    """Routes CUDA logits [T, E] (rows may be a slice of wider rows) and bias [E] with `stage`
    (None: the measured default dispatch). Writes into `out` = (weights f32 [T, k], ids int32 [T, k])
    when given, else into new arrays of the logits' framework; returns (weights, ids). Launches on
    `stream` (an int handle, a torch.cuda.Stream or a cupy Stream; default: the framework's current
    stream) without synchronising, so it can be captured in a CUDA graph."""
    _check_config(config)
    framework = framework_of(logits)
    tokens = int(logits.shape[0])
    if framework == "torch":
        import torch
        if not logits.is_cuda:
            raise ValueError(f"logits: must be a CUDA tensor, got one on {logits.device}")
        with torch.cuda.device(logits.device):
            handle = _stream_handle(stream, torch.cuda.current_stream(logits.device).cuda_stream)
            if out is None:
                out = (torch.empty((tokens, config.topk), dtype=torch.float32, device=logits.device),
                       torch.empty((tokens, config.topk), dtype=torch.int32, device=logits.device))
            _moegate._cuda_route(stage or "", config, logits, bias, out[0], out[1], handle, bool(pdl))
        return out
    if framework == "cupy":
        import cupy
        handle = _stream_handle(stream, cupy.cuda.get_current_stream().ptr)
        if out is None:
            out = (cupy.empty((tokens, config.topk), dtype=cupy.float32), cupy.empty((tokens, config.topk), dtype=cupy.int32))
        _moegate._cuda_route(stage or "", config, logits, bias, out[0], out[1], handle, bool(pdl))
        return out
    if framework == "jax":
        # JAX arrays are immutable: outputs are made by CuPy and handed over through DLPack, after
        # the inputs are ready; the launch uses the legacy default stream, then waits for it.
        import cupy
        import jax.dlpack
        logits.block_until_ready()
        bias.block_until_ready()
        weights = cupy.empty((tokens, config.topk), dtype=cupy.float32)
        ids = cupy.empty((tokens, config.topk), dtype=cupy.int32)
        _moegate._cuda_route(stage or "", config, logits, bias, weights, ids, 0, False)
        cupy.cuda.runtime.deviceSynchronize()
        return jax.dlpack.from_dlpack(weights), jax.dlpack.from_dlpack(ids)
    raise TypeError(f"logits: moegate.cuda.route takes torch, CuPy or JAX CUDA arrays, got {type(logits).__name__}")


def _stream_handle(stream, current):
    if stream is None:
        return int(current)
    for attribute in ("cuda_stream", "ptr"):
        if hasattr(stream, attribute):
            return int(getattr(stream, attribute))
    return int(stream)


def _register_torch_op():
    """torch.ops.moegate.route(logits, bias, experts, topk, groups, kept_groups, renormalize,
    routed_scaling_factor, apply_routed_scaling_factor_on_output, profile, stage) -> (weights, ids)."""
    try:
        import torch
    except ImportError:
        return None
    if not hasattr(torch, "library") or not hasattr(torch.library, "custom_op"):
        return None
    if hasattr(torch.ops, "moegate") and hasattr(torch.ops.moegate, "route"):
        return torch.ops.moegate.route
    from torch import Tensor

    @torch.library.custom_op("moegate::route", mutates_args=(), device_types="cuda")
    def route_op(logits: Tensor, bias: Tensor, experts: int, topk: int, groups: int, kept_groups: int,
                 renormalize: bool, routed_scaling_factor: float, apply_routed_scaling_factor_on_output: bool,
                 profile: str, stage: str) -> tuple[Tensor, Tensor]:
        config = RouterConfig(experts=experts, topk=topk, groups=groups, kept_groups=kept_groups,
                              renormalize=renormalize, routed_scaling_factor=routed_scaling_factor,
                              apply_routed_scaling_factor_on_output=apply_routed_scaling_factor_on_output,
                              profile=profile)
        return route(logits, bias, config, stage or None)

    @route_op.register_fake
    def _(logits, bias, experts, topk, groups, kept_groups, renormalize, routed_scaling_factor,
          apply_routed_scaling_factor_on_output, profile, stage):
        tokens = logits.shape[0]
        return (logits.new_empty((tokens, topk), dtype=torch.float32),
                logits.new_empty((tokens, topk), dtype=torch.int32))

    return route_op


torch_op = _register_torch_op()


def torch_route(logits, bias, config, stage=None):
    """route() through the torch custom op (what torch.compile sees); needs torch >= 2.4."""
    if torch_op is None:
        raise RuntimeError("torch.library.custom_op is not available in this torch; use moegate.cuda.route")
    _check_config(config)
    return torch_op(logits, bias, config.experts, config.topk, config.groups, config.kept_groups, config.renormalize,
                    config.routed_scaling_factor, config.apply_routed_scaling_factor_on_output,
                    _named_profile(config), stage or "")


def _named_profile(config):
    name = config.profile
    if name.startswith("custom("):
        raise ValueError("config: the torch op takes named profiles only (moegate.profiles())")
    return name
