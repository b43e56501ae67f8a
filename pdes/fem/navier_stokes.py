"""Incompressible Navier–Stokes ``−νΔu + (u·∇)u + ∇p = f``, ``∇·u = 0`` by Taylor–Hood P2/P1 elements.

The viscous term is in gradient form, ``ν(∇u, ∇v)``, so the natural condition is
``ν ∂u/∂n − p n`` (n the outward normal). Each named boundary part of the mesh takes one condition:

- a **velocity** ``u = g`` (no-slip: g = 0), imposed at the velocity dofs of the part;
- an **outflow** with a constant pressure p0, the do-nothing condition ``ν ∂u/∂n − p n = −p0 n``
  imposed weakly: the momentum right-hand side gets ``−p0 ∫_part v·n ds``.

Pressure gauge: where the velocity is prescribed on the whole boundary the pressure is fixed only
up to a constant, so the solvers pin one pressure unknown while solving and then shift the
pressure to **zero mean over the domain** (``GAUGE``); with an outflow part the outflow fixes it
and it is not shifted (``OUTFLOW_GAUGE``). Every solution states its gauge in its info.

- ``steady``: Picard steps from the given start, then Newton to a tolerance on the update.
- ``unsteady``: BDF2 (first step BDF1) with the convecting velocity extrapolated,
  ``(u*·∇)u^{n+1}`` with ``u* = 2uⁿ − uⁿ⁻¹``: one linear solve per step.
- ``solve_steady``, ``solve_unsteady``: those two on any mesh with named parts, velocity and
  outflow conditions by part and a body force.
- Cases: ``cavity`` (continuation in Re), ``kovasznay`` and ``taylor_green`` (verification).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from skfem import Basis, BilinearForm, ElementTriP1, ElementTriP2, ElementVector, FacetBasis, LinearForm
from skfem.helpers import ddot, div, dot, grad, mul

from pdes import closed_forms
from pdes.fem.linalg import factorize, nested_dissection
from pdes.fem.mesh import TriMesh, is_count, rectangle
from pdes.fem.solution import FEMSolution

GAUGE = "pressure has zero mean over the domain"
OUTFLOW_GAUGE = "pressure fixed by the outflow conditions (not shifted)"
ELEMENT = "Taylor-Hood P2/P1"
UNSTEADY_SCHEME = "BDF2 (first step BDF1), extrapolated convecting velocity"
INITIAL_PRESSURE = "extrapolated linearly from the first two steps"

QUADRATURE_ORDER = 6
"""Degree of the quadrature rules for body forces and outflow terms."""

Velocity = Callable[..., tuple[object, object]]
Force = Callable[..., tuple[object, object]]
Load = Callable[[float], np.ndarray]


class NewtonFailed(RuntimeError):
    """The nonlinear iteration diverged or did not converge within its iteration limit."""


@BilinearForm
def _viscous(u, v, w):
    return ddot(grad(u), grad(v))


@BilinearForm
def _divergence(u, q, w):
    return -div(u) * q


@BilinearForm
def _velocity_mass(u, v, w):
    return dot(u, v)


@BilinearForm
def _convection(u, v, w):
    """``((w·∇)u, v)``: the Picard (Oseen) linearization about ``w``."""
    return dot(mul(grad(u), w["w"]), v)


@BilinearForm
def _newton(u, v, w):
    """``((w·∇)u + (u·∇)w, v)``: the derivative of ``((u·∇)u, v)`` at ``w``."""
    return dot(mul(grad(u), w["w"]) + mul(grad(w["w"]), u), v)


@LinearForm
def _convected(v, w):
    """``((w·∇)w, v)``."""
    return dot(mul(grad(w["w"]), w["w"]), v)


@LinearForm
def _pressure_weight(q, w):
    return q


@LinearForm
def _normal_flux(v, w):
    """``∫ v·n ds`` on a facet basis."""
    return dot(v, w.n)


def _body_force(force: Force, *t: float) -> LinearForm:
    """``∫ f·v`` for ``force(x, y, *t) -> (fx, fy)``."""

    @LinearForm
    def form(v, w):
        fx, fy = force(*w.x, *t)
        return fx * v[0] + fy * v[1]

    return form


class TaylorHood:
    """P2 velocity and P1 pressure on ``mesh``; unknowns ``[velocity dofs, pressure dofs]``.

    ``dirichlet`` names the boundary parts where the velocity is prescribed (None: the whole
    boundary). Their velocity dofs are fixed, and so is one pressure dof where they cover the
    whole boundary (``closed``); the other unknowns are "free" and ordered once by nested
    dissection for every factorization.
    """

    def __init__(self, mesh: TriMesh, dirichlet: Sequence[str] | None = None):
        self.mesh = mesh
        self.velocity = Basis(mesh, ElementVector(ElementTriP2()))
        self.pressure = self.velocity.with_element(ElementTriP1())
        self.n_velocity, self.n = self.velocity.N, self.velocity.N + self.pressure.N
        self.viscous = _viscous.assemble(self.velocity)
        self.divergence = _divergence.assemble(self.velocity, self.pressure)
        self.ux, self.uy = self.velocity.split_indices()
        if dirichlet is None:
            self.boundary = self.velocity.get_dofs().all()
            self.closed = True
        else:
            facets = np.unique(np.concatenate([self.part_facets(name) for name in dirichlet] + [[]])).astype(np.int64)
            self.boundary = self.velocity.get_dofs(facets=facets).all()
            self.closed = np.array_equal(facets, np.sort(mesh.boundary_facets()))
        fixed = np.concatenate([self.boundary, [self.n_velocity] if self.closed else []]).astype(np.int64)
        self.free = np.setdiff1d(np.arange(self.n), fixed)
        self.weights = _pressure_weight.assemble(self.pressure)

    @property
    def gauge(self) -> str:
        """How the pressure constant is fixed (module docstring)."""
        return GAUGE if self.closed else OUTFLOW_GAUGE

    @cached_property
    def order(self) -> np.ndarray:
        """The nested-dissection ordering of the free unknowns, made on the first solve."""
        coordinates = np.hstack([self.velocity.doflocs, self.pressure.doflocs])[:, self.free]
        return nested_dissection(self.system(self.viscous)[self.free][:, self.free], coordinates)

    def part_facets(self, name: str) -> np.ndarray:
        """Facet indices of the named boundary part ``name``; a ValueError listing the parts otherwise."""
        parts = self.mesh.boundaries or {}
        if name not in parts:
            raise ValueError(f"unknown boundary part '{name}'; this mesh's parts: {', '.join(sorted(parts)) or 'none'}")
        return np.asarray(parts[name], dtype=np.int64)

    def part_nodes(self, name: str) -> np.ndarray:
        """The scalar P2 dofs (indices into ``ux`` and ``uy``) on the boundary part ``name``."""
        scalar = np.empty(self.n_velocity, dtype=np.int64)
        scalar[self.ux], scalar[self.uy] = np.arange(len(self.ux)), np.arange(len(self.uy))
        return np.unique(scalar[self.velocity.get_dofs(facets=self.part_facets(name)).all()])

    def system(self, velocity_block: sp.spmatrix) -> sp.csr_matrix:
        """``[[A, Bᵀ], [B, 0]]`` for the velocity block ``A``."""
        return sp.bmat([[velocity_block, self.divergence.T], [self.divergence, None]], format="csr")

    def solve_free(self, matrix: sp.spmatrix, rhs: np.ndarray) -> np.ndarray:
        """The free unknowns of ``matrix x = rhs`` with the fixed unknowns of ``x`` zero."""
        matrix = sp.csr_matrix(matrix)[self.free][:, self.free]
        return factorize(matrix, self.order)(rhs[self.free])

    def boundary_values(self, velocity: Velocity | Mapping[str, Velocity], *t: float) -> np.ndarray:
        """A state with the prescribed velocity on the boundary dofs, zero elsewhere.

        ``velocity(x, y, *t) -> (u, v)`` interpolated on all of ``boundary``, or ``{part: velocity}``,
        each interpolated on its part's dofs (in the mapping's order, so a later part's value wins
        where parts meet).
        """
        x = np.zeros(self.n)
        if callable(velocity):
            x[self.boundary] = self.interpolate(velocity, *t)[self.boundary]
            return x
        for name, g in velocity.items():
            nodes = self.part_nodes(name)
            u, v = g(*self.velocity.doflocs[:, self.ux[nodes]], *t)
            x[self.ux[nodes]], x[self.uy[nodes]] = u, v
        return x

    def residual(self, x: np.ndarray, nu: float, load: np.ndarray | None = None) -> np.ndarray:
        """``[ν K u + ((u·∇)u, ·) + Bᵀp − load, B u]`` at the state ``x`` (``load`` the velocity right-hand side)."""
        u, p = x[: self.n_velocity], x[self.n_velocity :]
        convected = _convected.assemble(self.velocity, w=self.velocity_field(x))
        momentum = nu * (self.viscous @ u) + convected + self.divergence.T @ p
        if load is not None:
            momentum = momentum - load
        return np.concatenate([momentum, self.divergence @ u])

    def force_load(self, force: Force, *t: float) -> np.ndarray:
        """``∫ f·v`` over the domain for ``force(x, y, *t) -> (fx, fy)``, per velocity dof."""
        return _body_force(force, *t).assemble(self._data_basis)

    def outflow_load(self, outflow: Mapping[str, float]) -> np.ndarray:
        """``−Σ p0 ∫_part v·n ds`` over the outflow parts ``{part: p0}``, per velocity dof."""
        load = np.zeros(self.n_velocity)
        for name, p0 in outflow.items():
            facets = FacetBasis(self.mesh, self.velocity.elem, facets=self.part_facets(name), intorder=QUADRATURE_ORDER)
            load -= p0 * _normal_flux.assemble(facets)
        return load

    @cached_property
    def _data_basis(self) -> Basis:
        return Basis(self.mesh, self.velocity.elem, intorder=QUADRATURE_ORDER)

    def interpolate(self, velocity: Velocity, *t: float) -> np.ndarray:
        """Velocity dofs of the nodal interpolant of ``velocity(x, y, *t) -> (u, v)``."""
        u, v = velocity(*self.velocity.doflocs[:, self.ux], *t)
        out = np.zeros(self.n_velocity)
        out[self.ux], out[self.uy] = u, v
        return out

    def fix_gauge(self, x: np.ndarray) -> np.ndarray:
        """``x`` with the pressure shifted to zero mean over the domain where ``closed``; else ``x`` itself."""
        if not self.closed:
            return x
        x = x.copy()
        p = x[self.n_velocity :]
        p -= (self.weights @ p) / self.weights.sum()
        return x

    def fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """``{"u", "v", "p"}`` dof vectors of a state (u, v in the scalar P2 numbering)."""
        return {"u": x[self.ux], "v": x[self.uy], "p": x[self.n_velocity :]}

    def state(self, fields: Mapping[str, np.ndarray]) -> np.ndarray:
        """The state of ``{"u", "v", "p"}`` dof vectors: the inverse of ``fields``."""
        x = np.zeros(self.n)
        x[self.ux], x[self.uy], x[self.n_velocity :] = fields["u"], fields["v"], fields["p"]
        return x

    def velocity_field(self, x: np.ndarray):
        return self.velocity.interpolate(x[: self.n_velocity])

    @property
    def elements(self) -> dict[str, str]:
        return {"u": "P2", "v": "P2", "p": "P1"}


@dataclass
class SteadyResult:
    """The converged state and the update norms of each iteration."""

    state: np.ndarray
    updates: list[float]


def steady(
    th: TaylorHood,
    nu: float,
    start: np.ndarray,
    picard_steps: int = 3,
    tolerance: float = 1e-10,
    max_iterations: int = 20,
    load: np.ndarray | None = None,
) -> SteadyResult:
    """Solve the steady equations from ``start`` (whose boundary values are kept).

    ``load`` is the velocity right-hand side (body force and outflow terms; None: zero).
    ``picard_steps`` Oseen iterations, then Newton until the largest update of an
    unknown is below ``tolerance``; NewtonFailed if a Newton update grows twice in a row,
    is not finite, or the iterations run out.
    """
    x = start.copy()
    updates: list[float] = []
    for iteration in range(max_iterations):
        linearization = _convection if iteration < picard_steps else _newton
        velocity_block = nu * th.viscous + linearization.assemble(th.velocity, w=th.velocity_field(x))
        step = th.solve_free(th.system(velocity_block), -th.residual(x, nu, load))
        x[th.free] += step
        updates.append(float(np.abs(step).max()))
        if not np.isfinite(updates[-1]) or _grew_twice(updates[picard_steps:]):
            raise NewtonFailed(f"Newton diverged at ν = {nu:g}: updates {updates[-3:]}")
        if iteration >= picard_steps and updates[-1] < tolerance:
            return SteadyResult(th.fix_gauge(x), updates)
    raise NewtonFailed(f"Newton did not converge in {max_iterations} iterations at ν = {nu:g}: updates {updates[-3:]}")


def _grew_twice(updates: list[float]) -> bool:
    return len(updates) >= 3 and updates[-1] > updates[-2] > updates[-3]


def unsteady(
    th: TaylorHood,
    nu: float,
    boundary_velocity: Velocity | Mapping[str, Velocity],
    initial: Velocity,
    t_end: float,
    steps: int,
    t_start: float = 0.0,
    load: Load | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(times, states)``: BDF2 with extrapolated convecting velocity; ``states[n]`` at ``times[n]``.

    ``boundary_velocity(x, y, t)`` (or ``{part: velocity}``, see ``TaylorHood.boundary_values``) and
    ``initial(x, y)`` return ``(u, v)``; ``load(t)`` is the velocity right-hand side at time t (None:
    zero). The pressure at ``t_start`` (not an unknown of the scheme) is extrapolated linearly from
    the first two steps.
    """
    if not is_count(steps) or steps < 2:
        raise ValueError(f"steps must be an integer of at least 2, got {steps}")
    if not t_end > t_start:
        raise ValueError(f"need t_end > t_start, got {t_start}, {t_end}")
    times = np.linspace(t_start, t_end, steps + 1)
    dt = times[1] - times[0]
    mass = _velocity_mass.assemble(th.velocity)
    states = np.zeros((steps + 1, th.n))
    states[0, : th.n_velocity] = th.interpolate(initial)
    for n in range(1, steps + 1):
        now = states[n - 1, : th.n_velocity]
        if n == 1:
            rate, history, convecting = 1.0 / dt, mass @ now / dt, states[0]
        else:
            before = states[n - 2, : th.n_velocity]
            rate, history = 1.5 / dt, mass @ (4 * now - before) / (2 * dt)
            convecting = 2 * states[n - 1] - states[n - 2]
        if load is not None:
            history = history + load(times[n])
        block = rate * mass + nu * th.viscous + _convection.assemble(th.velocity, w=th.velocity_field(convecting))
        system = th.system(block)
        x = th.boundary_values(boundary_velocity, times[n])
        rhs = np.concatenate([history, np.zeros(th.pressure.N)]) - system @ x
        x[th.free] = th.solve_free(system, rhs)
        states[n] = th.fix_gauge(x)
    states[0, th.n_velocity :] = 2 * states[1, th.n_velocity :] - states[2, th.n_velocity :]
    return times, states


def solve_steady(
    mesh: TriMesh,
    nu: float,
    velocity: Mapping[str, Velocity],
    outflow: Mapping[str, float],
    force: Force | None = None,
    picard_steps: int = 3,
    tolerance: float = 1e-10,
    max_iterations: int = 30,
) -> FEMSolution:
    """The steady flow on ``mesh``: ``velocity`` maps parts to ``g(x, y) -> (u, v)``, ``outflow`` parts to p0.

    Every named part of the mesh takes exactly one of the two (module docstring); ``force(x, y) ->
    (fx, fy)`` is the body force. From the Stokes-like start (zero inside, g on the velocity parts):
    ``picard_steps`` Oseen steps, then Newton to ``tolerance`` (``steady``). Info: element, gauge,
    iterations, wall_time_s.
    """
    start = time.perf_counter()
    th = _flow(mesh, nu, velocity, outflow)
    load = None
    if outflow or force is not None:
        load = th.outflow_load(outflow) + (0.0 if force is None else th.force_load(force))
    result = steady(th, nu, th.boundary_values(velocity), picard_steps, tolerance, max_iterations, load)
    info = {
        "element": ELEMENT,
        "gauge": th.gauge,
        "iterations": len(result.updates),
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(mesh.p, mesh.t, th.elements, th.fields(result.state), None, info, dict(mesh.boundaries))


def solve_unsteady(
    mesh: TriMesh,
    nu: float,
    velocity: Mapping[str, Velocity],
    outflow: Mapping[str, float],
    initial: Velocity,
    t_end: float,
    steps: int,
    t_start: float = 0.0,
    force: Force | None = None,
) -> FEMSolution:
    """The flow on ``[t_start, t_end]`` by ``unsteady`` (``steps`` BDF2 steps, every one stored).

    ``velocity`` maps parts to ``g(x, y, t) -> (u, v)``, ``outflow`` parts to p0 (each part one of
    the two); ``initial(x, y) -> (u, v)``; ``force(x, y, t) -> (fx, fy)`` the body force.
    """
    start = time.perf_counter()
    th = _flow(mesh, nu, velocity, outflow)
    outflow_load = th.outflow_load(outflow)

    def load(t: float) -> np.ndarray:
        """The velocity right-hand side at time t: outflow terms and body force."""
        return outflow_load if force is None else outflow_load + th.force_load(force, t)

    has_load = bool(outflow) or force is not None
    times, states = unsteady(th, nu, velocity, initial, t_end, steps, t_start, load if has_load else None)
    values = {name: np.stack([th.fields(s)[name] for s in states]) for name in ("u", "v", "p")}
    info = {
        "element": ELEMENT,
        "scheme": UNSTEADY_SCHEME,
        "gauge": th.gauge,
        "initial_pressure": INITIAL_PRESSURE,
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(mesh.p, mesh.t, th.elements, values, times, info, dict(mesh.boundaries))


def _flow(mesh: TriMesh, nu: float, velocity: Mapping[str, Velocity], outflow: Mapping[str, float]) -> TaylorHood:
    """The Taylor–Hood discretization with the velocity parts fixed, after checking ν and the conditions."""
    if isinstance(nu, bool) or not isinstance(nu, numbers.Real) or not 0 < nu < math.inf:
        raise ValueError(f"nu must be a positive number, got {nu!r}")
    parts = sorted(mesh.boundaries or {})
    listed = ", ".join(parts) or "none"
    for name in [*velocity, *outflow]:
        if name not in parts:
            raise ValueError(f"unknown boundary part '{name}'; this mesh's parts: {listed}")
    for name in parts:
        if name in velocity and name in outflow:
            raise ValueError(f"part '{name}' has both a velocity and an outflow condition; give it one")
        if name not in velocity and name not in outflow:
            raise ValueError(f"part '{name}' has no condition; give each of {listed} a velocity or an outflow pressure")
    for name, p0 in outflow.items():
        if isinstance(p0, bool) or not isinstance(p0, numbers.Real) or not math.isfinite(p0):
            raise ValueError(f"the outflow pressure on '{name}' must be a finite number, got {p0!r}")
    if not velocity:
        raise ValueError("a flow needs a velocity on at least one part (with outflow everywhere u is not determined)")
    return TaylorHood(mesh, list(velocity))


CONTINUATION_MIN_CELLS = 8
"""The coarse continuation mesh has at least this many cells per side."""


def cavity(
    re: float = 100.0,
    lid: str = "classic",
    resolution: int = 64,
    re_start: float = 100.0,
    re_factor: float = 2.0,
    coarsening: int = 2,
    picard_steps: int = 3,
    tolerance: float = 1e-10,
) -> FEMSolution:
    """The lid-driven cavity on the unit square: walls at rest, the lid y = 1 moving with ``lid_velocity``.

    ``resolution × resolution`` uniform cells; the lid's end points belong to the walls
    (u = 0 there). Up to ``re_start`` one steady solve from rest. Above it, the solution is
    continued in Re on a mesh ``coarsening`` times coarser (each converged Re multiplied by
    ``re_factor``, the factor square-rooted after a failed Newton solve), then interpolated
    onto the fine mesh, where Newton converges at ``re``.
    """
    if not re > 0:
        raise ValueError(f"re must be positive, got {re}")
    if not re_factor > 1:
        raise ValueError(f"re_factor must exceed 1, got {re_factor}")
    closed_forms.lid_velocity(lid, 0.0)
    start = time.perf_counter()

    def walls(x, y):
        on_lid = np.isclose(y, 1.0) & (x > 0.0) & (x < 1.0)
        return np.where(on_lid, closed_forms.lid_velocity(lid, x), 0.0), 0.0 * x

    fine = TaylorHood(rectangle((0.0, 0.0), (1.0, 1.0), resolution, resolution))
    coarse_cells = resolution // coarsening
    if re <= re_start or coarsening < 2 or coarse_cells < CONTINUATION_MIN_CELLS:
        state, stages = _continue_in_re(fine, resolution, walls, re, re_start, re_factor, picard_steps, tolerance)
    else:
        coarse = TaylorHood(rectangle((0.0, 0.0), (1.0, 1.0), coarse_cells, coarse_cells))
        coarse_state, stages = _continue_in_re(
            coarse, coarse_cells, walls, re, re_start, re_factor, picard_steps, tolerance
        )
        result = steady(fine, 1.0 / re, _transfer(coarse, coarse_state, fine, walls), 0, tolerance)
        state = result.state
        stages.append({"re": re, "cells": resolution, "iterations": len(result.updates)})
    info = {
        "element": ELEMENT,
        "gauge": GAUGE,
        "continuation": stages,
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(
        fine.mesh.p, fine.mesh.t, fine.elements, fine.fields(state), None, info, dict(fine.mesh.boundaries)
    )


def _continue_in_re(
    th: TaylorHood,
    cells: int,
    walls: Velocity,
    re: float,
    re_start: float,
    re_factor: float,
    picard_steps: int,
    tolerance: float,
) -> tuple[np.ndarray, list[dict]]:
    """Steady solutions at ``min(re, re_start)``, then at Re multiplied by ``re_factor`` until ``re``.

    Returns the last state and one record ``{"re", "cells", "iterations"}`` per converged Re
    (``cells`` per side of ``th``'s mesh).
    """
    state = th.boundary_values(walls)
    stages: list[dict] = []
    target, factor = min(re, re_start), re_factor
    while True:
        try:
            result = steady(th, 1.0 / target, state, picard_steps if not stages else 0, tolerance)
        except NewtonFailed:
            if not stages or factor < 1.05:
                raise
            factor = math.sqrt(factor)
            target = stages[-1]["re"] * factor
            continue
        state = result.state
        stages.append({"re": target, "cells": cells, "iterations": len(result.updates)})
        if target >= re:
            return state, stages
        target = min(re, target * factor)


def _transfer(source: TaylorHood, state: np.ndarray, target: TaylorHood, walls: Velocity) -> np.ndarray:
    """``state`` interpolated onto ``target``'s dofs, with ``walls`` on its boundary."""
    solution = FEMSolution(source.mesh.p, source.mesh.t, source.elements, source.fields(state))
    ux, uy = target.velocity.split_indices()
    velocity = solution.evaluate(target.velocity.doflocs[:, ux].T)
    x = np.zeros(target.n)
    x[ux], x[uy] = velocity["u"], velocity["v"]
    x[target.n_velocity :] = solution.evaluate(target.pressure.doflocs.T)["p"]
    x[target.boundary] = target.boundary_values(walls)[target.boundary]
    return x


KOVASZNAY_LOWER = (-0.5, -0.5)
KOVASZNAY_UPPER = (1.0, 1.5)


def kovasznay(re: float = 20.0, resolution: int = 16, picard_steps: int = 3, tolerance: float = 1e-10) -> FEMSolution:
    """Kovasznay's flow on ``[−0.5, 1] × [−0.5, 1.5]`` (``resolution²`` cells), exact velocity on the boundary."""
    if not re > 0:
        raise ValueError(f"re must be positive, got {re}")
    mesh = rectangle(KOVASZNAY_LOWER, KOVASZNAY_UPPER, resolution, resolution)

    def exact(x, y):
        return closed_forms.kovasznay(x, y, re)[:2]

    return solve_steady(mesh, 1.0 / re, dict.fromkeys(mesh.boundaries, exact), {}, None, picard_steps, tolerance)


def taylor_green(
    nu: float = 0.01, t_end: float = 1.0, length: float = 2 * math.pi, resolution: int = 16, steps: int = 20
) -> FEMSolution:
    """The Taylor–Green vortex on ``[0, L]²``: ``resolution²`` cells, ``steps`` BDF2 steps, exact boundary velocity."""
    if not nu > 0:
        raise ValueError(f"nu must be positive, got {nu}")
    mesh = rectangle((0.0, 0.0), (length, length), resolution, resolution)

    def exact(x, y, t):
        return closed_forms.taylor_green(x, y, t, nu, length)[:2]

    return solve_unsteady(
        mesh, nu, dict.fromkeys(mesh.boundaries, exact), {}, lambda x, y: exact(x, y, 0.0), t_end, steps
    )
