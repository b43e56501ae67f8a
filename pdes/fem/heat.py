"""The heat equation ``u_t = ∇·(κ∇u) + s`` on a triangle mesh: P1/P2 elements, BDF2 in time.

Conditions, one per named boundary of the mesh, with n the outward normal:

- Dirichlet ``u = g(x, y, t)``;
- Neumann ``κ ∂u/∂n = g(x, y, t)``;
- Robin ``κ ∂u/∂n + β u = g(x, y, t)`` with ``β ≥ 0`` a number or a function ``β(x, y)``.

Weak form: ``(u_t, v) + (κ∇u, ∇v) + Σ_R β⟨u, v⟩ = (s, v) + Σ_{N,R} ⟨g, v⟩``. Time steps are
BDF2 (the first one BDF1, which keeps second order); the two step matrices are each
factorized once. ``solve_steady`` solves ``−∇·(κ∇u) = s`` with the same conditions (data of
``(x, y)``); it needs a Dirichlet part or a Robin part with β > 0, else u is fixed only up to a
constant. Every solution carries the mesh's named ``boundaries``.

``κ(x, y)``, ``s(x, y, t)``, ``u0(x, y)`` and ``g`` are the Python functions the PINN problem
uses (written for numpy and torch, see ``pdes.closed_forms``): they receive numpy arrays (the
quadrature points or dof locations) and return arrays or numbers.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Mapping

import numpy as np
import scipy.sparse as sp
from skfem import Basis, BilinearForm, FacetBasis, LinearForm
from skfem.helpers import dot, grad

from pdes.fem.linalg import factorize, nested_dissection
from pdes.fem.mesh import TriMesh, is_count
from pdes.fem.solution import ELEMENTS, FEMSolution

QUADRATURE_ORDER = 6
"""Degree of the quadrature rules for coefficients, sources and boundary data."""

Data = Callable[..., object]
Beta = float | Callable[..., object]


@BilinearForm
def _mass(u, v, w):
    return u * v


def solve(
    mesh: TriMesh,
    kappa: Data,
    initial: Data,
    t_end: float,
    steps: int,
    source: Data | None = None,
    dirichlet: Mapping[str, Data] | None = None,
    neumann: Mapping[str, Data] | None = None,
    robin: Mapping[str, tuple[Beta, Data]] | None = None,
    element: str = "P2",
    t_start: float = 0.0,
) -> FEMSolution:
    """Solve on ``[t_start, t_end]`` with ``steps`` equal steps; every step is stored.

    ``kappa(x, y)``, ``initial(x, y)``, ``source(x, y, t)``; ``dirichlet``/``neumann`` map a
    boundary name to ``g(x, y, t)``, ``robin`` to ``(β, g)`` with β a number ≥ 0 or ``β(x, y) ≥ 0``.
    Every named boundary of the mesh takes exactly one condition.
    """
    _check_element(element)
    if not is_count(steps) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    if not t_end > t_start:
        raise ValueError(f"need t_end > t_start, got {t_start}, {t_end}")
    start = time.perf_counter()
    problem = _Discretization(mesh, kappa, source, dirichlet, neumann, robin, element)
    basis, free = problem.basis, problem.free
    mass = _mass.assemble(basis)
    times = np.linspace(t_start, t_end, steps + 1)
    dt = times[1] - times[0]
    values = np.empty((steps + 1, basis.N))
    values[0] = initial(*basis.doflocs)
    order = nested_dissection(mass[free][:, free], basis.doflocs[:, free])
    first = _Step(mass / dt + problem.stiffness, free, order)
    bdf2 = _Step(1.5 * mass / dt + problem.stiffness, free, order)
    for n in range(1, steps + 1):
        if n == 1:
            history = mass @ values[0] / dt
            values[n] = first(problem.load(times[n]) + history, problem.boundary_values(times[n]))
        else:
            history = mass @ (4 * values[n - 1] - values[n - 2]) / (2 * dt)
            values[n] = bdf2(problem.load(times[n]) + history, problem.boundary_values(times[n]))
    info = {
        "scheme": "BDF2, first step BDF1",
        "element": element,
        "steps": steps,
        "dt": dt,
        "conditions": problem.conditions,
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(mesh.p, mesh.t, {"u": element}, {"u": values}, times, info, _boundaries(mesh))


def solve_steady(
    mesh: TriMesh,
    kappa: Data,
    source: Data | None = None,
    dirichlet: Mapping[str, Data] | None = None,
    neumann: Mapping[str, Data] | None = None,
    robin: Mapping[str, tuple[Beta, Data]] | None = None,
    element: str = "P2",
) -> FEMSolution:
    """``−∇·(κ∇u) = s``: ``(κ∇u, ∇v) + Σ_R β⟨u, v⟩ = (s, v) + Σ_{N,R} ⟨g, v⟩``, u = g on the Dirichlet parts.

    As ``solve`` with data functions of ``(x, y)``: ``source(x, y)``, each ``g(x, y)``. A problem
    without a Dirichlet part or a Robin part with β > 0 somewhere (u fixed only up to a constant)
    is refused.
    """
    _check_element(element)
    start = time.perf_counter()
    problem = _Discretization(mesh, kappa, source, dirichlet, neumann, robin, element)
    if not problem.fixed.size and not problem.absorbing:
        raise ValueError(
            "a steady heat problem needs a Dirichlet part or a Robin part with β > 0 somewhere; "
            "with only Neumann (and β = 0) conditions u is determined only up to a constant"
        )
    basis, free = problem.basis, problem.free
    order = nested_dissection(problem.stiffness[free][:, free], basis.doflocs[:, free])
    values = _Step(problem.stiffness, free, order)(problem.load(), problem.boundary_values())
    info = {"element": element, "conditions": problem.conditions, "wall_time_s": time.perf_counter() - start}
    return FEMSolution(mesh.p, mesh.t, {"u": element}, {"u": values}, None, info, _boundaries(mesh))


def _boundaries(mesh: TriMesh) -> dict[str, np.ndarray] | None:
    """The mesh's named boundary parts (facet indices), None where it has none."""
    return dict(mesh.boundaries) if mesh.boundaries else None


class _Discretization:
    """One heat problem's basis, stiffness ``(κ∇u, ∇v) + Σ_R β⟨u, v⟩``, loads and Dirichlet dofs.

    The data functions take ``(x, y, *t)``: ``load(*t)`` and ``boundary_values(*t)`` pass the
    time on (none for a steady problem). ``absorbing``: some Robin part has β > 0 somewhere.
    """

    def __init__(
        self,
        mesh: TriMesh,
        kappa: Data,
        source: Data | None,
        dirichlet: Mapping[str, Data] | None,
        neumann: Mapping[str, Data] | None,
        robin: Mapping[str, tuple[Beta, Data]] | None,
        element: str,
    ):
        self.dirichlet, neumann, robin = dict(dirichlet or {}), dict(neumann or {}), dict(robin or {})
        _check_conditions(mesh, [self.dirichlet, neumann, robin])
        self.conditions = {
            **dict.fromkeys(self.dirichlet, "dirichlet"),
            **dict.fromkeys(neumann, "neumann"),
            **dict.fromkeys(robin, "robin"),
        }
        self.source = source
        self.basis = basis = Basis(mesh, ELEMENTS[element](), intorder=QUADRATURE_ORDER)
        self.facets = {
            name: FacetBasis(mesh, basis.elem, facets=name, intorder=QUADRATURE_ORDER) for name in mesh.boundaries or {}
        }
        self.stiffness = _diffusion(kappa).assemble(basis)
        self.absorbing = False
        for name, condition in robin.items():
            beta, _ = _robin_condition(name, condition)
            matrix, positive = _robin_matrix(name, beta, self.facets[name])
            self.stiffness = self.stiffness + matrix
            self.absorbing = self.absorbing or positive
        self.fluxes = {**neumann, **{name: condition[1] for name, condition in robin.items()}}
        fixed = [basis.get_dofs(facets=name).flatten() for name in self.dirichlet]
        self.fixed = np.unique(np.concatenate(fixed + [[]])).astype(np.int64)
        self.free = np.setdiff1d(np.arange(basis.N), self.fixed)

    def load(self, *t: float) -> np.ndarray:
        """``(s, v) + Σ_{N,R} ⟨g, v⟩`` at time ``t`` (if any)."""
        b = np.zeros(self.basis.N) if self.source is None else _load(self.source, *t).assemble(self.basis)
        for name, g in self.fluxes.items():
            b += _load(g, *t).assemble(self.facets[name])
        return b

    def boundary_values(self, *t: float) -> np.ndarray:
        """The Dirichlet data ``g(x, y, *t)`` at the Dirichlet dofs, zero elsewhere."""
        u = np.zeros(self.basis.N)
        for name, g in self.dirichlet.items():
            dofs = self.basis.get_dofs(facets=name).flatten()
            u[dofs] = g(*self.basis.doflocs[:, dofs], *t)
        return u


class _Step:
    """Solves ``A u = b`` for the free dofs, the others prescribed; ``A`` on the free dofs is factorized once."""

    def __init__(self, matrix: sp.spmatrix, free: np.ndarray, order: np.ndarray):
        matrix = sp.csr_matrix(matrix)
        self.free = free
        self.coupling = matrix[free]
        self.solve = factorize(self.coupling[:, free], order)

    def __call__(self, rhs: np.ndarray, prescribed: np.ndarray) -> np.ndarray:
        """``prescribed`` holds the fixed values (zero elsewhere); returns the full vector."""
        u = prescribed.copy()
        u[self.free] = self.solve(rhs[self.free] - self.coupling @ prescribed)
        return u


def _diffusion(kappa: Data) -> BilinearForm:
    @BilinearForm
    def form(u, v, w):
        return kappa(*w.x) * dot(grad(u), grad(v))

    return form


def _load(f: Data, *t: float) -> LinearForm:
    @LinearForm
    def form(v, w):
        return f(*w.x, *t) * v

    return form


def _robin_condition(name: str, condition: object) -> tuple[Beta, Data]:
    """``(β, g)`` of a Robin part, or a ValueError saying what a Robin condition is."""
    if not isinstance(condition, tuple | list) or len(condition) != 2:
        raise ValueError(f"robin condition on '{name}' must be a pair (β, g), got {condition!r}")
    return condition[0], condition[1]


def _robin_matrix(name: str, beta: Beta, facets: FacetBasis) -> tuple[sp.spmatrix, bool]:
    """``β⟨u, v⟩`` on a Robin part and whether β > 0 somewhere; a ValueError for β < 0 or not a number/function.

    A function β is checked at the part's quadrature points.
    """
    if callable(beta):
        values = np.asarray(beta(*np.asarray(facets.global_coordinates())), dtype=np.float64) + np.zeros(
            facets.dx.shape
        )
        if not (np.isfinite(values).all() and values.min() >= 0):
            raise ValueError(f"robin β on '{name}' must be finite and ≥ 0, got values down to {values.min():g}")
        return _weighted_mass(beta).assemble(facets), bool(values.max() > 0)
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < math.inf:
        raise ValueError(f"robin β on '{name}' must be a finite number ≥ 0 or a function β(x, y), got {beta!r}")
    return beta * _mass.assemble(facets), beta > 0


def _weighted_mass(beta: Callable[..., object]) -> BilinearForm:
    @BilinearForm
    def form(u, v, w):
        return beta(*w.x) * u * v

    return form


def _check_element(element: str) -> None:
    if element not in ELEMENTS:
        raise ValueError(f"unknown element '{element}'; valid elements: {', '.join(ELEMENTS)}")


def _check_conditions(mesh: TriMesh, conditions: list[dict]) -> None:
    """Every named boundary of ``mesh`` in exactly one of ``conditions``, and no other name."""
    named = [name for c in conditions for name in c]
    valid = sorted(mesh.boundaries or {})
    for name in named:
        if name not in valid:
            raise ValueError(f"unknown boundary '{name}'; this mesh's boundaries: {', '.join(valid)}")
    if len(set(named)) != len(named):
        raise ValueError(f"each boundary takes one condition, got {sorted(named)}")
    missing = sorted(set(valid) - set(named))
    if missing:
        raise ValueError(f"boundary '{missing[0]}' has no condition; give each of {', '.join(valid)} one")
