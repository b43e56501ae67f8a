"""On a CUDA device: a short solve, and the forward engine's residuals and gradients against the CPU's.

Every test here is marked ``cuda``: tests/conftest.py skips them where torch sees no CUDA
device, and benchmarks/gpu_check.sh runs them (``python -m pytest -q -m cuda``) on a GPU.
"""

import copy
import math

import pytest
import torch

import pdes
import pinn
import samplers
from pinn.config import Config
from pinn.plan import residual  # pinn.loss.residual before pinn.loss became pinn.plan
from pinn.state import build_model

pytestmark = pytest.mark.cuda
TOL = dict(rtol=1e-10, atol=1e-10)


def small_model(problem):
    """A float64 backbone (and transform) on the CPU, moved off its initialization."""
    torch.manual_seed(0)
    model = build_model(problem, Config(width=8, depth=2, dtype="float64", device="cpu"))
    for p in model.parameters():
        p.data.add_(0.1 * torch.randn_like(p))
    return model


def points_of(problem, n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    rule = samplers.get("uniform")
    return {t.name: rule.draw(t.region, n, g).to("cpu", torch.float64).points for t in problem.terms}


def test_a_short_heat1d_solve_runs_on_cuda():
    result = pinn.solve(pdes.get("heat1d"), steps=5, lbfgs_steps=0, batch=64, width=8, depth=1, eval_points=64,
                        replicates=2, device="cuda", progress=False)  # fmt: skip
    report = result.report
    assert report["device"] == "cuda"
    errors = report["errors"]
    assert errors and all(math.isfinite(e["rel_l2"]) and math.isfinite(e["max_abs"]) for e in errors.values())


@pytest.mark.parametrize("problem_name", ["heat2d", "cavity"])
def test_forward_engine_residuals_on_cuda_match_the_cpu(problem_name):
    problem = pdes.get(problem_name)
    model = small_model(problem)
    gpu = copy.deepcopy(model).to("cuda")
    for term in problem.terms:
        points = points_of(problem)[term.name]
        on_cpu = residual(model, problem, term, points, "forward")
        on_gpu = residual(gpu, problem, term, points.to("cuda"), "forward")
        assert on_gpu.device.type == "cuda"
        torch.testing.assert_close(on_gpu.cpu(), on_cpu, **TOL, msg=term.name)


def test_forward_engine_gradients_on_cuda_match_autograd_and_the_cpu():
    """The jet pass's hand-written backward on the GPU: parameter gradients of one term's loss."""
    problem = pdes.get("cavity")
    term = next(t for t in problem.terms if t.name == "momentum_x")
    points = points_of(problem)[term.name]
    gradients = {}
    for device, engine in (("cpu", "forward"), ("cuda", "forward"), ("cuda", "autograd")):
        model = small_model(problem).to(device)
        (residual(model, problem, term, points.to(device), engine) ** 2).mean().backward()
        gradients[device, engine] = [p.grad.cpu() for p in model.parameters()]
    for reference in (("cpu", "forward"), ("cuda", "autograd")):
        for a, b in zip(gradients["cuda", "forward"], gradients[reference]):
            torch.testing.assert_close(a, b, **TOL, msg=str(reference))


def test_auto_trains_on_cuda_and_reports_the_allocators_peak():
    torch.cuda.reset_peak_memory_stats()
    report = pinn.solve(pdes.get("heat2d"), steps=5, lbfgs_steps=0, batch=4096, width=32, depth=2, eval_points=64,
                        replicates=2, device="auto", progress=False).report  # fmt: skip
    assert report["device"] == "cuda"
    assert 0 < report["peak_memory_mb"] == pytest.approx(torch.cuda.max_memory_allocated() / 2**20)


def test_a_caller_initialized_nccl_group_trains_on_cuda(tmp_path):
    import torch.distributed as dist

    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("nccl", store=store, rank=0, world_size=1)
    try:
        report = pinn.solve(pdes.get("heat1d"), steps=5, lbfgs_steps=0, batch=64, width=8, depth=1, eval_points=64,
                            replicates=2, device="cuda", progress=False).report  # fmt: skip
    finally:
        dist.destroy_process_group()
    assert report["device"] == "cuda" and report["processes"] == 1
    assert all(math.isfinite(e["rel_l2"]) for e in report["errors"].values())
