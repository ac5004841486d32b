"""Public routers as moegate peers, loaded from a copy of their source files.

SGLang's Triton router (`python/sglang/jit_kernel/moe_fused_gate.py`), SGLang's torch
references (`kimi_k2_biased_topk_impl`, `biased_grouped_topk_impl` in
`python/sglang/srt/layers/moe/topk.py`) and vLLM's torch `grouped_topk`
(`vllm/model_executor/layers/fused_moe/router/grouped_topk_router.py`) are loaded
without importing sglang or vllm: the Triton file is imported from its path with
the four sglang modules it names replaced by small stand-ins, and the torch
functions are taken out of their files with `ast` (decorators dropped) and run
in a namespace holding only what they use. Nothing is copied from them here;
scripts/peers/README.md says how to fetch them into `.peers/`.

    peers = load_peers(".peers")             # every peer whose files are there
    for p in peers:
        weights, ids = p.fn(logits, bias, config)   # config: a moegate.RouterConfig
        support = moegate.Support(**p.declares)   # or p.support()

Each `fn` maps moegate's config to the peer's own arguments, calls it once and
returns what it returned, untouched (ids in its own order, its own dtypes).
"""

from __future__ import annotations

import __future__
import ast
import functools
import importlib.util
import os
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "Peer",
    "PeerLoadError",
    "PeerUnsupported",
    "PEER_NAMES",
    "SGLANG_TRITON_FILE",
    "SGLANG_TOPK_FILE",
    "VLLM_GROUPED_TOPK_FILE",
    "dtype_name",
    "load_peers",
    "load_sglang",
    "load_sglang_torch_functions",
    "load_sglang_triton_module",
    "load_vllm",
    "load_vllm_grouped_topk",
]

# Paths inside a peer folder (.peers/sglang, .peers/vllm), as in the upstream repositories.
SGLANG_TRITON_FILE = "python/sglang/jit_kernel/moe_fused_gate.py"
SGLANG_TOPK_FILE = "python/sglang/srt/layers/moe/topk.py"
VLLM_GROUPED_TOPK_FILE = "vllm/model_executor/layers/fused_moe/router/grouped_topk_router.py"

PEER_NAMES = (
    "sglang-triton",
    "sglang-torch-biased-grouped",
    "sglang-torch-kimi-k2",
    "vllm-torch-grouped",
)

_ALL_DTYPES = ("f32", "bf16", "f16")
# moegate's suite bounds (include/moegate/suite.hpp): used where the peer's code has no bound.
_SUITE_MAX_TOPK = 32
_SUITE_MAX_GROUPS = 32


class PeerLoadError(RuntimeError):
    """A peer could not be loaded: a file is missing, or a package it needs is not installed."""


class PeerUnsupported(ValueError):
    """The config (or input) cannot be expressed in the peer's arguments; nothing was called."""


@dataclass
class Peer:
    """One public router in moegate's router signature.

    name      e.g. "sglang-triton"
    fn        fn(logits, bias, config) -> (weights, ids), the peer's outputs unchanged
    declares  keyword arguments for moegate.Support (precision "logits" where the peer
              computes in the logits' own dtype)
    accepts   accepts(config, logits=None) -> None, or why the peer cannot run that call
              (limits that Support cannot state, e.g. two experts per group)
    source    "path:line" of the peer function in the fetched source
    notes     how its contract differs from docs/semantics.md, in short
    """

    name: str
    fn: Callable[[Any, Any, Any], Tuple[Any, Any]]
    declares: Dict[str, Any]
    accepts: Callable[..., Optional[str]]
    source: str
    notes: List[str] = field(default_factory=list)
    options: Dict[str, Any] = field(default_factory=dict)

    def support(self, moegate_module: Any = None) -> Any:
        """moegate.Support(**declares)."""
        if moegate_module is None:
            import moegate as moegate_module
        return moegate_module.Support(**self.declares)

    def precision_for(self, logits_dtype: Any) -> str:
        """The arithmetic it computes in for that logits dtype ("f32", "bf16" or "f16")."""
        precision = self.declares["precision"]
        return dtype_name(logits_dtype) if precision == "logits" else precision


# --------------------------------------------------------------------------- helpers


def dtype_name(dtype: Any) -> str:
    """'f32' / 'bf16' / 'f16' for a torch dtype or any of its usual spellings."""
    text = str(dtype).replace("torch.", "").lower()
    names = {
        "f32": "f32", "float32": "f32", "float": "f32", "fp32": "f32",
        "bf16": "bf16", "bfloat16": "bf16",
        "f16": "f16", "float16": "f16", "half": "f16", "fp16": "f16",
    }
    if text not in names:
        raise ValueError(f"unknown dtype {dtype!r}: expected one of f32, bf16, f16 (or a torch dtype)")
    return names[text]


def _import_torch():
    try:
        import torch
    except ImportError as error:  # pragma: no cover - torch is there wherever moegate's Python runs
        raise PeerLoadError(f"the peers need PyTorch, which is not importable: {error}") from error
    return torch


def _need_file(root: Path, relative: str, peer: str) -> Path:
    path = root / relative
    if not path.is_file():
        raise PeerLoadError(
            f"{peer}: {path} is missing; fetch the peer sources into {root} "
            f"(scripts/peers/README.md says which files, from which commit)"
        )
    return path


def _line_of(path: Path, function: str) -> str:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return f"{path}:{node.lineno}"
    return str(path)


def _functions_from(path: Path, names: Tuple[str, ...], namespace: Dict[str, Any]) -> Dict[str, Callable]:
    """The named top-level functions of a file, decorators dropped, defined in `namespace`.

    Line numbers are kept, so a traceback points into the peer's own file.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names}
    missing = [name for name in names if name not in found]
    if missing:
        raise PeerLoadError(f"{path}: no top-level function {', '.join(missing)} (has the file moved or changed?)")
    body = []
    for name in names:
        node = found[name]
        node.decorator_list = []  # torch.compile(...): applied again by the loader when asked
        body.append(node)
    module = ast.Module(body=body, type_ignores=[])
    code = compile(module, str(path), "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
    exec(code, namespace)
    return {name: namespace[name] for name in names}


def _maybe_compile(function: Callable, compiled: bool, name: str) -> Callable:
    if not compiled:
        return function
    torch = _import_torch()
    if not hasattr(torch, "compile"):
        raise PeerLoadError(f"{name}: compiled=True needs torch.compile (PyTorch 2), found torch {torch.__version__}")
    # As the peer's own decorator does: torch.compile(dynamic=True, backend=<inductor on CUDA>).
    return torch.compile(function, dynamic=True)


def _config_fields(config: Any) -> Dict[str, Any]:
    names = (
        "experts", "topk", "groups", "kept_groups", "renormalize",
        "routed_scaling_factor", "apply_routed_scaling_factor_on_output",
    )
    missing = [name for name in names if not hasattr(config, name)]
    if missing:
        raise TypeError(f"config lacks {', '.join(missing)}: expected a moegate.RouterConfig")
    return {name: getattr(config, name) for name in names}


def _check_shapes(logits: Any, bias: Any, cfg: Dict[str, Any], peer: str) -> None:
    if logits.dim() != 2 or bias.dim() != 1:
        raise PeerUnsupported(f"{peer}: logits must be [T, E] and bias [E], got {tuple(logits.shape)} and {tuple(bias.shape)}")
    if logits.shape[1] != cfg["experts"] or bias.shape[0] != cfg["experts"]:
        raise PeerUnsupported(
            f"{peer}: config.experts = {cfg['experts']} but logits are {tuple(logits.shape)} and bias {tuple(bias.shape)}"
        )


def _grouped_torch_accepts(peer: str) -> Callable[..., Optional[str]]:
    def accepts(config: Any, logits: Any = None) -> Optional[str]:
        cfg = _config_fields(config)
        if cfg["experts"] // max(cfg["groups"], 1) < 2:
            return (f"{peer}: needs at least 2 experts per group (group score = "
                    f"topk(2) over each group), got experts={cfg['experts']} groups={cfg['groups']}")
        if logits is not None and logits.shape[0] == 0:
            return f"{peer}: T = 0 fails in the peer (.view(0, ..., -1) of an empty tensor)"
        return None
    return accepts


# --------------------------------------------------------------------------- SGLang Triton router


def _sglang_stub_modules(use_pdl: Optional[bool]) -> Dict[str, types.ModuleType]:
    """Stand-ins for the four sglang modules that moe_fused_gate.py imports."""
    torch = _import_torch()

    def cache_once(fn):
        return functools.lru_cache(maxsize=None)(fn)

    def is_arch_support_pdl() -> bool:
        # sglang.jit_kernel.utils: PDL on CUDA compute capability >= 9 (Hopper and later).
        if use_pdl is not None:
            return bool(use_pdl)
        if getattr(torch.version, "hip", None):
            return False
        try:
            return torch.cuda.get_device_capability(torch.cuda.current_device())[0] >= 9
        except Exception:
            return False

    def load_jit(*args, **kwargs):
        raise PeerLoadError(
            "sglang's CUDA JIT modules (tvm_ffi + .cuh sources) are not part of these peers; "
            "only the Triton router is loaded"
        )

    def covered(scores, bias, topk) -> bool:
        # moe_route_radix.covered() sends [M, 896] bf16 top-16 to a CUDA radix-select kernel
        # (ids in expert order). The peer here is the Triton router, so nothing is covered.
        return False

    def route_radix(*args, **kwargs):
        raise PeerLoadError("sglang's radix-select router (moe_route_radix) is not loaded")

    def debug_kernel_api(fn):
        return fn

    package = types.ModuleType("sglang")
    package.__path__ = []  # a package, so that submodule imports resolve from sys.modules
    jit_kernel = types.ModuleType("sglang.jit_kernel")
    jit_kernel.__path__ = []
    utils = types.ModuleType("sglang.jit_kernel.utils")
    utils.cache_once, utils.is_arch_support_pdl, utils.load_jit = cache_once, is_arch_support_pdl, load_jit
    radix = types.ModuleType("sglang.jit_kernel.moe_route_radix")
    radix.covered, radix.route_radix = covered, route_radix
    logging_module = types.ModuleType("sglang.kernel_api_logging")
    logging_module.debug_kernel_api = debug_kernel_api
    package.jit_kernel, package.kernel_api_logging = jit_kernel, logging_module
    jit_kernel.utils, jit_kernel.moe_route_radix = utils, radix
    return {
        "sglang": package,
        "sglang.jit_kernel": jit_kernel,
        "sglang.jit_kernel.utils": utils,
        "sglang.jit_kernel.moe_route_radix": radix,
        "sglang.kernel_api_logging": logging_module,
    }


def load_sglang_triton_module(sglang_root: os.PathLike | str, *, use_pdl: Optional[bool] = None) -> types.ModuleType:
    """Import moe_fused_gate.py from its path, its sglang imports served by stand-ins.

    use_pdl: None = as SGLang decides (compute capability >= 9); True/False to force.
    The module is registered as `moegate_peer_sglang_moe_fused_gate` (Triton reads its source).
    """
    root = Path(sglang_root)
    path = _need_file(root, SGLANG_TRITON_FILE, "sglang-triton")
    _import_torch()
    try:
        import triton  # noqa: F401
    except ImportError as error:
        raise PeerLoadError(
            f"sglang-triton: Triton is not installed here ({error}); the Triton router loads and runs "
            "where Triton and a CUDA GPU are (the GPU host)"
        ) from error
    module_name = "moegate_peer_sglang_moe_fused_gate"
    stubs = _sglang_stub_modules(use_pdl)
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[module_name]
            raise PeerLoadError(f"sglang-triton: importing {path} failed: {type(error).__name__}: {error}") from error
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    for name in ("moe_fused_gate", "_router_triton_kernel"):
        if not hasattr(module, name):
            raise PeerLoadError(f"sglang-triton: {path} defines no {name} (has the file changed?)")
    return module


def _sglang_triton_peer(root: Path, use_pdl: Optional[bool], widen_bias: bool) -> Peer:
    module = load_sglang_triton_module(root, use_pdl=use_pdl)
    gate = module.moe_fused_gate
    name = "sglang-triton"
    torch = _import_torch()

    def fn(logits, bias, config):
        cfg = _config_fields(config)
        _check_shapes(logits, bias, cfg, name)
        if widen_bias and bias.dtype != torch.float32:
            bias = bias.float()  # what SGLang's call sites do before calling it (topk.py: correction_bias.to(float32))
        return gate(
            logits,
            bias,
            cfg["topk"],
            scoring_func="sigmoid",
            num_fused_shared_experts=0,
            renormalize=bool(cfg["renormalize"]),
            routed_scaling_factor=float(cfg["routed_scaling_factor"]),
            apply_routed_scaling_factor_on_output=bool(cfg["apply_routed_scaling_factor_on_output"]),
            moe_softcapping=0.0,
            num_expert_group=int(cfg["groups"]),
            topk_group=int(cfg["kept_groups"]),
        )

    declares = dict(
        experts=None,
        max_topk=_SUITE_MAX_TOPK,
        max_groups=_SUITE_MAX_GROUPS,
        logits_dtypes=_ALL_DTYPES,
        bias_dtypes=_ALL_DTYPES if widen_bias else ("f32",),
        padded_rows=True,
        max_tokens=None,
        profile="sglang-triton",
        order="selection",
        precision="f32",
    )

    def accepts(config, logits=None):
        _config_fields(config)
        if logits is not None and not logits.is_cuda:
            return f"{name}: needs CUDA tensors (Triton kernel), got {logits.device}"
        return None

    return Peer(
        name=name, fn=fn, declares=declares, accepts=accepts,
        source=_line_of(root / SGLANG_TRITON_FILE, "moe_fused_gate"),
        options=dict(use_pdl=use_pdl, widen_bias=widen_bias),
        notes=[
            "NaN biased score -> -1e30 before grouping and selection; taken/dropped experts -> -inf",
            "duplicate ids when fewer than k experts have c > -inf (a taken expert, also -inf, has the lower index)",
            "group score drops every value equal to the top one: tied top-2 gives top1 + next distinct (or -inf)",
            "renormalize divides by the sum only when it is > 0 (else raw); the factor is applied when asked, renormalize or not",
            "bias must be f32 (assert); logits f32/bf16/f16 widened to f32; weights f32, ids int32, selection order",
        ],
    )


# --------------------------------------------------------------------------- SGLang torch references


def load_sglang_torch_functions(sglang_root: os.PathLike | str, *, compiled: bool = False) -> Dict[str, Callable]:
    """kimi_k2_biased_topk_impl and biased_grouped_topk_impl from topk.py.

    Their @torch.compile decorators are dropped (eager PyTorch); compiled=True wraps
    them in torch.compile(dynamic=True) again, as SGLang runs them.
    """
    torch = _import_torch()
    path = _need_file(Path(sglang_root), SGLANG_TOPK_FILE, "sglang-torch")
    namespace: Dict[str, Any] = {
        "__name__": "moegate_peer_sglang_topk",
        "torch": torch,
        "F": torch.nn.functional,
        "Optional": Optional,
        "Tuple": Tuple,
    }
    functions = _functions_from(path, ("kimi_k2_biased_topk_impl", "biased_grouped_topk_impl"), namespace)
    return {name: _maybe_compile(function, compiled, name) for name, function in functions.items()}


def _torch_declares(profile: str, max_groups: int, compiled: bool) -> Dict[str, Any]:
    # Eager PyTorch computes s, the weights' sum, the division and the factor in the logits'
    # dtype ("logits"). Under torch.compile (inductor) the fused kernels upcast bf16/f16 to f32
    # and stay there: measured on torch 2.11 / H200, bf16 and f16 logits then match the f32
    # contract (0 set differences in 1024 tokens, weights within 3 ulp; eager: 139 and 25).
    return dict(
        experts=None,
        max_topk=_SUITE_MAX_TOPK,
        max_groups=max_groups,
        logits_dtypes=_ALL_DTYPES,
        bias_dtypes=_ALL_DTYPES,
        padded_rows=True,
        max_tokens=None,
        profile=profile,
        order="any",
        precision="f32" if compiled else "logits",
    )


def _sglang_torch_peers(root: Path, compiled: bool) -> List[Peer]:
    functions = load_sglang_torch_functions(root, compiled=compiled)
    kimi = functions["kimi_k2_biased_topk_impl"]
    grouped = functions["biased_grouped_topk_impl"]
    topk_file = root / SGLANG_TOPK_FILE
    torch_notes = [
        "ids from torch.topk(sorted=False): slot order unspecified; ties by torch.topk's own rule",
        "NaN biased score ranks above every number (torch.topk); renormalize divides by the sum even when it is 0 (0/0 = NaN)",
        "the factor is applied only with renormalize and apply_routed_scaling_factor_on_output",
        "eager: s, the gathered weights, their sum, the division and the factor in the logits' dtype, "
        "c = s + bias in the promoted dtype (bf16 logits + f32 bias rank in f32 on bf16-rounded s); "
        "compiled=True (as SGLang runs them): f32 throughout",
        "weights returned as f32, ids as int32 (.to at the end)",
    ]

    name_k = "sglang-torch-kimi-k2"

    def kimi_fn(logits, bias, config):
        cfg = _config_fields(config)
        _check_shapes(logits, bias, cfg, name_k)
        if cfg["groups"] != 1:
            raise PeerUnsupported(f"{name_k}: ungrouped only (num_expert_group = 1), got groups={cfg['groups']}")
        return kimi(
            logits,  # hidden_states: only its row count is read (an assert)
            logits,
            bias,
            cfg["topk"],
            bool(cfg["renormalize"]),
            routed_scaling_factor=float(cfg["routed_scaling_factor"]),
            apply_routed_scaling_factor_on_output=bool(cfg["apply_routed_scaling_factor_on_output"]),
        )

    def kimi_accepts(config, logits=None):
        cfg = _config_fields(config)
        if cfg["groups"] != 1:
            return f"{name_k}: ungrouped only, got groups={cfg['groups']}"
        if logits is not None and logits.shape[0] == 0:
            return f"{name_k}: T = 0 fails in the peer (.view(0, -1) of an empty tensor)"
        return None

    name_g = "sglang-torch-biased-grouped"

    def grouped_fn(logits, bias, config):
        cfg = _config_fields(config)
        _check_shapes(logits, bias, cfg, name_g)
        return grouped(
            logits,  # hidden_states: only its row count is read (an assert)
            logits,
            bias,
            cfg["topk"],
            bool(cfg["renormalize"]),
            int(cfg["groups"]),
            int(cfg["kept_groups"]),
            num_fused_shared_experts=0,
            routed_scaling_factor=float(cfg["routed_scaling_factor"]),
            apply_routed_scaling_factor_on_output=bool(cfg["apply_routed_scaling_factor_on_output"]),
        )

    return [
        Peer(
            name=name_g, fn=grouped_fn, declares=_torch_declares("torch", _SUITE_MAX_GROUPS, compiled),
            accepts=_grouped_torch_accepts(name_g),
            source=_line_of(topk_file, "biased_grouped_topk_impl"), options=dict(compiled=compiled),
            notes=torch_notes + [
                "group score = topk(2).sum in the biased dtype (needs >= 2 experts per group); groups kept by "
                "torch.topk(sorted=False); dropped experts masked to -inf, so a kept expert at c = -inf can lose "
                "to a dropped one",
            ],
        ),
        Peer(
            name=name_k, fn=kimi_fn, declares=_torch_declares("torch", 1, compiled), accepts=kimi_accepts,
            source=_line_of(topk_file, "kimi_k2_biased_topk_impl"), options=dict(compiled=compiled),
            notes=torch_notes,
        ),
    ]


def load_sglang(
    sglang_root: os.PathLike | str,
    *,
    triton: bool = True,
    compiled: bool = False,
    use_pdl: Optional[bool] = None,
    widen_bias: bool = False,
    errors: Optional[Dict[str, str]] = None,
) -> List[Peer]:
    """SGLang's peers from a folder holding the fetched files (e.g. ".peers/sglang").

    triton=False skips the Triton router. If it cannot be loaded (no Triton here) and
    `errors` is a dict, the reason is put there under its name and the torch peers are
    still returned; with errors=None the PeerLoadError is raised.
    widen_bias: give the Triton router bias.float() for bf16/f16 biases, as SGLang's own
    call sites do (its wrapper asserts an f32 bias); declares all bias dtypes then.
    """
    root = Path(sglang_root)
    peers: List[Peer] = []
    if triton:
        try:
            peers.append(_sglang_triton_peer(root, use_pdl, widen_bias))
        except PeerLoadError as error:
            if errors is None:
                raise
            errors["sglang-triton"] = str(error)
    try:
        peers.extend(_sglang_torch_peers(root, compiled))
    except PeerLoadError as error:
        if errors is None:
            raise
        errors["sglang-torch"] = str(error)
    return peers


# --------------------------------------------------------------------------- vLLM torch grouped_topk


def load_vllm_grouped_topk(vllm_root: os.PathLike | str, *, compiled: bool = False) -> Callable:
    """vLLM's grouped_topk (the torch path: fused CUDA op off, batch-invariant mode off)."""
    torch = _import_torch()
    path = _need_file(Path(vllm_root), VLLM_GROUPED_TOPK_FILE, "vllm-torch-grouped")

    def fused_grouped_topk(*args, **kwargs):
        raise PeerLoadError("vLLM's fused CUDA grouped_topk op (_moe_C) is not part of these peers")

    namespace: Dict[str, Any] = {
        "__name__": "moegate_peer_vllm_grouped_topk",
        "torch": torch,
        # vllm.foundation.system.envs: VLLM_USE_FUSED_MOE_GROUPED_TOPK off selects the torch
        # path below the first `if`; VLLM_BATCH_INVARIANT off (its default) means sorted=False.
        "envs": types.SimpleNamespace(VLLM_USE_FUSED_MOE_GROUPED_TOPK=False, VLLM_BATCH_INVARIANT=False),
        "current_platform": types.SimpleNamespace(is_cuda=lambda: False),
        "fused_grouped_topk": fused_grouped_topk,
    }
    function = _functions_from(path, ("grouped_topk",), namespace)["grouped_topk"]
    return _maybe_compile(function, compiled, "grouped_topk")


def load_vllm(vllm_root: os.PathLike | str, *, compiled: bool = False) -> List[Peer]:
    """vLLM's peer from a folder holding the fetched file (e.g. ".peers/vllm")."""
    root = Path(vllm_root)
    grouped_topk = load_vllm_grouped_topk(root, compiled=compiled)
    name = "vllm-torch-grouped"

    def fn(logits, bias, config):
        cfg = _config_fields(config)
        _check_shapes(logits, bias, cfg, name)
        # vLLM has no apply_routed_scaling_factor_on_output: the router multiplies by the
        # factor whenever it is not 1.0 (grouped_topk_router.py, end of grouped_topk).
        return grouped_topk(
            hidden_states=logits,  # only its row count is read (an assert)
            gating_output=logits,
            topk=cfg["topk"],
            renormalize=bool(cfg["renormalize"]),
            num_expert_group=int(cfg["groups"]),
            topk_group=int(cfg["kept_groups"]),
            scoring_func="sigmoid",
            routed_scaling_factor=float(cfg["routed_scaling_factor"]),
            e_score_correction_bias=bias,
        )

    return [
        Peer(
            name=name, fn=fn,
            declares=_torch_declares("vllm-torch", _SUITE_MAX_GROUPS, compiled),
            accepts=_grouped_torch_accepts(name),
            source=_line_of(root / VLLM_GROUPED_TOPK_FILE, "grouped_topk"), options=dict(compiled=compiled),
            notes=[
                "profile 'vllm' for NaN (ranked first) and scaling (always), but a zero sum gives 0/0 = NaN, not sum + 1e-20",
                "ids from torch.topk(sorted=False): slot order unspecified; ties by torch.topk's own rule",
                "group score = topk(2).sum (needs >= 2 experts per group); dropped experts masked to -inf",
                "eager: arithmetic in the logits' dtype (biased score in the promoted dtype); compiled: f32; "
                "weights f32, ids int32",
            ],
        )
    ]


# --------------------------------------------------------------------------- all of them


def load_peers(
    peers_root: os.PathLike | str = ".peers",
    *,
    triton: bool = True,
    compiled: bool = False,
    use_pdl: Optional[bool] = None,
    widen_bias: bool = False,
    errors: Optional[Dict[str, str]] = None,
) -> List[Peer]:
    """Every peer whose source is under peers_root (sglang/ and vllm/ folders).

    A missing folder is skipped; with `errors` a dict, every peer that could not be
    loaded is named there with the reason, otherwise the first failure is raised.
    """
    root = Path(peers_root)
    peers: List[Peer] = []
    found = False
    if (root / "sglang").is_dir():
        found = True
        peers.extend(load_sglang(root / "sglang", triton=triton, compiled=compiled,
                                 use_pdl=use_pdl, widen_bias=widen_bias, errors=errors))
    if (root / "vllm").is_dir():
        found = True
        try:
            peers.extend(load_vllm(root / "vllm", compiled=compiled))
        except PeerLoadError as error:
            if errors is None:
                raise
            errors["vllm-torch-grouped"] = str(error)
    if not found:
        raise PeerLoadError(f"no sglang/ or vllm/ folder under {root.resolve()}: fetch the peers first (scripts/peers/README.md)")
    return peers


if __name__ == "__main__":  # a quick look: which peers load here, and what they declare
    import json

    where = sys.argv[1] if len(sys.argv) > 1 else ".peers"
    problems: Dict[str, str] = {}
    for peer in load_peers(where, errors=problems):
        print(f"{peer.name}  ({peer.source})")
        print("  declares:", json.dumps(peer.declares))
    for name, reason in problems.items():
        print(f"{name}: not loaded: {reason}")
