#!/usr/bin/env python3
"""The golden vectors seen from outside: a backend that cannot link moegate.

  interop.py MOEGATE_BINARY WORK_DIR

Writes a small suite with `moegate vectors` (twice: the files must be
byte-identical), reads it with nothing but the
Python standard library (struct, json), routes every case with its own
straightforward implementation of the contract (docs/semantics.md), writes
the outputs as safetensors and asks `moegate check` to judge them: they
must pass. Then it plants a wrong tie rule (equal biased scores go to the
higher expert index) and `moegate check` must reject those outputs, naming
the tie clause; a truncated outputs file must be refused as bad input
(exit 2). Exit 0 when all three hold.
"""
import json
import math
import os
import struct
import subprocess
import sys


def f32(value):
    """Round a Python float to the nearest f32."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = entry["dtype"]
        code = {"F32": "f", "I32": "i", "F64": "d", "F16": "e", "BF16": "H"}[dtype]
        count = (end - begin) // struct.calcsize(code)
        values = struct.unpack("<%d%s" % (count, code), data[begin:end])
        if dtype == "BF16":  # the upper half of an f32
            values = tuple(struct.unpack("<f", struct.pack("<I", v << 16))[0] for v in values)
        tensors[name] = (entry["shape"], values)
    return tensors


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        dtype, shape, values = tensors[name]
        code = {"F32": "f", "I32": "i"}[dtype]
        blob = struct.pack("<%d%s" % (len(values), code), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def sigmoid(x):
    """The contract's f32 sigmoid: e = exp(-x) rounded to f32, one f32 add, one f32 divide."""
    try:
        e = f32(math.exp(-x))
    except OverflowError:
        e = math.inf
    return f32(1.0 / f32(1.0 + e)) if not math.isnan(x) else math.nan


def rank_key(value, index, ties_to_higher):
    """Sort key, largest first: numbers above NaN, then the lower index (or, planted, the higher)."""
    nan = math.isnan(value)
    return (0 if nan else 1, 0.0 if nan else value, index if ties_to_higher else -index)


def route(case, logits, bias, ties_to_higher):
    experts, k, groups, kept = case["experts"], case["topk"], case["groups"], case["kept_groups"]
    ids, weights = [], []
    for t in range(case["tokens"]):
        row = logits[t * case["row_stride"]:t * case["row_stride"] + experts]
        s = [sigmoid(x) for x in row]
        c = [f32(s[e] + bias[e]) for e in range(experts)]
        candidates = list(range(experts))
        if groups > 1:
            size = experts // groups
            scores = []
            for g in range(groups):
                top = sorted(range(g * size, (g + 1) * size), key=lambda e: rank_key(c[e], e, ties_to_higher),
                             reverse=True)[:2]
                scores.append(f32(sum(c[e] for e in top)) if len(top) == 2 else c[top[0]])
            keep = sorted(range(groups), key=lambda g: rank_key(scores[g], g, ties_to_higher), reverse=True)[:kept]
            candidates = [e for e in candidates if e // size in keep]
        chosen = sorted(candidates, key=lambda e: rank_key(c[e], e, ties_to_higher), reverse=True)[:k]
        w = [s[e] for e in chosen]
        if case["renormalize"]:
            total = 0.0
            for value in w:
                total = f32(total + value)
            if total > 0:
                w = [f32(value / total) for value in w]
            if case["apply_routed_scaling_factor_on_output"]:
                factor = f32(case["routed_scaling_factor"])
                w = [f32(value * factor) for value in w]
        ids += chosen
        weights += w
    return ids, weights


def run_backend(suite, manifest, out_path, ties_to_higher):
    tensors = {}
    for case in manifest["cases"]:
        vectors = read_safetensors(os.path.join(suite, case["file"]))
        ids, weights = route(case, vectors["logits"][1], vectors["bias"][1], ties_to_higher)
        stem = case["file"][: -len(".safetensors")]
        shape = [case["tokens"], case["topk"]]
        tensors[stem + ".ids"] = ("I32", shape, ids)
        tensors[stem + ".weights"] = ("F32", shape, weights)
    write_safetensors(out_path, tensors)


def main():
    moegate, work = sys.argv[1], sys.argv[2]
    suite = os.path.join(work, "suite")
    os.makedirs(work, exist_ok=True)
    subprocess.run([moegate, "vectors", "--out", suite, "--suite", "interop", "--preset", "kimi-k2", "--preset",
                    "deepseek-v3", "--preset", "glm-4.5", "--dtype", "f32", "--dtype", "bf16", "--dtype", "f16",
                    "--tokens", "9", "--replace"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(suite, "manifest.json")) as f:
        manifest = json.load(f)
    # Deterministic: the same arguments write byte-identical files.
    again = os.path.join(work, "suite-again")
    subprocess.run([moegate, "vectors", "--out", again, "--suite", "interop", "--preset", "kimi-k2", "--preset",
                    "deepseek-v3", "--preset", "glm-4.5", "--dtype", "f32", "--dtype", "bf16", "--dtype", "f16",
                    "--tokens", "9", "--replace"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    differing = [name for name in sorted(os.listdir(suite))
                 if open(os.path.join(suite, name), "rb").read() != open(os.path.join(again, name), "rb").read()]
    ties = sum(len(case["tie_tokens"]) for case in manifest["cases"])

    good = os.path.join(work, "outputs.safetensors")
    run_backend(suite, manifest, good, ties_to_higher=False)
    passed = subprocess.run([moegate, "check", "--vectors", suite, "--outputs", good], capture_output=True, text=True)
    print(passed.stdout.strip().splitlines()[-1] if passed.stdout.strip() else passed.stderr.strip())

    planted = os.path.join(work, "outputs-ties-to-higher.safetensors")
    run_backend(suite, manifest, planted, ties_to_higher=True)
    caught = subprocess.run([moegate, "check", "--vectors", suite, "--outputs", planted, "--clauses"],
                            capture_output=True, text=True)
    print("planted wrong tie rule: " + " | ".join(caught.stdout.strip().splitlines()[-2:]))

    # A hostile outputs file is refused as bad input (exit 2), not judged.
    broken = os.path.join(work, "outputs-broken.safetensors")
    with open(good, "rb") as f:
        blob = f.read()
    with open(broken, "wb") as f:
        f.write(blob[: len(blob) // 2])
    refused = subprocess.run([moegate, "check", "--vectors", suite, "--outputs", broken], capture_output=True, text=True)
    print("truncated outputs: exit %d: %s" % (refused.returncode, refused.stderr.strip()))

    ok = True
    if differing or sorted(os.listdir(suite)) != sorted(os.listdir(again)):
        print("FAIL: writing the suite twice gave different files: %s" % differing[:5])
        ok = False
    if refused.returncode != 2 or "truncated" not in refused.stderr:
        print("FAIL: a truncated outputs file was not refused with exit 2")
        ok = False
    if passed.returncode != 0:
        print("FAIL: moegate check rejected this backend's outputs:\n" + passed.stdout + passed.stderr)
        ok = False
    if caught.returncode != 1 or "tie_order" not in caught.stdout:
        print("FAIL: the planted tie rule was not caught (exit %d)" % caught.returncode)
        ok = False
    print("interop: %d cases, %d tokens with exact ties at the cut; %s" %
          (len(manifest["cases"]), ties, "passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
