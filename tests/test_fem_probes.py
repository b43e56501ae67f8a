"""Evaluating FEM solutions anywhere: probes in space, linear interpolation in time."""

import time

import numpy as np
import pytest

from pdes.fem import mesh
from pdes.fem.solution import FEMSolution, dof_locations


def smooth(x, y):
    return np.sin(3.0 * x) * np.cos(2.0 * y) + x * y


def p2_interpolant(grid, f):
    """The FEMSolution whose P2 nodal values are ``f`` at the dof locations, and those locations."""
    nodes = dof_locations(grid, "P2")
    return FEMSolution(grid.p, grid.t, {"u": "P2"}, {"u": f(*nodes)}), nodes


def test_probes_reproduce_nodal_values_exactly():
    solution, nodes = p2_interpolant(mesh.lshape(6), smooth)
    values = solution.evaluate(nodes.T)["u"]
    assert np.abs(values - smooth(*nodes)).max() < 1e-13


def test_probes_reproduce_quadratics_everywhere():
    def quadratic(x, y):
        return 1.0 + 2.0 * x - y + 0.5 * x * x - 3.0 * x * y + y * y

    solution, _ = p2_interpolant(mesh.rectangle((-1.0, 0.0), (2.0, 1.0), 5, 3), quadratic)
    points = np.random.default_rng(0).random((2000, 2)) * [3.0, 1.0] + [-1.0, 0.0]
    assert np.abs(solution.evaluate(points)["u"] - quadratic(*points.T)).max() < 1e-12


def test_interpolation_error_between_nodes_is_third_order():
    """P2 interpolation error is O(h³): beyond second order, measured at random points."""
    points = np.random.default_rng(1).random((4000, 2))
    errors = []
    for n in (4, 8, 16):
        solution, _ = p2_interpolant(mesh.rectangle((0.0, 0.0), (1.0, 1.0), n, n), smooth)
        errors.append(np.abs(solution.evaluate(points)["u"] - smooth(*points.T)).max())
    orders = np.log2(np.array(errors[:-1]) / errors[1:])
    assert orders.min() >= 2.7, errors


def test_time_interpolation_is_linear_between_steps():
    grid = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 3, 3)
    nodes = dof_locations(grid, "P2")
    times = np.array([0.0, 0.5, 1.5, 2.0])
    values = np.stack([(1.0 + 2.0 * t) * smooth(*nodes) for t in times])
    solution = FEMSolution(grid.p, grid.t, {"u": "P2"}, {"u": values}, times)
    x = nodes.T[:40]
    t = np.linspace(0.0, 2.0, 40)
    u = solution.evaluate(np.column_stack([x, t]))["u"]
    assert np.abs(u - (1.0 + 2.0 * t) * smooth(*x.T)).max() < 1e-12
    with pytest.raises(ValueError, match="time 2.1 lies outside the solution's interval"):
        solution.evaluate(np.array([[0.5, 0.5, 2.1]]))


def test_points_outside_the_mesh_are_named():
    solution, _ = p2_interpolant(mesh.lshape(4), smooth)
    with pytest.raises(ValueError, match=r"point \(0.75, 0.75\) lies outside the mesh"):
        solution.evaluate(np.array([[0.25, 0.25], [0.75, 0.75]]))
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        solution.evaluate(np.zeros((3, 3)))


def test_many_points_are_located_quickly():
    """scikit-fem's own finder tests every point against every cell once one point is missed."""
    solution, _ = p2_interpolant(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 48, 48), smooth)
    points = np.random.default_rng(2).random((20000, 2))
    start = time.perf_counter()
    values = solution.evaluate(points)["u"]
    assert time.perf_counter() - start < 5.0
    assert np.abs(values - smooth(*points.T)).max() < 1e-5
