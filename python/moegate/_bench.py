"""moegate.bench: time a Python router (a Triton kernel, torch ops, ...) as bench/stage_bench times the
stages, in the same process and run: CUDA-graph replay of `calls` calls, cold cache (the calls rotate
over input copies covering 4x the L2) and hot cache (T <= 1024), with the device-to-device copy
bandwidth and an empty kernel's launch cost measured first. Our stages are timed the same way beside
it. Writes stage_bench's JSON, so `scripts/report` tables and plots it beside the ladder."""
import datetime
import json
import math
import os

from . import _moegate
from ._arrays import from_buffer
from ._contract import Case, preset as _preset

DEFAULT_TOKENS = (1, 64, 512, 4096, 65536)


def _torch():
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("moegate.bench needs torch with a CUDA device")
    return torch


def _timer(torch, stream):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def ms(work):
        start.record(stream)
        work()
        stop.record(stream)
        stop.synchronize()
        return start.elapsed_time(stop)

    return ms


def measure_machine(torch, calls=50):
    """The card, its copy bandwidth (bytes read + written) and an empty kernel's launch in a graph."""
    device = torch.cuda.current_device()
    props = torch.cuda.get_device_properties(device)
    stream = torch.cuda.Stream()
    ms = _timer(torch, stream)
    size = 1 << 30
    source = torch.ones(size, dtype=torch.uint8, device="cuda")
    target = torch.empty_like(source)
    with torch.cuda.stream(stream):
        copy_ms = min(ms(lambda: target.copy_(source)) for _ in range(20))
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=stream):
            _moegate._cuda_launch_empty(torch.cuda.current_stream().cuda_stream, calls)
        graph.replay()
        empty_ms = min(ms(graph.replay) for _ in range(20))
    del source, target
    return {
        "card": props.name,
        "sm_count": str(props.multi_processor_count),
        "l2_bytes": str(getattr(props, "L2_cache_size", 50 << 20)),
        "cuda": _moegate._cuda_version(),
        "copy_gbps": str(2.0 * size / (copy_ms * 1e-3) / 1e9),
        "empty_launch_us_in_graph": str(empty_ms * 1e3 / calls),
        "calls_per_sample": str(calls),
        "timed_by": "moegate.bench (torch CUDA graphs)",
    }


def _case(config, tokens, dtype):
    # stage_bench's inputs: normal logits and bias, seed 1, dense rows, f32 bias.
    return Case.parse(
        f"experts={config.experts} topk={config.topk} groups={config.groups} kept_groups={config.kept_groups} "
        f"renormalize={int(config.renormalize)} scaling={config.routed_scaling_factor!r} "
        f"apply={int(config.apply_routed_scaling_factor_on_output)} nan_rank=lowest nan_replacement=-1e+30 "
        f"zero_sum=raw scaling_rule=with_renormalize tokens={tokens} row_stride={config.experts} logits=normal "
        f"bias=normal hostile=4 logits_dtype={dtype} bias_dtype=f32 seed=1")


def _time_graph(torch, enqueue, copies, calls, repeats, stream):
    """Per-call µs of `calls` calls (call i on input copy i % copies) captured in one graph, replayed."""
    ms = _timer(torch, stream)
    with torch.cuda.stream(stream):
        for i in range(min(copies, 3)):  # warm-up outside the graph (compilation, autotuning, lazy init)
            enqueue(i)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=stream):
            for i in range(calls):
                enqueue(i % copies)
        graph.replay()
        torch.cuda.synchronize()
        total = sum(ms(graph.replay) for _ in range(repeats))
    return total * 1e3 / (repeats * calls)


def bench(fn=None, presets=("kimi-k2",), tokens=DEFAULT_TOKENS, *, name="python_router", dtypes=("f32",),
          stages=("default",), configs=None, hot=True, calls=50, repeats=20, out=None, commit=None, progress=print):
    """Times fn(logits, bias, config) (None: only the stages) and the named moegate stages ("default" = the
    dispatch, or stage ids from moegate.cuda.stages()) for every preset (or {label: RouterConfig} in
    `configs`) x logits dtype x T. Returns stage_bench's JSON as a dict; writes it to `out` when given."""
    torch = _torch()
    from . import cuda as moegate_cuda
    context = measure_machine(torch, calls)
    context["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    context["commit"] = commit or os.environ.get("MOEGATE_COMMIT", "unknown")
    l2 = int(context["l2_bytes"])
    copy_gbps = float(context["copy_gbps"])
    if progress:
        progress(f"bench: {context['card']}: copy {copy_gbps:.0f} GB/s, empty kernel "
                 f"{float(context['empty_launch_us_in_graph']):.2f} µs per launch in a graph")
    shapes = dict(configs) if configs else {p: _preset(p) for p in presets}
    timed = ([(name, fn)] if fn is not None else []) + [("moegate_default" if s == "default" else s, s) for s in stages]
    stream = torch.cuda.Stream()
    rows = []
    for label, config in shapes.items():
        for dtype in dtypes:
            for t in tokens:
                case = _case(config, t, dtype)
                generated = case._generate()
                logits_buffer, bias_buffer = generated.logits, generated.bias
                logits_bytes = logits_buffer.nbytes
                bias = from_buffer(bias_buffer, "f32", "torch", "cuda")
                caches = [("cold", int(min(64, max(1, math.ceil(4 * l2 / logits_bytes)))))]
                if hot and t <= 1024:
                    caches.append(("hot", 1))
                base = from_buffer(logits_buffer, dtype, "torch", "cuda")
                bytes_per_call = logits_bytes + bias_buffer.nbytes + t * config.topk * 8
                for cache, copies in caches:
                    inputs = [base] + [base.clone() for _ in range(copies - 1)]
                    for timed_label, what in timed:
                        if isinstance(what, str):
                            stage = None if what == "default" else what
                            enqueue = (lambda i, stage=stage: moegate_cuda.route(inputs[i], bias, config, stage))
                        else:
                            enqueue = (lambda i, what=what: what(inputs[i], bias, config))
                        try:
                            us = _time_graph(torch, enqueue, copies, calls, repeats, stream)
                        except Exception as error:  # a router that cannot run or be captured: say so, go on
                            if progress:
                                progress(f"bench: {timed_label} {label} {dtype} T={t} {cache}: skipped: {error}")
                            continue
                        gbps = bytes_per_call / (us * 1e-6) / 1e9
                        rows.append({
                            "name": f"{timed_label}/{label}/{dtype}/T:{t}/graph/{cache}", "run_type": "iteration",
                            "iterations": repeats, "real_time": us, "cpu_time": us, "time_unit": "us",
                            "us_per_call": us, "bytes_per_call": float(bytes_per_call), "GBps": gbps,
                            "pct_of_copy": 100.0 * gbps / copy_gbps, "tokens": float(t)})
                        if progress:
                            progress(f"{rows[-1]['name']}: {us:.2f} us per call")
                    del inputs
    result = {"context": context, "benchmarks": rows}
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=1)
    return result
