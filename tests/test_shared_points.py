"""Shared points: the terms on one region evaluated at one batch, their residuals in one derivative pass."""

import pytest
import torch

import pdes
import pinn
from pinn.config import Config
from pinn.derivatives import ForwardDerivatives
from pinn.jets import is_sum
from pinn.plan import StepPlan
from pinn.state import moved
from pinn.step import setup
from samplers.quadrature import Quadrature

SMALL = dict(batch=64, width=8, depth=2, eval_every=5, eval_points=64, replicates=2, dtype="float64", device="cpu")


def shared_run(problem, **settings):
    """The run and state of ``problem`` with shared points, and a draw of its batches."""
    run, state = setup(problem, Config(**{**SMALL, "shared_points": True, **settings}))
    return run, state, run.plan.draw(state.rules, state.generators, run.config.batch, run.device, state.dtype)


def test_terms_on_one_region_share_a_rule_and_a_batch():
    cavity = pdes.get("cavity")
    run, state, batches = shared_run(cavity)
    groups = [[t.name for t in group.terms] for group in run.plan.groups]
    assert groups[0] == ["momentum_x", "momentum_y", "continuity"]
    assert sum(len(g) for g in groups) == len(cavity.terms)
    assert all(len({id(t.region) for t in cavity.terms if t.name in g}) == 1 for g in groups)
    assert state.rules["momentum_x"] is state.rules["continuity"]
    assert batches["momentum_x"] is batches["momentum_y"] is batches["continuity"]
    unshared = setup(cavity, Config(**SMALL))[1].rules
    assert len({id(rule) for rule in unshared.values()}) == len(cavity.terms)


@pytest.mark.parametrize("engine", ["forward", "autograd"])
def test_a_shared_batch_gives_the_losses_and_gradients_of_separate_copies(engine):
    """Sharing changes the cost, not the numbers: same points as separate quadratures, same results."""
    cavity = pdes.get("cavity")
    run, state, shared = shared_run(cavity)
    separate = {name: Quadrature(q.points.clone(), q.weights.clone()) for name, q in shared.items()}

    def losses_and_gradients(batches, shared_points):
        state.model.zero_grad()
        losses = StepPlan(cavity, state.model, engine, shared_points).losses(state.model, batches)
        sum(losses.values()).backward()
        return torch.stack(list(losses.values())), [p.grad.clone() for p in state.model.parameters()]

    loss_shared, grad_shared = losses_and_gradients(shared, True)
    loss_separate, grad_separate = losses_and_gradients(separate, False)
    torch.testing.assert_close(loss_shared, loss_separate, rtol=1e-12, atol=1e-14)
    for a, b in zip(grad_shared, grad_separate):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_the_forward_engine_of_a_group_carries_every_derivative_its_terms_read():
    cavity = pdes.get("cavity")
    run, state, batches = shared_run(cavity, engine="forward")
    run.losses(batches)
    group = run.plan.groups[0]
    engine = ForwardDerivatives(state.model, batches["momentum_x"].points, group.reads)
    # u, v, p, their first derivatives and the Laplacians of u and v, one channel for both
    laplacian = ((0, 0), (1, 1))
    assert {(k, w) for k, w in engine.needed if is_sum(w)} == {(0, laplacian), (1, laplacian)}
    assert {(k, w) for k, w in engine.needed if len(w) == 1} >= {(0, (0,)), (1, (1,)), (2, (0,)), (2, (1,))}
    assert engine.layout.second == (laplacian,) and engine.layout.size == 4


def test_moving_batches_keeps_them_shared():
    cavity = pdes.get("cavity")
    run, state, batches = shared_run(cavity)
    batches = moved(batches, torch.device("cpu"), torch.float32)
    assert batches["momentum_x"] is batches["continuity"]
    assert batches["momentum_x"].points.dtype == torch.float32


@pytest.mark.parametrize(
    "stop_at,shared", [(5, True), (12, True), (5, False)], ids=["during_adam", "during_lbfgs", "unshared"]
)
def test_rad_solve_resumes_to_the_same_end(tmp_path, interrupted_solve, stop_at, shared):
    """RAD (on shared batches: refreshed by the root sum of squares) trains and resumes exactly."""
    problem = pdes.get("kovasznay")
    settings = dict(SMALL, steps=10, lbfgs_steps=60, sampler="rad", refresh_every=3, candidates=256)
    whole = pinn.solve(problem, progress=False, shared_points=shared, out=tmp_path / "whole", **settings)
    assert set(whole.report["quadrature"]) == {t.name for t in problem.terms}
    assert whole.report["config"]["shared_points"] is shared

    interrupted_solve(stop_at, problem, shared_points=shared, out=tmp_path / "cut", **settings)
    resumed = pinn.solve(problem, progress=False, out=tmp_path / "cut", resume=True)
    assert resumed.history["loss"] == whole.history["loss"]


def test_batch_norm_statistics_count_a_shared_batch_once():
    cavity = pdes.get("cavity")
    run, state, batches = shared_run(cavity, norm="batch")
    network = state.model.network if hasattr(state.model, "network") else state.model
    seen = []
    original = network.batch_statistics
    network.batch_statistics = lambda points: seen.append(points.shape[0]) or original(points)
    run.plan.losses(network, batches)
    unique = {id(q): q for q in batches.values()}.values()
    assert seen == [sum(q.points.shape[0] for q in unique)]
    assert seen[0] < sum(q.points.shape[0] for q in batches.values())
