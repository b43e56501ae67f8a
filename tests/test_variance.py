"""Variance estimators, the one-point derivative engine and per-point gradient statistics."""

from __future__ import annotations

import math

import pytest
import torch

import samplers
from pdes.geometry import Ball, Box, Difference, SpaceTime, TimeInterval
from pdes.problem import Problem, Term
from pinn.config import Config
from pinn.derivatives import AutogradDerivatives, PointDerivatives
from pinn.report import term_gradient_statistics
from pinn.state import build_model
from samplers.quadrature import Quadrature
from samplers.variance import (
    gradient_statistics,
    per_point_gradients,
    pool_gap,
    replicate_statistics,
    sample_variance,
    within_batch_std_error,
)


@pytest.mark.parametrize("batch", [5, 40])
def test_relative_mse_of_the_sample_variance_of_gaussians_is_2_over_b_minus_1(batch):
    values = 3.0 * torch.randn(10000, batch, generator=torch.Generator().manual_seed(batch), dtype=torch.float64)
    squared_errors = torch.tensor([(sample_variance(row) / 9.0 - 1) ** 2 for row in values], dtype=torch.float64)
    standard_error = math.sqrt(sample_variance(squared_errors) / len(squared_errors))
    assert abs(float(squared_errors.mean()) - 2 / (batch - 1)) <= 4 * standard_error


def test_within_batch_std_error_matches_the_replicate_spread_with_rejection_weights():
    region = Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 0.3)])
    rule, generator = samplers.get("uniform"), torch.Generator().manual_seed(0)
    estimates, within = [], []
    for _ in range(400):
        q = rule.draw(region, 64, generator)
        values = torch.exp(q.points[:, 0])
        estimates.append(float(q.mean(values)))
        within.append(within_batch_std_error(q, values) ** 2)
    ratio = sum(within) / len(within) / sample_variance(torch.tensor(estimates))
    assert ratio == pytest.approx(1.0, abs=0.25)


def test_within_batch_std_error_by_hand():
    q = Quadrature(torch.zeros(2, 1, dtype=torch.float64), torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert within_batch_std_error(q, torch.tensor([1.0, 3.0], dtype=torch.float64)) == pytest.approx(1.0)


def test_replicate_statistics_summarize_independent_draws():
    region = Box([0.0], [1.0])
    draws = [samplers.get("uniform").draw(region, 8, torch.Generator().manual_seed(k)) for k in range(5)]
    stats = replicate_statistics(iter(draws).__next__, lambda p: p[:, 0] ** 2, 5)
    estimates = torch.tensor([float(q.mean(q.points[:, 0] ** 2)) for q in draws], dtype=torch.float64)
    assert stats["estimate"] == pytest.approx(float(estimates.mean()))
    assert stats["std_error"] == pytest.approx(float(estimates.std()))
    assert (stats["batch"], stats["replicates"]) == (8, 5)
    gauss = replicate_statistics(lambda: samplers.get("gauss").draw(region, 4, None), lambda p: p[:, 0] ** 7, 3)
    assert gauss["std_error"] == 0.0
    assert gauss["estimate"] == pytest.approx(1 / 8, rel=1e-12)


def test_gradient_statistics_match_the_covariance_despite_a_large_mean():
    g = torch.randn(50, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 1e6
    stats = gradient_statistics(g.split(16))
    trace = float(torch.cov(g.T).trace())
    assert stats["grad_var_trace"] == pytest.approx(trace, rel=1e-6)
    assert stats["grad_norm"] == pytest.approx(float(g.mean(dim=0).norm()), rel=1e-12)
    assert stats["grad_snr"] == pytest.approx(float(g.mean(dim=0).norm()) / math.sqrt(trace / 50), rel=1e-6)


def test_per_point_gradients_match_autograd_point_by_point():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    points = torch.rand(9, 2, dtype=torch.float64)
    weights = torch.rand(9, dtype=torch.float64)

    def point_loss(params, x, w):
        return 9 * w * torch.func.functional_call(model, params, (x[None],))[0, 0] ** 2

    params = {k: v.detach() for k, v in model.named_parameters()}
    rows = torch.cat(list(per_point_gradients(point_loss, params, (points, weights), chunk=4)))
    for i in range(9):
        loss = 9 * weights[i] * model(points[i : i + 1])[0, 0] ** 2
        expected = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])
        assert torch.allclose(rows[i], expected, rtol=1e-12, atol=1e-14)


def small_problem() -> Problem:
    """Heat on the unit square with a Neumann term that reads the normals."""
    domain = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0))
    return Problem(
        name="flux",
        coordinates=("x", "y", "t"),
        fields=("u", "v"),
        domain=domain,
        terms=[
            Term("pde", domain, lambda f: f.u_t - 0.1 * (f.u_xx + f.u_yy) + f.v * f.u_xy),
            Term("flux", domain.boundary, lambda f: f.u_x * f.n_x + f.u_y * f.n_y - f.v),
            Term("initial", domain.initial, lambda f: f.u - torch.sin(f.x)),
        ],
    )


def model_of(problem: Problem) -> torch.nn.Module:
    return build_model(problem, Config(width=6, depth=2, dtype="float64", device="cpu"))


def test_point_derivatives_agree_with_autograd_and_finite_differences():
    problem = small_problem()
    model = model_of(problem)
    points = torch.rand(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    batch = AutogradDerivatives(model, points)
    keys = [(k, w) for k in range(2) for w in [(), (0,), (2,), (0, 0), (0, 1), (1, 2)]]

    def at_point(x):
        engine = PointDerivatives(lambda y: model(y[None])[0], x)
        return torch.stack([engine.derivative(k, w) for k, w in keys])

    values = torch.func.vmap(at_point)(points)
    for column, (k, w) in enumerate(keys):
        assert torch.allclose(values[:, column], batch.derivative(k, w), rtol=1e-10, atol=1e-12)
    h, x = 1e-4, points[0]
    e0, e1 = torch.eye(3, dtype=torch.float64)[:2] * h

    def u(y):
        return float(model(y[None])[0, 0].detach())

    mixed = (u(x + e0 + e1) - u(x + e0 - e1) - u(x - e0 + e1) + u(x - e0 - e1)) / (4 * h * h)
    assert float(values[0, 4].detach()) == pytest.approx(mixed, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("term_index", [0, 1])
def test_term_gradient_statistics_match_a_loop_over_points(term_index):
    problem = small_problem()
    model = model_of(problem)
    term = problem.terms[term_index]
    q = samplers.get("uniform").draw(term.region, 12, torch.Generator().manual_seed(2))
    stats = term_gradient_statistics(model, problem, term, q, torch.device("cpu"), torch.float64)
    rows = []
    for i in range(len(q)):
        engine = AutogradDerivatives(model, q.points[i : i + 1])
        r = term.residual(problem.fields_at(engine, term.region))
        loss = len(q) * q.weights[i] * r.sum() ** 2
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))]))
    g = torch.stack(rows)
    trace = float(torch.cov(g.T).trace())
    assert stats["grad_var_trace"] == pytest.approx(trace, rel=1e-9)
    assert stats["grad_snr"] == pytest.approx(float(g.mean(dim=0).norm()) / math.sqrt(trace / len(q)), rel=1e-9)


def test_pool_gap_compares_the_pool_with_fresh_points():
    region = Box([0.0], [1.0])
    pool = samplers.get("uniform").draw(region, 8, torch.Generator().manual_seed(0))
    fresh = samplers.get("uniform").draw(region, 64, torch.Generator().manual_seed(1))
    gap = pool_gap(pool, fresh, lambda p: p[:, 0])
    assert gap["pool_loss"] == pytest.approx(float(pool.points.mean()))
    assert gap["fresh_loss"] == pytest.approx(float(fresh.points.mean()))
    assert gap["pool_gap"] == pytest.approx(gap["fresh_loss"] - gap["pool_loss"])
    assert gap["pool_size"] == 8
    assert gap["fresh_std_error"] == pytest.approx(float(fresh.points.std()) / 8)
