"""Incompressible Navier–Stokes problems in 2D, velocity–pressure form.

Fields ``u, v`` (velocity) and ``p`` (kinematic pressure), viscosity ``ν``; each equation is
its own Term (report.json's quadrature keys)::

    momentum_x   u_t + u u_x + v u_y + p_x − ν (u_xx + u_yy) = 0
    momentum_y   v_t + u v_x + v v_y + p_y − ν (v_xx + v_yy) = 0
    continuity   u_x + v_y = 0                                     (steady: no u_t, v_t)

Conditions: prescribed velocity (``u = g_u``, ``v = g_v``; no-slip is ``g = 0``), the
do-nothing traction ``−p n + ν ∂u/∂n = h`` on an outflow (traction-free: ``h = 0``), and a
pressure gauge ``p(x0) = p0`` where velocity is prescribed on the whole boundary (the pressure
is then defined up to a constant, and the reference's ``up_to_constant`` says so).

Each problem's ``constraints`` parameter says how Dirichlet velocity data are imposed:
``"soft"``, by the boundary (and initial) Terms of the loss, or ``"exact"``, by the problem's
output transform (``pdes.transforms.BoxDirichlet``, rectangles only), which makes the velocity
equal its data on the boundary (and at t = 0) whatever the network; its Terms are dropped.

Problems: ``kovasznay`` (analytic), ``cavity`` (lid-driven, FEM reference), ``taylor_green``
(unsteady decaying vortex, analytic).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from pdes import closed_forms
from pdes.fem import references
from pdes.geometry import Box, Point, Product, Region, SpaceTime, TimeInterval
from pdes.problem import Fields, Problem, Term, check_positive
from pdes.reference import AnalyticReference
from pdes.transforms import BoxDirichlet

Tensor = torch.Tensor
Velocity = Callable[..., tuple[Tensor, Tensor]]
"""``velocity(x, y[, t]) -> (u, v)``, values broadcastable to ``x``."""

CONSTRAINTS = ("exact", "soft")
"""How Dirichlet velocity data are imposed: by the output transform, or as loss Terms."""
FIELDS = ("u", "v", "p")


Viscosity = Callable[[Fields], float | torch.Tensor] | float
"""The viscosity: a number, or as residuals read it, ``lambda f: f.nu`` (a coefficient of the problem, known or
unknown)."""


def as_viscosity(nu: Viscosity) -> Callable[[Fields], float | torch.Tensor]:
    """``nu`` as a function of the fields (a number ``ν`` becomes ``lambda f: ν``)."""
    return nu if callable(nu) else lambda f: nu


Force = Callable[[Fields], tuple[Tensor, Tensor]] | None
"""A body force as residuals read it, ``lambda f: (f_x, f_y)``, or None."""


def steady_equations(domain: Region, nu: Viscosity, force: Force = None) -> list[Term]:
    """Momentum x, momentum y and continuity of the steady equations on ``domain``, viscosity ``nu``, body force
    ``force`` (none by default)."""
    nu, g = as_viscosity(nu), as_force(force)
    return [
        Term(
            "momentum_x", domain, lambda f: f.u * f.u_x + f.v * f.u_y + f.p_x - nu(f) * f.laplacian("u", "xy") - g(f)[0]
        ),
        Term(
            "momentum_y", domain, lambda f: f.u * f.v_x + f.v * f.v_y + f.p_y - nu(f) * f.laplacian("v", "xy") - g(f)[1]
        ),
        Term("continuity", domain, lambda f: f.u_x + f.v_y),
    ]


def unsteady_equations(domain: Region, nu: Viscosity, force: Force = None) -> list[Term]:
    """Momentum x, momentum y and continuity of the unsteady equations on the space-time ``domain``, viscosity
    ``nu``, body force ``force``."""
    nu, g = as_viscosity(nu), as_force(force)
    return [
        Term(
            "momentum_x",
            domain,
            lambda f: f.u_t + f.u * f.u_x + f.v * f.u_y + f.p_x - nu(f) * f.laplacian("u", "xy") - g(f)[0],
        ),
        Term(
            "momentum_y",
            domain,
            lambda f: f.v_t + f.u * f.v_x + f.v * f.v_y + f.p_y - nu(f) * f.laplacian("v", "xy") - g(f)[1],
        ),
        Term("continuity", domain, lambda f: f.u_x + f.v_y),
    ]


def as_force(force: Force) -> Callable[[Fields], tuple]:
    """``force`` as a function of the fields; None is no force, ``(0.0, 0.0)``."""
    return force if force is not None else lambda f: (0.0, 0.0)


def viscosity(f: Fields) -> float | torch.Tensor:
    """``f.nu``: the viscosity coefficient of kovasznay and taylor_green."""
    return f.nu


def inverse_reynolds(f: Fields) -> float | torch.Tensor:
    """``1 / f.re``: the cavity's viscosity from its Reynolds number coefficient."""
    return 1 / f.re


def prescribed_velocity(name: str, region: Region, velocity: Velocity, weight: float = 1.0) -> list[Term]:
    """``u = g_u`` and ``v = g_v`` on ``region``: Terms ``<name>_u`` and ``<name>_v`` of weight ``weight``.

    ``velocity`` takes the coordinates of the points (``x, y`` and ``t`` if unsteady).
    """

    def component(k: int) -> Callable:
        def residual(f):
            data = velocity(*_coordinates(f, region.dim))[k]
            return (f.u if k == 0 else f.v) - data

        return residual

    return [Term(f"{name}_u", region, component(0), weight), Term(f"{name}_v", region, component(1), weight)]


def no_slip(name: str, region: Region, weight: float = 1.0) -> list[Term]:
    """``u = v = 0`` on ``region``: Terms ``<name>_u`` and ``<name>_v`` of weight ``weight``."""
    return [Term(f"{name}_u", region, lambda f: f.u, weight), Term(f"{name}_v", region, lambda f: f.v, weight)]


def traction(
    name: str, region: Region, nu: Viscosity, data: Velocity | None = None, pressure: float = 0.0
) -> list[Term]:
    """The do-nothing condition ``−(p − p0) n + ν ∂u/∂n = h`` on an outflow boundary: Terms ``<name>_x``,
    ``<name>_y``; viscosity ``nu``, ``p0 = pressure``.

    ``data(x, y[, t]) -> (h_x, h_y)``; without it and with ``pressure = 0`` the outflow is traction-free.
    """
    nu = as_viscosity(nu)

    def component(k: int) -> Callable:
        def residual(f):
            n_x, n_y = f.n_x, f.n_y
            normal_derivative = f.u_x * n_x + f.u_y * n_y if k == 0 else f.v_x * n_x + f.v_y * n_y
            r = -(f.p - pressure) * (n_x if k == 0 else n_y) + nu(f) * normal_derivative
            return r if data is None else r - data(*_coordinates(f, region.dim))[k]

        return residual

    return [Term(f"{name}_x", region, component(0)), Term(f"{name}_y", region, component(1))]


def point_gauge(point: tuple[float, float], value: float) -> Term:
    """The steady pressure gauge ``p(x0, y0) = p0``: Term ``gauge``."""
    return Term("gauge", Point(point), lambda f: f.p - value)


def line_gauge(point: tuple[float, float], time: TimeInterval, value: Callable[[Tensor], Tensor]) -> Term:
    """The unsteady pressure gauge ``p(x0, y0, t) = p0(t)`` for every t: Term ``gauge``."""
    return Term("gauge", Product(Point(point), time), lambda f: f.p - value(f.t))


def _coordinates(f, dim: int) -> tuple[Tensor, ...]:
    """``(f.x, f.y)`` or, on space-time regions, ``(f.x, f.y, f.t)``."""
    return tuple(getattr(f, c) for c in ("x", "y", "t")[:dim])


def _check_choice(kind: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {kind} '{value}'; valid: {', '.join(valid)}")


KOVASZNAY_BOX = Box([-0.5, -0.5], [1.0, 1.5])
KOVASZNAY_GAUGE = (0.25, 0.5)
"""Where kovasznay's pressure is pinned to the exact value (the domain's center)."""
OUTFLOWS = ("velocity", "traction")


def kovasznay(re: float = 20.0, constraints: str | None = None, outflow: str = "velocity") -> Problem:
    """Kovasznay's steady flow at Reynolds number ``re`` (ν = 1/re) on ``[−0.5, 1] × [−0.5, 1.5]``.

    The exact velocity is prescribed on the boundary and the pressure pinned at the center to
    its exact value (``p = (1 − e^{2λx})/2``, ``pdes.closed_forms.kovasznay``).
    ``constraints``: "exact" (the default) imposes the velocity by the output transform,
    "soft" by the Terms ``boundary_u``, ``boundary_v``. With ``outflow="traction"`` the
    outflow x = 1 gets the exact do-nothing traction (Terms ``outflow_x``, ``outflow_y``)
    instead of the velocity (so constraints are "soft"); it fixes the pressure, so there is
    no gauge and p is compared as is.
    """
    check_positive("kovasznay", "re", re, "the Reynolds number")
    _check_choice("outflow", outflow, OUTFLOWS)
    constraints = constraints if constraints is not None else ("exact" if outflow == "velocity" else "soft")
    _check_choice("constraints", constraints, CONSTRAINTS)
    if constraints == "exact" and outflow == "traction":
        raise ValueError("constraints='exact' prescribes the velocity on the whole boundary; use outflow='velocity'")
    nu = 1.0 / re
    box = KOVASZNAY_BOX

    def velocity(x, y):
        return closed_forms.kovasznay(x, y, re)[:2]

    terms = steady_equations(box, viscosity)
    transform = None
    if outflow == "traction":
        lam = closed_forms.kovasznay_lambda(re)

        def exact_traction(x, y):
            u_x = -lam * torch.exp(lam * x) * torch.cos(2 * math.pi * y)
            v_x = lam**2 / (2 * math.pi) * torch.exp(lam * x) * torch.sin(2 * math.pi * y)
            return -closed_forms.kovasznay(x, y, re)[2] + nu * u_x, nu * v_x

        sides = box.boundary
        terms += prescribed_velocity("boundary", sides["left"] | sides["bottom"] | sides["top"], velocity)
        terms += traction("outflow", sides["right"], viscosity, exact_traction)
    else:
        gauge_value = float(closed_forms.kovasznay(*KOVASZNAY_GAUGE, re)[2])
        terms.append(point_gauge(KOVASZNAY_GAUGE, gauge_value))
        if constraints == "soft":
            terms += prescribed_velocity("boundary", box.boundary, velocity)
        else:
            transform = BoxDirichlet(box, velocity, fields=(0, 1))

    def solution(x, y):
        return dict(zip(FIELDS, closed_forms.kovasznay(x, y, re)))

    return Problem(
        name="kovasznay",
        coordinates=("x", "y"),
        fields=FIELDS,
        domain=box,
        terms=terms,
        reference=AnalyticReference(("x", "y"), solution, up_to_constant=("p",) if outflow == "velocity" else ()),
        params={"re": re, "constraints": constraints, "outflow": outflow},
        defaults=KOVASZNAY_DEFAULTS,
        transform=transform,
        coefficients={"nu": nu},
    )


CAVITY_BOX = Box([0.0, 0.0], [1.0, 1.0])
CAVITY_GAUGE = (0.5, 0.5)
"""Where the cavity's pressure is pinned to zero (the reference instead has zero mean: compared up to a constant)."""


def cavity(
    re: float = 100.0, lid: str = "smooth", constraints: str | None = None, boundary_weight: float = 10.0
) -> Problem:
    """The lid-driven cavity on the unit square at Reynolds number ``re`` (ν = 1/re, lid speed scale 1).

    Walls at rest; the lid y = 1 moves with ``u = 4x(1 − x)`` (``lid="smooth"``) or ``u = 1``
    (``"classic"``, discontinuous at the top corners, where the walls win). ``constraints``:
    "soft" imposes the velocity by Terms (``wall_u``, ``wall_v``, ``lid_u``, ``lid_v``), "exact"
    by the output transform; the default is "exact" for the smooth lid and "soft" for the
    classic one, whose discontinuous data admit no continuous extension; its Terms have the
    weight ``boundary_weight`` (10 measured better than 1 and 100 on the classic lid, RESULTS.md).
    Pressure is pinned at the center; the reference is the Taylor–Hood FEM solution
    (``pdes.fem.references.cavity``, zero-mean pressure), p compared up to a constant.
    """
    check_positive("cavity", "re", re, "the Reynolds number")
    _check_choice("lid", lid, closed_forms.LIDS)
    constraints = constraints if constraints is not None else ("exact" if lid == "smooth" else "soft")
    _check_choice("constraints", constraints, CONSTRAINTS)
    check_positive("cavity", "boundary_weight", boundary_weight)
    if constraints == "exact" and lid == "classic":
        raise ValueError(
            "the classic lid is discontinuous at the top corners, so it cannot be imposed exactly; use constraints=soft"
        )
    box = CAVITY_BOX
    terms = steady_equations(box, inverse_reynolds)
    terms.append(point_gauge(CAVITY_GAUGE, 0.0))
    transform = None
    if constraints == "soft":
        sides = box.boundary
        terms += no_slip("wall", sides["left"] | sides["right"] | sides["bottom"], boundary_weight)

        def lid_velocity(x, y):
            return closed_forms.lid_velocity(lid, x), 0.0 * x

        terms += prescribed_velocity("lid", sides["top"], lid_velocity, boundary_weight)
    else:

        def walls(x, y):
            on_lid = y >= box.upper[1]
            return torch.where(on_lid, closed_forms.lid_velocity(lid, x), 0.0 * x), 0.0 * x

        transform = BoxDirichlet(box, walls, fields=(0, 1))
    return Problem(
        name="cavity",
        coordinates=("x", "y"),
        fields=FIELDS,
        domain=box,
        terms=terms,
        reference=references.cavity(re, lid),
        params={"re": re, "lid": lid, "constraints": constraints, "boundary_weight": boundary_weight},
        defaults=CAVITY_DEFAULTS[lid],
        transform=transform,
        coefficients={"re": re},
    )


TAYLOR_GREEN_LENGTH = 2 * math.pi
TAYLOR_GREEN_GAUGE = (math.pi / 2, math.pi / 2)
"""Where taylor_green's pressure is pinned to its exact value at every time."""


def taylor_green(nu: float = 0.01, t_end: float = 1.0, constraints: str = "exact") -> Problem:
    """The decaying Taylor–Green vortex on ``[0, 2π]² × [0, t_end]`` with viscosity ``nu``.

    ``u = −cos x sin y F``, ``v = sin x cos y F``, ``p = −(cos 2x + cos 2y) F²/4``,
    ``F = e^{−2νt}`` (``pdes.closed_forms.taylor_green``). The exact velocity is prescribed
    on the sides and at t = 0 (``constraints``: "soft", Terms ``boundary_u``, ``boundary_v``,
    ``initial_u``, ``initial_v``, or "exact", the output transform); the pressure is pinned to its exact value
    on the line ``(π/2, π/2) × [0, t_end]``.
    """
    check_positive("taylor_green", "nu", nu, "the viscosity")
    check_positive("taylor_green", "t_end", t_end, "the final time")
    _check_choice("constraints", constraints, CONSTRAINTS)
    square = Box([0.0, 0.0], [TAYLOR_GREEN_LENGTH, TAYLOR_GREEN_LENGTH])
    time = TimeInterval(0.0, t_end)
    domain = SpaceTime(square, time)

    def exact(x, y, t):
        return closed_forms.taylor_green(x, y, t, nu, TAYLOR_GREEN_LENGTH)

    def velocity(x, y, t):
        return exact(x, y, t)[:2]

    def initial_velocity(x, y):
        return exact(x, y, 0.0 * x)[:2]

    x0, y0 = TAYLOR_GREEN_GAUGE
    terms = unsteady_equations(domain, viscosity)
    terms.append(line_gauge(TAYLOR_GREEN_GAUGE, time, lambda t: exact(x0 + 0.0 * t, y0 + 0.0 * t, t)[2]))
    transform = None
    if constraints == "soft":
        terms += prescribed_velocity("boundary", domain.boundary, velocity)
        terms += prescribed_velocity("initial", domain.initial, velocity)
    else:
        transform = BoxDirichlet(square, velocity, fields=(0, 1), time=time, initial=initial_velocity)
    return Problem(
        name="taylor_green",
        coordinates=("x", "y", "t"),
        fields=FIELDS,
        domain=domain,
        terms=terms,
        reference=AnalyticReference(("x", "y", "t"), lambda x, y, t: dict(zip(FIELDS, exact(x, y, t)))),
        params={"nu": nu, "t_end": t_end, "constraints": constraints},
        defaults=TAYLOR_GREEN_DEFAULTS,
        transform=transform,
        coefficients={"nu": nu},
    )


KOVASZNAY_DEFAULTS = {
    "steps": 1000,
    "lbfgs_steps": 2000,
    "batch": 512,
    "width": 50,
    "depth": 4,
    "lr": 3e-3,
    "fourier_features": True,
    "fourier_scale": 2.0,
}
"""Measured (benchmarks/RESULTS.md, issue 6): u, v ≈ 2.7e-4, 6.8e-4 in 247 CPU seconds."""
CAVITY_DEFAULTS = {
    "smooth": {
        "steps": 2000,
        "lbfgs_steps": 3000,
        "batch": 512,
        "width": 50,
        "depth": 4,
        "lr": 2e-3,
        "fourier_features": True,
        "fourier_scale": 1.0,
        "sampler": "rad",
    },
    "classic": {
        "steps": 5000,
        "lbfgs_steps": 3000,
        "batch": 1024,
        "width": 100,
        "depth": 4,
        "lr": 3e-3,
        "fourier_features": True,
        "fourier_scale": 2.0,
        "sampler": "sobol",
    },
}
"""Measured at Re = 100 (benchmarks/RESULTS.md, issue 6)."""
TAYLOR_GREEN_DEFAULTS = {
    "steps": 1000,
    "lbfgs_steps": 500,
    "batch": 1024,
    "width": 50,
    "depth": 4,
    "lr": 3e-3,
    "fourier_features": True,
    "fourier_scale": 2.0,
}
"""Measured at ν = 0.01, T = 1 (benchmarks/RESULTS.md, issue 6): u, v ≈ 2e-3."""
