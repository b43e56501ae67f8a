"""``pdes.navier_stokes``: incompressible flow on any 2D domain, from one description, with its FEM reference.

    u_t + (u·∇)u + ∇p − νΔu = f,   ∇·u = 0      in Ω × (t0, T]   (steady: no u_t)
    conditions on each named part of ∂Ω (``pdes.conditions``: Velocity, NoSlip, Outflow), u = u0 at t0

Velocity ``(u, v)``, kinematic pressure ``p``, constant viscosity ``ν`` (the coefficient ``nu``,
read as ``f.nu``). The terms are those of ``pdes.flow_problems``: ``momentum_x``, ``momentum_y``,
``continuity``, ``<key>_u``/``<key>_v`` for prescribed velocity, ``<key>_x``/``<key>_y`` for an
outflow, ``initial_u``/``initial_v``. Without an Outflow part the pressure is fixed only up to a
constant: a ``gauge`` term pins it at a point and it is compared up to a constant; the net flux
of the prescribed velocity must then vanish (incompressibility), else the description is refused.

The reference is the Taylor–Hood P2/P1 solution (``pdes.fem.navier_stokes``: Newton from a
Picard start when steady, BDF2 in time) on a gmsh mesh of the domain (``pdes.mesh_reference``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import torch

from pdes import conditions as bc
from pdes.description import (
    Setting,
    check_mesh_settings,
    check_term_names,
    checked,
    fem_unsupported,
    fingerprint,
    initial_datum,
    probe_points,
    setting,
    sobol_points,
)
from pdes.distance_transform import DistanceDirichlet
from pdes.flow_problems import (
    line_gauge,
    no_slip,
    point_gauge,
    prescribed_velocity,
    steady_equations,
    traction,
    unsteady_equations,
    viscosity,
)
from pdes.given import Given
from pdes.mesh_reference import DEFAULT_RESOLUTION, MeshFEMReference
from pdes.problem import Fields, Problem
from pdes.quantities import Physics, Quantity, bind_quantities
from pdes.reference import NoReference, described

Tensor = torch.Tensor

FIELDS = ("u", "v", "p")
TIME_STEPS = 200
"""BDF2 steps of the FEM reference over (t0, T] unless ``time_steps`` is given."""

CONSTRAINTS = ("soft", "exact")
"""How prescribed velocity is imposed: by loss Terms, or by an output transform."""

INTERIOR_POINTS = 4096
"""Points of the domain on which an exact constraint's carriers are oriented, normalized and checked."""

FLUX_POINTS = 2**14
"""Scrambled Sobol' points per boundary part for the net flux of a closed flow."""

FLUX_TOLERANCE = 1e-3
"""A closed flow's net flux counts as zero below this fraction of the flux through its boundary."""


def navier_stokes(
    domain: object,
    nu: float,
    conditions: Mapping[str, object] | None = None,
    time: tuple[float, float] | None = None,
    initial: object = None,
    force: object = (0.0, 0.0),
    name: str = "navier_stokes",
    quantities: Mapping[str, Quantity] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    refine: Mapping[str, float] | None = None,
    time_steps: int = TIME_STEPS,
    defaults: Mapping[str, object] | None = None,
    constraints: str = "soft",
) -> Problem:
    """The flow of the description (module docstring) as a Problem with its FEM reference.

    ``initial`` and ``force`` are ``(u, v)`` pairs or functions returning one; ``quantities``,
    ``resolution``, ``refine``, ``time_steps`` and ``defaults`` as for ``pdes.heat``. ``constraints``:
    "soft" puts the prescribed velocity (and the initial velocity) into the loss as Terms; "exact" imposes
    them by the output transform ``pdes.distance_transform.DistanceDirichlet`` (parts made of lines and
    circles whose carriers do not cut the domain), and those Terms are left out.
    """
    if constraints not in CONSTRAINTS:
        raise ValueError(f"navier_stokes: unknown constraints {constraints!r}; valid: {', '.join(CONSTRAINTS)}")
    where = setting("navier_stokes", domain, time)
    if where.dim != 2:
        raise ValueError(f"navier_stokes: flows are 2D (fields u, v, p); the domain is {where.dim}D")
    check_viscosity(nu)
    g = where.given("force", force, components=2)
    placed = bc.resolve(where.boundary, conditions, bc.FLOW, "navier_stokes")
    check_mesh_settings(where, resolution, refine, time_steps)
    own = ("momentum_x", "momentum_y", "continuity", "gauge", "initial_u", "initial_v")
    check_term_names("navier_stokes", [p.key for p in placed], own, ("_u", "_v", "_x", "_y"))
    prints = {"force": checked(g, where.domain)}
    velocities = {}
    for p in placed:
        if isinstance(p.condition, bc.Velocity):
            velocities[p.key] = where.given(f"conditions['{p.key}'] velocity", p.condition.value, components=2)
            prints[p.key] = checked(velocities[p.key], p.region)
        elif isinstance(p.condition, bc.Outflow):
            check_pressure(p.key, p.condition.pressure)
    outflows = [p for p in placed if isinstance(p.condition, bc.Outflow)]
    if not outflows:
        check_net_flux(placed, velocities)
    u0 = initial_datum(where, initial, components=2)
    if u0 is not None:
        prints["initial"] = checked(u0, where.domain.initial)

    def body_force(f: Fields) -> tuple[Tensor, Tensor]:
        return g(*(getattr(f, c) for c in where.coordinates))

    equations = steady_equations if where.time is None else unsteady_equations
    terms = equations(where.domain, viscosity, None if fem_force(g) is None else body_force)
    soft = constraints == "soft"
    for p in placed:
        if isinstance(p.condition, bc.Velocity) and soft:
            terms += prescribed_velocity(p.key, p.region, velocities[p.key])
        elif isinstance(p.condition, bc.NoSlip) and soft:
            terms += no_slip(p.key, p.region)
        elif isinstance(p.condition, bc.Outflow):
            terms += traction(p.key, p.region, viscosity, pressure=float(p.condition.pressure))
    if u0 is not None and soft:
        terms += prescribed_velocity("initial", where.domain.initial, u0)
    if not outflows:
        terms.append(gauge_term(where))
    description = {
        "equation": "navier_stokes",
        "time": None if where.time is None else [where.time.t0, where.time.t1],
        "nu": float(nu),
        "force": g.describe(),
        "conditions": {p.key: type(p.condition).__name__.lower() for p in placed},
        "outflow_pressure": {p.key: float(p.condition.pressure) for p in outflows},
        "constraints": constraints,
    }
    solved = {k: v for k, v in description.items() if k != "constraints"}  # the FEM solves the same flow either way
    identity = fingerprint({**solved, "data": prints})
    up_to_constant = () if outflows else ("p",)
    reason = fem_unsupported(where.space)
    if reason is None:
        settings = {"element": "Taylor-Hood P2/P1", "time_steps": time_steps if where.time is not None else None}
        solve = fem_solver(where, float(nu), g, u0, placed, velocities, time_steps)
        reference = MeshFEMReference(
            name, where.space, where.coordinates, FIELDS, solve, __name__, identity, settings, resolution, refine,
            up_to_constant, description,
        )  # fmt: skip
    else:
        reference = NoReference(reason)
    return Problem(
        name=name,
        coordinates=where.coordinates,
        fields=FIELDS,
        domain=where.domain,
        terms=terms,
        reference=reference,
        defaults=dict(defaults or {}),
        coefficients={"nu": float(nu)},
        transform=None if soft else exact_velocity(where, placed, velocities, u0),
        quantities=bind_quantities(quantities, where, FlowPhysics(where, float(nu), fem_force(g), up_to_constant)),
    )


def exact_velocity(where: Setting, placed: list[bc.Placed], velocities: dict[str, Given], u0: Given | None):
    """The output transform imposing every prescribed velocity (and the initial one) exactly on (u, v)."""
    parts = []
    for p in placed:
        if isinstance(p.condition, bc.Outflow):
            continue
        data = velocities[p.key] if isinstance(p.condition, bc.Velocity) else at_rest
        parts += [(where.space.boundary[part], data) for part in p.parts]
    interior = probe_points(where.space, INTERIOR_POINTS)
    return DistanceDirichlet(parts, (0, 1), interior, where.time, u0)


def check_viscosity(nu: object) -> None:
    if not isinstance(nu, numbers.Real) or isinstance(nu, bool) or not 0 < nu < math.inf:
        raise ValueError(f"navier_stokes: the viscosity nu must be a positive finite number, got {described(nu)}")


def check_pressure(key: str, pressure: object) -> None:
    if not isinstance(pressure, numbers.Real) or isinstance(pressure, bool) or not math.isfinite(pressure):
        raise ValueError(
            f"navier_stokes: conditions['{key}'] Outflow pressure must be a finite number, got {pressure!r}"
        )


def check_net_flux(placed: list[bc.Placed], velocities: dict[str, Given]) -> None:
    """Refuse prescribed velocities whose net flux ``∫ g·n ds`` through a boundary with no outflow is not zero."""
    net, total = 0.0, 0.0
    for p in placed:
        if p.key not in velocities:
            continue
        x, w = sobol_points(p.region, FLUX_POINTS)
        u, v = velocities[p.key](*x.unbind(dim=1))
        n = p.region.normal(x)
        flux = w * (u * n[:, 0] + v * n[:, 1]) * p.region.measure
        net, total = net + float(flux.mean()), total + float(flux.abs().mean())
    if abs(net) > FLUX_TOLERANCE * total:
        raise ValueError(
            f"navier_stokes: the prescribed velocity carries a net flux of {-net:.4g} into the domain and no part is "
            "an Outflow; an incompressible flow through walls needs zero net flux: make the outlet Outflow()"
        )


def gauge_term(where: Setting):
    """``p = 0`` at the probe point of the domain nearest its bounding box's centre (at every time)."""
    points = probe_points(where.space)
    centre = where.space.bounds.mean(dim=0)
    point = tuple(points[int((points - centre).norm(dim=1).argmin())].tolist())
    if where.time is None:
        return point_gauge(point, 0.0)
    return line_gauge(point, where.time, lambda t: 0.0 * t)


class FlowPhysics(Physics):
    """The force on a body for ``pdes.Force``, by the PINN and by the FEM (steady flows)."""

    equation = "flows"
    fields = FIELDS

    def __init__(self, where: Setting, nu: float, body_force=None, up_to_constant: tuple[str, ...] = ()):
        self.where, self.nu, self.body_force = where, nu, body_force
        self.up_to_constant = up_to_constant

    def force_integrand(self, name: str, component: str):
        """``p n_k − ν((∇u + ∇uᵀ) n)_k``."""

        def integrand(f: Fields) -> Tensor:
            shear = f.u_y + f.v_x
            if component == "x":
                return f.p * f.n_x - f.nu * (2 * f.u_x * f.n_x + shear * f.n_y)
            return f.p * f.n_y - f.nu * (shear * f.n_x + 2 * f.v_y * f.n_y)

        return integrand

    def fem_force(self, parts: tuple[str, ...], component: str, time: float | None):
        if time is not None:
            return None  # the reaction form needs the steady residual

        def value(solution) -> float:
            from pdes.fem.quantities import force_on

            k = 0 if component == "x" else 1
            return sum(force_on(solution, self.nu, part, self.body_force)[k] for part in parts)

        return value


def fem_solver(where: Setting, nu: float, g: Given, u0: Given | None, placed: list, velocities: dict, steps: int):
    """``solve(mesh) -> FEMSolution`` of the description by ``pdes.fem.navier_stokes``."""

    def solve(mesh):
        from pdes.fem import navier_stokes as fem_ns

        velocity, outflow = {}, {}
        for p in placed:
            for part in p.parts:
                if isinstance(p.condition, bc.Outflow):
                    outflow[part] = float(p.condition.pressure)
                elif isinstance(p.condition, bc.NoSlip):
                    velocity[part] = at_rest
                else:
                    velocity[part] = velocities[p.key].numpy
        force = fem_force(g)
        if where.time is None:
            return fem_ns.solve_steady(mesh, nu, velocity, outflow, force=force)
        return fem_ns.solve_unsteady(
            mesh, nu, velocity, outflow, u0.numpy, t_end=where.time.t1, steps=steps, t_start=where.time.t0, force=force
        )

    return solve


def fem_force(g: Given):
    """The body force as the FEM takes it: None for none, else ``g(x, y[, t]) -> (f_x, f_y)`` on numpy arrays."""
    return None if g.is_constant and g.constant == (0.0, 0.0) else g.numpy


def at_rest(x, y, *t):
    """The no-slip velocity ``(0, 0)``."""
    return 0.0 * x, 0.0 * x
