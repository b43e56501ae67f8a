"""VTK export of a run (pyvista): fields on a grid or the FEM mesh, for ParaView, and offscreen PNGs.

    pinn.vtk.export_run("runs/heat2d", times=[0.0, 0.5, 1.0], resolution=64, png=True)

Writes into ``DIR/vtk/``:

- box domains: a structured grid (``fields.vts``) of ``resolution`` points per space axis;
  problems whose reference is FEM: its triangle mesh (``fields.vtu``), values at the vertices;
- time-dependent problems: one file per time (``fields_000.vts`` …) and ``fields.pvd``, the
  collection with each file's time value (each file also carries it as field data ``TimeValue``);
- point data: each predicted field ``u``; with a reference, ``u_ref`` and the absolute error
  ``u_error = |u − u_ref|`` (for fields known up to a constant, after removing the mean
  difference over the file's points); ``residual_<term>`` = ``|r|`` of each interior term
  (those on the whole domain); ``velocity`` = (u, v[, w]) when the problem has those fields;
- with ``png``: ``png/<array>[_<index>].png``, each array rendered offscreen.

Offscreen rendering uses EGL without a display (Debian: libegl1, libgl1-mesa-dri) and falls
back to OSMesa (libosmesa6).
"""

from __future__ import annotations

import ctypes.util
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pdes.geometry import Box, SpaceTime
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

PNG_SIZE = (900, 700)


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
    problem = result.problem
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2 points per axis, got {resolution}")
    times = export_times(problem, times)
    mesh = space_mesh(problem, resolution)
    out = io.ensure_writable_dir(Path(out))
    suffix = ".vtu" if problem.reference is not None and problem.reference.kind == "fem" else ".vts"
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
        for index, (dataset, t) in enumerate(zip(datasets, [None] if times is None else times)):
            tag = "" if times is None else f"_{index:03d}"
            written += render_arrays(dataset, out / "png", tag, problem, t)
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
    """The spatial mesh: the FEM reference's triangles, or a structured grid on a box of 1 to 3 dimensions."""
    import pyvista as pv

    reference = problem.reference
    if reference is not None and reference.kind == "fem":
        return fem_mesh(reference)
    space = problem.domain.space if isinstance(problem.domain, SpaceTime) else problem.domain
    if not isinstance(space, Box) or space.dim > 3:
        raise ValueError(
            f"VTK export needs a box domain of 1 to 3 dimensions or an FEM reference; "
            f"problem '{problem.name}' has a {space.dim}-dimensional {type(space).__name__}"
        )
    axes = [np.linspace(lo, hi, resolution) for lo, hi in zip(space.lower, space.upper)]
    axes += [np.zeros(1)] * (3 - space.dim)
    return pv.StructuredGrid(*np.meshgrid(*axes, indexing="ij"))


def fem_mesh(reference):
    """The triangle mesh of an FEM reference (its ``solution()``, a ``pdes.fem`` FEMSolution) as a pyvista grid."""
    import pyvista as pv

    solution = reference.solution()
    points = np.asarray(solution.points, dtype=np.float64)
    cells = np.asarray(solution.cells, dtype=np.int64).T
    cell_array = np.column_stack([np.full(len(cells), 3), cells]).ravel()
    vertices = np.column_stack([points.T, np.zeros(points.shape[1])])
    return pv.UnstructuredGrid(cell_array, np.full(len(cells), pv.CellType.TRIANGLE, dtype=np.uint8), vertices)


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


def render_arrays(dataset, out: Path, tag: str, problem: Problem, t: float | None) -> list[Path]:
    """One offscreen PNG per point-data array of ``dataset``, ``out/<array><tag>.png``; returns the paths."""
    import pyvista as pv
    from PIL import Image

    pv.OFF_SCREEN = True
    out = io.ensure_writable_dir(out)
    written = []
    for name in dataset.point_data.keys():
        plotter = offscreen_plotter()
        try:
            plotter.add_mesh(dataset, scalars=name, cmap="viridis", scalar_bar_args={"title": name, "vertical": True})
            when = "" if t is None else f" at t = {t:.4g}"
            plotter.add_text(f"{problem.name}: {name}{when}", font_size=12)
            if dataset.bounds[5] == dataset.bounds[4]:
                plotter.view_xy()
            image = plotter.screenshot(None, return_img=True)
        finally:
            plotter.close()
        path = out / f"{name}{tag}.png"
        io.atomic_write(path, lambda tmp, image=image: Image.fromarray(image).save(tmp, format="PNG"))
        written.append(path)
    return written


def offscreen_plotter():
    """A pyvista Plotter rendering offscreen; EGL is tried first when there is no X display.

    VTK falls back to OSMesa when EGL fails and crashes the process when that is missing
    too, so that case is caught here as a one-line error.
    """
    import pyvista as pv

    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    plotter = pv.Plotter(off_screen=True, window_size=PNG_SIZE)
    if plotter.ren_win.GetClassName() == "vtkOSOpenGLRenderWindow" and ctypes.util.find_library("OSMesa") is None:
        plotter.close()
        raise ValueError(
            "cannot render PNGs offscreen: neither EGL nor OSMesa works here "
            "(Debian packages libegl1 libgl1-mesa-dri, or libosmesa6); the VTK files were written"
        )
    return plotter
