"""check_router: the property suite every moegate stage meets, run on a Python router.

A router is any callable `fn(logits, bias, config) -> (weights, ids)` (either order: the
integer array is the ids). It is judged on

1. the kept regressions (property_tests/regressions.txt),
2. the sweep (presets and a grid of shapes x hostile input families x T up to 65536),
3. the random RapidCheck property (`budget` cases, driven by `moegate property` in a
   child process, so RapidCheck generates and shrinks exactly as for the GPU stages),

every case fitted to the router's declared Support. The first failure is shrunk (RapidCheck's
shrinking for the property; a greedy structural shrink for a fixed case) and raised as a
RouterCheckFailure carrying the case line, the comparator's report and the known-divergence
line. docs/python.md has the protocol and the options.
"""
import os
import random
import subprocess
import time
import traceback

from . import _moegate
from ._arrays import (DTYPES, FRAMEWORKS, cuda_available, default_framework, dtype_name, from_buffer, is_float,
                      is_integer, to_host)
from ._contract import Case, Report, RouterConfig, preset

DEFAULT_BUDGET = 300  # as for the GPU stages (property_tests/support.cpp)
_ORDERS = ("selection", "any")


def default_budget():
    """MOEGATE_PROPERTY_BUDGET (set by pytest's --moegate-budget too), else 300."""
    value = os.environ.get("MOEGATE_PROPERTY_BUDGET", "")
    try:
        return int(value) if int(value) > 0 else DEFAULT_BUDGET
    except ValueError:
        return DEFAULT_BUDGET


class Support:
    """What a router takes and which documented behaviour it declares.

    experts: None (any count up to max_experts), an int (at most that many) or a list (exactly those);
    presets / configs: exactly these configs (shape and scaling); max_topk, max_groups (1: ungrouped);
    logits_dtypes, bias_dtypes: among "f32", "bf16", "f16"; padded_rows: takes logits whose rows are a
    slice of wider rows (a non-contiguous [T, E] view); row_stride_multiple; pointer_alignment: bytes the
    logits pointer needs (1: the suite hands views that start at any element offset of their allocation,
    like logits[:, 1:]; 16: only 16-byte aligned ones); max_tokens.
    Declarations judged by: profile (moegate.profiles()), order ("selection" or "any": slots in any
    order), precision ("f32", "bf16", "f16", or "logits": the logits' own dtype, as a torch reference
    computing in its input dtype does), score_ulps / weight_ulps (0: derived from the precision).
    """

    def __init__(self, experts=None, *, max_topk=32, max_groups=32, presets=(), configs=(),
                 logits_dtypes=DTYPES, bias_dtypes=DTYPES, padded_rows=True, row_stride_multiple=1,
                 pointer_alignment=1, max_tokens=None, profile="moegate", order="selection", precision="f32",
                 score_ulps=0, weight_ulps=0):
        self.experts = experts
        self.max_topk = int(max_topk)
        self.max_groups = int(max_groups)
        self.configs = [preset(name) for name in presets] + list(configs)
        for config in self.configs:
            if not isinstance(config, RouterConfig):
                raise TypeError(f"configs: expected moegate.RouterConfig items, got {type(config).__name__}")
        self.logits_dtypes = tuple(dtype_name(d) for d in _as_tuple(logits_dtypes))
        self.bias_dtypes = tuple(dtype_name(d) for d in _as_tuple(bias_dtypes))
        self.padded_rows = bool(padded_rows)
        self.row_stride_multiple = int(row_stride_multiple)
        self.pointer_alignment = int(pointer_alignment)
        self.max_tokens = max_tokens
        if profile not in _profile_names():
            raise ValueError(f"profile: unknown profile {profile!r} (known: {', '.join(_profile_names())})")
        self.profile = profile
        if order not in _ORDERS:
            raise ValueError(f"order: must be 'selection' or 'any', got {order!r}")
        self.order = order
        if precision != "logits":
            precision = dtype_name(precision)
        self.precision = precision
        self.score_ulps = int(score_ulps)
        self.weight_ulps = int(weight_ulps)
        self.line = _moegate._support_line(self._raw_line())  # validated by the C++ side, ValueError otherwise

    def _raw_line(self):
        words = []
        if self.experts is None:
            pass
        elif isinstance(self.experts, int):
            words.append(f"max_experts={self.experts}")
        else:
            counts = sorted(int(e) for e in self.experts)
            if not counts:
                raise ValueError("experts: an empty list; give None for any count")
            words.append("experts=" + ",".join(map(str, counts)))
            words.append(f"max_experts={max(counts)}")
        words.append(f"max_topk={self.max_topk}")
        words.append(f"max_groups={self.max_groups}")
        for c in self.configs:
            words.append(f"config={c.experts}:{c.topk}:{c.groups}:{c.kept_groups}:{int(c.renormalize)}:"
                         f"{c.routed_scaling_factor!r}:{int(c.apply_routed_scaling_factor_on_output)}")
        words.append("logits=" + ",".join(self.logits_dtypes))
        words.append("bias=" + ",".join(self.bias_dtypes))
        words.append(f"padded_rows={int(self.padded_rows)}")
        words.append(f"row_stride_multiple={self.row_stride_multiple}")
        words.append(f"pointer_alignment={self.pointer_alignment}")
        words.append(f"max_tokens={int(self.max_tokens or 0)}")
        words.append(f"profile={self.profile}")
        return " ".join(words)

    def precision_for(self, case):
        return case.logits_dtype if self.precision == "logits" else self.precision

    def judge_options(self, case):
        return dict(precision=self.precision_for(case), order=self.order, score_ulps=self.score_ulps,
                    weight_ulps=self.weight_ulps)

    def describe(self):
        extra = [f"order={self.order}", f"precision={self.precision}"]
        return self.line + " " + " ".join(extra)

    def __repr__(self):
        return f"moegate.Support({self.describe()})"


def _as_tuple(value):
    return (value,) if isinstance(value, str) or not hasattr(value, "__iter__") else tuple(value)


def _profile_names():
    return [name for name, _follows, _switches in _moegate._profiles()]


class RouterCheckFailure(AssertionError):
    """A router failed the contract on a case. Attributes: case (the shrunk case line), report (the
    comparator's Report, or None when the router raised), error (the router's exception text), phase
    ("regressions", "sweep" or "property"), original (the case before shrinking), seed, support."""

    def __init__(self, name, phase, case, report, error, original, seed, support, flaky=False):
        self.router = name
        self.phase = phase
        self.case = case
        self.report = report
        self.error = error
        self.original = original
        self.seed = seed
        self.support = support
        self.flaky = flaky
        super().__init__(self._message())

    def _message(self):
        lines = [f"check_router: {self.router} fails the contract ({self.phase}"
                 + (f", RapidCheck seed {self.seed}" if self.seed is not None else "") + ")"]
        if self.flaky:
            lines.append("flaky: the shrunk case passed when run once more (a race or uninitialised memory?)")
        lines.append(f"case: {self.case}")
        if self.original and self.original != self.case:
            lines.append(f"shrunk from: {self.original}")
        lines.append(f"support: {self.support.describe()}")
        lines.append("replay: moegate.replay(router, case) in Python; the contract's answer: "
                     f"moegate route --case '{self.case}' --show 4")
        if self.error:
            lines.append("the router raised: " + self.error.rstrip())
        if self.report is not None:
            lines.append(self.report.text.rstrip())
            if self.report.known_divergence:
                lines.append(self.report.known_divergence.rstrip())
        return "\n".join(lines)


class CheckSummary:
    """What a passing check_router judged."""

    def __init__(self, name, support, framework, device):
        self.router = name
        self.support = support
        self.framework = framework
        self.device = device
        self.regressions = 0
        self.sweep = 0
        self.property_cases = 0
        self.seed = None
        self.seconds = 0.0

    def __str__(self):
        return (f"check_router: {self.router} meets the contract ({self.framework} on {self.device}): "
                f"{self.regressions} kept regressions, {self.sweep} sweep cases, {self.property_cases} random "
                f"cases (RapidCheck seed {self.seed}), {self.seconds:.1f} s; support: {self.support.describe()}")

    __repr__ = __str__


class _Runner:
    """Runs one case through the router and judges it."""

    def __init__(self, fn, support, framework, device):
        self.fn = fn
        self.support = support
        self.framework = framework
        self.device = device

    def inputs(self, generated, case):
        # The rows start case.offset elements into their allocation (a view like logits[:, 1:]), and
        # their padding past E holds the case's padding values.
        storage = from_buffer(generated.storage, case.logits_dtype, self.framework, self.device)
        rows = storage[case.offset:case.offset + case.tokens * case.row_stride].reshape(case.tokens, case.row_stride)
        logits = rows[:, :case.experts] if case.row_stride != case.experts else rows
        bias = from_buffer(generated.bias, case.bias_dtype, self.framework, self.device)
        return logits, bias

    def run(self, case, shown=5, divergence=True):
        """(Report or None, error text or None): the verdict on one case."""
        generated = case._generate()
        logits, bias = self.inputs(generated, case)
        try:
            out = self.fn(logits, bias, case.config)
            if self.device != "cpu" and self.framework == "torch":
                import torch
                torch.cuda.synchronize()
        except Exception as error:  # the router's own failure is a verdict, not a crash of the check
            return None, "".join(traceback.format_exception_only(type(error), error))
        try:
            weights, ids = _split_outputs(out)
            raw = generated.judge(to_host(ids), to_host(weights), shown=shown, divergence=divergence,
                                  **self.support.judge_options(case))
        except (TypeError, ValueError) as error:
            return None, f"its output could not be judged: {error}"
        report = Report(raw, case=case.line, profile=case.config.profile, options=self.support.judge_options(case))
        return report, None

    def fails(self, case):
        report, error = self.run(case, shown=0, divergence=False)
        return error is not None or not report.ok


def _split_outputs(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"the router must return (weights, ids), got {type(out).__name__}")
    first, second = out
    if is_integer(first) and is_float(second):
        return second, first
    if is_float(first) and is_integer(second):
        return first, second
    raise TypeError("the router must return one float array (weights) and one integer array (ids), got "
                    f"{getattr(first, 'dtype', type(first).__name__)} and {getattr(second, 'dtype', type(second).__name__)}")


def _name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _resolve(framework, device):
    framework = framework or default_framework()
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework: must be one of {FRAMEWORKS}, got {framework!r}")
    if device is None:
        device = "cuda" if framework != "numpy" and cuda_available(framework) else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device: must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not cuda_available(framework):
        raise ValueError(f"device: 'cuda' asked for, but {framework} sees no CUDA device")
    return framework, device


def _check_dtypes(support, framework):
    wanted = set(support.logits_dtypes) | set(support.bias_dtypes)
    if "bf16" not in wanted:
        return
    if framework == "cupy":
        raise ValueError("support: CuPy cannot hold bf16: declare logits_dtypes and bias_dtypes without it")
    if framework == "numpy":
        try:
            import ml_dtypes  # noqa: F401
        except ImportError:
            raise ValueError("support: numpy cannot hold bf16 without the ml_dtypes package: declare logits_dtypes "
                             "and bias_dtypes without it (e.g. bias_dtypes='f32')") from None


def replay(fn, case, support=None, *, framework=None, device=None):
    """Runs one case line (from a RouterCheckFailure) through the router and returns the Report
    (RouterCheckFailure-style text when the router raises)."""
    support = support or Support()
    framework, device = _resolve(framework, device)
    routing_case = case if isinstance(case, Case) else Case.parse(str(case))
    report, error = _Runner(fn, support, framework, device).run(routing_case)
    if error:
        raise RuntimeError(f"the router raised on {routing_case.line}:\n{error}")
    return report


def _fixed_cases(cases, support):
    seen, out = set(), []
    for case in cases:
        fitted = _moegate._fit(support.line, case)
        if fitted.line not in seen:
            seen.add(fitted.line)
            out.append(fitted)
    return out


def _fail_fixed(runner, name, phase, case, support, report, error, shrink_attempts):
    shrunk = _moegate._shrink(support.line, case, runner.fails, shrink_attempts) if shrink_attempts else case
    if shrunk.line != case.line:
        report, error = runner.run(shrunk)
    raise RouterCheckFailure(name, phase, shrunk.line, report, error, case.line, None, support)


def _run_property(runner, name, support, budget, seed, summary):
    from . import _build
    command = [_build.cli, "property", "--support", support.line, "--budget", str(budget), "--seed", str(seed)]
    driver = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, bufsize=1)
    done = None
    try:
        for line in driver.stdout:
            line = line.rstrip("\n")
            if line.startswith("case "):
                failed = runner.fails(Case.parse(line[5:]))
                driver.stdin.write("fail\n" if failed else "pass\n")
                driver.stdin.flush()
            elif line.startswith("done "):
                done = line[5:]
                break
    finally:
        if driver.poll() is None:
            driver.stdin.close()
            driver.wait(timeout=60)
        stderr = driver.stderr.read()
    if done is None:
        raise RuntimeError(f"moegate property ended without a verdict (exit {driver.returncode}): {stderr.strip()}")
    kind, _, rest = done.partition(" ")
    if kind == "pass":
        summary.property_cases = int(rest)
        return
    if kind == "fail":
        _passed, _, case_line = rest.partition(" ")
        case = Case.parse(case_line)
        report, error = runner.run(case)
        flaky = error is None and report.ok
        raise RouterCheckFailure(name, "property", case_line, report, error, None, seed, support, flaky=flaky)
    raise RuntimeError(f"moegate property: {done} ({stderr.strip()})")


def check_router(fn, support=None, *, budget=None, framework=None, device=None, seed=None, regressions=True,
                 sweep=True, random_cases=True, shrink_attempts=120, name=None, progress=None):
    """Judges `fn(logits, bias, config) -> (weights, ids)` on the property suite every moegate stage
    meets; raises RouterCheckFailure (an AssertionError) on the first failing case, shrunk.

    support: a moegate.Support (what fn takes and which behaviour it declares; default: everything,
    moegate's contract). budget: random cases (default MOEGATE_PROPERTY_BUDGET or 300).
    framework: "torch" (default when importable), "numpy", "cupy" or "jax"; device: "cuda" when that
    framework sees a GPU, else "cpu". seed: RapidCheck's seed (default random; printed).
    Returns a CheckSummary."""
    if not callable(fn):
        raise TypeError(f"fn: expected a callable router, got {type(fn).__name__}")
    support = support or Support()
    if not isinstance(support, Support):
        raise TypeError(f"support: expected a moegate.Support, got {type(support).__name__}")
    budget = default_budget() if budget is None else int(budget)
    if budget < 0:
        raise ValueError("budget: must be >= 0")
    framework, device = _resolve(framework, device)
    _check_dtypes(support, framework)
    name = name or _name(fn)
    runner = _Runner(fn, support, framework, device)
    summary = CheckSummary(name, support, framework, device)
    start = time.perf_counter()
    say = progress or (lambda message: None)
    phases = []
    if regressions:
        phases.append(("regressions", _moegate._kept_regressions()))
    if sweep:
        phases.append(("sweep", _moegate._sweep()))
    for phase, cases in phases:
        fitted = _fixed_cases(cases, support)
        say(f"{name}: {phase}: {len(fitted)} cases")
        for case in fitted:
            report, error = runner.run(case)
            if error is not None or not report.ok:
                _fail_fixed(runner, name, phase, case, support, report, error, shrink_attempts)
        setattr(summary, phase, len(fitted))
    if random_cases and budget > 0:
        summary.seed = int(seed) if seed is not None else random.SystemRandom().randrange(1 << 63)
        say(f"{name}: property: {budget} random cases, seed {summary.seed}")
        _run_property(runner, name, support, budget, summary.seed, summary)
    summary.seconds = time.perf_counter() - start
    return summary
