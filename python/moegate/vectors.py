"""Golden test vectors from Python (docs/vectors.md): write a suite, read its cases, write a
backend's outputs and judge them, with no hand-written safetensors reader.

    suite = moegate.vectors.write("suite", presets=["kimi-k2"], dtypes=["f32"], tokens=9)
    outputs = {case.file: my_router(case.logits, case.bias, case.config) for case in moegate.vectors.read("suite")}
    moegate.vectors.write_outputs("outputs.safetensors", outputs)
    result = moegate.vectors.check("suite", "outputs.safetensors")
"""
import os
from collections import namedtuple

import numpy as np

from . import _moegate
from ._arrays import dtype_name, from_buffer, to_host
from ._contract import RouterConfig


def write(directory, *, presets=(), config=None, dtypes=("f32", "bf16"), tokens=33, seed=1, name=None, replace=False):
    """Writes a suite (manifest.json and case-NNNN.safetensors) as `moegate vectors` does, atomically; a
    non-empty directory is refused unless replace=True. Returns the directory."""
    if config is not None and not isinstance(config, RouterConfig):
        raise TypeError(f"config: expected a moegate.RouterConfig, got {type(config).__name__}")
    if config is not None and presets:
        raise ValueError("give presets or config, not both")
    suite_name = name or ("custom" if config is not None else "presets")
    _moegate._write_suite(os.fspath(directory), list(presets), config, [dtype_name(d) for d in dtypes], int(tokens),
                          int(seed), suite_name, bool(replace))
    return os.fspath(directory)


class VectorCase:
    """One case of a suite: its config, the case line, the inputs and the expected outputs."""

    def __init__(self, directory, file, case, framework="numpy", device="cpu"):
        self.directory = directory
        self.file = file
        self.case = case
        self.config = case.config
        self._framework = framework
        self._device = device
        self._tensors = None

    @property
    def stem(self):
        return os.path.splitext(self.file)[0]

    def tensors(self):
        """{name: numpy array} of the case file (bf16 tensors as uint16 bits), read once."""
        if self._tensors is None:
            tensors, types, metadata = _moegate._read_tensors(os.path.join(self.directory, self.file))
            self._tensors, self._types, self.metadata = tensors, types, metadata
        return self._tensors

    def _input(self, name, dtype):
        array = self.tensors()[name]
        return from_buffer(np.ascontiguousarray(array), dtype, self._framework, self._device)

    @property
    def logits(self):
        """[T, E] logits (a view of the [T, row_stride] rows) in the reader's framework."""
        full = self._input("logits", self.case.logits_dtype)
        return full[:, :self.case.experts] if self.case.row_stride != self.case.experts else full

    @property
    def bias(self):
        return self._input("bias", self.case.bias_dtype)

    @property
    def expected_ids(self):
        return self.tensors()["expected_ids"]

    @property
    def expected_weights(self):
        return self.tensors()["expected_weights"]

    def __repr__(self):
        return f"<VectorCase {self.file}: {self.case.line}>"


def read(directory, *, framework="numpy", device="cpu"):
    """The suite's cases, in manifest order (the manifest is checked: format, version, file names)."""
    directory = os.fspath(directory)
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as manifest:
        text = manifest.read()
    return [VectorCase(directory, file, case, framework, device) for file, case in _moegate._read_manifest(text)]


def write_outputs(path, outputs):
    """Writes a backend's outputs for `moegate check`: {case file or stem: (weights, ids)} (either order)."""
    from .check import _split_outputs
    tensors = {}
    for key, pair in outputs.items():
        stem = os.path.splitext(os.path.basename(str(key)))[0]
        weights, ids = _split_outputs(pair)
        ids = np.ascontiguousarray(np.asarray(to_host(ids)), dtype=np.int32)
        weights = to_host(weights)
        weights = np.ascontiguousarray(np.asarray(weights.float() if hasattr(weights, "float") else weights),
                                       dtype=np.float32)
        tensors[f"{stem}.ids"] = (ids, "I32")
        tensors[f"{stem}.weights"] = (weights, "F32")
    _moegate._write_tensors(os.fspath(path), tensors, {})
    return os.fspath(path)


CheckResult = namedtuple("CheckResult", "cases failed_cases counts report ok")


def check(directory, outputs, profile=""):
    """Judges an outputs file against the suite (as `moegate check`); profile replaces each case's."""
    cases, failed, counts, report = _moegate._check_outputs(os.fspath(directory), os.fspath(outputs), profile or "")
    return CheckResult(cases, failed, dict(counts), report, failed == 0 and cases > 0)
