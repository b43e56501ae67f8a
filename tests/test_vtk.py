"""VTK export: the files read back with the exported values, the .pvd times, FEM and domain meshes, PNGs, the CLI."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import pyvista as pv
import torch
from PIL import Image

import pdes
import pinn
from pdes.fem.mesh import rectangle
from pdes.fem.solution import FEMSolution
from pdes.geometry import Ball, Box, SpaceTime, TimeInterval
from pdes.meshes import MeshRegion
from pdes.problem import Problem, Term
from pdes.reference import AnalyticReference, Reference
from pinn.cli import main
from pinn.plan import residual
from pinn.plot import error_limits, value_limits
from pinn.vtk import (
    Interpolation,
    array_limits,
    dataset_planes,
    domain_mesh,
    export,
    export_run,
    export_times,
    space_mesh,
)

SMALL = {"lbfgs_steps": 0, "width": 4, "depth": 1, "eval_points": 64, "replicates": 2}
TINY = {"steps": 5, "lbfgs_steps": 0, "batch": 16, "width": 4, "depth": 1, "eval_points": 64, "replicates": 2}
TIMES = [0.0, 0.25, 1.0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny heat2d run (soft constraints: boundary and initial terms besides the PDE)."""
    out = tmp_path_factory.mktemp("heat2d")
    pinn.solve(pdes.get("heat2d", constraints="soft"), out=out, progress=False, **TINY)
    return out


@pytest.fixture(scope="module")
def exported(run_dir):
    return export_run(run_dir, times=TIMES, resolution=5)


def as_points(grid: pv.DataSet, t: float | None, space_dim: int) -> torch.Tensor:
    points = torch.as_tensor(np.asarray(grid.points)[:, :space_dim], dtype=torch.float64)
    if t is None:
        return points
    return torch.cat([points, torch.full((len(points), 1), t, dtype=torch.float64)], dim=1)


def test_files_read_back_with_the_exported_values(run_dir, exported):
    result = pinn.load(run_dir)
    problem = result.problem
    pde = next(t for t in problem.terms if t.name == "pde")
    assert [p.name for p in exported] == ["fields_000.vts", "fields_001.vts", "fields_002.vts", "fields.pvd"]
    for path, t in zip(exported, TIMES):
        grid = pv.read(path)
        assert isinstance(grid, pv.StructuredGrid) and grid.dimensions == (5, 5, 1)
        assert sorted(set(np.round(grid.points[:, 0], 12))) == pytest.approx(np.linspace(0, 1, 5))
        assert set(grid.point_data.keys()) == {"u", "u_ref", "u_error", "residual_pde"}
        points = as_points(grid, t, 2)
        predicted = result.predict(points)["u"].double().numpy()
        reference = problem.reference.evaluate(points)["u"].numpy()
        r = residual(result.model, problem, pde, points.float()).detach().double().abs().numpy()
        np.testing.assert_allclose(grid["u"], predicted, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(grid["u_ref"], reference, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(grid["u_error"], np.abs(predicted - reference), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(grid["residual_pde"], r, rtol=1e-5, atol=1e-6)
        assert grid.field_data["TimeValue"][0] == t


def test_pvd_lists_every_file_at_its_time(run_dir, exported):
    pvd = run_dir / "vtk" / "fields.pvd"
    entries = ET.parse(pvd).getroot().find("Collection").findall("DataSet")
    assert [(e.get("file"), float(e.get("timestep"))) for e in entries] == [
        (f"fields_{i:03d}.vts", t) for i, t in enumerate(TIMES)
    ]
    reader = pv.get_reader(pvd)
    assert reader.time_values == TIMES
    reader.set_active_time_value(0.25)
    assert np.array_equal(reader.read()[0]["u"], pv.read(run_dir / "vtk" / "fields_001.vts")["u"])


def test_rendered_pngs_are_not_blank(run_dir, tmp_path):
    result = pinn.load(run_dir)
    written = export(result, tmp_path, times=[0.5], resolution=8, png=True)
    pngs = sorted(p.name for p in written if p.suffix == ".png")
    assert pngs == ["residual_pde_000.png", "u_000.png", "u_error_000.png", "u_ref_000.png"]
    image = np.asarray(Image.open(tmp_path / "png" / "u_ref_000.png").convert("RGB"), dtype=float)
    height, width, _ = image.shape
    middle = image[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]
    assert middle.std() > 5 and len(np.unique(middle.reshape(-1, 3), axis=0)) > 20


def test_pngs_share_one_colour_range_per_array_over_the_times_and_slice_3d_grids(run_dir, exported):
    datasets = [pv.read(path) for path in exported[:-1]]
    names = list(datasets[0].point_data.keys())
    both = [d[name] for d in datasets for name in ("u", "u_ref")]
    assert array_limits(datasets, "u", names) == array_limits(datasets, "u_ref", names) == value_limits(*both)
    assert array_limits(datasets, "u_error", names) == error_limits(*(d["u_error"] for d in datasets))
    [(plane, indices)] = dataset_planes(datasets[0], 2, ("x", "y"))
    points = datasets[0].points
    assert plane.shape == (5, 5) and (plane.xlabel, plane.ylabel) == ("x", "y")
    np.testing.assert_array_equal(plane.x, points[indices, 0])
    np.testing.assert_array_equal(plane.y.reshape(5, 5)[:, 0], np.linspace(0, 1, 5))  # rows go up in y
    cube = pv.StructuredGrid(*np.meshgrid(*[np.linspace(0, 1, 5)] * 3, indexing="ij"))
    slices = dataset_planes(cube, 3, ("x", "y", "z"))
    assert [(p.xlabel, p.ylabel, p.where) for p, _ in slices] == [("x", "y", "z = 0.5"), ("y", "z", "x = 0.5")]
    np.testing.assert_array_equal(cube.points[slices[0][1], 2], 0.5)
    np.testing.assert_array_equal(cube.points[slices[1][1], 0], 0.5)


def test_steady_problem_gives_one_file_with_velocity(tmp_path):
    domain = Box([0.0, 0.0], [2.0, 1.0])
    problem = Problem("flow", ("x", "y"), ("u", "v"), domain, [Term("continuity", domain, lambda f: f.u_x + f.v_y)])
    result = pinn.solve(problem, progress=False, **TINY)
    written = export(result, tmp_path, resolution=4, png=True)
    pngs = ["png/u.png", "png/v.png", "png/residual_continuity.png", "png/velocity.png"]
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["fields.vts", *pngs]
    velocity = np.asarray(Image.open(tmp_path / "png" / "velocity.png").convert("L"), dtype=float)
    assert velocity.std() > 20
    grid = pv.read(tmp_path / "fields.vts")
    assert set(grid.point_data.keys()) == {"u", "v", "velocity", "residual_continuity"}
    predicted = result.predict(as_points(grid, None, 2))
    np.testing.assert_allclose(
        grid["velocity"], np.column_stack([predicted["u"], predicted["v"], np.zeros(16)]), rtol=1e-6, atol=1e-7
    )


class MeshReference(Reference):
    """An FEM-like reference: a P1 solution ``u = x + 2y`` on a 4 × 3 triangle mesh."""

    kind = "fem"
    fields = ("u",)

    def __init__(self):
        mesh = rectangle((0.0, 0.0), (1.0, 1.0), 4, 3)
        self.fem = FEMSolution(mesh.p, mesh.t, {"u": "P1"}, {"u": mesh.p[0] + 2 * mesh.p[1]})

    def solution(self) -> FEMSolution:
        return self.fem

    def evaluate(self, points):
        values = self.fem.evaluate(points.numpy())
        return {"u": torch.as_tensor(values["u"])}


def test_fem_reference_exports_its_mesh(tmp_path):
    domain = Box([0.0, 0.0], [1.0, 1.0])
    reference = MeshReference()
    problem = Problem("mesh", ("x", "y"), ("u",), domain, [Term("pde", domain, lambda f: f.u_xx + f.u_yy)], reference)
    result = pinn.solve(problem, progress=False, **TINY)
    export(result, tmp_path)
    grid = pv.read(tmp_path / "fields.vtu")
    fem = reference.fem
    assert isinstance(grid, pv.UnstructuredGrid) and grid.n_points == fem.points.shape[1]
    assert np.array_equal(grid.cells_dict[pv.CellType.TRIANGLE], fem.cells.T)
    np.testing.assert_allclose(grid.points[:, :2], fem.points.T)
    np.testing.assert_allclose(grid["u_ref"], fem.points[0] + 2 * fem.points[1], atol=1e-12)


def test_bad_requests_are_one_line_errors():
    heat = pdes.get("heat1d")
    with pytest.raises(ValueError, match=r"time 1.5 lies outside the problem's interval \[0.0, 1.0\]"):
        export_times(heat, [0.0, 1.5])
    with pytest.raises(ValueError, match="times must increase"):
        export_times(heat, [0.5, 0.2])
    assert export_times(heat, None) == pytest.approx(np.linspace(0, 1, 11))
    steady = Problem("s", ("x", "y"), ("u",), Box([0, 0], [1, 1]), [])
    with pytest.raises(ValueError, match="problem 's' is steady"):
        export_times(steady, [0.5])
    hypercube = Box([0.0] * 4, [1.0] * 4)
    with pytest.raises(ValueError, match="needs a domain of 1 to 3 space dimensions; .* 4-dimensional Box"):
        space_mesh(Problem("b", ("x", "y", "z", "w"), ("u",), hypercube, []), 8)


def test_cli_exports_and_reports_bad_times(run_dir, capsys):
    assert main(["export-vtk", str(run_dir), "--times", "0,0.5", "--resolution", "3"]) == 0
    assert "wrote 3 files" in capsys.readouterr().out
    assert main(["export-vtk", str(run_dir), "--times", "0,2"]) == 2
    assert capsys.readouterr().err.strip() == "pinn: error: time 2.0 lies outside the problem's interval [0.0, 1.0]"
    assert main(["export-vtk", str(run_dir), "--times", "soon"]) == 2
    assert "--times expects comma-separated numbers" in capsys.readouterr().err


def test_solve_with_vtk_exports_at_the_end(tmp_path, capsys):
    args = ["--steps", "3", "--lbfgs-steps", "0", "--batch", "8", "--width", "4", "--depth", "1", "--replicates", "2"]
    assert main(["solve", "heat1d", *args, "--vtk"]) == 2
    assert "give --out DIR" in capsys.readouterr().err
    assert main(["solve", "heat1d", *args, "--vtk", "--out", str(tmp_path)]) == 0
    grid = pv.read(tmp_path / "vtk" / "fields_010.vts")
    assert grid.dimensions == (64, 1, 1) and math.isclose(grid.field_data["TimeValue"][0], 1.0)


def disk_poisson(domain: MeshRegion) -> Problem:
    """−Δu = 1 on the unit disk, u = 0 on its circle: u = (1 − r²)/4."""
    terms = [Term("pde", domain, lambda f: f.u_xx + f.u_yy + 1.0), Term("boundary", domain.boundary, lambda f: f.u)]
    reference = AnalyticReference(("x", "y"), lambda x, y: {"u": (1 - x**2 - y**2) / 4})
    return Problem("disk", ("x", "y"), ("u",), domain, terms, reference)


def test_a_mesh_domain_trains_and_exports_its_cells(tmp_path):
    domain = MeshRegion.from_gmsh(Ball([0.0, 0.0], 1.0), size=0.25)
    result = pinn.solve(disk_poisson(domain), steps=5, batch=32, progress=False, **SMALL)
    written = export(result, tmp_path, png=True)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "fields.vtu", "png/u.png", "png/u_ref.png", "png/u_error.png", "png/residual_pde.png"
    ]  # fmt: skip
    grid = pv.read(tmp_path / "fields.vtu")
    assert set(grid.point_data.keys()) == {"u", "u_ref", "u_error", "residual_pde"}
    np.testing.assert_array_equal(grid.points[:, :2], domain.points)
    np.testing.assert_array_equal(grid.cells_dict[pv.CellType.TRIANGLE], domain.cells)
    points = as_points(grid, None, 2)
    np.testing.assert_allclose(grid["u"], result.predict(points)["u"].double().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grid["u_ref"], (1 - points.square().sum(dim=1)).numpy() / 4, atol=1e-15)
    image = np.asarray(Image.open(tmp_path / "png" / "u_ref.png").convert("RGB"), dtype=float)
    assert image.std() > 5
    maps = pinn.plot.plot_result(result, tmp_path / "plots")  # pinn plot: field maps blank outside the mesh
    assert sorted(p.name for p in maps) == ["history.png", "u.png"]


def test_a_space_time_mesh_domain_exports_tetrahedra_per_time_and_slices_them(tmp_path):
    pv.Cube().triangulate().save(tmp_path / "cube.stl")
    space = MeshRegion.from_stl(tmp_path / "cube.stl", size=0.4)
    domain = SpaceTime(space, TimeInterval(0.0, 1.0))
    terms = [
        Term("pde", domain, lambda f: f.u_t - 0.1 * f.laplacian("u", "xyz")),
        Term("boundary", domain.boundary, lambda f: f.u),
        Term("initial", domain.initial, lambda f: f.u - 1.0),
    ]
    problem = Problem("heat_stl", ("x", "y", "z", "t"), ("u",), domain, terms)
    result = pinn.solve(problem, steps=5, batch=32, progress=False, **SMALL)
    written = export(result, tmp_path / "vtk", times=[0.0, 1.0], png=True)
    assert [p.name for p in written[:3]] == ["fields_000.vtu", "fields_001.vtu", "fields.pvd"]
    assert sorted(p.name for p in written[3:]) == [
        "residual_pde_000.png",
        "residual_pde_001.png",
        "u_000.png",
        "u_001.png",
    ]
    grid = pv.read(tmp_path / "vtk" / "fields_001.vtu")
    np.testing.assert_array_equal(grid.cells_dict[pv.CellType.TETRA], space.cells)
    assert set(grid.point_data.keys()) == {"u", "residual_pde"} and grid.field_data["TimeValue"][0] == 1.0
    predicted = result.predict(as_points(grid, 1.0, 3))["u"].double().numpy()
    np.testing.assert_allclose(grid["u"], predicted, rtol=1e-6, atol=1e-7)
    slices = dataset_planes(grid, 3, ("x", "y", "z"))
    assert [(p.xlabel, p.ylabel, p.where) for p, _ in slices] == [("x", "y", "z = 0"), ("y", "z", "x = 0")]
    slope = np.array([1.0, 2.0, 3.0])
    for plane, at in slices:  # linear in each tetrahedron: a linear field is interpolated exactly (the slices pass 0)
        assert isinstance(at, Interpolation)
        a, b = plane.axes
        np.testing.assert_allclose(at(grid.points @ slope), slope[a] * plane.x + slope[b] * plane.y, atol=1e-12)


def test_other_domains_are_meshed_by_gmsh_or_by_the_grid_cells_inside_them():
    disk = domain_mesh(Ball([0.0, 0.0], 1.0), 9)  # gmsh: cells of about one grid step (2 / 8)
    assert np.allclose(np.linalg.norm(disk.points[disk.facets], axis=2), 1.0, atol=1e-12)
    assert 0.2 < np.linalg.norm(np.diff(disk.points[disk.facets], axis=1), axis=2).max() <= 0.25 * 1.2
    cut = Box([0.0, 0.0], [1.0, 1.0]).where(lambda x: x[:, 0] + x[:, 1] <= 1.5)  # gmsh cannot build it: grid cells
    staircase = domain_mesh(cut, 5)
    assert len(staircase.cells) == 2 * 16 - 6 and staircase.measure == pytest.approx(1 - 3 / 16)
    interval = domain_mesh(Ball([0.0], 1.0), 5)  # 1D: segments of the grid
    assert interval.measure == pytest.approx(2.0) and interval.cells.shape == (4, 2)
    grid = space_mesh(Problem("line", ("x",), ("u",), Ball([0.0], 1.0), []), 5)
    [(axis, order)] = dataset_planes(grid, 1, ("x",))
    np.testing.assert_allclose(axis, np.linspace(-1, 1, 5))
