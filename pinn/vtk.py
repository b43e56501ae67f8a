"""VTK export of a run (pyvista): fields on a grid or a mesh of the domain, for ParaView, and PNGs of them (matplotlib).

    pinn.vtk.export_run("runs/heat2d", times=[0.0, 0.5, 1.0], resolution=64, png=True)

Writes into ``DIR/vtk/``:

- box domains: a structured grid (``fields.vts``) of ``resolution`` points per space axis;
  problems whose reference is FEM: its triangle mesh (``fields.vtu``), values at the vertices;
  a mesh domain (``pdes.meshes.MeshRegion``): its cells (``fields.vtu``); any other domain of 1 to 3
  space dimensions: gmsh's mesh of it with cells of about one grid step (boxes, balls, polygons
  and their CSG), else the simplices of the ``resolution`` grid whose vertices it contains
  (``domain_mesh``);
- time-dependent problems: one file per time (``fields_000.vts`` or ``.vtu`` …) and ``fields.pvd``, the
  collection with each file's time value (each file also carries it as field data ``TimeValue``);
- point data: each predicted field ``u``; with a reference, ``u_ref`` and the absolute error
  ``u_error = |u − u_ref|`` (for fields known up to a constant, after removing the mean
  difference over the file's points); ``residual_<term>`` = ``|r|`` of each interior term
  (those on the whole domain); ``velocity`` = (u, v[, w]) when the problem has those fields;
- with ``png``: ``png/<array>[_<index>].png``, each array at each time drawn by matplotlib
  (``pinn.plot``, no display or OpenGL needed): a map with axes, ticks and a colorbar over the
  space (1D: a line plot; 3D: the slices through the middle of z and of x, on a tetrahedral mesh
  interpolated in its cells and blank outside them; ``velocity``: the speed
  under streamlines of the in-plane velocity), one colour range per array over all the times
  (``u`` and ``u_ref`` share one).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pdes.geometry import Box, Region, SpaceTime
from pdes.meshes import MeshRegion, Simplices
from pdes.problem import Problem
from pinn import io
from pinn.loading import load
from pinn.plan import residual_function
from pinn.report import interior_terms
from pinn.solver import Result

DEFAULT_RESOLUTION = 64
"""Grid points per space axis."""

DEFAULT_TIME_COUNT = 11
"""Equally spaced times from t0 to t1 exported when no times are given."""

VELOCITY = ("u", "v", "w")
"""Fields that make up the velocity vector, in axis order."""


def export_run(
    directory: str | Path,
    times: Sequence[float] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    png: bool = False,
) -> list[Path]:
    """Export the run in ``directory`` into ``directory/vtk`` (module docstring); returns the files written."""
    return export(load(directory), Path(directory) / "vtk", times, resolution, png)


def export(
    result: Result,
    out: str | Path,
    times: Sequence[float] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    png: bool = False,
) -> list[Path]:
    """Export ``result`` into the folder ``out`` (module docstring); returns the files written."""
    import pyvista as pv

    problem = result.problem
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2 points per axis, got {resolution}")
    times = export_times(problem, times)
    mesh = space_mesh(problem, resolution)
    out = io.ensure_writable_dir(Path(out))
    suffix = ".vts" if isinstance(mesh, pv.StructuredGrid) else ".vtu"
    names = ["fields" + suffix] if times is None else [f"fields_{i:03d}{suffix}" for i in range(len(times))]
    written, datasets = [], []
    for name, t in zip(names, [None] if times is None else times):
        dataset = fields_on(result, mesh, t)
        write_dataset(out / name, dataset)
        written.append(out / name)
        datasets.append(dataset)
    if times is not None:
        write_pvd(out / "fields.pvd", names, times)
        written.append(out / "fields.pvd")
    if png:
        written += render_arrays(datasets, [None] if times is None else times, out / "png", problem)
    return written


def export_times(problem: Problem, times: Sequence[float] | None) -> list[float] | None:
    """The times to export: None for a steady problem, else ``times`` (checked) or DEFAULT_TIME_COUNT of them."""
    if not isinstance(problem.domain, SpaceTime):
        if times:
            raise ValueError(f"problem '{problem.name}' is steady; times apply only to time-dependent problems")
        return None
    t0, t1 = problem.domain.time.t0, problem.domain.time.t1
    if not times:
        return np.linspace(t0, t1, DEFAULT_TIME_COUNT).tolist()
    times = [float(t) for t in times]
    for t in times:
        if not (t0 <= t <= t1):
            raise ValueError(f"time {t} lies outside the problem's interval [{t0}, {t1}]")
    if any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError(f"times must increase, got {times}")
    return times


def space_mesh(problem: Problem, resolution: int):
    """The spatial mesh (module docstring): the FEM reference's triangles, a structured grid on a box, or the
    cells of the domain's mesh (``domain_mesh``) as an unstructured grid."""
    import pyvista as pv

    reference = problem.reference
    if reference is not None and reference.kind == "fem":
        return fem_mesh(reference)
    space = problem.domain.space if isinstance(problem.domain, SpaceTime) else problem.domain
    if not 1 <= space.dim <= 3:
        raise ValueError(
            f"VTK export needs a domain of 1 to 3 space dimensions; problem '{problem.name}' has a "
            f"{space.dim}-dimensional {type(space).__name__}"
        )
    if isinstance(space, Box):
        axes = [np.linspace(lo, hi, resolution) for lo, hi in zip(space.lower, space.upper)]
        axes += [np.zeros(1)] * (3 - space.dim)
        return pv.StructuredGrid(*np.meshgrid(*axes, indexing="ij"))
    mesh = domain_mesh(space, resolution)
    return simplex_grid(mesh.points, mesh.cells)


def domain_mesh(space: Region, resolution: int) -> MeshRegion:
    """``space`` itself if it is a MeshRegion; else its gmsh mesh with cells of about the grid step (longest side
    over ``resolution − 1``), and where gmsh cannot build it (1D, or a region other than boxes, balls, polygons
    and their CSG) the grid simplices inside it (``MeshRegion.from_grid``)."""
    if isinstance(space, MeshRegion):
        return space
    if space.dim >= 2:
        low, high = space.bounds.numpy()
        try:
            return MeshRegion.from_gmsh(space, size=float((high - low).max()) / (resolution - 1))
        except ValueError:
            pass  # not a geometry gmsh can build
    return MeshRegion.from_grid(space, resolution)


CELL_TYPES = {2: "LINE", 3: "TRIANGLE", 4: "TETRA"}
"""pyvista's cell type of a simplex of 2, 3 and 4 points."""


def simplex_grid(points: np.ndarray, cells: np.ndarray):
    """An unstructured grid of the simplices ``cells (C, k+1)`` on ``points (P, d)``, d ≤ 3 (padded with zeros)."""
    import pyvista as pv

    cell_type = getattr(pv.CellType, CELL_TYPES[cells.shape[1]])
    cell_array = np.column_stack([np.full(len(cells), cells.shape[1]), cells]).ravel()
    vertices = np.zeros((len(points), 3))
    vertices[:, : points.shape[1]] = points
    return pv.UnstructuredGrid(cell_array, np.full(len(cells), cell_type, dtype=np.uint8), vertices)


def fem_mesh(reference):
    """The triangle mesh of an FEM reference (its ``solution()``, a ``pdes.fem`` FEMSolution) as a pyvista grid."""
    solution = reference.solution()
    return simplex_grid(np.asarray(solution.points, dtype=np.float64).T, np.asarray(solution.cells, dtype=np.int64).T)


def fields_on(result: Result, mesh, t: float | None):
    """A copy of ``mesh`` with the point data of the module docstring at time ``t`` (None: steady)."""
    problem = result.problem
    space_dim = len(problem.coordinates) - (0 if t is None else 1)
    points = torch.as_tensor(np.asarray(mesh.points)[:, :space_dim], dtype=torch.float64)
    if t is not None:
        points = torch.cat([points, torch.full((len(points), 1), t, dtype=torch.float64)], dim=1)
    dataset = mesh.copy()
    prediction = {name: v.detach().to("cpu", torch.float64) for name, v in result.predict(points).items()}
    for name, values in prediction.items():
        dataset.point_data[name] = values.numpy()
    if problem.reference is not None:
        reference = problem.reference.evaluate(points)
        for name, ref in reference.items():
            ref = torch.as_tensor(ref, dtype=torch.float64)
            diff = prediction[name] - ref
            if name in problem.reference.up_to_constant:
                diff = diff - diff.mean()
            dataset.point_data[f"{name}_ref"] = ref.numpy()
            dataset.point_data[f"{name}_error"] = diff.abs().numpy()
    parameter = next(result.model.parameters())
    for term in interior_terms(problem):
        residual = residual_function(result.model, problem, [term], parameter.device, parameter.dtype)(points)
        dataset.point_data[f"residual_{term.name}"] = residual.abs().numpy()
    velocity = [name for name in VELOCITY[:space_dim] if name in problem.fields]
    if len(velocity) == space_dim and space_dim >= 2:
        components = [prediction[name].numpy() for name in velocity] + [np.zeros(len(points))] * (3 - space_dim)
        dataset.point_data["velocity"] = np.column_stack(components)
    if t is not None:
        dataset.field_data["TimeValue"] = np.array([t])
    return dataset


def write_dataset(path: Path, dataset) -> None:
    """Write ``dataset`` as VTK XML (the format follows its type: .vts or .vtu), atomically."""
    from vtkmodules.vtkIOXML import vtkXMLDataSetWriter

    def write(tmp: Path) -> None:
        writer = vtkXMLDataSetWriter()
        writer.SetInputData(dataset)
        writer.SetFileName(str(tmp))
        if writer.Write() != 1:
            raise OSError(f"VTK could not write '{path}'")

    io.atomic_write(path, write)


def write_pvd(path: Path, files: Sequence[str], times: Sequence[float]) -> None:
    """A ParaView collection listing ``files`` (relative names) at ``times``, atomically."""
    root = ET.Element("VTKFile", type="Collection", version="0.1", byte_order="LittleEndian")
    collection = ET.SubElement(root, "Collection")
    for name, t in zip(files, times):
        ET.SubElement(collection, "DataSet", timestep=repr(float(t)), group="", part="0", file=name)
    ET.indent(root)
    text = '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    io.atomic_write(path, lambda tmp: tmp.write_text(text))


def render_arrays(datasets: Sequence, times: Sequence[float | None], out: Path, problem: Problem) -> list[Path]:
    """``out/<array>[_<index>].png`` for every point-data array of every dataset (at ``times``; one
    time None: no index), drawn by ``pinn.plot`` (module docstring); returns the paths."""
    from pinn import plot  # matplotlib is slow to import; only pictures need it

    out = io.ensure_writable_dir(out)
    space_dim = len(problem.coordinates) - (0 if times[0] is None else 1)
    planes = dataset_planes(datasets[0], space_dim, problem.coordinates[:space_dim])
    names = list(datasets[0].point_data.keys())
    limits = {name: array_limits(datasets, name, names) for name in names}
    written = []
    for index, (dataset, t) in enumerate(zip(datasets, times)):
        tag = "" if t is None else f"_{index:03d}"
        when = "" if t is None else f" at t = {t:.4g}"
        for name in names:
            values = np.asarray(dataset.point_data[name], dtype=np.float64)
            panels = [
                array_panel(plane, on_plane(values, at), name, limits[name], problem.coordinates)
                for plane, at in planes
            ]
            figure = plot.panel_figure([panels], f"{problem.name}: {name}{when}")
            written += plot.save_figure(figure, out / f"{name}{tag}", ("png",))
    return written


def array_panel(plane, values: np.ndarray, name: str, limits: tuple[float, float], coordinates: Sequence[str]):
    """The picture of one array on one plane of ``dataset_planes``: a line over a 1D axis, a map, or for
    a vector (u, v[, w], 0…) its speed under streamlines of its in-plane components."""
    from pinn import plot

    if isinstance(plane, np.ndarray):
        return plot.Curves(coordinates[0], name, "", [(plane, values, {})], limits)
    if values.ndim == 2:
        a, b = plane.axes
        speed = np.linalg.norm(values, axis=1)  # the components past the space's are zero
        return plot.Panel(plane, speed, plane.where, f"|{name}|", limits, plot.SPEED_CMAP, (values[:, a], values[:, b]))
    cmap = plot.ERROR_CMAP if is_magnitude(name) else plot.VALUE_CMAP
    return plot.Panel(plane, values, plane.where, name, limits, cmap)


def dataset_planes(dataset, space_dim: int, coordinates: Sequence[str]) -> list[tuple]:
    """``[(plane, at)]``: where a dataset's arrays are drawn and the values there, ``at`` the indices of the
    dataset's points on the plane or an ``Interpolation`` of them (``on_plane``).

    A triangle mesh gives one ``pinn.plot.Plane`` of its triangles; a segment mesh its points by x
    (an array); a tetrahedral mesh the slices through the middle of z and of x (``tetrahedra_slices``);
    a structured grid in 2D one plane, in 3D the slices through the middle of z and of x; in 1D the
    axis values (an array).
    """
    import pyvista as pv

    from pinn import plot

    points = np.asarray(dataset.points, dtype=np.float64)
    every = np.arange(len(points))
    if isinstance(dataset, pv.UnstructuredGrid):  # an FEM or domain mesh
        cells = dataset.cells_dict
        if pv.CellType.TRIANGLE in cells:
            triangles = np.asarray(cells[pv.CellType.TRIANGLE])
            plane = plot.Plane(coordinates[0], coordinates[1], points[:, 0], points[:, 1], triangles=triangles)
            return [(plane, every)]
        if pv.CellType.LINE in cells:
            order = np.argsort(points[:, 0], kind="stable")
            return [(points[order, 0], order)]
        return tetrahedra_slices(points, np.asarray(cells[pv.CellType.TETRA]), coordinates)
    dims = tuple(dataset.dimensions)
    grid = every.reshape(dims, order="F")  # VTK orders points x fastest
    if space_dim == 1:
        return [(points[grid[:, 0, 0], 0], grid[:, 0, 0])]
    if space_dim == 2:
        slices = [((0, 1), grid[:, :, 0], "")]
    else:
        middle_z, middle_x = grid[:, :, dims[2] // 2], grid[dims[0] // 2, :, :]
        z, x = points[middle_z[0, 0], 2], points[middle_x[0, 0], 0]
        slices = [((0, 1), middle_z, f"{coordinates[2]} = {z:.3g}"), ((1, 2), middle_x, f"{coordinates[0]} = {x:.3g}")]
    planes = []
    for (a, b), indices, where in slices:
        rows = indices.T.ravel()  # row by row (b rising), a fastest: pinn.plot.Plane's order
        x, y = points[rows, a], points[rows, b]
        planes.append(
            (plot.Plane(coordinates[a], coordinates[b], x, y, indices.T.shape, where=where, axes=(a, b)), rows)
        )
    return planes


SLICE_RESOLUTION = 96
"""Grid points along the longer side of a slice through a tetrahedral mesh."""


@dataclass
class Interpolation:
    """Values at a plane's points from a mesh's: ``Σ_j weights[i, j] · values[indices[i, j]]`` (NaN weights
    where a point lies outside the mesh)."""

    indices: np.ndarray
    weights: np.ndarray

    def __call__(self, values: np.ndarray) -> np.ndarray:
        weights = self.weights if values.ndim == 1 else self.weights[..., None]
        return (values[self.indices] * weights).sum(axis=1)


def on_plane(values: np.ndarray, at) -> np.ndarray:
    """The values of a dataset's array where a plane of ``dataset_planes`` shows it."""
    return at(values) if isinstance(at, Interpolation) else values[at]


def tetrahedra_slices(points: np.ndarray, tetrahedra: np.ndarray, coordinates: Sequence[str]) -> list[tuple]:
    """The planes z = middle and x = middle of a tetrahedral mesh: grids of ``SLICE_RESOLUTION`` points along the
    longer side, each value interpolated linearly in the tetrahedron holding the grid point (NaN outside)."""
    from pinn import plot

    mesh = Simplices(points, tetrahedra)
    lower, upper = points.min(axis=0), points.max(axis=0)
    middle = (lower + upper) / 2
    tol = 1e-9 * float(np.linalg.norm(upper - lower))
    planes = []
    for (a, b), fixed in (((0, 1), 2), ((1, 2), 0)):
        extent = max(upper[a] - lower[a], upper[b] - lower[b])
        nx, ny = (max(16, round(SLICE_RESOLUTION * (upper[k] - lower[k]) / extent)) for k in (a, b))
        gx, gy = np.meshgrid(np.linspace(lower[a], upper[a], nx), np.linspace(lower[b], upper[b], ny))
        probes = np.empty((gx.size, 3))
        probes[:, a], probes[:, b], probes[:, fixed] = gx.ravel(), gy.ravel(), middle[fixed]
        index, gap = mesh.locate(probes, tol)
        inside = gap <= tol
        weights = np.full((len(probes), 4), np.nan)
        indices = np.zeros((len(probes), 4), dtype=np.int64)
        weights[inside] = mesh.barycentric(probes[inside], index[inside])
        indices[inside] = tetrahedra[index[inside]]
        where = f"{coordinates[fixed]} = {middle[fixed]:.3g}"
        plane = plot.Plane(coordinates[a], coordinates[b], gx.ravel(), gy.ravel(), (ny, nx), where=where, axes=(a, b))
        planes.append((plane, Interpolation(indices, weights)))
    return planes


def is_magnitude(name: str) -> bool:
    """Arrays that are magnitudes (errors, residuals), coloured from 0."""
    return name.endswith("_error") or name.startswith("residual_")


def array_limits(datasets: Sequence, name: str, names: Sequence[str]) -> tuple[float, float]:
    """The colour range of array ``name`` over all datasets; a field and its ``_ref`` share one."""
    from pinn import plot

    if name.endswith("_ref") and name[: -len("_ref")] in names:
        return array_limits(datasets, name[: -len("_ref")], names)
    group = [name] + ([f"{name}_ref"] if f"{name}_ref" in names else [])
    arrays = [np.asarray(d.point_data[n], dtype=np.float64) for d in datasets for n in group]
    if arrays[0].ndim == 2:
        return plot.error_limits(*(np.linalg.norm(a, axis=1) for a in arrays))
    return plot.error_limits(*arrays) if is_magnitude(name) else plot.value_limits(*arrays)
