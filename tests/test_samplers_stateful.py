"""Pools and residual-driven rules (pool, rad, rar): unbiasedness and serving order."""

from __future__ import annotations

import math

import pytest
import torch
from test_samplers import CASES, box_case

import samplers
from samplers.adaptive import importance_density
from samplers.variance import sample_variance


def residual_of_case(points: torch.Tensor) -> torch.Tensor:
    """A residual-like function with peaks, used as the RAD density driver."""
    return 0.1 + torch.sin(3 * points[:, 0]) ** 2 * torch.exp(points[:, 1] - points[:, 1].max())


@pytest.mark.parametrize("case", list(CASES))
def test_rad_weights_keep_the_estimate_unbiased(case):
    region, f, truth = CASES[case]()
    generator = torch.Generator().manual_seed(3)
    estimates = []
    for _ in range(120):
        rule = samplers.get("rad", k=2.0, c=0.5, every=1, candidates=256)
        rule.refresh(region, residual_of_case, 0, generator)
        q = rule.draw(region, 32, generator)
        estimates.append(float(q.mean(f(q.points))))
    estimates = torch.tensor(estimates, dtype=torch.float64)
    assert abs(float(estimates.mean()) - truth) <= 4 * math.sqrt(sample_variance(estimates) / len(estimates))


def test_rad_with_density_proportional_to_r_squared_cuts_the_variance_of_the_loss():
    region, _, _ = box_case()

    def loss(p):
        return residual_of_case(p) ** 2

    generator = torch.Generator().manual_seed(4)
    rad, uniform = [], []
    for _ in range(60):
        rule = samplers.get("rad", k=2.0, c=0.0, every=1, candidates=1024)
        rule.refresh(region, residual_of_case, 0, generator)
        q = rule.draw(region, 64, generator)
        rad.append(float(q.mean(loss(q.points))))
        q = samplers.get("uniform").draw(region, 64, generator)
        uniform.append(float(q.mean(loss(q.points))))
    assert sample_variance(torch.tensor(rad)) < 0.25 * sample_variance(torch.tensor(uniform))


def test_rad_refreshes_only_every_m_steps_and_draws_base_points_before():
    region, _, _ = box_case()
    generator = torch.Generator().manual_seed(0)
    rule = samplers.get("rad", every=3, candidates=64)
    assert len(rule.draw(region, 8, generator)) == 8
    calls = []

    def residual(points):
        calls.append(len(points))
        return torch.ones(len(points), dtype=torch.float64)

    for step in range(7):
        rule.refresh(region, residual, step, generator)
    assert calls == [64, 64, 64]


def test_importance_density_is_uniform_when_the_residual_vanishes():
    weights = torch.full((4,), 0.25, dtype=torch.float64)
    assert torch.all(importance_density(weights, torch.zeros(4, dtype=torch.float64), 2.0, 0.0) == 1)
    q = importance_density(weights, torch.tensor([1.0, 1.0, 2.0, 0.0], dtype=torch.float64), 1.0, 1.0)
    assert torch.allclose(q, torch.tensor([1.0, 1.0, 2.0, 0.0], dtype=torch.float64) + 1.0)


def test_pool_serves_every_point_once_per_epoch_and_averages_to_the_pool_estimate():
    region, f, _ = box_case()
    generator = torch.Generator().manual_seed(0)
    rule = samplers.get("pool", size=96, base="uniform")
    batches = [rule.draw(region, 32, generator) for _ in range(3)]
    seen = torch.cat([q.points for q in batches])
    assert torch.equal(seen[seen[:, 0].argsort()], rule.pool.points[rule.pool.points[:, 0].argsort()])
    epoch_mean = sum(float(q.mean(f(q.points))) for q in batches) / 3
    assert epoch_mean == pytest.approx(float(rule.pool.mean(f(rule.pool.points))), rel=1e-12)
    assert not torch.equal(rule.draw(region, 32, generator).points, batches[0].points)


def test_pool_minibatches_are_unbiased_for_the_region_mean():
    for case in ("difference", "boundary"):
        region, f, truth = CASES[case]()
        generator = torch.Generator().manual_seed(5)
        estimates = []
        for _ in range(150):
            rule = samplers.get("pool", size=64, base="sobol")
            q = rule.draw(region, 16, generator)
            estimates.append(float(q.mean(f(q.points))))
        estimates = torch.tensor(estimates, dtype=torch.float64)
        assert abs(float(estimates.mean()) - truth) <= 4 * math.sqrt(sample_variance(estimates) / len(estimates))


def test_pool_replicates_leave_the_epoch_alone():
    region, _, _ = box_case()
    first = samplers.get("pool", size=64)
    second = samplers.get("pool", size=64)
    g1, g2, g_stats = (torch.Generator().manual_seed(9) for _ in range(3))
    first.draw(region, 16, g1)
    second.draw(region, 16, g2)
    first.replicate(region, 16, g_stats)
    assert torch.equal(first.draw(region, 16, g1).points, second.draw(region, 16, g2).points)


def test_pool_rejects_small_pools_other_regions_and_bad_sizes():
    region, _, _ = box_case()
    rule = samplers.get("pool", size=10)
    with pytest.raises(ValueError, match="cannot serve batches of 16"):
        rule.draw(region, 16, torch.Generator())
    with pytest.raises(ValueError, match="one rule per term"):
        rule.draw(CASES["ball"]()[0], 4, torch.Generator())
    with pytest.raises(ValueError, match="positive integer or 'fresh'"):
        samplers.get("pool", size=0)


def test_fresh_pool_is_its_base_rule():
    region, _, _ = box_case()
    q = samplers.get("pool", size="fresh", base="halton").draw(region, 16, torch.Generator().manual_seed(2))
    r = samplers.get("halton").draw(region, 16, torch.Generator().manual_seed(2))
    assert torch.equal(q.points, r.points)


def test_rar_adds_the_worst_candidates_to_its_pool():
    region, _, _ = CASES["difference"]()
    generator = torch.Generator().manual_seed(0)
    rule = samplers.get("rar", size=32, every=2, candidates=128, add=5)
    rule.draw(region, 16, generator)
    start = len(rule.pool)
    assert torch.all(rule.pool.weights == 1 / start)

    def residual(points):
        return points[:, 0]

    rule.refresh(region, residual, 1, generator)
    assert len(rule.pool) == start
    rule.refresh(region, residual, 2, generator)
    assert len(rule.pool) == start + 5
    added = rule.pool.points[start:, 0]
    assert float(added.min()) > 0.9
    assert torch.all(region.contains(rule.pool.points))
    assert torch.allclose(rule.pool.weights, torch.full((start + 5,), 1 / (start + 5), dtype=torch.float64))
