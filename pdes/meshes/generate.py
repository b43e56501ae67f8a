"""Meshes made by gmsh (its Python API): of a ``.geo`` (or CAD) file, of a Region, or of a closed STL surface.

Each call runs in its own gmsh session (``gmsh.initialize()``, ``General.Terminal`` 0, always
finalized; inside a session the caller opened, a model of its own, removed afterwards) and
returns ``(points, cells, groups)`` for ``MeshRegion``, read from gmsh's model:

- cells: the linear simplices of the model's dimension d, those of the physical groups of
  dimension d where the model has any (what gmsh writes to a ``.msh`` file), else all;
- groups: the elements of each physical group of dimension d − 1, by the group's name
  (``physical<tag>`` for an unnamed group, which is given that name so that a saved ``.msh``
  reads back the same).

``save`` writes the mesh (any format gmsh writes; ``.msh`` reads back through meshio to the same
region). ``size`` is gmsh's ``Mesh.MeshSizeMax``: the largest cell edge.

``refine`` (2D Regions only) maps boundary parts of ``region.boundary`` to a smaller cell size
there: at distance d from the part the size is ``min(size, h_part + REFINE_GROWTH · d)``, linear
from ``h_part`` on the part to ``size`` at ``d = (size − h_part) / REFINE_GROWTH`` (a gmsh Distance
field to the part's curves and a Threshold field; the smallest over the parts applies). The curves of
a part are found before meshing: those whose ``CURVE_PROBES`` equally spaced parametric points the
part ``contains``.

Regions (``mesh_region``) are built with gmsh's OpenCASCADE kernel: boxes and balls (2D and 3D),
polygons, and ``Union``, ``Intersection`` and ``Difference`` of those. Each boundary curve
(surface) of the result is named after the first part of ``region.boundary`` that contains all
its mesh nodes (and, for curves, its parametric middle): so a meshed region keeps the region's
own part names (``left``, ``hole0`` …); the rest are ``boundary``.

STL files (``mesh_stl``): a surface with an edge that does not belong to exactly two triangles
is refused. Its triangles are classified into smooth patches (feature angle ``STL_ANGLE``),
reparametrized, re-meshed at ``size`` and filled with tetrahedra (gmsh's tutorial t13): the new
surface vertices lie on the STL surface, so flat parts are kept exactly and curved ones to
within the chord error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from pdes.files import atomic_write
from pdes.meshes.files import compacted, flat_points

SIMPLEX_TYPES = {15: 0, 1: 1, 2: 2, 4: 3}
"""gmsh's element types of the linear simplices (point, line, triangle, tetrahedron) and their dimensions."""

STL_ANGLE = 40.0
"""Degrees between STL triangles past which gmsh's classification starts a new surface patch."""

SIZE_FRACTION = 20
"""A region meshed without a size gets cells of its bounding-box diagonal over this."""

NODE_TOLERANCE = 1e-7
"""Mesh nodes lie on a boundary part when within this fraction of the region's diagonal."""

REFINE_GROWTH = 0.2
"""Growth of the cell size with the distance from a refined part (size per unit distance)."""

CURVE_PROBES = 7
"""Parametric points of a curve tested to decide whether it lies on a boundary part."""

Mesh = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]


@contextmanager
def gmsh_session(what: str) -> Iterator[object]:
    """A gmsh session with a fresh model (module docstring); gmsh's errors become a ValueError about ``what``."""
    import gmsh

    owned = not gmsh.isInitialized()
    if owned:
        gmsh.initialize(readConfigFiles=False, interruptible=False)
    terminal = gmsh.option.getNumber("General.Terminal")
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("pdes.meshes")
    try:
        yield gmsh
    except Exception as error:
        if type(error) is not Exception:  # gmsh raises bare Exceptions; anything else is not gmsh's
            raise
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise ValueError(f"gmsh could not mesh {what}: {reason}") from None
    finally:
        if owned:
            gmsh.finalize()
        else:
            gmsh.model.remove()
            gmsh.option.setNumber("General.Terminal", terminal)


def mesh_geometry(
    source: object, size: float | None, save: str | Path | None, refine: Mapping[str, float] | None = None
) -> Mesh:
    """The mesh of a Region (``mesh_region``) or of a geometry file that gmsh opens (``.geo``, ``.step`` …);
    ``refine`` only for a Region."""
    from pdes.geometry import Region

    if isinstance(source, Region):
        return mesh_region(source, size, save, refine)
    if refine is not None:
        raise ValueError("refine needs a Region; a geometry file sets its own cell sizes")
    if not isinstance(source, str | Path):
        raise ValueError(f"from_gmsh needs a geometry file or a Region, got {type(source).__name__}")
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"geometry file '{path}' does not exist")
    if path.suffix.lower() in (".msh", ".vtu", ".xdmf", ".vtk", ".stl"):
        raise ValueError(f"'{path}' is a mesh or a surface, not a geometry: use MeshRegion.from_file or from_stl")
    check_size(size, optional=True)
    with gmsh_session(f"'{path}'") as gmsh:
        gmsh.open(str(path))
        if size is not None:
            gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        gmsh.model.mesh.generate(gmsh.model.getDimension())
        return finished(gmsh, save)


def mesh_region(region, size: float | None, save: str | Path | None, refine: Mapping[str, float] | None = None) -> Mesh:
    """The mesh of a Region built with OpenCASCADE, its boundary named by the region's parts, cells of
    ``refine[part]`` on the parts it names (module docstring)."""
    if region.dim not in (2, 3):
        raise ValueError(f"gmsh meshes regions of 2 or 3 dimensions, got a {region.dim}-dimensional one")
    low, high = region.bounds.numpy()
    diagonal = float(np.linalg.norm(high - low))
    check_size(size, optional=True)
    size = size if size is not None else diagonal / SIZE_FRACTION
    refine = checked_refine(region, refine)
    with gmsh_session(f"a {type(region).__name__}") as gmsh:
        shapes = occ_shapes(gmsh, region)
        gmsh.model.occ.synchronize()
        gmsh.model.addPhysicalGroup(region.dim, [tag for _, tag in shapes], name="domain")
        gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        if refine:
            refine_near(gmsh, region, size, refine, NODE_TOLERANCE * diagonal)
        gmsh.model.mesh.generate(region.dim)
        name_boundary(gmsh, region, NODE_TOLERANCE * diagonal)
        return finished(gmsh, save)


def checked_refine(region, refine: Mapping[str, float] | None) -> dict[str, float]:
    """``refine`` as a dict, or a ValueError for a 3D region, an unknown part or a size that is not positive."""
    if refine is None:
        return {}
    if not isinstance(refine, Mapping):
        raise ValueError(f"refine must map boundary parts to cell sizes, got {type(refine).__name__}")
    if refine and region.dim != 2:
        raise ValueError(f"refine works on 2D regions, got a {region.dim}-dimensional one")
    names = tuple(getattr(region.boundary, "names", ()))
    for name, h in refine.items():
        if name not in names:
            raise ValueError(f"refine names an unknown boundary part '{name}'; the region's parts: {', '.join(names)}")
        if isinstance(h, bool) or not isinstance(h, int | float) or not 0 < h < math.inf:
            raise ValueError(f"the refined cell size on '{name}' must be a positive, finite number, got {h!r}")
    return dict(refine)


def refine_near(gmsh, region, size: float, refine: Mapping[str, float], tol: float) -> None:
    """The background size field ``min(size, min over parts of h_part + REFINE_GROWTH · d_part)`` (module docstring)."""
    field = gmsh.model.mesh.field
    thresholds = []
    for name, h in refine.items():
        curves = part_curves(gmsh, region, name, tol)
        longest = max(gmsh.model.occ.getMass(1, c) for c in curves)
        distance = field.add("Distance")
        field.setNumbers(distance, "CurvesList", curves)
        field.setNumber(distance, "Sampling", math.ceil(4 * longest / h) + 1)  # points per curve
        threshold = field.add("Threshold")
        field.setNumber(threshold, "InField", distance)
        field.setNumber(threshold, "SizeMin", min(h, size))
        field.setNumber(threshold, "SizeMax", size)
        field.setNumber(threshold, "DistMin", 0.0)
        field.setNumber(threshold, "DistMax", max(size - h, 0.0) / REFINE_GROWTH)
        thresholds.append(threshold)
    smallest = field.add("Min")
    field.setNumbers(smallest, "FieldsList", thresholds)
    field.setAsBackgroundMesh(smallest)
    for option in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(option, 0)


def part_curves(gmsh, region, name: str, tol: float) -> list[int]:
    """The curves of the model whose ``CURVE_PROBES`` parametric points lie on the boundary part ``name``."""
    import torch

    part = region.boundary[name]
    curves = []
    for _, curve in gmsh.model.getEntities(1):
        low, high = gmsh.model.getParametrizationBounds(1, curve)
        points = np.reshape(gmsh.model.getValue(1, curve, np.linspace(low[0], high[0], CURVE_PROBES)), (-1, 3))
        if bool(part.contains(torch.as_tensor(points[:, :2], dtype=torch.float64), tol).all()):
            curves.append(curve)
    if not curves:
        raise ValueError(f"no curve of the meshed region lies on the boundary part '{name}'")
    return curves


def mesh_stl(path: str | Path, size: float, save: str | Path | None) -> Mesh:
    """Tetrahedra of about ``size`` filling the closed STL surface ``path`` (module docstring)."""
    path = Path(path)
    if path.suffix.lower() != ".stl":
        raise ValueError(f"from_stl needs an .stl file, got '{path}'")
    check_size(size, optional=False)
    check_closed_stl(path)
    with gmsh_session(f"'{path}'") as gmsh:
        gmsh.merge(str(path))
        angle = math.radians(STL_ANGLE)
        gmsh.model.mesh.classifySurfaces(angle, True, True, math.pi)
        gmsh.model.mesh.createGeometry()
        loop = gmsh.model.geo.addSurfaceLoop([tag for _, tag in gmsh.model.getEntities(2)])
        gmsh.model.geo.addVolume([loop])
        gmsh.model.geo.synchronize()
        gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        gmsh.model.mesh.generate(3)
        return finished(gmsh, save)


def check_size(size: object, optional: bool) -> None:
    """Refuse a mesh size that is not a positive finite number (None where ``optional``)."""
    if size is None and optional:
        return
    if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size < math.inf:
        raise ValueError(f"the mesh size must be a positive, finite number, got {size!r}")


def check_closed_stl(path: Path) -> None:
    """Refuse an STL file meshio cannot read or whose surface is not closed (an edge not in exactly two triangles)."""
    from pdes.meshes.files import read_triangles

    triangles = read_triangles(path)
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    open_edges = int((counts != 2).sum())
    if open_edges:
        raise ValueError(
            f"'{path}' is not a closed surface: {open_edges} of its edges do not belong to exactly two triangles"
        )


def finished(gmsh, save: str | Path | None) -> Mesh:
    """Name the unnamed physical groups, write ``save`` if given, and return the model's mesh arrays."""
    for dim, tag in gmsh.model.getPhysicalGroups():
        if not gmsh.model.getPhysicalName(dim, tag):
            gmsh.model.setPhysicalName(dim, tag, f"physical{tag}")
    ensure_domain_group(gmsh)
    if save is not None:
        write_mesh(gmsh, Path(save))
    return model_mesh(gmsh)


def write_mesh(gmsh, path: Path) -> None:
    """``gmsh.write`` to ``path`` atomically (gmsh picks the format by the suffix, so it writes ``tmp + suffix``);
    binary, so that the coordinates read back bit for bit."""
    gmsh.option.setNumber("Mesh.Binary", 1)

    def write(tmp: Path) -> None:
        target = tmp.with_name(tmp.name + path.suffix)
        try:
            gmsh.write(str(target))
            target.replace(tmp)
        finally:
            target.unlink(missing_ok=True)

    atomic_write(path, write)


def ensure_domain_group(gmsh) -> None:
    """With physical groups but none of the model's dimension, add one (``domain``) of all its entities,
    since gmsh writes only the elements of physical groups."""
    dim = gmsh.model.getDimension()
    groups = gmsh.model.getPhysicalGroups()
    if groups and not gmsh.model.getPhysicalGroups(dim):
        gmsh.model.addPhysicalGroup(dim, [tag for _, tag in gmsh.model.getEntities(dim)], name="domain")


def model_mesh(gmsh) -> Mesh:
    """``(points, cells, groups)`` of the meshed model (module docstring)."""
    dim = gmsh.model.getDimension()
    tags, coordinates, _ = gmsh.model.mesh.getNodes()
    number = np.full(int(tags.max()) + 1, -1, dtype=np.int64)
    number[tags] = np.arange(len(tags))
    domain = gmsh.model.getPhysicalGroups(dim)
    if domain:
        entities = sorted({int(e) for _, g in domain for e in gmsh.model.getEntitiesForPhysicalGroup(dim, g)})
    else:
        entities = [tag for _, tag in gmsh.model.getEntities(dim)]
    cells = np.concatenate([simplex_nodes(gmsh, dim, entity) for entity in entities])
    groups = {}
    for _, group in gmsh.model.getPhysicalGroups(dim - 1):
        name = gmsh.model.getPhysicalName(dim - 1, group)
        members = gmsh.model.getEntitiesForPhysicalGroup(dim - 1, group)
        groups[name] = number[np.concatenate([simplex_nodes(gmsh, dim - 1, int(e)) for e in members])]
    points = flat_points(coordinates.reshape(-1, 3), dim, "gmsh's mesh")
    return compacted(points, number[cells], groups)


def simplex_nodes(gmsh, dim: int, entity: int) -> np.ndarray:
    """Node tags ``(E, dim + 1)`` of the elements of one entity, which must be linear simplices."""
    types, _, nodes = gmsh.model.mesh.getElements(dim, entity)
    blocks = []
    for kind, block in zip(types, nodes):
        if SIMPLEX_TYPES.get(int(kind)) != dim:
            name = gmsh.model.mesh.getElementProperties(int(kind))[0]
            raise ValueError(f"gmsh made {name} elements; a mesh region needs linear simplices (order 1, no quads)")
        blocks.append(np.asarray(block, dtype=np.int64).reshape(-1, dim + 1))
    return np.concatenate(blocks) if blocks else np.empty((0, dim + 1), dtype=np.int64)


def occ_shapes(gmsh, region) -> list[tuple[int, int]]:
    """OpenCASCADE entities ``[(dim, tag)]`` of ``region``: a box, ball or polygon, or CSG of those."""
    from pdes.geometry import Ball, Box, Difference, Intersection, Polygon, Union

    occ = gmsh.model.occ
    d = region.dim
    if isinstance(region, Box) and not region.has_normal:
        low, high = region.lower, region.upper
        if d == 2:
            return [(2, occ.addRectangle(low[0], low[1], 0.0, high[0] - low[0], high[1] - low[1]))]
        return [(3, occ.addBox(*low, *(h - lo for lo, h in zip(low, high))))]
    if isinstance(region, Ball):
        c, r = region.center, region.radius
        return [(2, occ.addDisk(c[0], c[1], 0.0, r, r))] if d == 2 else [(3, occ.addSphere(*c, r))]
    if isinstance(region, Polygon):
        corners = [occ.addPoint(float(x), float(y), 0.0) for x, y in region.vertices]
        sides = [occ.addLine(a, b) for a, b in zip(corners, corners[1:] + corners[:1])]
        return [(2, occ.addPlaneSurface([occ.addCurveLoop(sides)]))]
    if isinstance(region, Difference):
        holes = [s for hole in region.holes for s in occ_shapes(gmsh, hole)]
        return occ.cut(occ_shapes(gmsh, region.base), holes)[0]
    if isinstance(region, Union | Intersection) and not region.has_normal:
        first, *rest = (occ_shapes(gmsh, piece) for piece in region.regions)
        if not rest:
            return first
        combine = occ.fuse if isinstance(region, Union) else occ.intersect
        return combine(first, [s for shapes in rest for s in shapes])[0]
    raise ValueError(
        f"gmsh cannot build a {type(region).__name__}; mesh boxes, balls, polygons and their unions, "
        "intersections and differences, or give a .geo file"
    )


def name_boundary(gmsh, region, tol: float) -> None:
    """A physical group per part of ``region.boundary`` of the boundary entities on it (module docstring)."""
    import torch

    try:
        boundary = region.boundary
    except ValueError:  # a region without a boundary: its facets all go to UNGROUPED
        return
    names = getattr(boundary, "names", ())
    dim = region.dim - 1
    members: dict[str, list[int]] = {}
    for _, entity in gmsh.model.getEntities(dim):
        _, coordinates, _ = gmsh.model.mesh.getNodes(dim, entity, includeBoundary=True)
        probes = coordinates.reshape(-1, 3)
        if dim == 1:
            low, high = gmsh.model.getParametrizationBounds(1, entity)
            middle = gmsh.model.getValue(1, entity, [(low[0] + high[0]) / 2])
            probes = np.vstack([probes, np.reshape(middle, (1, 3))])
        x = torch.as_tensor(probes[:, : region.dim], dtype=torch.float64)
        name = next((n for n in names if bool(boundary[n].contains(x, tol).all())), None)
        if name is not None:
            members.setdefault(name, []).append(entity)
    for name in names:  # in the region's order
        if name in members:
            gmsh.model.addPhysicalGroup(dim, members[name], name=name)
