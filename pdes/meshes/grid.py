"""The simplices of a structured grid that lie in a region: a mesh of any region that has ``contains``.

The grid has ``resolution`` points per axis over the region's bounding box; each grid cube is
split into ``d!`` simplices (Kuhn: vertices ``c, c + e_π(0), c + e_π(0) + e_π(1), …`` for every
permutation π of the axes), and the simplices whose vertices all lie in the region are kept. Its
boundary is staircased: within one grid step of the region's, so measures are approximate (use
gmsh, ``generate``, where it can build the region).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import torch

from pdes.meshes.files import compacted

Mesh = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]


def grid_points(lower: np.ndarray, upper: np.ndarray, resolution: int) -> np.ndarray:
    """The ``resolution^d`` grid points over the box, axis 0 varying fastest, ``(n^d, d)``."""
    axes = [np.linspace(lo, hi, resolution) for lo, hi in zip(lower, upper)]
    return np.stack([g.ravel(order="F") for g in np.meshgrid(*axes, indexing="ij")], axis=1)


def kuhn_simplices(resolution: int, dim: int) -> np.ndarray:
    """Point indices ``(d! (n−1)^d, d+1)`` of the Kuhn simplices of the grid of ``grid_points``."""
    strides = resolution ** np.arange(dim)
    corners = np.stack(np.meshgrid(*[np.arange(resolution - 1)] * dim, indexing="ij"), axis=-1).reshape(-1, dim)
    base = corners @ strides
    cells = []
    for order in permutations(range(dim)):
        steps = np.concatenate([[0], np.cumsum(strides[list(order)])])  # offsets of the d+1 vertices
        cells.append(base[:, None] + steps[None, :])
    return np.concatenate(cells)


def grid_mesh(region, resolution: int) -> Mesh:
    """``(points, cells, {})`` of the grid simplices inside ``region`` (module docstring), unused points dropped."""
    if resolution < 2:
        raise ValueError(f"a grid mesh needs at least 2 points per axis, got {resolution}")
    lower, upper = region.bounds.numpy()
    points = grid_points(lower, upper, resolution)
    cells = kuhn_simplices(resolution, region.dim)
    inside = region.contains(torch.from_numpy(points)).numpy()
    cells = cells[inside[cells].all(axis=1)]
    if not len(cells):
        raise ValueError(
            f"no cell of a grid of {resolution} points per axis lies inside the {type(region).__name__}; "
            "use a finer resolution"
        )
    return compacted(points, cells, {})
