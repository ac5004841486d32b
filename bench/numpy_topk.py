#!/usr/bin/python3
"""The router gate in plain numpy (sigmoid + argpartition), timed per logit.

The yardstick for the CPU reference's speed: bench/compare-numpy runs this
beside reference_bench in one run. Same shape as the C++ benchmark:
T = 65536, E = 384, k = 8 (kimi-k2), f32, renormalize, scaling 2.827.
"""
import argparse
import time

import numpy as np


def route(logits, bias, topk, scaling):
    scores = 1.0 / (1.0 + np.exp(-logits))
    biased = scores + bias
    part = np.argpartition(-biased, topk - 1, axis=1)[:, :topk]
    order = np.argsort(-np.take_along_axis(biased, part, axis=1), axis=1, kind="stable")
    ids = np.take_along_axis(part, order, axis=1)
    weights = np.take_along_axis(scores, ids, axis=1)
    weights = weights / weights.sum(axis=1, keepdims=True) * np.float32(scaling)
    return weights, ids


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=65536)
    parser.add_argument("--experts", type=int, default=384)
    parser.add_argument("--topk", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    logits = rng.normal(0.0, 2.0, (args.tokens, args.experts)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, args.experts).astype(np.float32)
    route(logits, bias, args.topk, 2.827)  # warm-up
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        route(logits, bias, args.topk, 2.827)
        best = min(best, time.perf_counter() - start)
    per_logit = best * 1e9 / (args.tokens * args.experts)
    print(f"numpy {np.__version__}: T={args.tokens} E={args.experts} k={args.topk}: "
          f"{best * 1e3:.1f} ms, {per_logit:.2f} ns per logit (best of {args.repeats}, 1 thread)")


if __name__ == "__main__":
    main()
