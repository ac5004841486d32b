"""Golden vectors from Python: write a suite, read it back, route it, write the outputs, judge them."""
import numpy as np
import pytest
import torch

import moegate
from routers import contract_router


def test_a_suite_round_trips_through_python(tmp_path):
    suite = moegate.vectors.write(tmp_path / "suite", presets=["kimi-k2", "deepseek-v3"], dtypes=["f32", "bf16"],
                                  tokens=5)
    cases = moegate.vectors.read(suite, framework="torch")
    assert len(cases) > 10 and all(c.case.tokens in (1, 5) for c in cases)
    outputs = {}
    for case in cases:
        assert case.logits.shape == (case.case.tokens, case.config.experts)
        weights, ids = contract_router(case.logits, case.bias, case.config)
        outputs[case.file] = (weights, ids)
    path = moegate.vectors.write_outputs(tmp_path / "outputs.safetensors", outputs)
    result = moegate.vectors.check(suite, path)
    assert result.ok and result.cases == len(cases), result.report
    # a planted tie rule fails, naming the clause
    planted = {case.file: contract_router(case.logits, case.bias, case.config, ties_high=True) for case in cases}
    result = moegate.vectors.check(suite, moegate.vectors.write_outputs(tmp_path / "planted.safetensors", planted))
    assert not result.ok and result.counts["tie_order"] > 0


def test_bad_suites_and_outputs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="presets or config"):
        moegate.vectors.write(tmp_path / "x", presets=["kimi-k2"], config=moegate.preset("kimi-k2"))
    with pytest.raises(ValueError, match="dtype"):
        moegate.vectors.write(tmp_path / "x", dtypes=["f64"])
    suite = moegate.vectors.write(tmp_path / "s", presets=["glm-4.5"], dtypes=["f32"], tokens=2)
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(ValueError):
        moegate.vectors.check(suite, tmp_path / "bad.safetensors")
    (tmp_path / "s" / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError):
        moegate.vectors.read(suite)
    with pytest.raises(TypeError, match="one float array"):
        moegate.vectors.write_outputs(tmp_path / "o.safetensors", {"case-0000": (np.zeros((1, 8)), np.zeros((1, 8)))})
