"""Contracts of the FEM reference modules (``pdes.fem``): exact small cases, closed forms, invariants, messages.

Each test checks documented behaviour on a tiny mesh: discrete conservation of the heat solver
(integrals of polynomials that its quadrature must integrate exactly), the nested-dissection
structure of the ordering on path graphs, the cavity's continuation rule, the Taylor–Green
pressure, time-translation invariance of the unsteady solver, the point locator's tolerance,
the time tolerance of ``FEMSolution.evaluate`` and the one-line error messages.
"""

import inspect
import math

import numpy as np
import pytest
import scipy.sparse as sp
from skfem import Basis, ElementTriP2, Functional

from pdes import closed_forms
from pdes.fem import heat, linalg, mesh, navier_stokes, references
from pdes.fem.mesh import TriMesh
from pdes.fem.solution import FEMSolution, dof_locations

SIDES = ("left", "right", "bottom", "top")


# --------------------------------------------------------------------------- mesh


def test_rectangle_rejects_bad_cell_counts_with_both_counts_named():
    """``rectangle`` names ``(nx, ny)`` when either is not a positive integer."""
    for nx, ny in ((0, 2), (2, 0), (1.5, 2)):
        with pytest.raises(ValueError, match=rf"^cell counts must be positive integers, got \({nx}, {ny}\)$"):
            mesh.rectangle((0.0, 0.0), (1.0, 1.0), nx, ny)


def test_rectangle_rejects_empty_extents():
    """``lower < upper`` in both coordinates, else the corners are named."""
    for lower, upper in (((0, 0), (0, 1)), ((0, 0), (1, 0)), ((1, 0), (0, 1)), ((0, 1), (1, 0))):
        with pytest.raises(ValueError, match=rf"^rectangle needs lower < upper, got \({lower[0]}, {lower[1]}\), "):
            mesh.rectangle(lower, upper, 2, 2)


def test_a_one_by_one_rectangle_has_two_triangles_and_four_named_sides():
    """``nx = ny = 1``: 4 vertices, 2 cells, one facet per side."""
    grid = mesh.rectangle((0.0, 0.0), (2.0, 3.0), 1, 1)
    assert grid.p.shape == (2, 4) and grid.t.shape == (3, 2)
    assert {name: len(f) for name, f in grid.boundaries.items()} == dict.fromkeys(SIDES, 1)


def cell_areas(grid):
    a, b, c = (grid.p[:, grid.t[k]] for k in range(3))
    return 0.5 * np.abs((b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0])


@pytest.mark.parametrize("n", [2, 4])
def test_lshape_has_three_quarters_of_the_square_on_a_uniform_grid(n):
    """``1.5 n²`` congruent cells of area ``1/(2n²)``, vertices on the grid ``k/n``, none in (½, 1]²."""
    grid = mesh.lshape(n)
    assert grid.t.shape[1] == 3 * n * n // 2
    assert np.allclose(cell_areas(grid), 0.5 / n**2, rtol=0, atol=1e-15)
    assert np.allclose(grid.p * n, np.round(grid.p * n), rtol=0, atol=1e-12)
    assert sorted(set(np.round(grid.p[0] * n).astype(int))) == list(range(n + 1))
    assert sorted(set(np.round(grid.p[1] * n).astype(int))) == list(range(n + 1))
    centroids = grid.p[:, grid.t].mean(axis=1)
    assert not np.any((centroids[0] > 0.5) & (centroids[1] > 0.5))


def test_lshape_notch_is_exactly_the_two_re_entrant_edges():
    """For n = 4 the notch facets have midpoints (½, ⅝), (½, ⅞), (⅝, ½), (⅞, ½)."""
    grid = mesh.lshape(4)
    midpoints = grid.p[:, grid.facets[:, grid.boundaries["notch"]]].mean(axis=1).T
    expected = {(0.5, 0.625), (0.5, 0.875), (0.625, 0.5), (0.875, 0.5)}
    assert {tuple(m) for m in np.round(midpoints, 12)} == expected
    assert {name: len(f) for name, f in grid.boundaries.items()} == {
        "left": 4,
        "right": 2,
        "bottom": 4,
        "top": 2,
        "notch": 4,
    }


def far_cells_mesh():
    """Cell 0 is the reference triangle (0,0), (1,0), (0,1); 16 small cells lie at x ∈ [−0.2, −0.1]."""
    points = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    cells = [(0, 1, 2)]
    ys = np.linspace(0.3, 0.7, 9)
    for x in (-0.2, -0.1):
        points += [(x, y) for y in ys]
    for k in range(8):
        a, b, c, d = 3 + k, 4 + k, 12 + k, 13 + k
        cells += [(a, c, d), (a, d, b)]
    return TriMesh(np.array(points).T, np.array(cells).T)


def test_locate_accepts_a_point_exactly_at_the_inside_tolerance():
    """A point counts as inside when its smallest barycentric coordinate is ≥ −1e-6, even when
    the cells of its nearest centroids all miss it."""
    grid = far_cells_mesh()
    assert grid.locate(np.array([-1e-6, 0.0]), np.array([0.5, 0.5])).tolist() == [0, 0]


def test_locate_names_a_point_outside_the_mesh_by_both_coordinates():
    """``point (x, y) lies outside the mesh`` with x and y in ``%.6g``."""
    grid = far_cells_mesh()
    with pytest.raises(ValueError, match=r"^point \(2, 0\.5\) lies outside the mesh$"):
        grid.locate(np.array([2.0]), np.array([0.5]))


# --------------------------------------------------------------------------- linalg


def path_laplacian(n, extra=()):
    """The graph Laplacian of the path 0 – 1 – … – n−1, plus the edges ``extra``."""
    a = sp.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tolil()
    for i, j in extra:
        a[i, j] = a[j, i] = -1.0
    return a.tocsr()


def along_x(n, y=0.0):
    return np.vstack([np.arange(n, dtype=float), np.full(n, y)])


def assert_dissected(order, separator, n):
    """``order`` is a permutation: one half first, the other next, the separator node last."""
    assert sorted(order.tolist()) == list(range(n))
    assert order[-1] == separator
    half = set(order[:separator].tolist())
    assert half == set(range(separator)) or set(order[: n - 1 - separator].tolist()) == set(range(separator + 1, n))


def test_nested_dissection_of_a_path_puts_a_middle_node_last():
    """130 nodes on a line: split at the median 64.5, the one-node separator (64 or 65) comes last."""
    order = linalg.nested_dissection(path_laplacian(130), along_x(130))
    separator = int(order[-1])
    assert separator in (64, 65)
    assert_dissected(order, separator, 130)


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_nested_dissection_splits_along_the_longer_extent(offset):
    """Nodes on the vertical line x = offset are split in y (the longer extent), whatever x is."""
    coordinates = np.vstack([np.full(130, offset), np.arange(130, dtype=float)])
    order = linalg.nested_dissection(path_laplacian(130), coordinates)
    assert int(order[-1]) in (64, 65)
    assert_dissected(order, int(order[-1]), 130)


@pytest.mark.parametrize("extra,separator", [((63, 65), 65), ((64, 66), 64)])
def test_nested_dissection_takes_the_smaller_one_sided_boundary(extra, separator):
    """An extra edge makes one side's boundary two nodes: the separator is the other, one-node side."""
    order = linalg.nested_dissection(path_laplacian(130, [extra]), along_x(130))
    assert_dissected(order, separator, 130)


def test_nested_dissection_leaves_small_or_unsplittable_sets_in_order():
    """At most LEAF_SIZE = 64 unknowns, or unknowns all at one point, are not bisected."""
    assert linalg.LEAF_SIZE == 64
    order = linalg.nested_dissection(path_laplacian(64), along_x(64))
    assert order.tolist() == list(range(64))
    order = linalg.nested_dissection(path_laplacian(100), np.zeros((2, 100)))
    assert order.tolist() == list(range(100))


def test_nested_dissection_separates_a_single_node_below_the_median():
    """64 nodes at x = 1 and node 0 at x = 0 (path 0 – 1 – …): the halves are {0} and the rest, so the
    separator is node 0 or node 1 and comes last."""
    coordinates = np.vstack([np.r_[0.0, np.ones(64)], np.zeros(65)])
    order = linalg.nested_dissection(path_laplacian(65), coordinates)
    assert sorted(order.tolist()) == list(range(65))
    assert int(order[-1]) in (0, 1)


def test_factorize_solves_with_integer_right_hand_sides():
    """``solve(b) = A⁻¹ b`` in floating point for an integer ``b`` (A = path Laplacian + I)."""
    a = path_laplacian(30) + sp.identity(30)
    order = np.random.default_rng(0).permutation(30)
    b = np.arange(30) % 7 - 3
    x = linalg.factorize(a, order)(b)
    assert x.dtype == np.float64
    assert np.abs(x - np.linalg.solve(a.toarray(), b.astype(float))).max() < 1e-12


# --------------------------------------------------------------------------- solution


def p2_solution(grid, f, times=None):
    nodes = dof_locations(grid, "P2")
    values = f(*nodes) if times is None else np.stack([f(*nodes, t) for t in times])
    return FEMSolution(grid.p, grid.t, {"u": "P2"}, {"u": values}, times)


def test_unknown_elements_and_mismatched_fields_are_named():
    """Construction errors name the first unknown element (sorted), the field names, the shapes."""
    grid = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2)
    with pytest.raises(ValueError, match=r"^unknown element 'P3'; valid elements: P1, P2$"):
        dof_locations(grid, "P3")
    with pytest.raises(ValueError, match=r"^unknown element 'P3'; valid elements: P1, P2$"):
        FEMSolution(grid.p, grid.t, {"a": "Q1", "b": "P3"}, {"a": np.zeros(9), "b": np.zeros(9)})
    with pytest.raises(ValueError, match=r"^elements \['u'\] and values \['v'\] name different fields$"):
        FEMSolution(grid.p, grid.t, {"u": "P1"}, {"v": np.zeros(9)})
    with pytest.raises(ValueError, match=r"^field 'u': values have shape \(3,\), expected \(.*\b9\b.*,\)$"):
        FEMSolution(grid.p, grid.t, {"u": "P1"}, {"u": np.zeros(3)})


def test_bad_points_are_named_with_the_coordinates_expected():
    """Steady solutions take (x, y), unsteady ones (x, y, t); NaN and ±∞ are refused."""
    grid = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2)
    steady = p2_solution(grid, lambda x, y: x)
    unsteady = p2_solution(grid, lambda x, y, t: x * t, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^points must have shape \(N, 2\) for coordinates \(x, y\), got \(1, 3\)$"):
        steady.evaluate(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"^points must have shape \(N, 3\) for coordinates \(x, y, t\), got \(1, 2\)"):
        unsteady.evaluate(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"^points contain NaN or infinite coordinates$"):
        steady.evaluate(np.array([[0.5, np.nan]]))
    with pytest.raises(ValueError, match=r"^an unsteady solution needs a time step index$"):
        unsteady.l2_error("u", lambda x, y, t: x)


def test_evaluate_converts_any_numeric_points_to_float64():
    """Object arrays (e.g. from a table) evaluate as their float64 values: u = x + 2y exactly."""
    solution = p2_solution(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2), lambda x, y: x + 2 * y)
    values = solution.evaluate(np.array([[0.25, 0.5], [1, 0]], dtype=object))["u"]
    assert values.dtype == np.float64
    assert np.abs(values - [1.25, 1.0]).max() < 1e-14


def test_more_points_than_one_chunk_are_all_evaluated():
    """70 000 > CHUNK points: u = x + 2y reproduced at every one."""
    solution = p2_solution(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2), lambda x, y: x + 2 * y)
    points = np.random.default_rng(3).random((70000, 2))
    values = solution.evaluate(points)["u"]
    assert values.shape == (70000,)
    assert np.abs(values - points[:, 0] - 2 * points[:, 1]).max() < 1e-13


def test_unsteady_values_have_one_entry_per_point():
    """One or two points (x, y, t) give arrays of that length: u = x (1 + t)."""
    solution = p2_solution(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2), lambda x, y, t: x * (1 + t), np.r_[0, 1.0])
    one = solution.evaluate(np.array([[0.5, 0.5, 0.5]]))["u"]
    two = solution.evaluate(np.array([[0.5, 0.5, 0.5], [1.0, 0.0, 1.0]]))["u"]
    assert one.shape == (1,) and two.shape == (2,)
    assert np.abs(one - [0.75]).max() < 1e-14 and np.abs(two - [0.75, 2.0]).max() < 1e-14


def test_time_tolerance_is_relative_to_the_interval_length():
    """Times within ``1e-9 · max(1, t_end − t_0)`` outside [t_0, t_end] are accepted, others named."""
    grid = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 1, 1)
    long = p2_solution(grid, lambda x, y, t: x + t, np.array([10.0, 12.0, 20.0]))  # slack 1e-8
    for t in (20.0 + 0.9e-8, 10.0 - 0.9e-8):
        assert long.evaluate(np.array([[0.5, 0.5, t]]))["u"] == pytest.approx(0.5 + round(t), abs=1e-12)
    for t in (20.0 + 2e-8, 10.0 - 2e-8):
        with pytest.raises(ValueError, match=r"lies outside the solution's interval \[10\.0, 20\.0\]$"):
            long.evaluate(np.array([[0.5, 0.5, t]]))
    short = p2_solution(grid, lambda x, y, t: x + t, np.array([0.0, 0.5]))  # slack 1e-9
    with pytest.raises(ValueError, match=r"^time 0\.5 lies outside the solution's interval \[0\.0, 0\.5\]$"):
        short.evaluate(np.array([[0.5, 0.5, 0.5 + 1.5e-9]]))
    unit = p2_solution(grid, lambda x, y, t: x + t, np.array([0.0, 1.0]))  # slack exactly 1e-9
    edges = unit.evaluate(np.array([[0.5, 0.5, 0.0 - 1e-9], [0.5, 0.5, 1.0 + 1e-9]]))["u"]
    assert np.abs(edges - [0.5, 1.5]).max() < 1e-12


def test_times_within_the_tolerance_take_the_end_values_without_extrapolating():
    """u = 0 at t = 0 and u = 1 at t = 1e-6: within the slack outside, u is 0 (before) and 1 (after)."""
    grid = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 1, 1)
    solution = p2_solution(grid, lambda x, y, t: 0.0 * x + 1e6 * t, np.array([0.0, 1e-6]))
    values = solution.evaluate(np.array([[0.5, 0.5, -5e-10], [0.5, 0.5, 1e-6 + 5e-10]]))["u"]
    assert np.abs(values - [0.0, 1.0]).max() < 1e-12


# --------------------------------------------------------------------------- heat


def integral(solution, step):
    """``∫_Ω u_h`` at stored step ``step`` (exact for P2 with a degree-4 rule)."""
    basis = Basis(solution.mesh, ElementTriP2(), intorder=4)
    return Functional(lambda w: w["u"]).assemble(basis, u=basis.interpolate(solution.values["u"][step]))


def test_pure_neumann_heat_conserves_the_integral_exactly():
    """Testing with v = 1 on (0, 2) × (0, 1), all sides Neumann: BDF1 then BDF2 balance
    ``d/dt ∫u = ∫s + ∮g`` with ``s = t x⁶`` and fluxes of degree 6, which the degree-6 rules
    integrate exactly: ``F(t) = 128 t/7 + 128 t/7 + 128/7 + 1/7 + t/7``."""
    solution = heat.solve(
        mesh.rectangle((0.0, 0.0), (2.0, 1.0), 4, 2),
        lambda x, y: 1.0 + x * y,
        lambda x, y: np.cos(x) + y,
        t_start=0.5,
        t_end=0.8,
        steps=3,
        source=lambda x, y, t: t * x**6 + 0.0 * y,
        neumann={
            "bottom": lambda x, y, t: t * x**6,
            "top": lambda x, y, t: x**6 + 0.0 * t,
            "left": lambda x, y, t: y**6 + 0.0 * t,
            "right": lambda x, y, t: t * y**6,
        },
    )
    times, dt = solution.times, 0.1
    assert np.allclose(times, [0.5, 0.6, 0.7, 0.8], rtol=0, atol=1e-14)

    def flux(t):
        return 256 * t / 7 + 128 / 7 + 1 / 7 + t / 7

    total = [integral(solution, n) for n in range(4)]
    assert (total[1] - total[0]) / dt == pytest.approx(flux(times[1]), rel=1e-11)
    for n in (2, 3):
        rate = (3 * total[n] - 4 * total[n - 1] + total[n - 2]) / (2 * dt)
        assert rate == pytest.approx(flux(times[n]), rel=1e-11)


def test_heat_info_records_the_scheme_and_every_condition():
    """One step (steps = 1 is allowed) with one condition of each kind; info states them."""
    solution = heat.solve(
        mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2),
        lambda x, y: 1.0 + 0.0 * x,
        lambda x, y: x,
        t_end=0.5,
        steps=1,
        dirichlet={"left": lambda x, y, t: x, "right": lambda x, y, t: x},
        neumann={"bottom": lambda x, y, t: 0.0 * x},
        robin={"top": (1.0, lambda x, y, t: 0.0 * x)},
        element="P1",
    )
    info = dict(solution.info)
    wall = info.pop("wall_time_s")
    assert 0.0 <= wall < 60.0
    assert info == {
        "scheme": "BDF2, first step BDF1",
        "element": "P1",
        "steps": 1,
        "dt": 0.5,
        "conditions": {"left": "dirichlet", "right": "dirichlet", "bottom": "neumann", "top": "robin"},
    }
    assert solution.values["u"].shape == (2, 9)


def test_heat_rejects_an_empty_interval_and_lists_the_boundaries():
    """``need t_end > t_start, got a, b``; a missing condition lists every boundary."""
    square = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 1, 1)
    everywhere = dict.fromkeys(SIDES, lambda x, y, t: 0.0 * x)
    with pytest.raises(ValueError, match=r"^need t_end > t_start, got 1\.0, 1\.0$"):
        heat.solve(square, lambda x, y: 1.0, lambda x, y: x, t_start=1.0, t_end=1.0, steps=2, dirichlet=everywhere)
    with pytest.raises(ValueError, match=r"has no condition; give each of bottom, left, right, top one$"):
        heat.solve(square, lambda x, y: 1.0, lambda x, y: x, t_end=1.0, steps=2, dirichlet={"left": everywhere["left"]})


# --------------------------------------------------------------------------- navier_stokes: steady


THREE_UPDATES = r"updates \[[^,\]]+, [^,\]]+, [^,\]]+\]$"
"""The end of a NewtonFailed message: the last three update norms."""


def lid_walls(x, y):
    """Cavity walls at rest, the classic lid u = 1 on y = 1 without its end points."""
    on_lid = np.isclose(y, 1.0) & (x > 0.0) & (x < 1.0)
    return np.where(on_lid, 1.0, 0.0), 0.0 * x


@pytest.fixture(scope="module")
def cavity6():
    th = navier_stokes.TaylorHood(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 6, 6))
    return th, th.boundary_values(lid_walls)


def test_steady_defaults_are_three_picard_steps_and_tolerance_1e_10(cavity6):
    """``steady(th, ν, start)`` is ``steady(th, ν, start, 3, 1e-10, 20)``, converged below 1e-10."""
    th, start = cavity6
    default = navier_stokes.steady(th, 0.01, start)
    explicit = navier_stokes.steady(th, 0.01, start, 3, 1e-10, 20)
    assert default.updates == explicit.updates
    assert default.updates[-1] < 1e-10 <= default.updates[-2]


def test_picard_steps_come_first_and_newton_follows(cavity6):
    """The first ``picard_steps`` updates are the Oseen ones (as in an all-Picard run); the next one
    is a Newton update and differs from the Oseen one."""
    th, start = cavity6
    picard = navier_stokes.steady(th, 0.01, start, picard_steps=20, max_iterations=25)
    two = navier_stokes.steady(th, 0.01, start, picard_steps=2)
    newton = navier_stokes.steady(th, 0.01, start, picard_steps=0)
    assert two.updates[:2] == picard.updates[:2]
    assert two.updates[2] != picard.updates[2]
    assert newton.updates[0] != picard.updates[0]


def test_steady_from_a_converged_state_stops_after_one_newton_update(cavity6):
    """Newton's first update from a converged state is below the tolerance: one iteration."""
    th, start = cavity6
    converged = navier_stokes.steady(th, 0.01, start)
    again = navier_stokes.steady(th, 0.01, converged.state, picard_steps=0)
    assert len(again.updates) == 1 and again.updates[0] < 1e-10


def test_an_update_equal_to_the_tolerance_does_not_stop_newton(cavity6):
    """Newton stops when an update is *below* the tolerance: with the tolerance set to the (reproducible)
    last-but-one update, the run still takes its last iteration."""
    th, start = cavity6
    first = navier_stokes.steady(th, 0.01, start)
    again = navier_stokes.steady(th, 0.01, start, tolerance=first.updates[-2])
    assert again.updates == first.updates


def test_steady_names_its_iteration_limit_and_the_last_three_updates(cavity6):
    """All 20 default iterations Picard: ``Newton did not converge in 20 iterations at ν = 0.01``."""
    th, start = cavity6
    message = r"^Newton did not converge in 20 iterations at ν = 0\.01: " + THREE_UPDATES
    with pytest.raises(navier_stokes.NewtonFailed, match=message):
        navier_stokes.steady(th, 0.01, start, picard_steps=20)


def test_steady_reports_divergence_with_the_last_three_updates():
    """Re = 1000 on 8 × 8 cells after one Picard step: Newton's updates grow twice in a row."""
    th = navier_stokes.TaylorHood(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 8, 8))
    with pytest.raises(navier_stokes.NewtonFailed, match=r"^Newton diverged at ν = 0\.001: " + THREE_UPDATES):
        navier_stokes.steady(th, 0.001, th.boundary_values(lid_walls), picard_steps=1)


def test_a_non_finite_update_is_divergence(cavity6):
    """A NaN in the start gives a NaN update: NewtonFailed at once."""
    th, start = cavity6
    start = start.copy()
    start[th.free[-1]] = np.nan  # a pressure unknown: the residual, not the matrix, turns NaN
    with pytest.raises(navier_stokes.NewtonFailed, match=r"^Newton diverged at ν = 0\.01: updates \[nan\]$"):
        navier_stokes.steady(th, 0.01, start)


def test_growing_twice_means_two_strict_increases_in_a_row():
    """``u[-1] > u[-2] > u[-3]``: equal neighbours or fewer than three updates are not growth."""
    grew = navier_stokes._grew_twice
    assert grew([1.0, 2.0, 3.0]) and grew([5.0, 1.0, 2.0, 3.0])
    assert not grew([1.0, 2.0]) and not grew([1.0, 2.0, 2.0]) and not grew([1.0, 1.0, 2.0])
    assert not grew([1.0, 2.0, 3.0, 0.5]) and not grew([3.0, 2.0, 1.0])


# --------------------------------------------------------------------------- navier_stokes: unsteady


def tg_exact(nu, length):
    def exact(x, y, t):
        return closed_forms.taylor_green(x, y, t, nu, length)[:2]

    return exact


def test_unsteady_is_invariant_under_a_shift_of_time():
    """Taylor–Green from t = 1 to 1.5 equals the run from 0 to 0.5 of the flow shifted by 1."""
    th = navier_stokes.TaylorHood(mesh.rectangle((0.0, 0.0), (2 * math.pi, 2 * math.pi), 3, 3))
    exact = tg_exact(0.5, 2 * math.pi)

    def shifted(x, y, t):
        return exact(x, y, t + 1.0)

    times, late = navier_stokes.unsteady(th, 0.5, exact, lambda x, y: exact(x, y, 1.0), 1.5, 4, t_start=1.0)
    _, early = navier_stokes.unsteady(th, 0.5, shifted, lambda x, y: shifted(x, y, 0.0), 0.5, 4)
    assert np.allclose(times, [1.0, 1.125, 1.25, 1.375, 1.5], rtol=0, atol=1e-14)
    assert np.abs(late - early).max() < 1e-10


def test_unsteady_rejects_bad_steps_and_empty_intervals():
    """``steps`` an integer ≥ 2; ``t_end > t_start``."""
    th = navier_stokes.TaylorHood(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 1, 1))
    exact = tg_exact(0.5, 1.0)
    for steps in (1, 2.5):
        with pytest.raises(ValueError, match=rf"^steps must be an integer of at least 2, got {steps}$"):
            navier_stokes.unsteady(th, 0.5, exact, lambda x, y: exact(x, y, 0.0), 1.0, steps)
    with pytest.raises(ValueError, match=r"^need t_end > t_start, got 1\.0, 1\.0$"):
        navier_stokes.unsteady(th, 0.5, exact, lambda x, y: exact(x, y, 0.0), 1.0, 4, t_start=1.0)


def test_taylor_green_pressure_is_accurate_at_every_step_and_extrapolated_at_the_start():
    """ν = 0.5, L = 2π, 12² cells, dt = 0.05: ``p = −(cos 2x + cos 2y) e^{−2t}/4`` up to a constant to
    within 0.15 at the first step and 0.08 after it (convecting velocity ``2uⁿ − uⁿ⁻¹``; the measured
    errors are 0.10 and 0.06), and the initial pressure is ``p⁰ = 2p¹ − p²`` exactly."""
    nu, length = 0.5, 2 * math.pi
    solution = navier_stokes.taylor_green(nu=nu, t_end=0.2, length=length, resolution=12, steps=4)
    p = solution.values["p"]
    assert np.abs(p[0] - (2 * p[1] - p[2])).max() < 1e-12

    def pressure(x, y, t):
        return closed_forms.taylor_green(x, y, t, nu, length)[2]

    errors = [solution.l2_error("p", pressure, step=n, up_to_constant=True) for n in range(1, 5)]
    assert errors[0] < 0.15 and max(errors[1:]) < 0.08, errors


def test_taylor_green_defaults_and_info():
    """Defaults ν = 0.01, t_end = 1, 16² cells of [0, 2π]², 20 steps: the velocity matches the closed form."""
    solution = navier_stokes.taylor_green()
    assert np.allclose(solution.times, np.linspace(0.0, 1.0, 21), rtol=0, atol=1e-14)
    assert solution.dofs() == {"u": 33 * 33, "v": 33 * 33, "p": 17 * 17}
    assert np.allclose(solution.points.min(axis=1), 0.0) and np.allclose(solution.points.max(axis=1), 2 * math.pi)

    def exact(x, y, t):
        return closed_forms.taylor_green(x, y, t, 0.01, 2 * math.pi)[0]

    assert solution.l2_error("u", exact, step=-1) < 0.1  # 0.05 measured; ‖u‖ = π
    info = dict(solution.info)
    assert 0.0 <= info.pop("wall_time_s") < 60.0
    assert info == {
        "element": "Taylor-Hood P2/P1",
        "scheme": "BDF2 (first step BDF1), extrapolated convecting velocity",
        "gauge": navier_stokes.GAUGE,
        "initial_pressure": "extrapolated linearly from the first two steps",
    }
    with pytest.raises(ValueError, match=r"^nu must be positive, got 0$"):
        navier_stokes.taylor_green(nu=0)


# --------------------------------------------------------------------------- navier_stokes: cases


def test_kovasznay_defaults_and_info():
    """``kovasznay()`` is ``kovasznay(20, 16, 3, 1e-10)``: same values, iterations, info."""
    default = navier_stokes.kovasznay()
    explicit = navier_stokes.kovasznay(20.0, 16, 3, 1e-10)
    for name in "uvp":
        assert np.array_equal(default.values[name], explicit.values[name])
    assert default.dofs()["p"] == 17 * 17
    info = dict(default.info)
    assert 0.0 <= info.pop("wall_time_s") < 60.0
    assert info == {
        "element": "Taylor-Hood P2/P1",
        "gauge": navier_stokes.GAUGE,
        "iterations": explicit.info["iterations"],
    }


def test_kovasznay_tolerance_sets_the_newton_stop_and_small_re_is_allowed():
    """A looser tolerance needs fewer iterations; any Re > 0 is accepted, Re ≤ 0 named."""
    loose = navier_stokes.kovasznay(resolution=4, tolerance=1e-3)
    tight = navier_stokes.kovasznay(resolution=4, tolerance=1e-12)
    assert loose.info["iterations"] < tight.info["iterations"]
    assert navier_stokes.kovasznay(re=0.5, resolution=2).info["iterations"] >= 4
    with pytest.raises(ValueError, match=r"^re must be positive, got 0$"):
        navier_stokes.kovasznay(re=0)


def test_cavity_validates_re_and_re_factor():
    """``re > 0`` (0.5 is fine) and ``re_factor > 1``, each named."""
    with pytest.raises(ValueError, match=r"^re must be positive, got 0$"):
        navier_stokes.cavity(re=0, resolution=2)
    with pytest.raises(ValueError, match=r"^re_factor must exceed 1, got 1\.0$"):
        navier_stokes.cavity(re=50.0, re_factor=1.0, resolution=2)
    slow = navier_stokes.cavity(re=0.5, resolution=4)
    assert [s["re"] for s in slow.info["continuation"]] == [0.5]


def test_cavity_lid_end_points_belong_to_the_walls_and_info():
    """Classic lid: u = 1 inside the lid, u = 0 at its end points (0, 1) and (1, 1)."""
    solution = navier_stokes.cavity(resolution=8)
    lid = solution.evaluate(np.array([[0.0, 1.0], [0.5, 1.0], [1.0, 1.0]]))
    assert np.abs(lid["u"] - [0.0, 1.0, 0.0]).max() < 1e-12
    info = dict(solution.info)
    assert 0.0 <= info.pop("wall_time_s") < 60.0
    assert info["element"] == "Taylor-Hood P2/P1" and info["gauge"] == navier_stokes.GAUGE
    explicit = navier_stokes.cavity(100.0, "classic", 8, 100.0, 2.0, 2, 3, 1e-10)
    assert info["continuation"] == explicit.info["continuation"]
    assert [(s["re"], s["cells"]) for s in info["continuation"]] == [(100.0, 8)]


def test_cavity_at_re_start_solves_once_on_the_fine_mesh():
    """Re ≤ re_start: one steady solve from rest on the fine mesh, no coarse stage."""
    solution = navier_stokes.cavity(re=100.0, resolution=16)
    assert [(s["re"], s["cells"]) for s in solution.info["continuation"]] == [(100.0, 16)]


def test_cavity_continuation_is_newton_from_the_previous_re():
    """Re = 200 on 8² cells is: Re = 100 from rest (3 Picard steps), then Newton from it at Re = 200."""
    th = navier_stokes.TaylorHood(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 8, 8))
    first = navier_stokes.steady(th, 1 / 100, th.boundary_values(lid_walls), 3)
    second = navier_stokes.steady(th, 1 / 200, first.state, 0)
    solution = navier_stokes.cavity(re=200.0, resolution=8, coarsening=1)
    stages = solution.info["continuation"]
    assert stages == [
        {"re": 100.0, "cells": 8, "iterations": len(first.updates)},
        {"re": 200.0, "cells": 8, "iterations": len(second.updates)},
    ]
    for name, values in th.fields(second.state).items():
        assert np.abs(solution.values[name] - values).max() < 1e-12


def test_cavity_continues_on_the_coarse_mesh_then_runs_newton_on_the_fine_one():
    """Re = 200 on 16² cells (default coarsening 2): the stages of the 8² run, then Newton (no Picard
    step) on the fine mesh from the 8² solution interpolated at the fine dofs, walls on the boundary;
    a looser tolerance needs fewer iterations at every stage."""
    fine = navier_stokes.cavity(re=200.0, resolution=16)
    coarse = navier_stokes.cavity(re=200.0, resolution=8, coarsening=1)
    stages = fine.info["continuation"]
    assert stages[:2] == coarse.info["continuation"]
    th = navier_stokes.TaylorHood(mesh.rectangle((0.0, 0.0), (1.0, 1.0), 16, 16))
    ux, uy = th.velocity.split_indices()
    start = np.zeros(th.n)
    velocity = coarse.evaluate(th.velocity.doflocs[:, ux].T)
    start[ux], start[uy] = velocity["u"], velocity["v"]
    start[th.n_velocity :] = coarse.evaluate(th.pressure.doflocs.T)["p"]
    start[th.boundary] = th.boundary_values(lid_walls)[th.boundary]
    newton = navier_stokes.steady(th, 1 / 200, start, picard_steps=0)
    assert stages[2] == {"re": 200.0, "cells": 16, "iterations": len(newton.updates)} and len(stages) == 3
    for name, values in th.fields(newton.state).items():
        assert np.array_equal(fine.values[name], values)  # the same operations in the same order
    loose = navier_stokes.cavity(re=200.0, resolution=16, tolerance=1e-3).info["continuation"]
    assert all(a["iterations"] < b["iterations"] for a, b in zip(loose, stages, strict=True))


def test_cavity_square_roots_the_factor_after_a_failed_newton_solve():
    """Re = 1000 on 4² cells: 800 fails from 400, so the factor becomes √2: 100, 200, 400, 400√2, 800, 1000."""
    solution = navier_stokes.cavity(re=1000.0, resolution=4, coarsening=1)
    res = [s["re"] for s in solution.info["continuation"]]
    assert res == pytest.approx([100.0, 200.0, 400.0, 400.0 * math.sqrt(2.0), 800.0, 1000.0], rel=1e-12)
    assert all(set(s) == {"re", "cells", "iterations"} for s in solution.info["continuation"])


def test_cavity_failing_at_the_first_re_raises_newton_failed():
    """A first solve that diverges (Re = 1000 from rest, no Picard steps) has nothing to continue from."""
    with pytest.raises(navier_stokes.NewtonFailed, match=r"^Newton diverged at ν = 0\.001"):
        navier_stokes.cavity(re=1000.0, resolution=8, re_start=1000.0, coarsening=1, picard_steps=0)


# --------------------------------------------------------------------------- references


def test_reference_factories_describe_their_solvers_without_computing():
    """Default references: problem, solver, coordinates, fields, resolution, params, settings."""
    cavity, kovasznay, taylor_green = references.cavity(), references.kovasznay(), references.taylor_green()
    assert (cavity.problem, cavity.solver) == ("cavity", "pdes.fem.navier_stokes:cavity")
    assert (kovasznay.problem, kovasznay.solver) == ("kovasznay", "pdes.fem.navier_stokes:kovasznay")
    assert (taylor_green.problem, taylor_green.solver) == ("taylor_green", "pdes.fem.navier_stokes:taylor_green")
    assert cavity.coordinates == kovasznay.coordinates == ("x", "y")
    assert taylor_green.coordinates == ("x", "y", "t")
    for reference in (cavity, kovasznay, taylor_green):
        assert reference.fields == ("u", "v", "p") and reference.up_to_constant == ("p",)
        assert reference.source == "not loaded"
    assert (cavity.resolution, cavity.params, cavity.settings) == (64, {"re": 100.0, "lid": "classic"}, {})
    assert (kovasznay.resolution, kovasznay.params, kovasznay.settings) == (32, {"re": 20.0}, {})
    assert taylor_green.resolution == 32 and taylor_green.settings == {"steps": 100}
    assert taylor_green.params == {"nu": 0.01, "t_end": 1.0, "length": 2 * math.pi}


def test_reference_factories_validate_their_parameters():
    """Cavity: 0 < Re ≤ 1000; Kovasznay: Re > 0; Taylor–Green: ν, t_end, L > 0, each named."""
    assert references.cavity(re=0.5).params["re"] == 0.5
    assert references.cavity(re=1000.0).params["re"] == 1000.0
    for re in (0.0, 1000.5):
        with pytest.raises(ValueError, match=rf"^re must lie in \(0, 1000\], got {re}$"):
            references.cavity(re=re)
    with pytest.raises(ValueError, match=r"^unknown lid 'wavy'"):
        references.cavity(lid="wavy")
    assert references.kovasznay(re=0.5).params == {"re": 0.5}
    with pytest.raises(ValueError, match=r"^re must be positive, got 0\.0$"):
        references.kovasznay(re=0.0)
    small = references.taylor_green(nu=0.5, t_end=0.5, length=0.5)
    assert small.params == {"nu": 0.5, "t_end": 0.5, "length": 0.5}
    for nu, t_end, length in ((0.0, 1.0, 1.0), (1.0, 0.0, 1.0), (1.0, 1.0, 0.0)):
        message = rf"^nu, t_end and length must be positive, got {nu}, {t_end}, {length}$"
        with pytest.raises(ValueError, match=message):
            references.taylor_green(nu=nu, t_end=t_end, length=length)


def test_the_cavity_reference_defaults_to_a_64_by_64_mesh():
    """The default resolution is part of every cached reference and of the FEM figures in RESULTS.md."""
    assert inspect.signature(navier_stokes.cavity).parameters["resolution"].default == 64
