"""Boundary conditions by named part in the FEM layer: one-line errors for bad descriptions, the parts of a
``MeshRegion`` kept by ``from_mesh_region`` and by the cache, the pressure gauge, and refined gmsh meshes."""

import numpy as np
import pytest

from pdes.fem import heat, mesh, navier_stokes
from pdes.fem.mesh import from_mesh_region
from pdes.fem.quantities import force_on, heat_flux
from pdes.fem.solution import FEMSolution
from pdes.geometry import Difference, Disk, Polygon, Rectangle
from pdes.meshes import MeshRegion
from pdes.reference_cache import load_solution, store_solution

SIDES = ("left", "right", "bottom", "top")
PARTS = "bottom, left, right, top"


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def square(n=2):
    return mesh.rectangle((0.0, 0.0), (1.0, 1.0), n, n)


def one(x, y):
    return 1.0 + 0.0 * x


def zero(x, y):
    return 0.0 * x


def rest(x, y):
    return 0.0 * x, 0.0 * x


def channel(x, y):
    """Poiseuille inflow 4y(1 − y), at rest on the walls."""
    return 4.0 * y * (1.0 - y), 0.0 * x


@pytest.fixture(scope="module")
def holed():
    """A square with a hole (parts left, right, bottom, top, hole0) as a MeshRegion and its TriMesh."""
    region = MeshRegion.from_gmsh(Difference(Rectangle([0.0, 0.0], [1.0, 1.0]), Disk([0.5, 0.5], 0.2)), size=0.2)
    return region, from_mesh_region(region)


# --------------------------------------------------------------------------- heat


@pytest.mark.parametrize(
    "conditions,message",
    [
        ({"dirichlet": {"left": zero}}, rf"^boundary 'bottom' has no condition; give each of {PARTS} one$"),
        ({"dirichlet": {**dict.fromkeys(SIDES, zero), "inlet": zero}}, rf"^unknown boundary 'inlet'; .*: {PARTS}$"),
        ({"dirichlet": dict.fromkeys(SIDES, zero), "neumann": {"top": zero}}, r"^each boundary takes one condition"),
        (
            {"dirichlet": dict.fromkeys(("left", "right", "bottom"), zero), "robin": {"top": (-1.0, zero)}},
            r"^robin β on 'top' must be a finite number ≥ 0 or a function β\(x, y\), got -1\.0$",
        ),
        (
            {
                "dirichlet": dict.fromkeys(("left", "right", "bottom"), zero),
                "robin": {"top": (lambda x, y: x - 0.5, zero)},
            },
            r"^robin β on 'top' must be finite and ≥ 0, got values down to -0\.",
        ),
        (
            {"dirichlet": dict.fromkeys(("left", "right", "bottom"), zero), "robin": {"top": 2.0}},
            r"^robin condition on 'top' must be a pair \(β, g\), got 2\.0$",
        ),
        ({"neumann": dict.fromkeys(SIDES, zero)}, r"^a steady heat problem needs a Dirichlet part or a Robin part"),
        (
            {"neumann": dict.fromkeys(("left", "right", "bottom"), zero), "robin": {"top": (0.0, zero)}},
            r"^a steady heat",
        ),
        (
            {"neumann": dict.fromkeys(("left", "right", "bottom"), zero), "robin": {"top": (zero, zero)}},
            r"^a steady heat",
        ),
    ],
)
def test_bad_steady_heat_descriptions_are_one_line(conditions, message):
    with pytest.raises(ValueError, match=message) as error:
        heat.solve_steady(square(), one, **conditions)
    one_line(error)


def test_unsteady_heat_refuses_a_negative_robin_coefficient():
    conditions = {"dirichlet": dict.fromkeys(("left", "right", "bottom"), lambda x, y, t: 0.0 * x)}
    with pytest.raises(ValueError, match=r"^robin β on 'top' must be a finite number ≥ 0"):
        heat.solve(square(), one, zero, 1.0, 2, **conditions, robin={"top": (-0.5, lambda x, y, t: 0.0 * x)})


def test_a_robin_coefficient_function_equals_the_same_number():
    """β(x, y) = 2 everywhere and β = 2 give the same solution; one Robin part with β > 0 suffices."""
    data = {"neumann": dict.fromkeys(("left", "right", "bottom"), one)}
    by_number = heat.solve_steady(square(4), one, one, robin={"top": (2.0, one)}, **data)
    by_function = heat.solve_steady(square(4), one, one, robin={"top": (lambda x, y: 2.0 + 0.0 * x, one)}, **data)
    assert np.abs(by_number.values["u"] - by_function.values["u"]).max() < 1e-12
    assert by_number.info["conditions"] == {"left": "neumann", "right": "neumann", "bottom": "neumann", "top": "robin"}


def test_steady_heat_solutions_carry_the_mesh_parts():
    grid = square()
    solution = heat.solve_steady(grid, one, dirichlet=dict.fromkeys(SIDES, zero))
    assert solution.steady and list(solution.boundaries) == list(grid.boundaries)
    for name, facets in grid.boundaries.items():
        assert np.array_equal(solution.mesh.boundaries[name], facets)


# --------------------------------------------------------------------------- Navier–Stokes


@pytest.mark.parametrize(
    "velocity,outflow,message",
    [
        (
            dict.fromkeys(("left", "bottom", "top"), rest),
            {},
            rf"^part 'right' has no condition; give each of {PARTS} a",
        ),
        (
            {**dict.fromkeys(SIDES, rest), "inlet": rest},
            {},
            rf"^unknown boundary part 'inlet'; this mesh's parts: {PARTS}$",
        ),
        (
            {**dict.fromkeys(SIDES, rest)},
            {"outlet": 0.0},
            rf"^unknown boundary part 'outlet'; this mesh's parts: {PARTS}$",
        ),
        (
            dict.fromkeys(SIDES, rest),
            {"right": 0.0},
            r"^part 'right' has both a velocity and an outflow condition; give it one$",
        ),
        (
            dict.fromkeys(("left", "bottom", "top"), rest),
            {"right": "zero"},
            r"^the outflow pressure on 'right' must be a finite number, got 'zero'$",
        ),
        ({}, dict.fromkeys(SIDES, 0.0), r"^a flow needs a velocity on at least one part"),
    ],
)
def test_bad_flow_descriptions_are_one_line(velocity, outflow, message):
    with pytest.raises(ValueError, match=message) as error:
        navier_stokes.solve_steady(square(), 0.1, velocity, outflow)
    one_line(error)
    with pytest.raises(ValueError, match=message):
        navier_stokes.solve_unsteady(square(), 0.1, velocity, outflow, rest, 1.0, 2)


@pytest.mark.parametrize("nu", [0.0, -1.0, float("nan"), True, "0.1"])
def test_a_viscosity_that_is_not_positive_is_refused(nu):
    with pytest.raises(ValueError, match=r"^nu must be a positive number, got "):
        navier_stokes.solve_steady(square(), nu, dict.fromkeys(SIDES, rest), {})


def test_an_outflow_fixes_the_pressure_and_a_closed_boundary_shifts_it_to_zero_mean():
    """Velocity on every part: ``GAUGE`` (zero mean); an outflow part: the outflow pressure, not shifted."""
    walls = {"left": channel, "bottom": rest, "top": rest}
    open_flow = navier_stokes.solve_steady(square(4), 0.1, walls, {"right": 0.5})
    closed = navier_stokes.solve_steady(square(4), 0.1, dict.fromkeys(SIDES, rest), {})
    assert open_flow.info["gauge"] == navier_stokes.OUTFLOW_GAUGE
    assert closed.info["gauge"] == navier_stokes.GAUGE
    at_outlet = open_flow.evaluate(np.array([[1.0, 0.25], [1.0, 0.75]]))["p"]
    assert np.abs(at_outlet - 0.5).max() < 1e-10  # Poiseuille flow: p = p0 at the outlet
    assert np.abs(closed.values["p"]).max() < 1e-12 and set(closed.boundaries) == set(SIDES)


def test_taylor_hood_by_part_fixes_the_velocity_there_only():
    """Dirichlet on left/bottom/top: their velocity dofs are fixed, the pressure is not pinned."""
    th = navier_stokes.TaylorHood(square(2), ["left", "bottom", "top"])
    assert not th.closed and th.gauge == navier_stokes.OUTFLOW_GAUGE
    assert th.n_velocity in th.free  # no pinned pressure dof
    on_right = np.isclose(th.velocity.doflocs[0], 1.0) & (th.velocity.doflocs[1] > 0) & (th.velocity.doflocs[1] < 1)
    assert not np.isin(np.flatnonzero(on_right), th.boundary).any()
    assert np.isin(np.flatnonzero(np.isclose(th.velocity.doflocs[0], 0.0)), th.boundary).all()
    with pytest.raises(ValueError, match=rf"^unknown boundary part 'inlet'; this mesh's parts: {PARTS}$"):
        navier_stokes.TaylorHood(square(2), ["inlet"])


def test_quantities_name_bad_parts_and_solutions(holed):
    _, grid = holed
    parts = "bottom, hole0, left, right, top"
    flow = navier_stokes.solve_steady(grid, 1.0, dict.fromkeys(grid.boundaries, rest), {})
    temperature = heat.solve_steady(grid, one, dirichlet=dict.fromkeys(grid.boundaries, one))
    with pytest.raises(ValueError, match=rf"^unknown boundary part 'hole1'; this mesh's parts: {parts}$"):
        force_on(flow, 1.0, "hole1")
    with pytest.raises(ValueError, match=rf"^unknown boundary part 'hole1'; this solution's parts: {parts}$"):
        heat_flux(temperature, one, "hole1")
    with pytest.raises(ValueError, match=r"^force_on needs a steady Taylor–Hood flow solution"):
        force_on(temperature, 1.0, "hole0")
    with pytest.raises(ValueError, match=r"^heat_flux needs a solution with a field u, got fields p$"):
        heat_flux(FEMSolution(grid.p, grid.t, {"p": "P1"}, {"p": np.zeros(grid.p.shape[1])}), one, "hole0")
    with pytest.raises(ValueError, match=r"^the solution's u is P2, not P1$"):
        heat_flux(temperature, one, "hole0", element="P1")
    assert force_on(flow, 1.0, "hole0") == pytest.approx((0.0, 0.0), abs=1e-12)  # fluid at rest
    assert heat_flux(temperature, one, "hole0") == pytest.approx(0.0, abs=1e-12)  # u = 1


# --------------------------------------------------------------------------- meshes and solutions


def test_from_mesh_region_keeps_every_part_and_its_facets(holed):
    region, grid = holed
    assert list(grid.boundaries) == list(region.boundary.names) == ["left", "right", "bottom", "top", "hole0"]
    for name, rows in region.group_rows.items():
        expected = {tuple(sorted(f)) for f in region.facets[rows]}
        assert {tuple(sorted(f)) for f in grid.facets[:, grid.boundaries[name]].T} == expected
    assert sum(len(f) for f in grid.boundaries.values()) == len(grid.boundary_facets())
    assert np.array_equal(grid.p, region.points.T)


def test_ungrouped_facets_become_the_part_boundary():
    """Two triangles of the unit square with only the edge y = 0 in a group: the others form ``boundary``."""
    region = MeshRegion([[0, 0], [1, 0], [1, 1], [0, 1]], [[0, 1, 2], [0, 2, 3]], {"floor": [[0, 1]]})
    grid = from_mesh_region(region)
    assert {name: len(f) for name, f in grid.boundaries.items()} == {"floor": 1, "boundary": 3}


@pytest.mark.parametrize(
    "region,what",
    [
        (MeshRegion([[0.0], [0.5], [1.0]], [[0, 1], [1, 2]]), "a 1D MeshRegion"),
        (MeshRegion([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 1, 2, 3]]), "a 3D MeshRegion"),
        (Polygon([(0, 0), (1, 0), (0, 1)]), "a Polygon"),
    ],
)
def test_from_mesh_region_refuses_what_is_not_a_2d_mesh_region(region, what):
    with pytest.raises(ValueError, match=rf"^from_mesh_region needs a 2D MeshRegion of triangles, got {what}$"):
        from_mesh_region(region)


def test_solution_parts_survive_the_cache_round_trip(holed, tmp_path):
    _, grid = holed
    solution = heat.solve_steady(grid, one, dirichlet=dict.fromkeys(grid.boundaries, lambda x, y: x * y))
    store_solution(tmp_path / "s.h5", solution, {"key": "k"})
    loaded = load_solution(tmp_path / "s.h5", "k")
    assert list(loaded.boundaries) == list(grid.boundaries)
    for name, facets in grid.boundaries.items():
        assert np.array_equal(loaded.mesh.boundaries[name], facets)
    assert np.array_equal(loaded.values["u"], solution.values["u"])
    assert heat_flux(loaded, one, "hole0") == heat_flux(solution, one, "hole0")


def test_a_solution_stored_without_parts_still_loads(tmp_path):
    grid = square()
    plain = FEMSolution(grid.p, grid.t, {"u": "P1"}, {"u": grid.p[0].copy()})
    store_solution(tmp_path / "old.h5", plain, {"key": "k"})
    loaded = load_solution(tmp_path / "old.h5", "k")
    assert loaded.boundaries is None and loaded.mesh.boundaries is None
    assert not any(name.startswith("boundaries/") for name in plain.arrays())


def test_bad_solution_parts_are_one_line():
    grid = square()
    values = {"u": np.zeros(grid.p.shape[1])}
    count = grid.facets.shape[1]
    for facets in (np.array([0, count]), np.array([[0, 1]]), np.array([0.5])):
        with pytest.raises(
            ValueError, match=rf"^boundary 'x' needs a 1D array of integer facet indices in 0 … {count - 1}$"
        ):
            FEMSolution(grid.p, grid.t, {"u": "P1"}, values, boundaries={"x": facets})
    with pytest.raises(ValueError, match=r"^boundary names must be non-empty text without '/', got 'a/b'$"):
        FEMSolution(grid.p, grid.t, {"u": "P1"}, values, boundaries={"a/b": np.array([0])})


# --------------------------------------------------------------------------- refined gmsh meshes


def hole_edges(region):
    """Lengths of the facets of the part hole0."""
    facets = region.points[region.facets[region.group_rows["hole0"]]]
    return np.linalg.norm(facets[:, 1] - facets[:, 0], axis=1)


def test_refine_sets_the_cell_size_on_a_part_and_grows_it_away_from_it():
    domain = Difference(Rectangle([0.0, 0.0], [2.0, 1.0]), Disk([0.5, 0.5], 0.1))
    coarse = MeshRegion.from_gmsh(domain, size=0.1)
    fine = MeshRegion.from_gmsh(domain, size=0.1, refine={"hole0": 0.01})
    assert np.median(hole_edges(fine)) == pytest.approx(0.01, rel=0.1)
    assert np.median(hole_edges(coarse)) > 0.04
    assert len(fine.cells) > 2 * len(coarse.cells)
    far = fine.points[fine.facets[fine.group_rows["right"]]]
    assert np.median(np.linalg.norm(far[:, 1] - far[:, 0], axis=1)) == pytest.approx(0.1, rel=0.15)
    assert list(fine.boundary.names) == ["left", "right", "bottom", "top", "hole0"]


def test_bad_refinements_are_one_line(tmp_path):
    domain = Difference(Rectangle([0.0, 0.0], [2.0, 1.0]), Disk([0.5, 0.5], 0.1))
    parts = "left, right, bottom, top, hole0"
    bad = [
        ({"hole1": 0.01}, rf"^refine names an unknown boundary part 'hole1'; the region's parts: {parts}$"),
        ({"hole0": 0.0}, r"^the refined cell size on 'hole0' must be a positive, finite number, got 0\.0$"),
        ({"hole0": -0.1}, r"^the refined cell size on 'hole0' must be a positive, finite number, got -0\.1$"),
        ({"hole0": "0.01"}, r"^the refined cell size on 'hole0' must be a positive, finite number, got '0\.01'$"),
        ([("hole0", 0.01)], r"^refine must map boundary parts to cell sizes, got list$"),
    ]
    for refine, message in bad:
        with pytest.raises(ValueError, match=message) as error:
            MeshRegion.from_gmsh(domain, size=0.1, refine=refine)
        one_line(error)
    geo = tmp_path / "square.geo"
    geo.write_text('SetFactory("OpenCASCADE");\nRectangle(1) = {0, 0, 0, 1, 1};\n')
    with pytest.raises(ValueError, match=r"^refine needs a Region; a geometry file sets its own cell sizes$"):
        MeshRegion.from_gmsh(geo, refine={"left": 0.1})
    from pdes.geometry import Ball

    with pytest.raises(ValueError, match=r"^refine works on 2D regions, got a 3-dimensional one$"):
        MeshRegion.from_gmsh(Ball([0.0, 0.0, 0.0], 1.0), size=0.5, refine={"boundary": 0.1})
