"""``pinn.report.field_errors`` against hand computations on small tensors."""

import math

import pytest
import torch
from trivial import Zero

import samplers
from pdes.geometry import Ball, Box, Difference
from pdes.problem import Problem, Term
from pinn.report import evaluation_points, field_errors, interior_terms, quadrature_statistics


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_rel_l2_and_max_abs_match_the_hand_computation():
    errors = field_errors({"u": t(1.0, 2.0, 3.0)}, {"u": t(1.0, 2.0, 4.0)})
    # ‖diff‖ = 1, ‖ref‖ = √21: the norm ratio itself, not its square (1/21).
    assert errors["u"]["rel_l2"] == pytest.approx(1.0 / math.sqrt(21.0), rel=1e-12)
    assert errors["u"]["max_abs"] == pytest.approx(1.0, rel=1e-12)


def test_rel_l2_is_a_ratio_of_norms_not_of_squared_norms():
    # ‖diff‖ = 3, ‖ref‖ = 5 (ref = (3, 4)): rel_l2 = 0.6 (squared would be 0.36).
    errors = field_errors({"v": t(6.0, 4.0)}, {"v": t(3.0, 4.0)})
    assert errors["v"]["rel_l2"] == pytest.approx(0.6, rel=1e-12)
    assert errors["v"]["max_abs"] == pytest.approx(3.0, rel=1e-12)


def test_up_to_constant_removes_a_constant_offset_only_for_the_named_fields():
    ref = t(1.0, 2.0, 4.0)
    prediction = {"p": ref + 5.0, "u": ref + 5.0}
    errors = field_errors(prediction, {"p": ref, "u": ref}, up_to_constant=("p",))
    assert errors["p"]["rel_l2"] == pytest.approx(0.0, abs=1e-12)
    assert errors["p"]["max_abs"] == pytest.approx(0.0, abs=1e-12)
    # Not in up_to_constant: ‖5·1‖ = 5√3 over ‖ref‖ = √21.
    assert errors["u"]["rel_l2"] == pytest.approx(5.0 * math.sqrt(3.0) / math.sqrt(21.0), rel=1e-12)
    assert errors["u"]["max_abs"] == pytest.approx(5.0, rel=1e-12)


def test_up_to_constant_keeps_the_non_constant_part_of_the_difference():
    ref = t(1.0, 2.0, 4.0)
    # diff = 5 + (0, 0, 3): mean 6, centered (-1, -1, 2), norm √6.
    errors = field_errors({"p": t(6.0, 7.0, 12.0)}, {"p": ref}, up_to_constant=("p",))
    assert errors["p"]["rel_l2"] == pytest.approx(math.sqrt(6.0) / math.sqrt(21.0), rel=1e-12)
    assert errors["p"]["max_abs"] == pytest.approx(2.0, rel=1e-12)


def test_rel_l2_of_a_reference_of_small_norm_is_still_the_norm_ratio():
    # ‖ref‖ = 0.02 < 1: the 1e-300 guard against a zero norm must not bound the denominator below.
    errors = field_errors({"u": t(0.02, 0.01, 0.01, 0.01)}, {"u": t(0.01, 0.01, 0.01, 0.01)})
    assert errors["u"]["rel_l2"] == pytest.approx(0.5, rel=1e-12)


def constant_residual_problem():
    """u = 0 everywhere (the Zero network), one PDE term ``r = u + 3`` and one boundary term ``r = u − 2``."""
    domain = Box([0.0, 0.0], [1.0, 1.0])
    terms = [Term("pde", domain, lambda f: f.u + 3.0), Term("boundary", domain.boundary, lambda f: f.u - 2.0)]
    return Problem("constant", ("x", "y"), ("u",), domain, terms)


def statistics_of(problem, generator, rule="uniform"):
    rules = {term.name: samplers.get(rule, **({"size": 64} if rule == "pool" else {})) for term in problem.terms}
    model = Zero(1).double()
    return quadrature_statistics(model, problem, rules, 32, 3, generator, torch.device("cpu"), torch.float64)


def test_the_quadrature_estimate_is_the_mean_of_the_squared_residual():
    """``r`` constant: the estimate of ``mean r²`` is ``r²`` exactly (9 and 4), with no quadrature noise."""
    stats = statistics_of(constant_residual_problem(), torch.Generator().manual_seed(0))
    assert stats["pde"]["estimate"] == pytest.approx(9.0, rel=1e-12)
    assert stats["boundary"]["estimate"] == pytest.approx(4.0, rel=1e-12)
    assert stats["pde"]["std_error"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("rule", ["uniform", "pool"])
def test_quadrature_statistics_come_from_the_given_stream_alone(rule):
    """Two calls with equally seeded generators agree whatever the global torch stream did in between."""
    domain = Box([0.0, 0.0], [1.0, 1.0])
    problem = Problem("varying", ("x", "y"), ("u",), domain, [Term("pde", domain, lambda f: f.u + f.x * f.y)])
    torch.manual_seed(1)
    first = statistics_of(problem, torch.Generator().manual_seed(5), rule)
    torch.manual_seed(2)
    second = statistics_of(problem, torch.Generator().manual_seed(5), rule)
    assert first == second
    assert first["pde"]["std_error"] > 0


def test_interior_terms_are_those_on_the_whole_domain():
    problem = constant_residual_problem()
    assert [term.name for term in interior_terms(problem)] == ["pde"]


def test_evaluation_points_leave_out_the_points_a_rejection_map_rejects():
    """On the unit square minus a disk, every evaluation point lies outside the hole."""
    domain = Difference(Box([0.0, 0.0], [1.0, 1.0]), [Ball([0.5, 0.5], 0.3)])
    problem = Problem("holed", ("x", "y"), ("u",), domain, [Term("pde", domain, lambda f: f.u)])
    points = evaluation_points(problem, 1024)
    assert 0 < len(points) < 1024
    assert bool(((points - 0.5).norm(dim=1) > 0.3).all())


def test_the_report_counts_the_points_rejection_wasted():
    """A disk hole of area π/16 in the unit square: that share of a uniform batch has weight 0 (within
    4 binomial standard deviations at 4096 points); an exact map wastes none."""
    square = Box([0.0, 0.0], [1.0, 1.0])
    domain = Difference(square, [Ball([0.5, 0.5], 0.25)])
    terms = [Term("pde", domain, lambda f: f.u - 1.0), Term("edges", square.boundary, lambda f: f.u)]
    problem = Problem("holed", ("x", "y"), ("u",), domain, terms)
    rules = {t.name: samplers.get("uniform") for t in terms}
    stats = quadrature_statistics(
        Zero(1).double(), problem, rules, 4096, 2, torch.Generator().manual_seed(3), torch.device("cpu"), torch.float64
    )
    p = math.pi / 16
    assert abs(stats["pde"]["wasted_fraction"] - p) < 4 * math.sqrt(p * (1 - p) / 4096)
    assert stats["edges"]["wasted_fraction"] == 0.0
