"""``MeshRegion``: a domain given by a simplex mesh, with its boundary facets grouped by name.

    domain = MeshRegion(points, cells, {"inlet": facets, ...})   # points (P, d), cells (C, d+1)
    domain = MeshRegion.from_file("part.msh")                      # meshio: .msh, .vtu, .xdmf …
    domain = MeshRegion.from_gmsh("part.geo", size=0.05)           # gmsh: a .geo file or a Region
    domain = MeshRegion.from_stl("part.stl", size=0.05)            # gmsh: a closed surface, tetrahedra
    domain.boundary["inlet"]                                       # a part: sampled on its facets, normals

Cells are segments (1D), triangles (2D) or tetrahedra (3D). The boundary is the set of facets
that belong to one cell only; its parts are the named groups of those facets, and the facets of
no group form the part ``boundary`` (joining a group of that name, if there is one). A part's
outward normal on a facet is ``−∇λ_j / |∇λ_j|``, ``λ_j`` the barycentric coordinate, in the
facet's cell, of the cell's vertex opposite the facet.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from pdes.geometry import Boundary, Region
from pdes.meshes.simplices import Simplices

Tensor = torch.Tensor

UNGROUPED = "boundary"
"""The part that holds the boundary facets of no group."""


class MeshBoundaryPart(Simplices):
    """Boundary facets of a mesh (segments in 2D, triangles in 3D, points in 1D), with outward ``normals (F, d)``."""

    has_normal = True

    def __init__(self, points: np.ndarray, facets: np.ndarray, normals: np.ndarray):
        super().__init__(points, facets)
        self.normals = np.asarray(normals, dtype=np.float64)

    def normal(self, x: Tensor) -> Tensor:
        """The outward normal of the facet nearest each point (``locate``)."""
        points = x.detach().to("cpu", torch.float64).numpy()
        index, _ = self.locate(points)
        far = index < 0
        if far.any():  # no facet within reach: the one of the nearest centroid
            index[far] = self._tree[0].query(points[far])[1]
        return torch.from_numpy(self.normals[index]).to(x)


class MeshRegion(Simplices):
    """A domain given by a simplex mesh (module docstring): a ``Simplices`` union of its cells.

    ``points (P, d)`` coordinates, ``cells (C, d+1)`` point indices (any orientation), ``groups``
    ``{name: facets (F, d)}`` of boundary facets by their point indices (any vertex order).
    ``from_unit_cube`` (``cube_dim = d + 1``) picks a cell by its measure and places the point in it
    exactly, weight 1; ``gauss_points(degree)`` is a deterministic rule exact per cell.
    A mesh that is not one (indices out of range, degenerate cells, a facet shared by more than two
    cells, a group facet not on the boundary or in two groups) is refused in one sentence.
    """

    def __init__(self, points: np.ndarray, cells: np.ndarray, groups: Mapping[str, np.ndarray] | None = None):
        points, cells = checked_mesh(points, cells)
        super().__init__(points, cells)
        self.facets, owners, opposite = boundary_facets(cells)
        gradients = self.barycentric_gradients[owners, opposite]
        self.facet_normals = -gradients / np.linalg.norm(gradients, axis=1, keepdims=True)
        self.group_rows = group_rows(self.facets, checked_groups(groups, points))

    @property
    def cells(self) -> np.ndarray:
        """Point indices of the cells, ``(C, d+1)``."""
        return self.simplices

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        """Within ``tol`` of a cell; for ``tol < 0``, in a cell and farther than ``−tol`` from every boundary facet."""
        if tol >= 0:
            return super().contains(x, tol)
        near = self._all_facets.locate(x.detach().to("cpu", torch.float64).numpy(), -tol)[1] <= -tol
        return super().contains(x, 0.0) & ~torch.from_numpy(near).to(x.device)

    @cached_property
    def _all_facets(self) -> Simplices:
        """Every boundary facet, of any part."""
        return Simplices(self.points, self.facets)

    @property
    def facet_groups(self) -> dict[str, np.ndarray]:
        """``{name: facets (F, d)}`` of every boundary part, ``UNGROUPED`` included."""
        return {name: self.facets[rows] for name, rows in self.group_rows.items()}

    @cached_property
    def boundary(self) -> Boundary:
        """The parts of the boundary by name (module docstring), each a ``MeshBoundaryPart``."""
        return Boundary(
            {
                name: MeshBoundaryPart(self.points, self.facets[rows], self.facet_normals[rows])
                for name, rows in self.group_rows.items()
            }
        )

    @classmethod
    def from_file(cls, path: str | Path) -> MeshRegion:
        """The mesh in ``path`` read by meshio (``pdes.meshes.files``): .msh, .vtu, .xdmf and meshio's other formats."""
        from pdes.meshes.files import read_mesh

        return cls(*read_mesh(path))

    @classmethod
    def from_gmsh(
        cls,
        source: object,
        size: float | None = None,
        save: str | Path | None = None,
        refine: Mapping[str, float] | None = None,
    ) -> MeshRegion:
        """A mesh made by gmsh (``pdes.meshes.generate``) of ``source``: a ``.geo`` (or CAD) file, or a Region
        of boxes, balls, polygons and their CSG; ``size`` the largest cell size, ``save`` a ``.msh`` to write;
        ``refine`` (2D Regions only) ``{part: cell size on it}``, the size growing linearly away from the part
        to ``size`` (``pdes.meshes.generate.REFINE_GROWTH``)."""
        from pdes.meshes.generate import mesh_geometry

        return cls(*mesh_geometry(source, size, save, refine))

    @classmethod
    def from_stl(cls, path: str | Path, size: float, save: str | Path | None = None) -> MeshRegion:
        """Tetrahedra of about ``size`` filling the closed surface of the STL file ``path`` (``pdes.meshes.generate``);
        ``save`` a ``.msh`` to write."""
        from pdes.meshes.generate import mesh_stl

        return cls(*mesh_stl(path, size, save))

    @classmethod
    def from_grid(cls, region: Region, resolution: int) -> MeshRegion:
        """The simplices of a grid of ``resolution`` points per axis that lie in ``region`` (``pdes.meshes.grid``):
        a staircase mesh of any region with ``contains``."""
        from pdes.meshes.grid import grid_mesh

        return cls(*grid_mesh(region, resolution))


def checked_mesh(points: object, cells: object) -> tuple[np.ndarray, np.ndarray]:
    """``points (P, d)`` finite floats with d in 1 … 3 and ``cells (C, d+1)`` indices into them, or a ValueError."""
    points = np.asarray(points, dtype=np.float64)
    cells = np.asarray(cells)
    if points.ndim != 2 or not 1 <= points.shape[1] <= 3 or not len(points):
        raise ValueError(f"a mesh needs points of shape (P, d) with d = 1, 2 or 3, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("a mesh needs finite point coordinates")
    d = points.shape[1]
    if cells.ndim != 2 or cells.shape[1] != d + 1 or not len(cells) or cells.dtype.kind not in "iu":
        raise ValueError(
            f"a {d}D mesh needs integer cells of shape (C, {d + 1}) (simplices of {d + 1} points), "
            f"got {cells.dtype} of shape {cells.shape}"
        )
    if cells.min() < 0 or cells.max() >= len(points):
        raise ValueError(f"mesh cells refer to points outside 0 … {len(points) - 1}")
    return points, cells.astype(np.int64)


def cell_facets(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every facet of every cell: its points ``(C·(d+1), d)``, its cell and the cell's vertex opposite it."""
    count, n = cells.shape
    facets = np.stack([np.delete(cells, j, axis=1) for j in range(n)], axis=1).reshape(-1, n - 1)
    return facets, np.repeat(np.arange(count), n), np.tile(np.arange(n), count)


def boundary_facets(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The facets that belong to one cell only, as ``cell_facets`` gives them; a ValueError where a facet
    belongs to more than two cells."""
    facets, owners, opposite = cell_facets(cells)
    _, inverse, counts = np.unique(np.sort(facets, axis=1), axis=0, return_inverse=True, return_counts=True)
    shared = int((counts > 2).sum())
    if shared:
        raise ValueError(f"inconsistent mesh: {shared} facet(s) belong to more than two cells")
    once = counts[inverse.reshape(-1)] == 1
    return facets[once], owners[once], opposite[once]


def checked_groups(groups: Mapping[str, object] | None, points: np.ndarray) -> dict[str, np.ndarray]:
    """``groups`` as ``{name: (F, d) int64}``, or a ValueError for a bad name, shape or index."""
    d = points.shape[1]
    checked = {}
    for name, facets in (groups or {}).items():
        facets = np.asarray(facets)
        if not isinstance(name, str) or not name:
            raise ValueError(f"facet group names must be non-empty text, got {name!r}")
        if facets.ndim != 2 or facets.shape[1] != d or not len(facets) or facets.dtype.kind not in "iu":
            raise ValueError(
                f"facet group '{name}' needs integer facets of shape (F, {d}), "
                f"got {facets.dtype} of shape {facets.shape}"
            )
        if facets.min() < 0 or facets.max() >= len(points):
            raise ValueError(f"facet group '{name}' refers to points outside 0 … {len(points) - 1}")
        checked[name] = facets.astype(np.int64)
    return checked


def facet_rows(facets: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The row of ``table (T, d)`` with the same points as each facet of ``facets (F, d)`` (any order); −1 if none."""
    both = np.sort(np.concatenate([table, facets]), axis=1)
    _, inverse = np.unique(both, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    row_of = np.full(inverse.max() + 1, -1, dtype=np.int64)
    row_of[inverse[: len(table)]] = np.arange(len(table))
    return row_of[inverse[len(table) :]]


def group_rows(boundary: np.ndarray, groups: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{name: rows of boundary}``: each group's facets, then the ungrouped ones in ``UNGROUPED``; a
    ValueError for a group facet that is not on the boundary or is in two groups."""
    group_of = np.full(len(boundary), -1, dtype=np.int64)
    names = list(groups)
    for g, name in enumerate(names):
        rows = facet_rows(groups[name], boundary)
        if (rows < 0).any():
            raise ValueError(
                f"facet group '{name}' has {int((rows < 0).sum())} facet(s) that are not on the mesh's boundary"
            )
        taken = group_of[rows]
        if (taken >= 0).any():
            other = names[int(taken[taken >= 0][0])]
            raise ValueError(f"facet groups '{other}' and '{name}' share facets; a boundary facet belongs to one group")
        group_of[rows] = g
    found = {name: np.flatnonzero(group_of == g) for g, name in enumerate(names)}
    ungrouped = np.flatnonzero(group_of < 0)
    if len(ungrouped):
        found[UNGROUPED] = np.union1d(found.get(UNGROUPED, ungrouped[:0]), ungrouped)
    return found
