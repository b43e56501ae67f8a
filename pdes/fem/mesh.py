"""Triangle meshes with named boundaries: rectangles, an L-shape, and any ``MeshRegion`` of triangles.

``from_mesh_region`` converts a ``pdes.meshes.MeshRegion`` (from gmsh or a mesh file): its
boundary parts become the mesh's ``boundaries``, each the indices of its facets in ``mesh.facets``.
``TriMesh`` is scikit-fem's ``MeshTri1`` with a point locator that stays fast for many
points: each point is tested against the cells of its nearest centroids and only the
few points not found there against every cell (scikit-fem's own finder tests *all*
points against all cells as soon as one is missed).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np
from scipy.spatial import cKDTree
from skfem import MeshTri1

CANDIDATES = 12
"""Cells of the nearest centroids tested per point before the exhaustive search."""

INSIDE_TOLERANCE = 1e-6
"""A point counts as inside a cell when its smallest barycentric coordinate is ≥ −this."""

NEAR_TOLERANCE = 0.25
"""A point outside every cell but with a barycentric coordinate ≥ −this in its nearest one (the band between a
curved boundary and the polygon of its mesh, whose width is about h²/(8r) ≤ h/8 for cells of size h ≤ r) is
given to that cell, where the element's polynomial is extended."""


class TriMesh(MeshTri1):
    """A triangle mesh whose ``element_finder`` (used by ``Basis.probes``) is ``locate``."""

    def element_finder(self, mapping=None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        return self.locate

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of a cell containing each point ``(x_i, y_i)``, or of the nearest cell for a point just outside
        the mesh (``NEAR_TOLERANCE``); ValueError for a point farther outside."""
        points = np.column_stack([np.ravel(x), np.ravel(y)])
        candidates = self._centroid_tree().query(points, min(CANDIDATES, self.t.shape[1]))[1]
        candidates = candidates.reshape(points.shape[0], -1)
        depth = self._inside_depth(points[:, None, :], candidates)
        cells = candidates[np.arange(points.shape[0]), depth.argmax(axis=1)]
        for i in np.flatnonzero(depth.max(axis=1) < -INSIDE_TOLERANCE):
            cells[i] = self._locate_exhaustively(points[i])
        return cells

    def _locate_exhaustively(self, point: np.ndarray) -> int:
        depth = self._inside_depth(point[None, :], np.arange(self.t.shape[1])[None, :])[0]
        best = int(depth.argmax())
        if depth[best] < -NEAR_TOLERANCE:
            raise ValueError(f"point ({point[0]:.6g}, {point[1]:.6g}) lies outside the mesh")
        return best

    def _inside_depth(self, points: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Smallest barycentric coordinate of ``points[i]`` in each of ``cells[i, :]`` (≥ 0 inside)."""
        inverse, origin = self._affine_inverse()
        local = np.einsum("nkij,nkj->nki", inverse[cells], points - origin[cells])
        return np.minimum(local.min(axis=2), 1.0 - local.sum(axis=2))

    def _affine_inverse(self) -> tuple[np.ndarray, np.ndarray]:
        """Per cell, ``A⁻¹`` and ``a`` of the map ``λ ↦ a + A λ`` from the reference triangle."""
        if not hasattr(self, "_inverse_cache"):
            a, b, c = (self.p[:, self.t[k]].T for k in range(3))
            jacobian = np.stack([b - a, c - a], axis=2)
            self._inverse_cache = (np.linalg.inv(jacobian), a)
        return self._inverse_cache

    def _centroid_tree(self) -> cKDTree:
        if not hasattr(self, "_centroid_cache"):
            self._centroid_cache = cKDTree(self.p[:, self.t].mean(axis=1).T)
        return self._centroid_cache


def rectangle(lower: Sequence[float], upper: Sequence[float], nx: int, ny: int) -> TriMesh:
    """``nx × ny`` cells (each split in two triangles) of the rectangle; boundaries left, right, bottom, top."""
    _check_cells(nx, ny)
    (x0, y0), (x1, y1) = lower, upper
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"rectangle needs lower < upper, got {lower}, {upper}")
    mesh = TriMesh.init_tensor(np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1))
    return _named(mesh, {"left": (0, x0), "right": (0, x1), "bottom": (1, y0), "top": (1, y1)})


def lshape(n: int) -> TriMesh:
    """The L-shape ``(0, 1)² ∖ [½, 1]²`` with ``n`` cells per unit length (``n`` even).

    Boundaries: left (x = 0), bottom (y = 0), right (x = 1), top (y = 1) and notch (the two
    re-entrant edges x = ½, y = ½).
    """
    if n < 2 or n % 2:
        raise ValueError(f"lshape needs an even number of cells per side, got {n}")
    square = TriMesh.init_tensor(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1))
    centroids = square.p[:, square.t].mean(axis=1)
    mesh = square.remove_elements(np.flatnonzero((centroids[0] > 0.5) & (centroids[1] > 0.5)))
    named = {"left": (0, 0.0), "right": (0, 1.0), "bottom": (1, 0.0), "top": (1, 1.0)}
    mesh = _named(mesh, named)
    notch = {
        "notch": lambda m: (np.isclose(m[0], 0.5) & (m[1] > 0.5)) | (np.isclose(m[1], 0.5) & (m[0] > 0.5)),
    }
    return mesh.with_boundaries(notch)


def from_mesh_region(region: object) -> TriMesh:
    """The ``TriMesh`` of a triangle ``MeshRegion``; ``boundaries[name]`` are the facets of ``region.boundary[name]``.

    The names are exactly ``region.boundary.names`` (``boundary``, the ungrouped facets, included where
    there are any). A region that is not a 2D MeshRegion is refused.
    """
    from pdes.meshes.region import MeshRegion, facet_rows

    if not isinstance(region, MeshRegion) or region.points.shape[1] != 2:
        dim = region.points.shape[1] if isinstance(region, MeshRegion) else None
        what = f"a {dim}D MeshRegion" if dim else f"a {type(region).__name__}"
        raise ValueError(f"from_mesh_region needs a 2D MeshRegion of triangles, got {what}")
    mesh = TriMesh(np.ascontiguousarray(region.points.T), np.ascontiguousarray(region.cells.T))
    table = mesh.facets.T
    return mesh.with_boundaries(
        {name: facet_rows(region.facets[rows], table) for name, rows in region.group_rows.items()}
    )


def _named(mesh: TriMesh, sides: dict[str, tuple[int, float]]) -> TriMesh:
    """Name the boundary facets whose midpoints satisfy ``x_axis = value``."""
    return mesh.with_boundaries(
        {name: (lambda m, a=axis, v=value: np.isclose(m[a], v)) for name, (axis, value) in sides.items()}
    )


def is_count(value: object) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool and not a float such as 2.0."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_cells(*counts: int) -> None:
    if not all(is_count(c) and c >= 1 for c in counts):
        raise ValueError(f"cell counts must be positive integers, got {counts}")
