"""moegate: the noaux_tc MoE router gate's contract, reference, comparator and
kernels, from Python (docs/python.md).

    import moegate
    moegate.check_router(my_router, support=moegate.Support(max_topk=8, profile="torch"))

judges `my_router(logits, bias, config) -> (weights, ids)` on the property
suite every moegate stage meets: the sweep, the kept regressions and the
RapidCheck property, with failures shrunk to one replayable case line.
"""
from . import _moegate
from ._contract import RouterConfig, preset, presets, profiles, route, judge, Report, Case
from .check import Support, check_router, replay, CheckSummary, RouterCheckFailure
from . import vectors

contract_version = _moegate.contract_version

__all__ = [
    "RouterConfig", "preset", "presets", "profiles", "route", "judge", "Report", "Case",
    "Support", "check_router", "replay", "CheckSummary", "RouterCheckFailure",
    "vectors", "cuda", "bench", "contract_version",
]


def __getattr__(name):
    # moegate.cuda and moegate.bench import torch lazily: only when used.
    import importlib
    if name == "cuda":
        return importlib.import_module(".cuda", __name__)
    if name == "bench":
        return importlib.import_module("._bench", __name__).bench
    raise AttributeError(f"module 'moegate' has no attribute {name!r}")
