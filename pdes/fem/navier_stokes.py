"""Incompressible Navier–Stokes ``(u·∇)u − νΔu + ∇p = 0``, ``∇·u = 0`` by Taylor–Hood P2/P1 elements.

Velocity is prescribed on the whole boundary, so the pressure is fixed only up to a
constant: the solvers pin one pressure unknown while solving and then shift the
pressure to **zero mean over the domain** (the gauge every solution states in its info).

- ``steady``: Picard steps from the given start, then Newton to a tolerance on the update.
- ``unsteady``: BDF2 (first step BDF1) with the convecting velocity extrapolated,
  ``(u*·∇)u^{n+1}`` with ``u* = 2uⁿ − uⁿ⁻¹``: one linear solve per step.
- Cases: ``cavity`` (continuation in Re), ``kovasznay`` and ``taylor_green`` (verification).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from skfem import Basis, BilinearForm, ElementTriP1, ElementTriP2, ElementVector, LinearForm
from skfem.helpers import ddot, div, dot, grad, mul

from pdes import closed_forms
from pdes.fem.linalg import factorize, nested_dissection
from pdes.fem.mesh import TriMesh, is_count, rectangle
from pdes.fem.solution import FEMSolution

GAUGE = "pressure has zero mean over the domain"

Velocity = Callable[..., tuple[object, object]]


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


class TaylorHood:
    """P2 velocity and P1 pressure on ``mesh``; unknowns ``[velocity dofs, pressure dofs]``.

    The boundary velocity dofs and one pressure dof are fixed; the other unknowns are
    "free" and ordered once by nested dissection for every factorization.
    """

    def __init__(self, mesh: TriMesh):
        self.mesh = mesh
        self.velocity = Basis(mesh, ElementVector(ElementTriP2()))
        self.pressure = self.velocity.with_element(ElementTriP1())
        self.n_velocity, self.n = self.velocity.N, self.velocity.N + self.pressure.N
        self.viscous = _viscous.assemble(self.velocity)
        self.divergence = _divergence.assemble(self.velocity, self.pressure)
        self.boundary = self.velocity.get_dofs().all()
        self.pinned = self.n_velocity
        fixed = np.concatenate([self.boundary, [self.pinned]])
        self.free = np.setdiff1d(np.arange(self.n), fixed)
        self.weights = _pressure_weight.assemble(self.pressure)
        coordinates = np.hstack([self.velocity.doflocs, self.pressure.doflocs])[:, self.free]
        self.order = nested_dissection(self.system(self.viscous)[self.free][:, self.free], coordinates)

    def system(self, velocity_block: sp.spmatrix) -> sp.csr_matrix:
        """``[[A, Bᵀ], [B, 0]]`` for the velocity block ``A``."""
        return sp.bmat([[velocity_block, self.divergence.T], [self.divergence, None]], format="csr")

    def solve_free(self, matrix: sp.spmatrix, rhs: np.ndarray) -> np.ndarray:
        """The free unknowns of ``matrix x = rhs`` with the fixed unknowns of ``x`` zero."""
        matrix = sp.csr_matrix(matrix)[self.free][:, self.free]
        return factorize(matrix, self.order)(rhs[self.free])

    def boundary_values(self, velocity: Velocity, *t: float) -> np.ndarray:
        """A state that is the interpolant of ``velocity(x, y, *t)`` on the boundary dofs, zero elsewhere."""
        x = np.zeros(self.n)
        x[self.boundary] = self.interpolate(velocity, *t)[self.boundary]
        return x

    def residual(self, x: np.ndarray, nu: float) -> np.ndarray:
        """``[ν K u + ((u·∇)u, ·) + Bᵀp, B u]`` at the state ``x``."""
        u, p = x[: self.n_velocity], x[self.n_velocity :]
        convected = _convected.assemble(self.velocity, w=self.velocity_field(x))
        return np.concatenate([nu * (self.viscous @ u) + convected + self.divergence.T @ p, self.divergence @ u])

    def interpolate(self, velocity: Velocity, *t: float) -> np.ndarray:
        """Velocity dofs of the nodal interpolant of ``velocity(x, y, *t) -> (u, v)``."""
        ux, uy = self.velocity.split_indices()
        u, v = velocity(*self.velocity.doflocs[:, ux], *t)
        out = np.zeros(self.n_velocity)
        out[ux], out[uy] = u, v
        return out

    def fix_gauge(self, x: np.ndarray) -> np.ndarray:
        """``x`` with the pressure shifted to zero mean over the domain."""
        x = x.copy()
        p = x[self.n_velocity :]
        p -= (self.weights @ p) / self.weights.sum()
        return x

    def fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """``{"u", "v", "p"}`` dof vectors of a state (u, v in the scalar P2 numbering)."""
        ux, uy = self.velocity.split_indices()
        return {"u": x[ux], "v": x[uy], "p": x[self.n_velocity :]}

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
) -> SteadyResult:
    """Solve the steady equations from ``start`` (whose boundary values are kept).

    ``picard_steps`` Oseen iterations, then Newton until the largest update of an
    unknown is below ``tolerance``; NewtonFailed if a Newton update grows twice in a row,
    is not finite, or the iterations run out.
    """
    x = start.copy()
    updates: list[float] = []
    for iteration in range(max_iterations):
        linearization = _convection if iteration < picard_steps else _newton
        velocity_block = nu * th.viscous + linearization.assemble(th.velocity, w=th.velocity_field(x))
        step = th.solve_free(th.system(velocity_block), -th.residual(x, nu))
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
    boundary_velocity: Velocity,
    initial: Velocity,
    t_end: float,
    steps: int,
    t_start: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(times, states)``: BDF2 with extrapolated convecting velocity; ``states[n]`` at ``times[n]``.

    ``boundary_velocity(x, y, t)`` and ``initial(x, y)`` return ``(u, v)``. The pressure
    at ``t_start`` (not an unknown of the scheme) is extrapolated linearly from the first
    two steps.
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
        block = rate * mass + nu * th.viscous + _convection.assemble(th.velocity, w=th.velocity_field(convecting))
        system = th.system(block)
        x = th.boundary_values(boundary_velocity, times[n])
        rhs = np.concatenate([history, np.zeros(th.pressure.N)]) - system @ x
        x[th.free] = th.solve_free(system, rhs)
        states[n] = th.fix_gauge(x)
    states[0, th.n_velocity :] = 2 * states[1, th.n_velocity :] - states[2, th.n_velocity :]
    return times, states


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
        "element": "Taylor-Hood P2/P1",
        "gauge": GAUGE,
        "continuation": stages,
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(fine.mesh.p, fine.mesh.t, fine.elements, fine.fields(state), None, info)


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
    start = time.perf_counter()
    th = TaylorHood(rectangle(KOVASZNAY_LOWER, KOVASZNAY_UPPER, resolution, resolution))
    result = steady(
        th, 1.0 / re, th.boundary_values(lambda x, y: closed_forms.kovasznay(x, y, re)[:2]), picard_steps, tolerance
    )
    info = {
        "element": "Taylor-Hood P2/P1",
        "gauge": GAUGE,
        "iterations": len(result.updates),
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(th.mesh.p, th.mesh.t, th.elements, th.fields(result.state), None, info)


def taylor_green(
    nu: float = 0.01, t_end: float = 1.0, length: float = 2 * math.pi, resolution: int = 16, steps: int = 20
) -> FEMSolution:
    """The Taylor–Green vortex on ``[0, L]²``: ``resolution²`` cells, ``steps`` BDF2 steps, exact boundary velocity."""
    if not nu > 0:
        raise ValueError(f"nu must be positive, got {nu}")
    start = time.perf_counter()
    th = TaylorHood(rectangle((0.0, 0.0), (length, length), resolution, resolution))

    def exact(x, y, t):
        return closed_forms.taylor_green(x, y, t, nu, length)[:2]

    times, states = unsteady(th, nu, exact, lambda x, y: exact(x, y, 0.0), t_end, steps)
    values = {name: np.stack([th.fields(s)[name] for s in states]) for name in ("u", "v", "p")}
    info = {
        "element": "Taylor-Hood P2/P1",
        "scheme": "BDF2 (first step BDF1), extrapolated convecting velocity",
        "gauge": GAUGE,
        "initial_pressure": "extrapolated linearly from the first two steps",
        "wall_time_s": time.perf_counter() - start,
    }
    return FEMSolution(th.mesh.p, th.mesh.t, th.elements, values, times, info)
