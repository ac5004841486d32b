"""The contract (configs, presets, profiles), the CPU reference and the comparator."""
from collections import namedtuple

from . import _moegate
from ._arrays import framework_of, to_host

RouterConfig = _moegate.RouterConfig
Case = _moegate.Case


def _replace(config, **changes):
    """A copy of the config with some fields changed, validated like the constructor."""
    fields = dict(experts=config.experts, topk=config.topk, groups=config.groups, kept_groups=config.kept_groups,
                  renormalize=config.renormalize, routed_scaling_factor=config.routed_scaling_factor,
                  apply_routed_scaling_factor_on_output=config.apply_routed_scaling_factor_on_output)
    profile = changes.pop("profile", None)
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"replace: unknown field(s) {sorted(unknown)}; fields: {sorted(fields) + ['profile']}")
    fields.update(changes)
    new = config._with(fields["experts"], fields["topk"], fields["groups"], fields["kept_groups"],
                       bool(fields["renormalize"]), float(fields["routed_scaling_factor"]),
                       bool(fields["apply_routed_scaling_factor_on_output"]))
    return new._with_profile(profile) if profile is not None else new


def _repr(config):
    return (f"RouterConfig(experts={config.experts}, topk={config.topk}, groups={config.groups}, "
            f"kept_groups={config.kept_groups}, renormalize={config.renormalize}, "
            f"routed_scaling_factor={config.routed_scaling_factor:.9g}, "
            f"apply_routed_scaling_factor_on_output={config.apply_routed_scaling_factor_on_output}, "
            f"profile={config.profile!r})")


RouterConfig.replace = _replace
RouterConfig.__repr__ = _repr
Case.__repr__ = lambda case: f"Case({case.line!r})"


def presets():
    """{name: RouterConfig} of the named configs (Kimi K2, DeepSeek V3, ...)."""
    return {name: config for name, _source, config in _moegate._presets()}


def preset(name, **changes):
    """A named config (moegate.presets()), with optional changes (e.g. profile='torch')."""
    for known, _source, config in _moegate._presets():
        if known == name:
            return _replace(config, **changes) if changes else config
    raise ValueError(f"preset: unknown preset {name!r} (known: {', '.join(presets())})")


def profiles():
    """{name: {'follows': ..., 'nan_rank': ..., 'zero_sum': ..., 'scaling': ...}} of the documented behaviours."""
    return {name: dict(follows=follows, **switches) for name, follows, switches in _moegate._profiles()}


Oracle = namedtuple("Oracle", "weights ids keys selection_margin group_margin")


def route(logits, bias, config, mode="f32", threads=0):
    """The CPU reference on CPU arrays [T, E] and [E] (any framework, no copy).

    mode="f32": the contract's answer bit for bit, as (weights f32 [T, k], ids int32 [T, k]).
    mode="f64": the oracle, as Oracle(weights, ids, keys, selection_margin, group_margin)."""
    _check_config(config)
    out = _moegate._route(config, logits, bias, mode, threads)
    if mode == "f64":
        return Oracle(out["weights"], out["ids"], out["keys"], out["selection_margin"], out["group_margin"])
    return out["weights"], out["ids"]


class Report:
    """The comparator's verdict on one output: ok, per-clause counts, the readable text,
    the known-divergence line and (when known) the case line that replays it."""

    def __init__(self, raw, case=None, profile=None, options=None):
        self.ok = bool(raw["ok"])
        self.tokens = raw["tokens"]
        self.failing_tokens = raw["failing_tokens"]
        self.counts = dict(raw["counts"])
        self.violations = list(raw["violations"])
        self.text = raw["text"]
        self.known_divergence = raw["known_divergence"]
        self.score_ulps = raw["score_ulps"]
        self.weight_ulps = raw["weight_ulps"]
        self.case = case
        self.profile = profile
        self.options = options or {}

    def __bool__(self):
        return self.ok

    @property
    def clauses(self):
        """The clauses that were violated, most frequent first."""
        return [name for name, count in sorted(self.counts.items(), key=lambda kv: -kv[1]) if count]

    def __str__(self):
        text = self.text + self.known_divergence
        if self.case:
            text += f"case: {self.case}\n"
        return text

    def __repr__(self):
        return f"<moegate.Report {'PASS' if self.ok else 'FAIL ' + ', '.join(self.clauses)}>"


def _check_config(config):
    if not isinstance(config, RouterConfig):
        raise TypeError(f"config: expected a moegate.RouterConfig, got {type(config).__name__}")


def _host(array, name):
    if array is None:
        raise TypeError(f"{name}: got None, expected an array")
    return to_host(array) if framework_of(array) != "numpy" else array


def judge(config, logits, bias, ids, weights, *, profile=None, order="selection", precision="f32",
          score_ulps=0, weight_ulps=0, shown=5, case=None):
    """Judges a router's output (ids and weights [T, k]) for these inputs against the contract.

    profile: judge by another documented behaviour (moegate.profiles()); order="any": slot order
    not judged; precision: the arithmetic the router declares (f32, bf16, f16), from which the
    rounding bands are derived. GPU arrays are copied to the host. Returns a Report."""
    _check_config(config)
    if profile is not None:
        config = config.replace(profile=profile)
    raw = _moegate._judge(config, _host(logits, "logits"), _host(bias, "bias"), _host(ids, "ids"),
                          _host(weights, "weights"), precision, order, int(score_ulps), int(weight_ulps),
                          int(shown), True)
    return Report(raw, case=case, profile=config.profile,
                  options=dict(order=order, precision=precision))
