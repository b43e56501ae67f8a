"""Quadrature rules: unbiasedness, variance decay, exactness and structure (fixed seeds)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import samplers
from pdes.geometry import Ball, Box, Difference, SpaceTime, TimeInterval
from samplers.stratified import cells
from samplers.variance import sample_variance

E = math.e
RANDOMIZED = ["uniform", "stratified", "lhs", "sobol", "halton"]


def box_case():
    """``exp(x) cos(y)`` on ``[0, 2] × [-1, 1]``: mean ``(e² − 1)/2 · sin 1``."""
    return Box([0.0, -1.0], [2.0, 1.0]), lambda p: torch.exp(p[:, 0]) * torch.cos(p[:, 1]), (E**2 - 1) / 2 * math.sin(1)


def ball_case():
    """``|x − c|² + x`` on the disk of radius 2 about ``(1, −1)``: mean ``r²/2 + 1 = 3``."""
    c = torch.tensor([1.0, -1.0], dtype=torch.float64)
    return Ball([1.0, -1.0], 2.0), lambda p: ((p - c) ** 2).sum(dim=1) + p[:, 0], 3.0


def difference_case():
    """``x²`` on the unit square minus the disk of radius 1/4 about its centre."""
    hole = math.pi / 64 + math.pi / 1024
    return (
        Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 0.25)]),
        lambda p: p[:, 0] ** 2,
        (1 / 3 - hole) / (1 - math.pi / 16),
    )


def boundary_case():
    """``x² + y`` on the boundary of ``[0, 2] × [0, 1]`` (perimeter 6): mean ``37/18``."""
    return Box([0.0, 0.0], [2.0, 1.0]).boundary, lambda p: p[:, 0] ** 2 + p[:, 1], 37 / 18


def initial_case():
    """``sin πx sin πy + t`` on the initial slice of the unit square × (0, 1]: mean ``4/π²``."""
    region = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0)).initial
    return region, lambda p: torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1]) + p[:, 2], 4 / math.pi**2


CASES = {
    "box": box_case,
    "ball": ball_case,
    "difference": difference_case,
    "boundary": boundary_case,
    "initial": initial_case,
}


def replicate_estimates(rule_name: str, region, f, n: int, replicates: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    rule = samplers.get(rule_name)
    estimates = []
    for _ in range(replicates):
        q = rule.draw(region, n, generator)
        estimates.append(float(q.mean(f(q.points))))
    return torch.tensor(estimates, dtype=torch.float64)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("rule", RANDOMIZED)
def test_randomized_rules_are_unbiased(rule, case):
    region, f, truth = CASES[case]()
    estimates = replicate_estimates(rule, region, f, 64, 100, seed=7)
    standard_error = math.sqrt(sample_variance(estimates) / len(estimates))
    assert abs(float(estimates.mean()) - truth) <= 4 * standard_error + 1e-12


def test_weights_sum_to_one_on_exact_maps():
    generator = torch.Generator().manual_seed(0)
    for rule in RANDOMIZED + ["gauss"]:
        for case in ("box", "boundary", "initial"):
            q = samplers.get(rule).draw(CASES[case]()[0], 64, generator)
            assert float(q.weights.sum()) == pytest.approx(1.0, abs=1e-12)


def test_uniform_variance_falls_as_one_over_batch():
    region, f, mean = box_case()
    second_moment = (E**4 - 1) / 4 * (0.5 + math.sin(2) / 4)
    variance = second_moment - mean**2
    for n in (16, 256):
        estimates = replicate_estimates("uniform", region, f, n, 400, seed=n)
        assert n * sample_variance(estimates) / variance == pytest.approx(1.0, abs=0.25)


def test_sobol_variance_falls_at_least_as_batch_to_the_minus_two():
    region, f, _ = box_case()
    exponents = torch.tensor([8.0, 10.0, 12.0, 14.0], dtype=torch.float64)
    log_variance = torch.tensor(
        [
            math.log2(sample_variance(replicate_estimates("sobol", region, f, 2 ** int(k), 16, seed=int(k))))
            for k in exponents
        ],
        dtype=torch.float64,
    )
    slope = float(
        ((exponents - exponents.mean()) * (log_variance - log_variance.mean())).sum()
        / ((exponents - exponents.mean()) ** 2).sum()
    )
    assert slope <= -2.0


def box_case_variance() -> float:
    """``σ²`` of ``exp(x) cos(y)`` under the uniform law on ``[0, 2] × [-1, 1]``."""
    second_moment = (E**4 - 1) / 4 * (0.5 + math.sin(2) / 4)
    return second_moment - box_case()[2] ** 2


def stratified_prediction(n: int) -> float:
    """``n·Var/σ²`` of stratified sampling on an ``m × m`` grid (``n = m²``) for ``exp(x) cos(y)``.

    With cells of side ``h = 2/m``, each cell's variance is ``h²(f_x² + f_y²)/12`` to leading
    order, so ``n·Var = E[|∇f|²] h²/12 = (e⁴ − 1)/4 · h²/12``.
    """
    h = 2 / math.isqrt(n)
    return (E**4 - 1) / 4 * h**2 / 12 / box_case_variance()


def lhs_prediction() -> float:
    """``n·Var/σ²`` of Latin hypercube sampling as ``n → ∞``: the fraction of ``σ²`` that is not
    in the main effects ``f₁(x) = eˣ sin 1`` and ``f₂(y) = cos(y) (e² − 1)/2`` (Stein 1987)."""
    var_exp = (E**4 - 1) / 4 - ((E**2 - 1) / 2) ** 2
    var_cos = 0.5 + math.sin(2) / 4 - math.sin(1) ** 2
    main_effects = math.sin(1) ** 2 * var_exp + ((E**2 - 1) / 2) ** 2 * var_cos
    return 1 - main_effects / box_case_variance()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_lhs_and_halton_reduce_the_variance_as_theory_says(seed):
    """Against ``n·Var/σ² = 1`` for uniform points: stratified ``∝ 1/n`` (closed form above),
    LHS the non-additive fraction (0.0244), randomized Halton below 0.05 and falling with ``n``.
    200 replicates estimate a variance to ±10% (one standard deviation); the bounds allow ±40%."""
    region, f, _ = box_case()
    ratio = {
        (rule, n): n * sample_variance(replicate_estimates(rule, region, f, n, 200, seed=seed)) / box_case_variance()
        for rule in ("stratified", "lhs", "halton")
        for n in (64, 256)
    }
    for n in (64, 256):
        assert ratio["stratified", n] == pytest.approx(stratified_prediction(n), rel=0.4), n
        assert ratio["lhs", n] == pytest.approx(lhs_prediction(), rel=0.4), n
    assert ratio["halton", 64] < 0.05 and ratio["halton", 256] < ratio["halton", 64] / 2.5


def test_sobol_warns_when_batch_is_not_a_power_of_two():
    region, _, _ = box_case()
    generator = torch.Generator().manual_seed(0)
    with pytest.warns(UserWarning, match="not a power of two"):
        samplers.get("sobol").draw(region, 100, generator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        samplers.get("sobol").draw(region, 128, generator)


def monomial_box_mean(a: int, b: int) -> float:
    """Mean of ``x^a y^b`` over ``[0, 2] × [-1, 1]``."""
    return 2**a / (a + 1) * (1 + (-1) ** b) / (2 * (b + 1))


def monomial_boundary_mean(a: int, b: int) -> float:
    """Mean of ``x^a y^b`` over the boundary of ``[0, 2] × [0, 1]``."""
    left = (1.0 if a == 0 else 0.0) / (b + 1)
    right = 2**a / (b + 1)
    bottom = 2 ** (a + 1) / (a + 1) * (1.0 if b == 0 else 0.0)
    top = 2 ** (a + 1) / (a + 1)
    return (left + right + bottom + top) / 6


def test_gauss_is_exact_up_to_degree_2n_minus_1():
    generator = torch.Generator()
    gauss = samplers.get("gauss")
    q = gauss.draw(Box([0.0, -1.0], [2.0, 1.0]), 16, generator)
    assert len(q) == 16
    x, y = q.points.T
    for a in range(8):
        for b in range(8):
            assert float(q.mean(x**a * y**b)) == pytest.approx(monomial_box_mean(a, b), rel=1e-12, abs=1e-13)
    assert abs(float(q.mean(x**8)) - monomial_box_mean(8, 0)) > 1e-6
    q = gauss.draw(Box([0.0, 0.0], [2.0, 1.0]).boundary, 16, generator)
    x, y = q.points.T
    for a in range(8):
        for b in range(8):
            assert float(q.mean(x**a * y**b)) == pytest.approx(monomial_boundary_mean(a, b), rel=1e-12)
    initial = SpaceTime(Box([0.0, -1.0], [2.0, 1.0]), TimeInterval(0.0, 1.0)).initial
    q = gauss.draw(initial, 16, generator)
    assert torch.all(q.points[:, 2] == 0)
    assert float(q.mean(q.points[:, 0] ** 7 * q.points[:, 1] ** 6)) == pytest.approx(monomial_box_mean(7, 6), rel=1e-12)


def test_gauss_on_space_time_lateral_boundary():
    region = SpaceTime(Box([0.0, 0.0], [2.0, 1.0]), TimeInterval(0.0, 3.0)).boundary
    q = samplers.get("gauss").draw(region, 256, torch.Generator())
    x, y, t = q.points.T
    assert float(q.mean(x**3 * y**2 * t**5)) == pytest.approx(monomial_boundary_mean(3, 2) * 3**5 / 6, rel=1e-12)


@pytest.mark.parametrize(
    "region,message",
    [
        (Ball([0.0, 0.0], 1.0), "gauss works on boxes"),
        (Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 0.2)]), "gauss needs a region cut into exact cells"),
    ],
)
def test_gauss_refuses_curved_maps_and_rejection(region, message):
    with pytest.raises(ValueError, match=message):
        samplers.get("gauss").draw(region, 64, torch.Generator())


def test_stratified_cells_partition_the_cube_into_equal_volumes():
    probes = torch.rand(3000, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for n, dim in [(27, 3), (10, 3), (7, 2), (5, 1)]:
        lower, upper = cells(n, dim)
        assert torch.allclose((upper - lower).prod(dim=1), torch.full((n,), 1 / n, dtype=torch.float64))
        p = probes[:, :dim]
        hits = ((p[:, None, :] >= lower) & (p[:, None, :] < upper)).all(dim=2).sum(dim=1)
        assert torch.all(hits == 1)


def test_stratified_puts_one_point_in_each_grid_cell():
    u, w = samplers.get("stratified").unit_cube(64, 3, torch.Generator().manual_seed(0))
    cell = (u * 4).floor().long()
    index = cell[:, 0] * 16 + cell[:, 1] * 4 + cell[:, 2]
    assert sorted(index.tolist()) == list(range(64))
    assert torch.allclose(w, torch.full((64,), 1 / 64, dtype=torch.float64))


def test_lhs_puts_one_point_in_each_interval_of_every_axis():
    u, _ = samplers.get("lhs").unit_cube(50, 4, torch.Generator().manual_seed(0))
    for axis in range(4):
        assert sorted((u[:, axis] * 50).floor().long().tolist()) == list(range(50))


def test_lhs_keeps_one_point_per_interval_beyond_float32s_integers():
    """n = 2²⁴ + 2: the ranks 2²⁴ and 2²⁴ + 1 are distinct only in float64 (float32 holds integers to 2²⁴)."""
    n = 2**24 + 2
    x, _ = samplers.get("lhs").unit_cube(n, 1, torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(x[:, 0] * n).long().sort().values, torch.arange(n))


def test_registry_lists_every_rule_and_rejects_bad_names():
    assert samplers.names() == ["uniform", "stratified", "lhs", "sobol", "halton", "gauss", "pool", "rad", "rar"]
    with pytest.raises(ValueError, match="valid samplers: uniform"):
        samplers.get("montecarlo")
    with pytest.raises(ValueError, match="no option 'k'"):
        samplers.get("sobol", k=2)
    with pytest.raises(ValueError, match="must be stateless"):
        samplers.get("pool", size=8, base="rad")
