"""RAD density and RAR serving checked exactly, on residuals whose mean is not 1."""

from __future__ import annotations

import pytest
import torch
from test_samplers import box_case

import samplers
from pdes.geometry import Ball, Box, Difference
from samplers.adaptive import importance_density, inside_points
from samplers.quadrature import Quadrature


def f64(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_importance_density_divides_by_the_weighted_mean_of_the_residual_power():
    weights = torch.full((4,), 0.25, dtype=torch.float64)
    residual = f64(3.0, 3.0, 1.0, 1.0)
    # k = 1: mean = (3 + 3 + 1 + 1)/4 = 2, q = r/2 + 0.5 = (2, 2, 1, 1).
    assert torch.allclose(importance_density(weights, residual, 1.0, 0.5), f64(2.0, 2.0, 1.0, 1.0), rtol=0, atol=1e-14)
    # k = 2: mean = (9 + 9 + 1 + 1)/4 = 5, q = r²/5 + 1 = (2.8, 2.8, 1.2, 1.2).
    assert torch.allclose(importance_density(weights, residual, 2.0, 1.0), f64(2.8, 2.8, 1.2, 1.2), rtol=0, atol=1e-14)


def test_importance_density_uses_the_weights_in_the_mean():
    weights = f64(0.5, 0.25, 0.25)
    residual = f64(4.0, 2.0, 0.0)
    # mean = 0.5·4 + 0.25·2 = 2.5, q = r/2.5 + 2 = (3.6, 2.8, 2).
    assert torch.allclose(importance_density(weights, residual, 1.0, 2.0), f64(3.6, 2.8, 2.0), rtol=0, atol=1e-14)


def test_rad_probabilities_follow_the_normalized_density():
    """|r| = 3 on the left half of the box, 1 on the right: mean ≈ 2, not 1."""
    region, _, _ = box_case()
    rule = samplers.get("rad", k=1.0, c=1.0, every=1, candidates=512)

    def residual(points):
        return torch.where(points[:, 0] < 1.0, 3.0, 1.0).to(torch.float64)

    rule.refresh(region, residual, 0, torch.Generator().manual_seed(0))
    v = rule.candidate_set.weights
    r = residual(rule.candidate_set.points)
    density = r / (v * r).sum() + 1.0
    expected = v * density / (v * density).sum()
    assert torch.allclose(rule.probability, expected, rtol=1e-12, atol=0)
    # The ratio of a left to a right candidate's probability (equal weights) is (3/m + 1)/(1/m + 1).
    m = float((v * r).sum())
    left, right = r == 3.0, r == 1.0
    assert left.any() and right.any() and abs(m - 1.0) > 0.5
    ratio = float(rule.probability[left][0] / rule.probability[right][0])
    assert abs(ratio - (3.0 / m + 1.0) / (1.0 / m + 1.0)) < 1e-10


def test_rar_serves_the_added_points_in_the_epoch_after_the_pool_grows():
    region, _, _ = box_case()
    generator = torch.Generator().manual_seed(0)
    rule = samplers.get("rar", size=8, every=1, candidates=32, add=4)
    rule.draw(region, 4, generator)  # half of the first epoch of 8 points
    old = rule.pool.points.clone()

    def residual(points):
        return points[:, 0]

    rule.refresh(region, residual, 0, generator)
    assert len(rule.pool) == 12
    added = rule.pool.points[8:]
    batches = [rule.draw(region, 4, generator) for _ in range(3)]
    assert all(len(q) == 4 for q in batches)
    served = torch.cat([q.points for q in batches])
    # A new epoch over the grown pool: each of its 12 points exactly once, the 4 new ones included.
    key = rule.pool.points[:, 0].argsort()
    assert torch.equal(served[served[:, 0].argsort()], rule.pool.points[key])
    assert all(bool((served == p).all(dim=1).any()) for p in added)
    assert not all(bool((old == p).all(dim=1).any()) for p in served)


@pytest.mark.parametrize("size", ["fresh", 64])
def test_rar_fills_its_pool_to_size_on_a_region_with_rejection(size):
    """The unit square minus a disk of radius 0.3 (28% of the cube rejected): the pool still holds
    ``size`` (or the first batch's 64) points, all inside, and serves a batch of 64."""
    region = Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 0.3)])
    rule = samplers.get("rar", size=size)
    q = rule.draw(region, 64, torch.Generator().manual_seed(0))
    assert len(q) == 64 and len(rule.pool) == 64
    assert bool(region.contains(rule.pool.points).all())


@pytest.mark.parametrize("c,expected", [(0.0, 1.0), (1.0, 1.0), (2.0, 2.0)])
def test_a_residual_zero_everywhere_gives_the_uniform_density_c_or_1(c, expected):
    q = importance_density(torch.full((3,), 1 / 3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 1.0, c)
    assert torch.equal(q, torch.full((3,), expected, dtype=torch.float64))


class Scripted:
    """A rule whose k-th draw of n points puts ``inside[k]`` of them inside (weight > 0); counts its draws."""

    name = "scripted"

    def __init__(self, *inside: int):
        self.inside, self.draws = inside, 0

    def draw(self, region, n, generator):
        k, self.draws = self.inside[self.draws], self.draws + 1
        points = torch.full((n, 1), float(self.draws), dtype=torch.float64)
        return Quadrature(points, torch.tensor([1.0] * k + [0.0] * (n - k), dtype=torch.float64) / n)


@pytest.mark.parametrize("inside,draws", [((8,), 1), ((7, 8), 2), ((1, 1, 8), 3)])
def test_inside_points_draws_until_n_are_inside_and_no_more(inside, draws):
    rule = Scripted(*inside)
    points = inside_points(rule, None, 8, torch.Generator())
    assert len(points) == 8 and rule.draws == draws
    assert points[:, 0].tolist() == [float(k + 1) for k, m in enumerate(inside) for _ in range(m)][:8]


def test_inside_points_refuses_a_draw_with_no_point_inside():
    with pytest.raises(ValueError, match=r"^scripted: a draw of 8 points put none inside the region$"):
        inside_points(Scripted(3, 0), None, 8, torch.Generator())
