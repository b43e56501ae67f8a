"""Contracts of the quadrature rules: edge regions, exactness, reproducibility, statistics and error messages.

Fixed seeds and float64 throughout; every test is a closed-form or structural statement about a public API.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch
from test_adaptive_exact import f64

import samplers
from pdes.geometry import Ball, Box, Difference, Interval, Point, SpaceTime, TimeInterval
from samplers.adaptive import RAD, RAR, importance_density
from samplers.gauss import Gauss, check_affine
from samplers.pool import Pool
from samplers.quadrature import Quadrature, seed_from
from samplers.stratified import cells
from samplers.variance import (
    gradient_statistics,
    per_point_gradients,
    pool_gap,
    replicate_statistics,
    sample_variance,
    within_batch_std_error,
)

STATELESS = ["uniform", "stratified", "lhs", "sobol", "halton", "gauss"]
JITTERED = ["uniform", "stratified", "lhs"]
F64 = torch.float64


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class Sheared:
    """The strip ``{0 ≤ x ≤ 1, a sin(πx) ≤ y ≤ 1 + a sin(πx)}``: area 1, unit weights, a curved map for ``a ≠ 0``."""

    dim, cube_dim, measure = 2, 2, 1.0

    def __init__(self, amplitude: float):
        self.amplitude = amplitude

    def from_unit_cube(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = u[:, 1] + self.amplitude * torch.sin(math.pi * u[:, 0])
        return torch.stack([u[:, 0], y], dim=1), torch.ones(len(u), dtype=u.dtype)


class MislabelledSegment:
    """The segment ``[0, 1]`` (map ``x = u``, unit weights) declaring measure 2: its image has a different measure."""

    dim, cube_dim, measure = 1, 1, 2.0

    def from_unit_cube(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return u.clone(), torch.ones(len(u), dtype=u.dtype)


# --- point regions (cube_dim 0) and intervals (cube_dim 1) ---------------------------------------------------------


@pytest.mark.parametrize("name", STATELESS)
def test_every_rule_on_a_point_returns_the_point_with_weights_summing_to_one(name):
    """On a point region (cube_dim 0) every point is the point itself and ``Σ w = 1`` (the mean of f is f(p))."""
    q = samplers.get(name).draw(Point([0.25, -0.5]), 4, seeded())
    assert q.points.dtype == F64 and q.weights.dtype == F64
    assert q.points.shape[1] == 2 and 1 <= len(q) <= 4
    assert torch.equal(q.points, f64(0.25, -0.5).expand(len(q), 2))
    assert math.isclose(float(q.weights.sum()), 1.0, rel_tol=0, abs_tol=1e-15)
    assert torch.allclose(q.weights, torch.full((len(q),), 1 / len(q), dtype=F64), rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["uniform", "stratified", "lhs", "sobol", "halton"])
def test_randomized_rules_on_a_point_keep_the_batch_size(name):
    """A randomized rule returns ``n`` copies of the point with weights ``1/n``."""
    q = samplers.get(name).draw(Point([3.0]), 8, seeded())
    assert len(q) == 8 and torch.equal(q.weights, torch.full((8,), 1 / 8, dtype=F64))


@pytest.mark.parametrize("name", ["uniform", "stratified", "lhs", "sobol", "halton"])
def test_randomized_rules_on_an_interval_give_points_inside_with_unit_total_weight(name):
    """On ``[0, 2]`` (cube_dim 1) the points are ``(n, 1)`` inside the interval and ``Σ w = 1``."""
    q = samplers.get(name).draw(Interval(0.0, 2.0), 16, seeded())
    assert q.points.shape == (16, 1) and q.points.dtype == F64
    assert bool(((q.points >= 0) & (q.points <= 2)).all())
    assert math.isclose(float(q.weights.sum()), 1.0, abs_tol=1e-14)


@pytest.mark.parametrize("name", ["stratified", "lhs", "sobol", "halton"])
def test_one_dimensional_rules_put_one_point_in_each_of_the_n_equal_cells(name):
    """Stratified, Latin hypercube and (power-of-two) scrambled QMC in 1D put one point in every ``[k/n, (k+1)/n)``."""
    q = samplers.get(name).draw(Interval(0.0, 1.0), 16, seeded(4))
    counts = torch.bincount((q.points[:, 0] * 16).floor().long(), minlength=16)
    assert torch.equal(counts, torch.ones(16, dtype=torch.int64))


def test_the_initial_slice_of_a_space_time_domain_is_integrated_by_every_rule():
    """``t`` on ``Ω × {t0}`` with ``t0 = 0.5`` has mean 0.5, and every point lies on the slice."""
    region = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.5, 2.0)).initial
    for name in STATELESS:
        q = samplers.get(name).draw(region, 8, seeded())
        assert torch.equal(q.points[:, 1], torch.full((len(q),), 0.5, dtype=F64))
        assert math.isclose(float(q.mean(q.points[:, 1])), 0.5, abs_tol=1e-15)


# --- reproducibility and resolution -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uniform", "stratified", "lhs", "sobol", "halton"])
def test_a_seeded_generator_fixes_the_draw_and_successive_draws_differ(name):
    """Two draws with equally seeded generators are identical; two draws from one generator are not."""
    region = Box([0.0, 0.0], [1.0, 2.0])
    a, b = samplers.get(name).draw(region, 16, seeded(5)), samplers.get(name).draw(region, 16, seeded(5))
    assert torch.equal(a.points, b.points) and torch.equal(a.weights, b.weights)
    generator = seeded(5)
    rule = samplers.get(name)
    assert not torch.equal(rule.draw(region, 16, generator).points, rule.draw(region, 16, generator).points)


@pytest.mark.parametrize("name", ["uniform", "stratified", "lhs"])
def test_replicate_of_a_stateless_rule_is_the_draw_with_the_same_generator(name):
    """``Rule.replicate`` draws from the rule's law with the given generator: same seed, same points."""
    region = Box([0.0], [1.0])
    a = samplers.get(name).replicate(region, 8, seeded(11))
    b = samplers.get(name).draw(region, 8, seeded(11))
    assert torch.equal(a.points, b.points) and torch.equal(a.weights, b.weights)


@pytest.mark.parametrize("name", JITTERED)
def test_jitter_has_full_float64_resolution(name):
    """The uniform jitter is float64: ``n x · 2^24`` is not an integer (it would be for float32 jitter)."""
    q = samplers.get(name).draw(Interval(0.0, 1.0), 4, seeded(2))
    scaled = q.points[:, 0] * 4 * 2**24
    assert bool((scaled != scaled.round()).any())


@pytest.mark.parametrize("name", ["stratified", "lhs"])
def test_each_point_has_its_own_jitter(name):
    """The offsets ``n x − ⌊n x⌋`` of the points within their cells are independent, hence all distinct."""
    q = samplers.get(name).draw(Interval(0.0, 1.0), 8, seeded(3))
    offsets = q.points[:, 0] * 8 - (q.points[:, 0] * 8).floor()
    assert len(torch.unique(offsets)) == 8


def test_latin_hypercube_has_one_point_per_interval_on_every_axis():
    """On each axis of ``[0, 1]^3`` each ``[k/n, (k+1)/n)`` holds exactly one of the n points."""
    q = samplers.get("lhs").draw(Box([0.0] * 3, [1.0] * 3), 10, seeded(7))
    for axis in range(3):
        assert sorted((q.points[:, axis] * 10).floor().long().tolist()) == list(range(10))


def test_seed_from_is_a_uniform_draw_below_two_to_the_62_from_the_generator():
    """``seed_from(g)`` is ``randint(0, 2^62)`` from ``g``'s stream: distinct, large, reproducible."""
    generator, reference = seeded(9), seeded(9)
    seeds = [seed_from(generator) for _ in range(16)]
    assert seeds == [int(torch.randint(0, 2**62, (1,), generator=reference)) for _ in range(16)]
    assert len(set(seeds)) == 16 and all(0 <= s < 2**62 for s in seeds) and max(seeds) > 2**40


# --- Sobol' warning -------------------------------------------------------------------------------------------------


def test_sobol_warns_for_batches_that_are_not_a_power_of_two():
    """n = 12 is not ``2^k``: one warning, with the advice, attributed to the caller rather than to the samplers."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samplers.get("sobol").draw(Box([0.0], [1.0]), 12, seeded())
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith("sobol: n=12 is not a power of two")
    assert message.endswith("variance decay; use a batch of 2^k points")
    assert "samplers" not in Path(caught[0].filename).parts


@pytest.mark.parametrize("n", [1, 2, 4, 8, 64])
def test_sobol_is_silent_for_powers_of_two_including_one(n):
    """``n = 2^k`` (``k ≥ 0``) keeps the balance: no warning at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = samplers.get("sobol").draw(Box([0.0, 0.0], [1.0, 1.0]), n, seeded())
    assert len(q) == n


# --- stratified cells ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_cells_tile_the_unit_cube_with_cells_of_volume_one_over_n(dim):
    """For every n ≤ 40, ``cells(n, dim)`` are n half-open boxes of volume ``1/n`` that cover ``[0, 1)^dim`` once."""
    probes = torch.rand(600, dim, generator=seeded(1), dtype=F64)
    for n in range(1, 41):
        lower, upper = cells(n, dim)
        assert lower.dtype == F64 and upper.dtype == F64 and lower.shape == (n, dim)
        assert torch.allclose((upper - lower).prod(dim=1), torch.full((n,), 1 / n, dtype=F64), rtol=1e-13, atol=0)
        inside = ((probes[:, None, :] >= lower) & (probes[:, None, :] < upper)).all(dim=2)
        assert torch.equal(inside.sum(dim=1), torch.ones(600, dtype=torch.int64)), n


@pytest.mark.parametrize(("n", "dim", "m"), [(9, 2, 3), (8, 3, 2), (16, 2, 4), (5, 1, 5)])
def test_cells_of_a_perfect_power_are_the_regular_grid(n, dim, m):
    """``n = m^dim`` gives the ``m × … × m`` grid: corners are multiples of ``1/m``, every grid cell once."""
    lower, upper = cells(n, dim)
    assert torch.allclose(upper - lower, torch.full((n, dim), 1 / m, dtype=F64), rtol=0, atol=1e-15)
    index = (lower * m).round().long()
    assert torch.allclose(lower * m, index.double(), rtol=0, atol=1e-12)
    flat = sorted(tuple(row) for row in index.tolist())
    assert len(set(flat)) == n and all(0 <= i < m for row in flat for i in row)


@pytest.mark.parametrize(("n", "dim", "slab_cells"), [(8, 2, [3, 3, 2]), (7, 2, [3, 2, 2]), (2, 3, [2]), (1, 2, [1])])
def test_cells_cut_the_first_axis_into_round_nth_root_slabs(n, dim, slab_cells):
    """The first axis is cut into ``m = round(n^(1/dim))`` slabs of ``⌈n/m⌉`` then ``⌊n/m⌋`` cells, width ∝ cells."""
    lower, upper = cells(n, dim)
    edges = sorted(set(lower[:, 0].tolist()))
    assert len(edges) == len(slab_cells)
    for start, count in zip(edges, slab_cells):
        in_slab = lower[:, 0] == start
        assert int(in_slab.sum()) == count
        assert torch.allclose(upper[in_slab, 0] - start, torch.full((count,), count / n, dtype=F64), atol=1e-15)


def test_stratified_puts_point_i_in_cell_i_with_the_cell_volume_as_weight():
    """Point i lies in ``cells(n, d)[i]`` and weighs the cell's volume ``1/n``."""
    for n, dim in [(7, 2), (10, 3), (12, 2)]:
        q = samplers.get("stratified").draw(Box([0.0] * dim, [1.0] * dim), n, seeded(n))
        lower, upper = cells(n, dim)
        assert bool(((q.points >= lower) & (q.points <= upper)).all())
        assert torch.allclose(q.weights, torch.full((n,), 1 / n, dtype=F64), rtol=1e-13, atol=0)


# --- Gauss -------------------------------------------------------------------------------------------------------


def test_gauss_on_a_point_is_the_point_with_weight_one():
    """The rule on a point is that point, float64, weight 1, whatever n."""
    for n in (1, 5):
        q = Gauss().draw(Point([0.25, -0.5]), n, seeded())
        assert torch.equal(q.points, f64(0.25, -0.5)[None]) and torch.equal(q.weights, f64(1.0))
        assert q.points.dtype == F64 and q.weights.dtype == F64


@pytest.mark.parametrize("n", [1, 3])
def test_gauss_with_fewer_than_four_points_on_a_square_is_the_midpoint_rule(n):
    """n < 4 on a box in 2D: ``m = 1``, the single midpoint with weight 1."""
    q = Gauss().draw(Box([0.0, 0.0], [2.0, 1.0]), n, seeded())
    assert torch.equal(q.points, f64(1.0, 0.5)[None]) and torch.equal(q.weights, f64(1.0))


def test_gauss_is_exact_on_a_small_box():
    """m = 3 on ``[0, 1/2]^2`` integrates ``x^5 y^4``: mean ``(2^-5/6)(2^-4/5) / (1/4)``."""
    q = Gauss().draw(Box([0.0, 0.0], [0.5, 0.5]), 9, seeded())
    assert len(q) == 9
    truth = (0.5**6 / 6) * (0.5**5 / 5) / 0.25
    assert math.isclose(float(q.mean(q.points[:, 0] ** 5 * q.points[:, 1] ** 4)), truth, rel_tol=1e-13)


def test_gauss_is_exact_on_a_box_far_from_the_origin():
    """m = 2 on ``[1000, 1003] × [-2000, -1998.5]`` integrates ``(x − 1000)^3 + y``: mean ``27/4 − 1999.25``."""
    q = Gauss().draw(Box([1000.0, -2000.0], [1003.0, -1998.5]), 4, seeded())
    assert len(q) == 4
    value = q.mean((q.points[:, 0] - 1000) ** 3 + q.points[:, 1])
    assert math.isclose(float(value), 27 / 4 - 1999.25, rel_tol=1e-12)


def test_gauss_is_exact_on_a_one_dimensional_ball_far_from_the_origin():
    """The 1D ball ``[c ± r]`` (c = 1000.3, r = 0.7) is affine up to rounding: m = 3 gives ``(x − c)²`` mean r²/3."""
    q = Gauss().draw(Ball([1000.3], 0.7), 3, seeded())
    assert len(q) == 3
    assert math.isclose(float(q.mean((q.points[:, 0] - 1000.3) ** 2)), 0.49 / 3, rel_tol=1e-9)


def test_gauss_on_a_square_boundary_uses_m_points_per_face():
    """n = 20 on the boundary of ``[0, 2] × [0, 1]``: 5 nodes on each of the 4 faces, exact for ``x² + y`` (37/18)."""
    q = Gauss().draw(Box([0.0, 0.0], [2.0, 1.0]).boundary, 20, seeded())
    assert len(q) == 20
    assert math.isclose(float(q.mean(q.points[:, 0] ** 2 + q.points[:, 1])), 37 / 18, rel_tol=1e-13)


def test_gauss_on_a_product_multiplies_the_point_counts_of_the_factors():
    """The lateral boundary ``{0, 1} × [0, 1]`` with n = 10: 2 points × 5 nodes; ``x + t³`` has mean 3/4."""
    q = Gauss().draw(SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0)).boundary, 10, seeded())
    assert len(q) == 10
    assert math.isclose(float(q.mean(q.points[:, 0] + q.points[:, 1] ** 3)), 0.75, rel_tol=1e-13)


def test_gauss_refuses_a_batch_smaller_than_one_node_per_piece():
    """A square's boundary needs at least one node on each of its 4 faces."""
    with pytest.raises(ValueError, match=r"^gauss needs at least 4 points on this region, got n=3$"):
        Gauss().draw(Box([0.0, 0.0], [2.0, 1.0]).boundary, 3, seeded())


def test_gauss_refuses_a_one_dimensional_curved_map():
    """The circle (cube_dim 1) has a curved map: refused with a one-line message naming the region."""
    message = (
        r"^gauss works on boxes, box faces, points and products of those; Sphere has a curved map or "
        r"rejection weights, so use another sampler$"
    )
    with pytest.raises(ValueError, match=message):
        Gauss().draw(Ball([0.0, 0.0], 1.0).boundary, 8, seeded())


def test_gauss_refuses_rejection_weights_even_when_the_hole_is_negligible():
    """A hole of area ``π 10^-12`` is still a curved piece sampled by rejection: no exact cells, refused."""
    region = Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 1e-6)])
    with pytest.raises(ValueError, match="gauss needs a region cut into exact cells; this Difference of curved"):
        Gauss().draw(region, 9, seeded())


@pytest.mark.parametrize("amplitude", [0.1, 1e-10])
def test_gauss_refuses_a_curved_map_with_unit_weights_and_the_right_volume(amplitude):
    """The sheared strip keeps area 1 and unit weights, but ``x(u)`` is not affine (by ``a sin πu₀``): refused."""
    with pytest.raises(ValueError, match="Sheared has a curved map or rejection weights"):
        Gauss().draw(Sheared(amplitude), 9, seeded())


def test_gauss_accepts_an_unsheared_strip():
    """With ``a = 0`` the strip is the unit square: accepted, and exact for ``x³ y``, mean 1/8."""
    q = Gauss().draw(Sheared(0.0), 4, seeded())
    assert math.isclose(float(q.mean(q.points[:, 0] ** 3 * q.points[:, 1])), 1 / 8, rel_tol=1e-13)


def test_check_affine_refuses_a_map_whose_image_has_another_measure():
    """An affine unit-weight map onto ``[0, 1]`` of a region declaring measure 2 is refused."""
    with pytest.raises(ValueError, match="MislabelledSegment has a curved map"):
        check_affine(MislabelledSegment())


# --- Quadrature, registry and stateful rules ------------------------------------------------------------------------


def test_quadrature_to_moves_points_and_weights_to_the_device_and_dtype():
    """``to(device, dtype)`` converts both tensors (the meta device stands in for an accelerator)."""
    q = Quadrature(torch.zeros(3, 2, dtype=F64), torch.full((3,), 1 / 3, dtype=F64)).to("meta", torch.float32)
    assert q.points.device.type == "meta" and q.weights.device.type == "meta"
    assert q.points.dtype == torch.float32 and q.weights.dtype == torch.float32


def test_a_draw_needs_at_least_one_point():
    """``n = 0`` is refused with a one-line message."""
    with pytest.raises(ValueError, match=r"^a quadrature needs at least one point, got n=0$"):
        samplers.get("uniform").draw(Box([0.0], [1.0]), 0, seeded())


def test_unknown_options_list_the_valid_ones():
    """The message lists the rule's options, or says ``none`` for a rule without options."""
    with pytest.raises(ValueError, match=r"^sampler 'pool' has no option 'bogus'; its options: size, base$"):
        samplers.get("pool", bogus=1)
    with pytest.raises(ValueError, match=r"^sampler 'uniform' has no option 'bogus'; its options: none$"):
        samplers.get("uniform", bogus=1)


def test_unknown_sampler_names_list_every_registered_rule():
    """The message lists all registered names in registry order."""
    valid = "uniform, stratified, lhs, sobol, halton, gauss, pool, rad, rar"
    with pytest.raises(ValueError, match=rf"^unknown sampler 'nope'; valid samplers: {valid}$"):
        samplers.get("nope")


def test_a_stateful_base_rule_is_refused_with_the_stateless_choices():
    """A pool cannot draw from a stateful rule: the message lists the stateless rules."""
    stateless = r"\(uniform, stratified, lhs, sobol, halton, gauss\)"
    with pytest.raises(ValueError, match=rf"^the base rule of 'pool' must be stateless {stateless}, got 'rad'$"):
        samplers.get("pool", base="rad")


@pytest.mark.parametrize("size", [0, -3, True, 2.5, "big"])
def test_pool_size_must_be_a_positive_integer_or_fresh(size):
    """Sizes that are not positive integers (bools and floats included) are refused."""
    with pytest.raises(ValueError, match=r"^pool size must be a positive integer or 'fresh', got "):
        Pool(size=size)


def test_a_pool_of_one_point_serves_batches_of_one():
    """``size = 1`` is valid: every batch is the one pool point with weight ``v · 1/1 = 1``."""
    rule = Pool(size=1)
    region = Box([0.0], [1.0])
    first, second = rule.draw(region, 1, seeded()), rule.draw(region, 1, seeded())
    assert torch.equal(first.points, second.points) and torch.equal(first.weights, f64(1.0))


def test_pool_replicate_is_a_random_subset_of_the_pool_with_minibatch_weights():
    """A replicate is n distinct pool points weighing ``v_j N/n``; the same seed gives the same subset."""
    region = Box([0.0, 0.0], [1.0, 1.0])
    a, b = Pool(size=32), Pool(size=32)
    qa, qb = a.replicate(region, 8, seeded(1)), b.replicate(region, 8, seeded(1))
    assert torch.equal(qa.points, qb.points)
    assert len(torch.unique(qa.points, dim=0)) == 8
    pool_rows = {tuple(p) for p in a.pool.points.tolist()}
    assert all(tuple(p) in pool_rows for p in qa.points.tolist())
    assert torch.allclose(qa.weights, torch.full((8,), 1 / 8, dtype=F64), rtol=0, atol=1e-15)


def test_pool_replicate_leaves_the_epoch_untouched():
    """Replicates between two minibatches do not change the epoch: the batches equal those served without them."""
    region = Box([0.0], [1.0])
    plain, probed = Pool(size=16), Pool(size=16)
    g1, g2 = seeded(3), seeded(3)
    first = plain.draw(region, 4, g1), plain.draw(region, 4, g1)
    batch = probed.draw(region, 4, g2)
    probed.replicate(region, 4, seeded(99))
    second = batch, probed.draw(region, 4, g2)
    for x, y in zip(first, second):
        assert torch.equal(x.points, y.points)


def test_a_fresh_pool_replicates_with_the_base_rule():
    """Without a pool, ``replicate`` is the base rule's draw of n points with the same generator."""
    region = Box([0.0, 0.0], [1.0, 2.0])
    q = Pool(base=samplers.get("stratified")).replicate(region, 6, seeded(4))
    reference = samplers.get("stratified").draw(region, 6, seeded(4))
    assert torch.equal(q.points, reference.points) and torch.equal(q.weights, reference.weights)


def test_a_fresh_rar_pool_is_the_first_batch():
    """RAR with ``size='fresh'`` fills its pool with the first batch's n points, by ``draw`` or by ``replicate``."""
    region = Box([0.0], [1.0])
    drawn = RAR()
    q = drawn.draw(region, 8, seeded())
    assert len(q) == 8 and len(drawn.pool) == 8
    replicated = RAR()
    assert len(replicated.replicate(region, 6, seeded())) == 6 and len(replicated.pool) == 6


# --- RAD and RAR ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [RAD, RAR])
@pytest.mark.parametrize(
    ("option", "value", "label"),
    [("every", 0, "refresh interval"), ("every", True, "refresh interval"), ("candidates", 2.5, "candidates")],
)
def test_adaptive_rules_refuse_non_positive_integer_options(rule, option, value, label):
    """``every`` and ``candidates`` must be positive integers (not bools or floats): the message names the option."""
    with pytest.raises(ValueError, match=rf"^{label} must be a positive integer, got {value!r}$"):
        rule(**{option: value})


def test_rar_add_must_be_a_positive_integer_at_most_the_candidates():
    """``add`` is a positive integer ≤ ``candidates``; ``add = candidates`` is allowed."""
    with pytest.raises(ValueError, match=r"^rar_add must be a positive integer, got 0$"):
        RAR(add=0)
    with pytest.raises(ValueError, match=r"^rar adds at most its 4 candidates per refresh, got add=5$"):
        RAR(candidates=4, add=5)
    assert RAR(candidates=4, add=4).add == 4


def test_rad_accepts_any_finite_non_negative_exponent():
    """``k = 0`` (uniform) and fractional ``k`` are valid; negative ``k`` is refused."""
    assert RAD(k=0.0).k == 0.0 and RAD(k=0.5).k == 0.5
    with pytest.raises(ValueError, match=r"^rad needs finite k >= 0 and c >= 0, got k=-1, c=1$"):
        RAD(k=-1, c=1)


def test_rad_defaults_density_from_16384_candidates_with_k_1_c_1_every_500_steps():
    """Defaults: ``π_j ∝ v_j (|r_j| / Σ v|r| + 1)`` of 16384 candidates, redrawn at multiples of 500 steps."""
    region = Box([0.0], [1.0])
    rule = samplers.get("rad")
    rule.refresh(region, lambda x: 3 * x[:, 0], 0, seeded())
    assert len(rule.candidate_set) == 16384
    v, r = rule.candidate_set.weights, 3 * rule.candidate_set.points[:, 0]
    mass = v * (r / (v * r).sum() + 1)
    assert torch.allclose(rule.probability, mass / mass.sum(), rtol=1e-12, atol=0)
    before = rule.candidate_set
    rule.refresh(region, lambda x: 3 * x[:, 0], 250, seeded())
    assert rule.candidate_set is before
    rule.refresh(region, lambda x: 3 * x[:, 0], 500, seeded())
    assert rule.candidate_set is not before


def test_rar_defaults_add_64_of_16384_candidates_every_500_steps():
    """Defaults: each refresh (steps multiple of 500) evaluates 16384 candidates and adds the 64 worst to the pool."""
    region = Box([0.0], [1.0])
    rule = samplers.get("rar")
    rule.draw(region, 8, seeded())
    seen = []

    def residual(x):
        seen.append(len(x))
        return x[:, 0]

    rule.refresh(region, residual, 0, seeded())
    assert seen == [16384] and len(rule.pool) == 72
    rule.refresh(region, residual, 250, seeded())
    rule.refresh(region, residual, 500, seeded())
    assert seen == [16384, 16384] and len(rule.pool) == 136


@pytest.mark.parametrize("rule", [RAD, RAR])
def test_adaptive_rules_draw_from_their_base_rule(rule):
    """Before any refresh the points come from ``base``: with Gauss, the 2 × 2 Gauss nodes."""
    region = Box([0.0, 0.0], [1.0, 1.0])
    q = rule(base=Gauss()).draw(region, 4, seeded())
    reference = Gauss().draw(region, 4, seeded())
    assert torch.equal(q.points.sort(dim=0).values, reference.points.sort(dim=0).values)


@pytest.mark.parametrize("rule", [RAD, RAR])
def test_adaptive_rules_are_reproducible_from_a_seeded_generator(rule):
    """The same seed gives the same first batch, the same refresh and the same batch after it."""
    region = Box([0.0, 0.0], [1.0, 1.0])
    batches = []
    for _ in range(2):
        generator = seeded(12)
        r = rule(every=1, candidates=64) if rule is RAD else rule(size=16, every=1, candidates=64, add=4)
        first = r.draw(region, 8, generator)
        r.refresh(region, lambda x: x.sum(dim=1), 0, generator)
        held = r.candidate_set if rule is RAD else r.pool
        batches.append((first, held, r.draw(region, 8, generator)))
    for a, b in zip(*batches):
        assert torch.equal(a.points, b.points) and torch.equal(a.weights, b.weights)


def hole_region() -> Difference:
    return Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 0.3)])


def peak_at_hole(x: torch.Tensor) -> torch.Tensor:
    """A residual largest at the hole's centre ``(0.5, 0.5)``."""
    return 1 / ((x - 0.5).norm(dim=1) + 1e-3)


def test_rar_never_adds_candidates_from_a_hole():
    """Zero-weight candidates (in the hole) are dropped, so the worst points added all lie in the region."""
    region = hole_region()
    rule = RAR(size=32, every=1, candidates=256, add=16)
    rule.draw(region, 8, seeded())
    rule.refresh(region, peak_at_hole, 0, seeded(1))
    assert len(rule.pool) > 32 and bool(region.contains(rule.pool.points).all())


def test_rad_candidates_exclude_the_hole():
    """The RAD candidate set keeps only candidates with nonzero weight, all inside the region."""
    region = hole_region()
    rule = RAD(every=1, candidates=256)
    rule.refresh(region, peak_at_hole, 0, seeded(1))
    assert bool(region.contains(rule.candidate_set.points).all()) and bool((rule.candidate_set.weights > 0).all())


def test_rad_computes_the_density_of_a_float32_residual_in_float64():
    """A float32 residual gives exactly the probabilities of the same values converted to float64."""
    region = Box([0.0], [1.0])
    low, high = RAD(every=1, candidates=64), RAD(every=1, candidates=64)
    low.refresh(region, lambda x: (1.1 * x[:, 0] + 0.3).float(), 0, seeded())
    high.refresh(region, lambda x: (1.1 * x[:, 0] + 0.3).float().double(), 0, seeded())
    assert low.probability.dtype == F64
    assert torch.allclose(low.probability, high.probability, rtol=1e-14, atol=0)


@pytest.mark.parametrize("rule", [RAD, RAR])
@pytest.mark.parametrize(
    "residual", [lambda x: x[:, :1], lambda x: torch.full((len(x),), math.nan, dtype=F64)], ids=["shape", "nan"]
)
def test_adaptive_rules_refuse_a_residual_that_is_not_a_finite_vector(rule, residual):
    """A residual of shape ``(N, 1)`` or with NaNs is refused, the message prefixed with the rule's name."""
    region = Box([0.0], [1.0])
    r = rule(every=1, candidates=8) if rule is RAD else rule(size=4, every=1, candidates=8, add=2)
    r.draw(region, 2, seeded())
    message = rf"^{r.name}: the residual at the candidate points is not a finite \(8,\) tensor$"
    with pytest.raises(ValueError, match=message):
        r.refresh(region, residual, 0, seeded())


def test_importance_density_divides_by_the_weighted_mean_even_for_a_rejection_weight():
    """One candidate of rejection weight 1.25 and ``|r| = 3``: ``q = 3 / (1.25 · 3) + 0 = 0.8``."""
    assert torch.allclose(importance_density(f64(1.25), f64(3.0), 1.0, 0.0), f64(0.8), rtol=0, atol=1e-15)


# --- variance statistics ------------------------------------------------------------------------------------------


def test_sample_variance_is_the_unbiased_variance_in_float64():
    """``s² = Σ (v − v̄)² / (B − 1)``: for float32 values the same as for their float64 conversions; B ≥ 2."""
    values = torch.tensor([0.1, 0.7, 1 / 3, 2.0], dtype=torch.float32)
    exact = values.double()
    assert sample_variance(values) == float(((exact - exact.mean()) ** 2).sum() / 3)
    with pytest.raises(ValueError, match=r"^a sample variance needs at least 2 values, got 1$"):
        sample_variance(f64(1.0))


def test_within_batch_std_error_is_computed_in_float64_from_float32_weights():
    """``sqrt(s²(B w f)/B)`` of float32 weights equals that of the same weights converted to float64."""
    values = f64(1.0, 2.0, 4.0)
    w32 = torch.full((3,), 1 / 3, dtype=torch.float32)
    low = within_batch_std_error(Quadrature(torch.zeros(3, 1), w32), values)
    high = within_batch_std_error(Quadrature(torch.zeros(3, 1, dtype=F64), w32.double()), values)
    assert low == high


def two_draws():
    """Alternating deterministic draws with estimates 1/3 and 2/3 of ``f(x) = x``."""
    quads = [
        Quadrature(f64(0.0, 1 / 3, 2 / 3)[:, None], torch.full((3,), 1 / 3, dtype=F64)),
        Quadrature(f64(1 / 3, 1.0)[:, None], f64(0.5, 0.5)),
    ]
    calls = iter(range(100))
    return lambda: quads[next(calls) % 2], quads


def test_replicate_statistics_of_two_draws():
    """Estimates ``e = (1/3, 2/3)``: mean 1/2, ``std_error = |e₁ − e₂|/√2``, within error the mean of the two."""
    draw, quads = two_draws()
    stats = replicate_statistics(draw, lambda x: x[:, 0], 2)
    within = [within_batch_std_error(q, q.points[:, 0]) for q in quads]
    assert stats["replicates"] == 2 and stats["batch"] == 2
    assert math.isclose(stats["estimate"], 0.5, rel_tol=1e-15)
    assert math.isclose(stats["std_error"], (1 / 3) / math.sqrt(2), rel_tol=1e-14)
    assert math.isclose(stats["within_batch_std_error"], (within[0] + within[1]) / 2, rel_tol=1e-14)


def test_replicate_statistics_of_a_single_draw():
    """One replicate is allowed: its estimate exactly (1/3), ``std_error`` undefined (NaN) and the batch size."""
    draw, _ = two_draws()
    stats = replicate_statistics(draw, lambda x: x[:, 0], 1)
    assert math.isnan(stats["std_error"]) and stats["batch"] == 3
    assert math.isclose(stats["estimate"], 1 / 3, rel_tol=1e-15)
    with pytest.raises(ValueError, match=r"^replicates must be a positive integer, got 0$"):
        replicate_statistics(draw, lambda x: x[:, 0], 0)


def test_replicate_statistics_estimates_in_the_quadratures_precision():
    """For a float32 quadrature the estimate is ``Σ w f`` in float32, the value its training loss takes."""
    q = Quadrature(f64(0.1, 0.2, 0.7)[:, None], torch.full((3,), 1 / 3, dtype=F64)).to("cpu", torch.float32)
    stats = replicate_statistics(lambda: q, lambda x: x[:, 0].double() / 3, 1)
    assert stats["estimate"] == float(q.mean((q.points[:, 0].double() / 3).float()))


def test_per_point_gradients_come_in_chunks_of_512_rows():
    """600 points: chunks of 512 and 88 rows of ``∇_a (a·x)² = 2 (a·x) x``."""
    x = torch.rand(600, 2, generator=seeded(), dtype=F64)
    a = f64(1.0, -2.0)
    chunks = list(per_point_gradients(lambda p, xi: (p["a"] * xi).sum() ** 2, {"a": a}, (x,)))
    assert [len(c) for c in chunks] == [512, 88]
    assert torch.allclose(torch.cat(chunks), 2 * (x @ a)[:, None] * x, rtol=1e-14, atol=1e-14)


def test_gradient_statistics_of_two_points():
    """Two gradients: ``tr Cov = ‖g₁ − g₂‖²/2``, norm ``‖(g₁ + g₂)/2‖``, SNR ``norm / sqrt(tr/2)``."""
    stats = gradient_statistics([f64(1.0, 2.0)[None], f64(3.0, -1.0)[None]])
    assert math.isclose(stats["grad_var_trace"], 13 / 2, rel_tol=1e-15)
    assert math.isclose(stats["grad_norm"], math.sqrt(4 + 0.25), rel_tol=1e-15)
    assert math.isclose(stats["grad_snr"], math.sqrt(4.25) / math.sqrt(13 / 4), rel_tol=1e-14)
    with pytest.raises(ValueError, match=r"^gradient statistics need at least 2 points, got 1$"):
        gradient_statistics([f64(1.0, 2.0)[None]])


def direct_statistics(rows: torch.Tensor) -> tuple[float, float]:
    mean = rows.mean(dim=0)
    return float(((rows - mean) ** 2).sum() / (len(rows) - 1)), float(mean.norm())


def test_gradient_statistics_over_chunks_with_different_means():
    """Chunks of different means give the two-pass ``Σ‖g − ḡ‖²/(B − 1)`` and ``‖ḡ‖`` to 1e-13."""
    first = f64(1.0, 2.0, 3.0, 5.0).reshape(2, 2)
    second = f64(1 / 3, 0.1, 0.7, 1 / 7, 2.0, 1 / 9).reshape(3, 2)
    stats = gradient_statistics([first, second])
    trace, norm = direct_statistics(torch.cat([first, second]))
    assert math.isclose(stats["grad_var_trace"], trace, rel_tol=1e-13)
    assert math.isclose(stats["grad_norm"], norm, rel_tol=1e-13)


def test_gradient_statistics_of_float32_chunks_are_computed_in_float64():
    """float32 chunks give the statistics of the same values converted to float64."""
    chunks = [torch.rand(5, 3, generator=seeded(k)).float() + k for k in range(3)]
    low = gradient_statistics(chunks)
    high = gradient_statistics([c.double() for c in chunks])
    for key in ("grad_var_trace", "grad_norm", "grad_snr"):
        assert math.isclose(low[key], high[key], rel_tol=1e-14), key


def test_gradient_statistics_do_not_cancel_for_large_opposite_means():
    """Coordinates of mean ``±10^8`` with unit spread: the trace is still exact (no catastrophic cancellation)."""
    noise = f64(-1.0, 1.0, 0.5, -0.5)
    rows = torch.stack([1e8 + noise, -1e8 + 2 * noise], dim=1)
    stats = gradient_statistics([rows[:2], rows[2:]])
    trace = float((noise**2).sum() * 5 / 3)
    assert math.isclose(stats["grad_var_trace"], trace, rel_tol=1e-9)


def test_pool_gap_of_float32_inputs_is_computed_in_float64():
    """float32 quadratures and integrand give exactly the pool gap of the same values in float64."""
    points = torch.rand(6, 1, generator=seeded(), dtype=F64)
    pool = Quadrature(points, torch.full((6,), 1 / 6, dtype=F64)).to("cpu", torch.float32)
    fresh = Quadrature(points.flip(0) / 3, torch.full((6,), 1 / 6, dtype=F64)).to("cpu", torch.float32)
    low = pool_gap(pool, fresh, lambda x: (x[:, 0] * 1.1).float())
    high = pool_gap(pool.to("cpu", F64), fresh.to("cpu", F64), lambda x: (x[:, 0].float() * 1.1).float().double())
    for key in ("pool_loss", "fresh_loss", "pool_gap", "fresh_std_error"):
        assert low[key] == high[key], key
