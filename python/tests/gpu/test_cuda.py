"""moegate on the GPU from Python: zero-copy borrowing (torch, CuPy, JAX), moegate.cuda.route judged,
inside CUDA graph capture, as a torch custom op (and under torch.compile), and check_router on CUDA
tensors: moegate.cuda.route itself and a Triton router of our own."""
import importlib.util

import numpy as np
import pytest
import torch

import moegate
from routers import contract_router

KIMI = moegate.preset("kimi-k2")
DEEPSEEK = moegate.preset("deepseek-v3")


def cuda_inputs(config, tokens, dtype=torch.float32, stride=None, seed=0):
    generator = torch.Generator(device="cuda").manual_seed(seed)
    stride = stride or config.experts
    full = torch.randn((tokens, stride), generator=generator, device="cuda").mul_(2).to(dtype)
    bias = torch.randn(config.experts, generator=generator, device="cuda").mul_(0.1)
    return full[:, :config.experts], bias


def test_borrowing_is_zero_copy_for_every_framework():
    logits, _ = cuda_inputs(KIMI, 3, stride=400)
    assert moegate._moegate._borrowed_address(logits, "logits") == logits.data_ptr()
    capsule_view = torch.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(logits))
    assert moegate._moegate._borrowed_address(capsule_view, "logits") == logits.data_ptr()
    if importlib.util.find_spec("cupy"):
        import cupy
        array = cupy.asarray(logits)
        assert moegate._moegate._borrowed_address(array, "logits") == array.data.ptr == logits.data_ptr()
    if importlib.util.find_spec("jax"):
        import jax
        import jax.numpy as jnp
        array = jax.device_put(jnp.ones((4, 8), jnp.float32), jax.devices("gpu")[0])
        assert moegate._moegate._borrowed_address(array, "logits") == array.unsafe_buffer_pointer()


@pytest.mark.parametrize("config", [KIMI, DEEPSEEK, moegate.preset("glm-4.5")], ids=lambda c: f"E{c.experts}")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("tokens", [1, 513, 4099])
def test_cuda_route_meets_the_contract(config, dtype, tokens):
    logits, bias = cuda_inputs(config, tokens, dtype, stride=config.experts + 5)
    weights, ids = moegate.cuda.route(logits, bias, config)
    torch.cuda.synchronize()
    report = moegate.judge(config, logits, bias, ids, weights)
    assert report.ok, str(report)
    stage = moegate.cuda.default_stage(logits, bias, config)
    assert stage in {s["id"] for s in moegate.cuda.stages()}


def test_every_framework_routes():
    logits, bias = cuda_inputs(KIMI, 64)
    expected = moegate.cuda.route(logits, bias, KIMI)
    if importlib.util.find_spec("cupy"):
        import cupy
        weights, ids = moegate.cuda.route(cupy.asarray(logits), cupy.asarray(bias), KIMI)
        cupy.cuda.runtime.deviceSynchronize()
        assert (cupy.asnumpy(ids) == expected[1].cpu().numpy()).all()
    if importlib.util.find_spec("jax"):
        import jax
        dense = logits.cpu().numpy()
        weights, ids = moegate.cuda.route(jax.device_put(dense, jax.devices("gpu")[0]),
                                          jax.device_put(bias.cpu().numpy(), jax.devices("gpu")[0]), KIMI)
        assert (np.asarray(ids) == expected[1].cpu().numpy()).all()


def test_bad_cuda_arguments_are_refused_before_launch():
    logits, bias = cuda_inputs(KIMI, 4)
    with pytest.raises(ValueError, match="logits: must be a CUDA tensor"):
        moegate.cuda.route(logits.cpu(), bias, KIMI)
    with pytest.raises(ValueError, match="bias: must be a CUDA array"):
        moegate.cuda.route(logits, bias.cpu(), KIMI)
    with pytest.raises(TypeError, match="ids: must be int32"):
        moegate.cuda.route(logits, bias, KIMI, out=(torch.empty(4, 8, device="cuda"), torch.empty(4, 8, device="cuda")))
    with pytest.raises(ValueError, match="unknown stage"):
        moegate.cuda.route(logits, bias, KIMI, "s99")
    with pytest.raises(ValueError, match="logits: has 256 columns"):
        moegate.cuda.route(logits[:, :256].contiguous(), bias, KIMI)


def test_route_is_captured_in_a_cuda_graph_and_replays_new_inputs():
    logits, bias = cuda_inputs(KIMI, 1000)
    weights = torch.empty((1000, 8), device="cuda")
    ids = torch.empty((1000, 8), dtype=torch.int32, device="cuda")
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        moegate.cuda.route(logits, bias, KIMI, out=(weights, ids))  # warm-up outside capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        moegate.cuda.route(logits, bias, KIMI, out=(weights, ids))
    for seed in (1, 2):
        fresh, _ = cuda_inputs(KIMI, 1000, seed=seed)
        logits.copy_(fresh)
        graph.replay()
        torch.cuda.synchronize()
        assert moegate.judge(KIMI, logits, bias, ids, weights).ok


@pytest.mark.skipif(moegate.cuda.torch_op is None, reason="torch.library.custom_op needs torch >= 2.4")
def test_the_torch_custom_op_and_torch_compile():
    logits, bias = cuda_inputs(KIMI, 77)
    weights, ids = torch.ops.moegate.route(logits, bias, 384, 8, 1, 1, True, 2.827, True, "moegate", "")
    assert moegate.judge(KIMI, logits, bias, ids, weights).ok

    @torch.compile(fullgraph=True)
    def gate(x, b):
        return moegate.cuda.torch_route(x * 1.0, b, KIMI)

    compiled_weights, compiled_ids = gate(logits, bias)
    assert torch.equal(compiled_ids, ids) and torch.equal(compiled_weights, weights)


def test_check_router_on_moegate_cuda_route(moegate_budget):
    summary = moegate.check_router(lambda logits, bias, config: moegate.cuda.route(logits, bias, config),
                                   framework="torch", device="cuda", budget=moegate_budget, name="moegate.cuda.route")
    assert summary.property_cases == moegate_budget
    print(summary)


def test_check_router_catches_a_planted_router_on_cuda_tensors():
    import functools
    with pytest.raises(moegate.RouterCheckFailure) as failure:
        moegate.check_router(functools.partial(contract_router, ties_high=True), framework="torch", device="cuda")
    assert "tie_order" in failure.value.report.clauses


triton = pytest.importorskip("triton") if importlib.util.find_spec("triton") else None


def test_check_router_on_a_triton_router_of_our_own(moegate_budget):
    if triton is None:
        pytest.skip("triton is not installed")
    from triton_router import triton_router, SUPPORT
    summary = moegate.check_router(triton_router, SUPPORT, framework="torch", device="cuda", budget=moegate_budget,
                                   name="triton_router")
    print(summary)
