"""A finite element solution: nodal values of named fields on a triangle mesh, evaluated anywhere.

Space: scikit-fem's ``Basis.probes`` (the exact finite element function at each point).
Time: linear interpolation between the two stored steps around each point's time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from skfem import Basis, ElementTriP1, ElementTriP2, Functional

from pdes.fem.mesh import TriMesh

ELEMENTS = {"P1": ElementTriP1, "P2": ElementTriP2}
"""Element names and their scikit-fem classes."""

CHUNK = 65536
"""Points evaluated per probe matrix."""

TIME_TOLERANCE = 1e-9
"""Relative slack allowed outside the stored time interval."""

ERROR_QUADRATURE_ORDER = 8
"""Degree of the quadrature used to integrate errors."""


def dof_locations(mesh: TriMesh, element: str) -> np.ndarray:
    """``(2, n_dofs)`` coordinates of the nodal dofs of ``element`` on ``mesh``, in dof order."""
    if element not in ELEMENTS:
        raise ValueError(f"unknown element '{element}'; valid elements: {', '.join(ELEMENTS)}")
    return Basis(mesh, ELEMENTS[element]()).doflocs


@dataclass
class FEMSolution:
    """Fields on the mesh ``(points (2, n_vertices), cells (3, n_cells))``.

    ``elements[f]`` is ``"P1"`` or ``"P2"``; ``values[f]`` has shape ``(n_dofs,)`` for a
    steady solution (``times`` None) or ``(n_times, n_dofs)`` at the increasing ``times``.
    ``info`` holds JSON-able facts about the computation (settings, iterations, gauge, wall time).
    ``boundaries`` (optional) names parts of the mesh's boundary: ``{name: indices into mesh.facets}``.
    """

    points: np.ndarray
    cells: np.ndarray
    elements: dict[str, str]
    values: dict[str, np.ndarray]
    times: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    boundaries: dict[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.elements.values()) - set(ELEMENTS))
        if unknown:
            raise ValueError(f"unknown element '{unknown[0]}'; valid elements: {', '.join(ELEMENTS)}")
        if set(self.elements) != set(self.values):
            raise ValueError(f"elements {sorted(self.elements)} and values {sorted(self.values)} name different fields")
        if self.boundaries is not None:
            self.boundaries = {name: self._checked_facets(name, f) for name, f in self.boundaries.items()}
        for name, v in self.values.items():
            nodes = int(self.basis(name).N)
            expected = (nodes,) if self.times is None else (len(self.times), nodes)
            if v.shape != expected:
                raise ValueError(f"field '{name}': values have shape {v.shape}, expected {expected}")

    def _checked_facets(self, name: object, facets: object) -> np.ndarray:
        """A boundary part's facet indices as int64, or a ValueError for a bad name or index."""
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"boundary names must be non-empty text without '/', got {name!r}")
        facets = np.asarray(facets)
        count = self._triangles.facets.shape[1]
        if (
            facets.ndim != 1
            or facets.dtype.kind not in "iu"
            or (facets.size and not 0 <= facets.min() <= facets.max() < count)
        ):
            raise ValueError(f"boundary '{name}' needs a 1D array of integer facet indices in 0 … {count - 1}")
        return facets.astype(np.int64)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def steady(self) -> bool:
        return self.times is None

    @cached_property
    def mesh(self) -> TriMesh:
        """The triangle mesh, with ``boundaries`` where the solution has them."""
        return self._triangles if self.boundaries is None else self._triangles.with_boundaries(self.boundaries)

    @cached_property
    def _triangles(self) -> TriMesh:
        """The mesh without named boundaries."""
        return TriMesh(self.points, self.cells)

    def basis(self, name: str) -> Basis:
        """The scikit-fem basis of field ``name`` (one per element kind, built once)."""
        return self._bases[self.elements[name]]

    @cached_property
    def _bases(self) -> dict[str, Basis]:
        return {kind: Basis(self.mesh, ELEMENTS[kind]()) for kind in set(self.elements.values())}

    def dofs(self) -> dict[str, int]:
        """Degrees of freedom per field (per time step)."""
        return {name: int(self.basis(name).N) for name in self.values}

    def evaluate(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """``{field: (N,)}`` at ``points`` of shape ``(N, 2)`` (steady) or ``(N, 3)`` (x, y, t)."""
        points = np.asarray(points, dtype=np.float64)
        width = 2 if self.steady else 3
        if points.ndim != 2 or points.shape[1] != width:
            names = "(x, y)" if self.steady else "(x, y, t)"
            raise ValueError(f"points must have shape (N, {width}) for coordinates {names}, got {points.shape}")
        if not np.isfinite(points).all():
            raise ValueError("points contain NaN or infinite coordinates")
        parts = [self._evaluate_chunk(chunk) for chunk in np.array_split(points, max(1, -(-len(points) // CHUNK)))]
        return {name: np.concatenate([p[name] for p in parts]) for name in self.values}

    def _evaluate_chunk(self, points: np.ndarray) -> dict[str, np.ndarray]:
        probes = {kind: basis.probes(points[:, :2].T).tocoo() for kind, basis in self._bases.items()}
        if self.steady:
            return {name: probes[self.elements[name]] @ v for name, v in self.values.items()}
        step, theta = self.time_weights(points[:, 2])
        out = {}
        for name, v in self.values.items():
            p = probes[self.elements[name]]
            k, th = step[p.row], theta[p.row]
            nodal = (1.0 - th) * v[k, p.col] + th * v[k + 1, p.col]
            out[name] = np.bincount(p.row, weights=p.data * nodal, minlength=points.shape[0])
        return out

    def time_weights(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index ``k`` of the step interval holding each ``t`` and ``θ = (t − t_k)/(t_{k+1} − t_k)``."""
        times = self.times
        slack = TIME_TOLERANCE * max(1.0, abs(times[-1] - times[0]))
        outside = (t < times[0] - slack) | (t > times[-1] + slack)
        if outside.any():
            raise ValueError(f"time {t[outside][0]:.6g} lies outside the solution's interval [{times[0]}, {times[-1]}]")
        step = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
        theta = np.clip((t - times[step]) / (times[step + 1] - times[step]), 0.0, 1.0)
        return step, theta

    def gauss_rule(self, order: int, time_nodes: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The mesh's Gauss rule of degree ``order`` (× ``time_nodes`` Gauss–Legendre nodes over the
        solution's time interval when it is unsteady), and each field's values at its points.

        Returns points ``(N, 2)`` or ``(N, 3)``, weights ``(N,)`` (summing to the mesh's area, times
        the interval's length) and ``{field: (N,)}``: the finite element function at each Gauss point,
        from its element's shape functions (linear in time between the two stored steps around each node).
        """
        if not self.steady and time_nodes < 1:
            raise ValueError(f"an unsteady solution's Gauss rule needs time_nodes >= 1, got {time_nodes}")
        bases = {kind: Basis(self.mesh, ELEMENTS[kind](), intorder=order) for kind in set(self.elements.values())}
        basis = next(iter(bases.values()))
        space = basis.mapping.F(basis.X).reshape(2, -1).T
        area = basis.dx.reshape(-1)
        if self.steady:
            values = {
                name: np.asarray(bases[self.elements[name]].interpolate(v)).reshape(-1)
                for name, v in self.values.items()
            }
            return space, area, values
        nodes, node_weights = np.polynomial.legendre.leggauss(time_nodes)
        t0, t1 = float(self.times[0]), float(self.times[-1])
        times = t0 + (nodes + 1) * (t1 - t0) / 2
        step, theta = self.time_weights(times)
        values = {}
        for name, v in self.values.items():
            at_nodes = (1 - theta)[:, None] * v[step] + theta[:, None] * v[step + 1]
            interpolate = bases[self.elements[name]].interpolate
            values[name] = np.concatenate([np.asarray(interpolate(row)).reshape(-1) for row in at_nodes])
        points = np.concatenate([np.column_stack([space, np.full(len(space), t)]) for t in times])
        weights = np.concatenate([area * w * (t1 - t0) / 2 for w in node_weights])
        return points, weights, values

    def nodal(self, name: str, step: int | None = None) -> np.ndarray:
        """The dof vector of field ``name`` (at stored step ``step`` for unsteady solutions)."""
        if self.steady:
            return self.values[name]
        if step is None:
            raise ValueError("an unsteady solution needs a time step index")
        return self.values[name][step]

    def l2_error(
        self,
        name: str,
        exact: Callable[..., Any],
        step: int | None = None,
        up_to_constant: bool = False,
    ) -> float:
        """``‖u_h − u‖_{L²(Ω)}`` for ``exact(x, y)`` (steady) or ``exact(x, y, t)`` at stored step ``step``.

        With ``up_to_constant`` the mean of ``u_h − u`` over Ω is removed first.
        """
        basis = Basis(self.mesh, ELEMENTS[self.elements[name]](), intorder=ERROR_QUADRATURE_ORDER)
        uh = basis.interpolate(self.nodal(name, step))
        time = () if self.steady else (float(self.times[step]),)

        @Functional
        def difference(w):
            return w["uh"] - exact(*w.x, *time)

        @Functional
        def squared(w):
            return (w["uh"] - exact(*w.x, *time)) ** 2

        @Functional
        def area(w):
            return 1.0 + 0.0 * w.x[0]

        total = squared.assemble(basis, uh=uh)
        if up_to_constant:
            total -= difference.assemble(basis, uh=uh) ** 2 / area.assemble(basis)
        return float(np.sqrt(max(total, 0.0)))

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store: ``mesh/points``, ``mesh/cells``, ``values/<field>``, ``times``,
        ``boundaries/<name>``."""
        arrays = {"mesh/points": self.points, "mesh/cells": self.cells}
        arrays.update({f"values/{name}": v for name, v in self.values.items()})
        if self.times is not None:
            arrays["times"] = self.times
        arrays.update({f"boundaries/{name}": f for name, f in (self.boundaries or {}).items()})
        return arrays

    def description(self) -> dict[str, Any]:
        """The JSON-able rest: elements (in field order), info and the names of the boundaries (in order)."""
        description = {"elements": dict(self.elements), "info": self.info}
        if self.boundaries is not None:
            description["boundaries"] = list(self.boundaries)
        return description

    @classmethod
    def from_stored(cls, arrays: Mapping[str, np.ndarray], description: Mapping[str, Any]) -> FEMSolution:
        """The inverse of ``arrays()`` and ``description()`` (a description without boundaries: none)."""
        elements = dict(description["elements"])
        names = description.get("boundaries")
        return cls(
            points=arrays["mesh/points"],
            cells=arrays["mesh/cells"],
            elements=elements,
            values={name: arrays[f"values/{name}"] for name in elements},
            times=arrays.get("times"),
            info=dict(description["info"]),
            boundaries=None if names is None else {name: arrays[f"boundaries/{name}"] for name in names},
        )
