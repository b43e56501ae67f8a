"""Mesh files read by meshio (``.msh``, ``.vtu``, ``.xdmf`` and the other formats meshio reads) as mesh arrays.

The mesh's dimension d is the highest topological dimension of its cells; its cells are the
blocks of linear simplices of that dimension (``line``, ``triangle``, ``tetra``), and points
whose coordinates past the first d are constant are taken in those d coordinates (a flat 2D
mesh written with z = 0). Boundary facet groups come from the facet blocks (``vertex`` in 1D,
``line`` in 2D, ``triangle`` in 3D):

- meshio's named cell sets (gmsh's named physical groups, in ``.msh`` files), names beginning
  ``gmsh:`` left out;
- else gmsh's ``gmsh:physical`` cell data (what ``.vtu`` and ``.xdmf`` files converted from gmsh
  meshes keep), named by the file's field data where it has the names, ``physical<tag>`` where not.

Points no cell uses are dropped. A file that cannot be read, has no cells of its dimension that
are linear simplices, or holds a mesh that is not one (``MeshRegion``) is refused in one sentence.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

SIMPLICES = {1: "line", 2: "triangle", 3: "tetra"}
"""The linear simplex cell type of each dimension."""

FACETS = {1: "vertex", 2: "line", 3: "triangle"}
"""The facet type of a mesh of each dimension."""

FLAT = 1e-12
"""Coordinates past the mesh's dimension are constant when they vary by less than this fraction of its size."""


def read_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(points, cells, groups)`` of the mesh file ``path`` (module docstring)."""
    return mesh_arrays(meshio_read(path, "mesh"), f"'{path}'")


def meshio_read(path: str | Path, kind: str):
    """``meshio.read(path)`` (``.msh`` as gmsh's format, not ANSYS's), its messages silenced; a ValueError for
    a missing file or one meshio cannot read as a ``kind``."""
    import meshio

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{kind} file '{path}' does not exist")
    file_format = "gmsh" if path.suffix.lower() == ".msh" else None
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            return meshio.read(path, file_format=file_format)
    except (Exception, SystemExit) as error:  # ReadError, KeyError, ValueError …; SystemExit when no reader can
        text = "" if isinstance(error, SystemExit) else str(error).strip()
        reason = text.splitlines()[0] if text else f"not a valid {path.suffix or 'mesh'} file"
        raise ValueError(f"meshio cannot read '{path}' as a {kind} ({reason})") from None


def read_triangles(path: str | Path) -> np.ndarray:
    """The triangles ``(T, 3)`` of a surface file (STL) by point index, points of equal coordinates merged."""
    mesh = meshio_read(path, "surface")
    blocks = [block.data for block in mesh.cells if block.type == "triangle"]
    if not blocks:
        raise ValueError(f"'{path}' holds no triangles")
    _, merged = np.unique(np.asarray(mesh.points), axis=0, return_inverse=True)
    return merged.reshape(-1)[np.concatenate(blocks)]


def mesh_arrays(mesh, where: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(points, cells, groups)`` of a meshio Mesh (module docstring); ``where`` names it in errors."""
    dim = mesh_dimension(mesh, where)
    cells = np.concatenate([block.data for block in mesh.cells if block.type == SIMPLICES[dim]])
    points = flat_points(np.asarray(mesh.points, dtype=np.float64), dim, where)
    return compacted(points, cells.astype(np.int64), facet_groups(mesh, FACETS[dim]))


def mesh_dimension(mesh, where: str) -> int:
    """The highest topological dimension of the mesh's cells, whose cells must include linear simplices."""
    dims = [block.dim for block in mesh.cells if len(block.data)]
    if not dims or max(dims) < 1:
        raise ValueError(f"{where} holds no cells of dimension 1, 2 or 3")
    dim = max(dims)
    if dim not in SIMPLICES:
        raise ValueError(f"{where} holds cells of dimension {dim}; a mesh region has 1, 2 or 3")
    others = sorted({b.type for b in mesh.cells if b.dim == dim and b.type != SIMPLICES[dim]})
    if others:
        raise ValueError(
            f"{where} holds {dim}D cells of type {', '.join(others)}; a mesh region needs linear simplices "
            f"({SIMPLICES[dim]}) only"
        )
    return dim


def flat_points(points: np.ndarray, dim: int, where: str) -> np.ndarray:
    """The first ``dim`` coordinates of ``points``, or a ValueError where the others are not constant."""
    extra = points[:, dim:]
    size = max(float(np.ptp(points, axis=0).max()), 1.0) if len(points) else 1.0
    if extra.size and float(np.ptp(extra, axis=0).max()) > FLAT * size:
        raise ValueError(
            f"the {dim}D cells of {where} do not lie in a flat {dim}D space (the further coordinates vary)"
        )
    return np.ascontiguousarray(points[:, :dim])


def facet_groups(mesh, facet_type: str) -> dict[str, np.ndarray]:
    """``{name: facets}`` of the facet blocks: named cell sets, else ``gmsh:physical`` tags (module docstring)."""
    blocks = [k for k, block in enumerate(mesh.cells) if block.type == facet_type]
    groups: dict[str, list[np.ndarray]] = {}
    for name, per_block in mesh.cell_sets.items():
        if name.startswith("gmsh:"):
            continue
        for k in blocks:
            rows = per_block[k] if k < len(per_block) else None
            if rows is not None and len(rows):
                groups.setdefault(name, []).append(mesh.cells[k].data[np.asarray(rows, dtype=np.int64)])
    if not groups and "gmsh:physical" in mesh.cell_data:
        names = {(int(tag), int(dim)): name for name, (tag, dim) in mesh.field_data.items()}
        for k in blocks:
            tags = np.asarray(mesh.cell_data["gmsh:physical"][k], dtype=np.int64)
            for tag in np.unique(tags):
                name = names.get((int(tag), mesh.cells[k].dim), f"physical{tag}")
                groups.setdefault(name, []).append(mesh.cells[k].data[tags == tag])
    return {name: np.concatenate(parts).astype(np.int64) for name, parts in groups.items()}


def compacted(
    points: np.ndarray, cells: np.ndarray, groups: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The mesh without the points no cell uses, indices renumbered (group facets on unused points stay
    out of range, for ``MeshRegion`` to refuse)."""
    if cells.min() < 0 or cells.max() >= len(points):
        raise ValueError(f"mesh cells refer to points outside 0 … {len(points) - 1}")
    used = np.unique(cells)
    number = np.full(len(points), len(used), dtype=np.int64)
    number[used] = np.arange(len(used))
    return points[used], number[cells], {name: number[facets] for name, facets in groups.items()}
