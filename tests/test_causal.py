"""Causal training: the factors (monotone in time, the formula, no gradient), where they apply, the loss, resume."""

import math

import pytest
import torch
from test_run_files import SETTINGS

import pdes
import pinn
from pinn.causal import Causal, causal_terms
from pinn.config import Config
from pinn.step import next_batches, setup


def test_factors_follow_the_formula_and_never_grow_with_time():
    causal = Causal(epsilon=2.0, bins=4, t0=0.0, t1=1.0)
    t = torch.tensor([0.05, 0.2, 0.3, 0.6, 0.9, 0.95], dtype=torch.float64)
    squared = torch.tensor([1.0, 3.0, 0.5, 0.25, 2.0, 4.0], dtype=torch.float64)
    weights = torch.tensor([1.0, 1.0, 2.0, 1.0, 1.0, 3.0], dtype=torch.float64)
    losses = causal.bin_losses(t, squared, weights)
    assert losses.tolist() == [pytest.approx(2.0), pytest.approx(0.5), pytest.approx(0.25), pytest.approx(3.5)]
    factors = causal.factors(t, squared, weights)
    expected = [1.0, 1.0, math.exp(-4.0), math.exp(-5.0), math.exp(-5.5), math.exp(-5.5)]
    assert factors.tolist() == pytest.approx(expected)


def test_factors_are_monotone_in_time_for_any_residual():
    generator = torch.Generator().manual_seed(0)
    causal = Causal(epsilon=0.7, bins=16, t0=-1.0, t1=3.0)
    t = -1.0 + 4.0 * torch.rand(500, generator=generator, dtype=torch.float64)
    squared = torch.rand(500, generator=generator, dtype=torch.float64) ** 4 * 10
    order = torch.argsort(t)
    factors = causal.factors(t, squared, torch.full((500,), 1 / 500, dtype=torch.float64))[order]
    assert torch.all(factors[1:] <= factors[:-1]) and factors[0] == 1.0 and factors[-1] < 1.0


def test_no_gradient_flows_through_the_factors():
    causal = Causal(epsilon=1.0, bins=2, t0=0.0, t1=1.0)
    theta = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.25, 0.75], dtype=torch.float64)
    squared = theta**2 * torch.tensor([1.0, 2.0], dtype=torch.float64)
    weights = torch.tensor([0.5, 0.5], dtype=torch.float64)
    loss = (weights * causal.factors(t, squared, weights) * squared).sum()
    (gradient,) = torch.autograd.grad(loss, theta)
    c = math.exp(-(1.5**2))  # the second bin's factor: exp(−ε L_0), L_0 = θ²
    assert float(gradient) == pytest.approx(0.5 * 2 * 1.5 * (1.0 + c * 2.0))


def test_causal_terms_are_the_pde_on_the_space_time_domain():
    heat = pdes.get("heat2d", constraints="soft")
    assert list(causal_terms(heat, 1.0, 8)) == ["pde"]
    assert causal_terms(heat, 0.0, 8) == {}
    assert causal_terms(pdes.get("kovasznay"), 1.0, 8) == {}


def test_the_causal_loss_is_the_plain_loss_with_the_factors():
    problem = pdes.get("heat1d")
    plain_run, state = setup(problem, Config.build(problem.defaults, {**SETTINGS, "sampler": "uniform"}))
    causal_run, _ = setup(
        problem, Config.build(problem.defaults, {**SETTINGS, "sampler": "uniform", "causal_epsilon": 5.0})
    )
    batches = next_batches(plain_run, state)
    plain = plain_run.losses(batches)["pde"]
    causal = causal_run.losses(batches)["pde"]  # the same initial network (same seed)
    q = batches["pde"]
    (r,) = plain_run.plan.residuals(state.model, q)
    factors = causal_run.plan.causal["pde"].factors(q.points[:, -1], r.detach() ** 2, q.weights)
    assert float(causal) == pytest.approx(float((q.weights * factors * r.detach() ** 2).sum()), rel=1e-6)
    assert float(causal) < float(plain)


def test_causal_training_resumes_bit_identically(tmp_path, interrupted_solve):
    problem = pdes.get("heat1d")
    settings = dict(SETTINGS, causal_epsilon=1.0, causal_bins=8)
    whole = pinn.solve(problem, out=tmp_path / "whole", progress=False, **settings)
    interrupted_solve(40, problem, out=tmp_path / "cut", **settings)
    resumed = pinn.solve(problem, out=tmp_path / "cut", progress=False, resume=True)
    assert resumed.history["loss"] == whole.history["loss"]
    assert whole.report["config"]["causal_epsilon"] == 1.0


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"causal_epsilon": -1.0}, "causal_epsilon must be zero or more and finite, got -1.0"),
        ({"causal_epsilon": math.inf}, "causal_epsilon must be zero or more and finite"),
        ({"causal_bins": 0}, "causal_bins must be a positive integer, got 0"),
    ],
)
def test_bad_causal_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Config(**settings)


def test_causal_training_of_a_problem_without_time_is_refused(tmp_path):
    with pytest.raises(ValueError, match="causal_epsilon applies to a PDE residual on a space-time domain; kovasznay"):
        pinn.solve(pdes.get("kovasznay"), out=tmp_path, progress=False, causal_epsilon=1.0, steps=1, lbfgs_steps=0)
