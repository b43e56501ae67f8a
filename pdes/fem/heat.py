"""The heat equation ``u_t = ∇·(κ∇u) + s`` on a triangle mesh: P1/P2 elements, BDF2 in time.

Conditions, one per named boundary of the mesh, with n the outward normal:

- Dirichlet ``u = g(x, y, t)``;
- Neumann ``κ ∂u/∂n = g(x, y, t)``;
- Robin ``κ ∂u/∂n + β u = g(x, y, t)`` with a constant ``β ≥ 0``.

Weak form: ``(u_t, v) + (κ∇u, ∇v) + Σ_R β⟨u, v⟩ = (s, v) + Σ_{N,R} ⟨g, v⟩``. Time steps are
BDF2 (the first one BDF1, which keeps second order); the two step matrices are each
factorized once. ``κ(x, y)``, ``s(x, y, t)``, ``u0(x, y)`` and ``g`` are the Python functions
the PINN problem uses (written for numpy and torch, see ``pdes.closed_forms``).
"""

from __future__ import annotations

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
    robin: Mapping[str, tuple[float, Data]] | None = None,
    element: str = "P2",
    t_start: float = 0.0,
) -> FEMSolution:
    """Solve on ``[t_start, t_end]`` with ``steps`` equal steps; every step is stored.

    ``kappa(x, y)``, ``initial(x, y)``, ``source(x, y, t)``; ``dirichlet``/``neumann`` map a
    boundary name to ``g(x, y, t)``, ``robin`` to ``(β, g)``. Every named boundary of the mesh
    takes exactly one condition.
    """
    dirichlet, neumann, robin = dict(dirichlet or {}), dict(neumann or {}), dict(robin or {})
    _check(mesh, element, t_start, t_end, steps, [dirichlet, neumann, robin])
    start = time.perf_counter()
    basis = Basis(mesh, ELEMENTS[element](), intorder=QUADRATURE_ORDER)
    facets = {name: FacetBasis(mesh, basis.elem, facets=name, intorder=QUADRATURE_ORDER) for name in mesh.boundaries}
    mass = _mass.assemble(basis)
    stiffness = _diffusion(kappa).assemble(basis)
    for name, (beta, _) in robin.items():
        stiffness = stiffness + beta * _mass.assemble(facets[name])
    fluxes = {**neumann, **{name: g for name, (_, g) in robin.items()}}

    def load(t: float) -> np.ndarray:
        b = np.zeros(basis.N) if source is None else _load(source, t).assemble(basis)
        for name, g in fluxes.items():
            b += _load(g, t).assemble(facets[name])
        return b

    fixed = np.unique(np.concatenate([basis.get_dofs(facets=name).flatten() for name in dirichlet] + [[]]))
    fixed = fixed.astype(np.int64)
    free = np.setdiff1d(np.arange(basis.N), fixed)

    def boundary_values(t: float) -> np.ndarray:
        u = np.zeros(basis.N)
        for name, g in dirichlet.items():
            dofs = basis.get_dofs(facets=name).flatten()
            u[dofs] = g(*basis.doflocs[:, dofs], t)
        return u

    times = np.linspace(t_start, t_end, steps + 1)
    dt = times[1] - times[0]
    values = np.empty((steps + 1, basis.N))
    values[0] = initial(*basis.doflocs)
    order = nested_dissection(mass[free][:, free], basis.doflocs[:, free])
    first = _Step(mass / dt + stiffness, free, order)
    bdf2 = _Step(1.5 * mass / dt + stiffness, free, order)
    for n in range(1, steps + 1):
        if n == 1:
            history = mass @ values[0] / dt
            values[n] = first(load(times[n]) + history, boundary_values(times[n]))
        else:
            history = mass @ (4 * values[n - 1] - values[n - 2]) / (2 * dt)
            values[n] = bdf2(load(times[n]) + history, boundary_values(times[n]))
    info = {
        "scheme": "BDF2, first step BDF1",
        "element": element,
        "steps": steps,
        "dt": dt,
        "conditions": {
            **dict.fromkeys(dirichlet, "dirichlet"),
            **dict.fromkeys(neumann, "neumann"),
            **dict.fromkeys(robin, "robin"),
        },
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(mesh.p, mesh.t, {"u": element}, {"u": values}, times, info)


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


def _load(f: Data, t: float) -> LinearForm:
    @LinearForm
    def form(v, w):
        return f(*w.x, t) * v

    return form


def _check(mesh: TriMesh, element: str, t_start: float, t_end: float, steps: int, conditions: list[dict]) -> None:
    if element not in ELEMENTS:
        raise ValueError(f"unknown element '{element}'; valid elements: {', '.join(ELEMENTS)}")
    if not is_count(steps) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    if not t_end > t_start:
        raise ValueError(f"need t_end > t_start, got {t_start}, {t_end}")
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
