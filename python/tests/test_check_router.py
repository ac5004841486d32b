"""check_router on routers written in torch and numpy: a correct one passes the default budget, and
each planted bug class is caught with a shrunk, replayable case line."""
import functools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import moegate
from routers import contract_router, numpy_router

UNGROUPED = moegate.Support(max_groups=1)


def test_a_correct_torch_router_meets_the_contract(moegate_budget):
    summary = moegate.check_router(contract_router, framework="torch", device="cpu", budget=moegate_budget)
    assert summary.sweep > 1000 and summary.regressions > 0 and summary.property_cases == moegate_budget
    print(summary)


def test_a_correct_numpy_router_meets_the_contract(moegate_budget):
    support = moegate.Support(max_groups=1, logits_dtypes=("f32", "f16"), bias_dtypes=("f32", "f16"))
    summary = moegate.check_router(numpy_router, support, framework="numpy", budget=moegate_budget)
    assert summary.sweep > 100 and summary.property_cases == moegate_budget


def caught(router, support=None, **options):
    with pytest.raises(moegate.RouterCheckFailure) as failure:
        moegate.check_router(router, support, framework="torch", device="cpu", **options)
    error = failure.value
    case = moegate.Case.parse(error.case)  # the shrunk case line replays
    if error.error:
        with pytest.raises(RuntimeError, match="the router raised"):
            moegate.replay(router, case, support, framework="torch", device="cpu")
    else:
        assert not moegate.replay(router, case, support, framework="torch", device="cpu").ok
    print(error)
    return error


def test_ties_broken_toward_the_higher_index_are_caught():
    error = caught(functools.partial(contract_router, ties_high=True))
    assert "tie_order" in error.report.clauses
    assert moegate.Case.parse(error.case).tokens <= 9


def test_nan_ranked_first_is_caught_and_named_as_a_different_contract():
    error = caught(functools.partial(contract_router, nan_first=True))
    assert error.report is not None and not error.report.ok


def test_unordered_slots_are_caught_unless_declared():
    unordered = functools.partial(contract_router, sorted_slots=False)
    error = caught(unordered)
    assert "selection_order" in error.report.clauses or "tie_order" in error.report.clauses
    moegate.check_router(unordered, moegate.Support(order="any"), framework="torch", device="cpu", budget=100,
                         sweep=False)


def test_bf16_arithmetic_is_caught_unless_declared():
    bf16 = functools.partial(contract_router, compute_dtype=torch.bfloat16)
    error = caught(bf16)
    assert "weight" in error.report.clauses or "wrong_set" in error.report.clauses
    moegate.check_router(bf16, moegate.Support(precision="bf16"), framework="torch", device="cpu", budget=100,
                         sweep=False)


def test_a_wrong_group_cut_is_caught_and_explained():
    for planted in (dict(group_cut_top1=True), dict(extra_group=True)):
        error = caught(functools.partial(contract_router, **planted))
        assert "dropped_group" in error.report.clauses or "wrong_set" in error.report.clauses
        assert moegate.Case.parse(error.case).config.groups > 1
        assert "group" in error.report.text


def test_bias_in_the_weights_is_caught():
    error = caught(functools.partial(contract_router, bias_in_weights=True), UNGROUPED)
    assert "weight" in error.report.clauses


def test_a_router_that_raises_or_returns_garbage_fails_with_the_case():
    def raises(logits, bias, config):
        if config.topk > 4:
            raise RuntimeError("unsupported topk")
        return contract_router(logits, bias, config)

    error = caught(raises)
    assert "unsupported topk" in error.error and moegate.Case.parse(error.case).config.topk == 5

    def garbage(logits, bias, config):
        return "nothing"

    with pytest.raises(moegate.RouterCheckFailure, match="must return"):
        moegate.check_router(garbage, framework="torch", device="cpu", budget=5)


def test_the_property_alone_shrinks_with_rapidcheck():
    error = caught(functools.partial(contract_router, ties_high=True), sweep=False, regressions=False, seed=5)
    assert error.phase == "property" and error.seed == 5
    assert moegate.Case.parse(error.case).tokens <= 9


def test_a_narrow_support_is_fitted_not_skipped():
    seen = set()

    def router(logits, bias, config):
        seen.add((config.experts, config.topk, str(logits.dtype), logits.is_contiguous()))
        return contract_router(logits, bias, config)

    support = moegate.Support(presets=["kimi-k2", "mimo-v2-flash"], logits_dtypes="bf16", bias_dtypes="f32",
                              padded_rows=False, max_tokens=600)
    summary = moegate.check_router(router, support, framework="torch", device="cpu", budget=20)
    assert {(e, k) for e, k, _, _ in seen} == {(384, 8), (256, 8)}
    assert {d for _, _, d, _ in seen} == {"torch.bfloat16"} and all(c for *_, c in seen)
    assert summary.sweep > 10


def test_numpy_bf16_needs_ml_dtypes_and_works_with_it():
    try:
        import ml_dtypes
    except ImportError:  # Debian 12's numpy: refused before any case runs
        with pytest.raises(ValueError, match="numpy cannot hold bf16"):
            moegate.check_router(contract_router, framework="numpy")
        return
    seen = set()  # a host with ml_dtypes (JAX brings it): the router gets bf16 numpy arrays

    def router(logits, bias, config):
        seen.add((logits.dtype, bias.dtype))
        return numpy_router(logits, bias, config)

    support = moegate.Support(max_groups=1, logits_dtypes="bf16", bias_dtypes="bf16", padded_rows=False)
    moegate.check_router(router, support, framework="numpy", budget=5)
    assert seen == {(np.dtype(ml_dtypes.bfloat16), np.dtype(ml_dtypes.bfloat16))}


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="dtype: 'f64' is not f32, bf16 or f16"):
        moegate.Support(logits_dtypes=("f64",))
    with pytest.raises(ValueError, match="order: must be 'selection' or 'any'"):
        moegate.Support(order="sorted")
    with pytest.raises(ValueError, match="profile: unknown profile"):
        moegate.Support(profile="nope")
    with pytest.raises(ValueError, match="max_topk must be >= 1"):
        moegate.Support(max_topk=0)
    with pytest.raises(TypeError, match="fn: expected a callable"):
        moegate.check_router("router")
    with pytest.raises(ValueError, match="framework: must be one of"):
        moegate.check_router(contract_router, framework="tensorflow")
    with pytest.raises(ValueError, match="device: 'cuda' asked for"):
        if torch.cuda.is_available():
            pytest.skip("a GPU is present")
        moegate.check_router(contract_router, framework="torch", device="cuda")


def test_a_routers_own_test_file_needs_three_lines(tmp_path):
    (tmp_path / "test_mine.py").write_text(textwrap.dedent("""
        import moegate, routers
        def test_router(moegate_check):
            moegate_check(routers.numpy_router, moegate.Support(max_groups=1, logits_dtypes="f32", bias_dtypes="f32"), framework="numpy")
    """))
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(moegate.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.path.dirname(os.path.abspath(__file__))]))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "moegate.pytest_plugin", "-p", "no:cacheprovider",
                          "--moegate-budget", "7", str(tmp_path / "test_mine.py")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
