"""``FEMSolution.l2_error``: the absolute L² norm of ``u_h − u`` (not its square), exactly on simple cases."""

import math

import numpy as np
import pytest

from pdes.fem import heat, mesh, navier_stokes
from pdes.fem.solution import FEMSolution, dof_locations


def interpolant(grid, element, f):
    nodes = dof_locations(grid, element)
    return FEMSolution(grid.p, grid.t, {"u": element}, {"u": f(*nodes)})


@pytest.mark.parametrize("element", ["P1", "P2"])
def test_a_constant_offset_gives_its_size_times_the_root_of_the_area(element):
    # Rectangle (0, 2) × (0, 1.5): area 3. u_h = x exactly, u = x + 3: ‖u_h − u‖ = 3·√3.
    grid = mesh.rectangle((0.0, 0.0), (2.0, 1.5), 3, 2)
    solution = interpolant(grid, element, lambda x, y: x)
    error = solution.l2_error("u", lambda x, y: x + 3.0)
    assert error == pytest.approx(3.0 * math.sqrt(3.0), rel=1e-10)


def test_a_linear_error_on_the_unit_square_matches_its_closed_form():
    # u_h = x + y exactly (P1), u = x + y − 2x = y − x: ‖2x‖² = 4/3 on (0, 1)², so ‖·‖ = 2/√3.
    grid = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 4, 4)
    solution = interpolant(grid, "P1", lambda x, y: x + y)
    assert solution.l2_error("u", lambda x, y: y - x) == pytest.approx(2.0 / math.sqrt(3.0), rel=1e-10)


def test_up_to_constant_removes_the_offset_and_keeps_the_rest():
    grid = mesh.rectangle((0.0, 0.0), (2.0, 3.0), 3, 3)
    solution = interpolant(grid, "P2", lambda x, y: x)
    assert solution.l2_error("u", lambda x, y: x + 3.0, up_to_constant=True) < 1e-10
    # u = −2: u_h − u = x + 2 on (0, 2) × (0, 3), centered x − 1, ‖x − 1‖² = 3·∫₀² (x − 1)² dx = 2.
    error = solution.l2_error("u", lambda x, y: 1.0 - 3.0, up_to_constant=True)
    assert error == pytest.approx(math.sqrt(2.0), rel=1e-10)
    # Without it the offset stays: ‖x + 2‖² = 3·∫₀² (x + 2)² dx = 56.
    assert solution.l2_error("u", lambda x, y: 1.0 - 3.0) == pytest.approx(math.sqrt(56.0), rel=1e-10)


def test_p2_interpolation_l2_error_is_third_order():
    """P2 interpolation converges as h³ in L²: measured orders lie in an interval around 3."""

    def smooth(x, y):
        return np.sin(3.0 * x) * np.cos(2.0 * y) + x * y

    errors = []
    for n in (4, 8, 16):
        solution = interpolant(mesh.rectangle((0.0, 0.0), (1.0, 1.0), n, n), "P2", smooth)
        errors.append(solution.l2_error("u", smooth))
    orders = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all((orders >= 2.7) & (orders <= 3.3)), (errors, orders)


def test_counts_given_as_floats_are_refused_in_one_line_not_deep_in_numpy():
    """2.0 is not a count: refused by the check, with the value, before numpy raises a TypeError."""
    with pytest.raises(ValueError, match=r"^cell counts must be positive integers, got \(2\.0, 2\)$"):
        mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2.0, 2)
    square = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2)
    with pytest.raises(ValueError, match=r"^steps must be a positive integer, got 2\.0$"):
        heat.solve(square, lambda x, y: 1.0 + 0 * x, lambda x, y: 0 * x, t_end=1.0, steps=2.0)
    with pytest.raises(ValueError, match=r"^steps must be an integer of at least 2, got 3\.0$"):
        navier_stokes.taylor_green(nu=0.05, t_end=0.5, resolution=2, steps=3.0)
    assert mesh.rectangle((0.0, 0.0), (1.0, 1.0), np.int64(2), 2).p.shape[1] == 9
