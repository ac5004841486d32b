"""The contract, the reference and the comparator from Python, over numpy and torch CPU arrays."""
import numpy as np
import pytest
import torch

import moegate

KIMI = moegate.preset("kimi-k2")


def inputs(config, tokens=5, seed=3, stride=None):
    rng = np.random.default_rng(seed)
    stride = stride or config.experts
    buffer = rng.normal(0, 2, size=(tokens, stride)).astype(np.float32)
    bias = rng.normal(0, 0.1, size=config.experts).astype(np.float32)
    return buffer[:, :config.experts], bias


def test_config_is_validated_with_the_clis_messages():
    config = moegate.RouterConfig(experts=256, topk=8, groups=8, kept_groups=4, routed_scaling_factor=2.5,
                                  apply_routed_scaling_factor_on_output=True)
    assert (config.experts, config.topk, config.groups, config.kept_groups) == (256, 8, 8, 4)
    assert config.profile == "moegate"
    assert config == moegate.preset("deepseek-v3")
    with pytest.raises(ValueError, match=r"topk: must be in \[1, kept_groups \* experts / groups = 128\], got 129"):
        config.replace(topk=129)
    with pytest.raises(ValueError, match="groups"):
        moegate.RouterConfig(experts=10, topk=2, groups=3)
    with pytest.raises(ValueError, match="profile: unknown profile 'nope'"):
        moegate.RouterConfig(experts=8, topk=2, profile="nope")
    with pytest.raises(TypeError):
        moegate.RouterConfig(8, 2)  # keyword arguments only
    with pytest.raises(TypeError, match="unknown field"):
        config.replace(colour="blue")
    assert config.replace(profile="torch").profile == "torch"
    assert "kimi-k2" in moegate.presets() and "sglang-triton" in moegate.profiles()
    assert moegate.profiles()["torch"]["nan_rank"] == "highest"
    with pytest.raises(ValueError, match="unknown preset"):
        moegate.preset("bogus")


def test_route_f32_is_the_contract_and_f64_gives_margins():
    logits, bias = inputs(KIMI, tokens=33)
    weights, ids = moegate.route(logits, bias, KIMI)
    assert weights.shape == (33, 8) and ids.dtype == np.int32 and weights.dtype == np.float32
    assert moegate.judge(KIMI, logits, bias, ids, weights).ok
    oracle = moegate.route(logits, bias, KIMI, mode="f64")
    assert (oracle.ids == ids).all()
    assert oracle.selection_margin.shape == (33,) and (oracle.selection_margin >= 0).all()
    np.testing.assert_allclose(weights.sum(-1), KIMI.routed_scaling_factor, rtol=1e-5)


def test_a_padded_view_is_read_in_place_and_matches_a_dense_copy():
    logits, bias = inputs(KIMI, tokens=9, stride=400)
    assert not logits.flags["C_CONTIGUOUS"]
    dense = np.ascontiguousarray(logits)
    for a, b in zip(moegate.route(logits, bias, KIMI), moegate.route(dense, bias, KIMI)):
        assert (a == b).all()
    # zero copy: the core borrows the caller's memory (DLPack / array interface)
    assert moegate._moegate._borrowed_address(logits, "logits") == logits.ctypes.data
    tensor = torch.from_numpy(logits)
    assert moegate._moegate._borrowed_address(tensor, "logits") == tensor.data_ptr()


def test_torch_cpu_tensors_in_bf16_and_f16():
    logits, bias = inputs(KIMI, tokens=7)
    for dtype in (torch.bfloat16, torch.float16):
        t = torch.from_numpy(np.ascontiguousarray(logits)).to(dtype)
        weights, ids = moegate.route(t, torch.from_numpy(bias), KIMI)
        assert moegate.judge(KIMI, t, torch.from_numpy(bias), torch.from_numpy(ids), torch.from_numpy(weights)).ok


def test_judge_reports_clauses_and_the_case():
    logits, bias = inputs(KIMI, tokens=4)
    weights, ids = moegate.route(logits, bias, KIMI)
    broken = ids.copy()
    broken[0, 1] = broken[0, 0]
    report = moegate.judge(KIMI, logits, bias, broken, weights, case="a case line")
    assert not report and report.counts["duplicate_id"] == 1 and report.clauses == ["duplicate_id"]
    assert "verdict: FAIL" in report.text and "case: a case line" in str(report)
    shuffled = ids[:, ::-1]
    assert moegate.judge(KIMI, logits, bias, shuffled, weights[:, ::-1]).counts["selection_order"] > 0
    assert moegate.judge(KIMI, logits, bias, shuffled, weights[:, ::-1], order="any").ok
    # int64 ids (torch.topk's) and float64 weights are taken as they are
    assert moegate.judge(KIMI, logits, bias, ids.astype(np.int64), weights.astype(np.float64)).ok
    # a documented difference of contract is named: NaN ranked highest (torch) ...
    nan_logits = logits.copy()
    nan_logits[:, 5] = np.nan
    torch_style = KIMI.replace(profile="torch")
    w, i = moegate.route(nan_logits, bias, torch_style)
    verdict = moegate.judge(KIMI, nan_logits, bias, i, w)
    assert not verdict and "'torch'" in verdict.known_divergence
    assert moegate.judge(KIMI, nan_logits, bias, i, w, profile="torch").ok


@pytest.mark.parametrize("bad, error, words", [
    (lambda l, b: (l.astype(np.int32), b), TypeError, "logits: must be float32, bfloat16 or float16, got int32"),
    (lambda l, b: (l[None], b), ValueError, "logits: must be 2-D"),
    (lambda l, b: (l[:, :100], b), ValueError, "logits: has 100 columns"),
    (lambda l, b: (np.asfortranarray(l), b), ValueError, "logits: each row must be contiguous"),
    (lambda l, b: (l, np.stack([b, b], 1)[:, 0]), ValueError, "bias: must be contiguous"),
    (lambda l, b: (l, b[:10]), ValueError, "bias: has 10 entries"),
    (lambda l, b: ([[0.0] * 384], b), TypeError, "logits: expected an array"),
    (lambda l, b: (None, b), TypeError, "logits: got None"),
])
def test_bad_arrays_get_an_error_naming_the_argument(bad, error, words):
    logits, bias = inputs(KIMI)
    args = bad(np.ascontiguousarray(logits), bias)
    with pytest.raises(error, match=words.replace("(", r"\(").replace("[", r"\[")):
        moegate.route(*args, KIMI)


def test_bad_outputs_get_an_error_naming_the_argument():
    logits, bias = inputs(KIMI)
    weights, ids = moegate.route(logits, bias, KIMI)
    with pytest.raises(ValueError, match=r"ids: has shape \[5, 7\], expected \[5, 8\]"):
        moegate.judge(KIMI, logits, bias, ids[:, :7], weights)
    with pytest.raises(TypeError, match="weights: must be a float dtype"):
        moegate.judge(KIMI, logits, bias, ids, ids)
    with pytest.raises(TypeError, match="ids: must be int32 or int64"):
        moegate.judge(KIMI, logits, bias, weights, weights)
    with pytest.raises(TypeError, match="config: expected a moegate.RouterConfig"):
        moegate.judge({"experts": 384}, logits, bias, ids, weights)
    with pytest.raises(ValueError, match="precision: must be 'f32', 'bf16' or 'f16'"):
        moegate.judge(KIMI, logits, bias, ids, weights, precision="f64")
    with pytest.raises(ValueError, match="order: must be 'selection' or 'any'"):
        moegate.judge(KIMI, logits, bias, ids, weights, order="sorted")


def test_cases_replay_their_inputs():
    line = ("experts=12 topk=3 groups=4 kept_groups=2 renormalize=1 scaling=2.5 apply=1 nan_rank=lowest "
            "nan_replacement=-1e+30 zero_sum=raw scaling_rule=with_renormalize tokens=5 row_stride=13 "
            "padding=large offset=3 logits=quantized bias=neg_inf hostile=7 logits_dtype=f32 bias_dtype=bf16 seed=42")
    case = moegate.Case.parse(line)
    assert case.line == line and case.tokens == 5 and case.row_stride == 13 and case.bias_dtype == "bf16"
    assert case.padding == "large" and case.offset == 3
    generated = case._generate()
    logits, bias = generated.logits, generated.bias
    assert logits.shape == (5, 13) and bias.dtype == np.uint16
    # the allocation: 3 lead elements, then the rows; padding (lead and past E) holds large finite values
    storage = generated.storage
    assert storage.shape == (3 + 5 * 13,) and np.array_equal(storage[3:].reshape(5, 13), logits)
    assert np.all(storage[:3] >= 30) and np.all(logits[:, 12] >= 30) and np.all(np.isfinite(storage[:3]))
    # a line written before padding and offset existed still reads (NaN padding at offset 0)
    old = moegate.Case.parse(line.replace(" padding=large offset=3", ""))
    assert old.padding == "nan" and old.offset == 0
    # the router's inputs and the comparator's are the same bytes: the contract's answer passes
    bf16_bias = torch.from_numpy(bias.view(np.int16)).view(torch.bfloat16)
    weights, ids = moegate.route(logits[:, :12], bf16_bias, case.config)
    assert generated.judge(ids, weights, "f32", "selection", 0, 0, 5, False)["ok"]
    with pytest.raises(ValueError, match="not a case line"):
        moegate.Case.parse("experts=12")
