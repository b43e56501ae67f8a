"""Heat-equation problems: ``u_t = α Δu`` with analytic solutions, and ``heat2d_varcoef`` with a FEM reference."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from pdes.closed_forms import namespace
from pdes.geometry import Box, Interval, SpaceTime, TimeInterval
from pdes.problem import Problem, Term, check_positive
from pdes.reference import AnalyticReference, FEMReference
from pdes.transforms import ZeroDirichlet

pi = math.pi
Tensor = torch.Tensor


CONSTRAINTS = ("exact", "soft")
"""How heat1d/heat2d impose their boundary and initial data: by an output transform, or as loss terms."""


def heat_problem(
    name: str,
    domain: SpaceTime,
    coordinates: tuple[str, ...],
    pde: Callable,
    initial: Callable[..., Tensor],
    solution: Callable[..., dict[str, Tensor]],
    constraints: str,
    params: dict,
    defaults: dict,
    coefficients: dict | None = None,
) -> Problem:
    """A heat problem with zero Dirichlet data and initial data ``initial``, imposed as ``constraints`` says."""
    if constraints not in CONSTRAINTS:
        raise ValueError(f"unknown constraints '{constraints}'; valid: {', '.join(CONSTRAINTS)}")
    terms = [Term("pde", domain, pde)]
    transform = ZeroDirichlet(domain, initial) if constraints == "exact" else None
    if constraints == "soft":
        space = coordinates[:-1]
        terms += [
            Term("boundary", domain.boundary, lambda f: f.u),
            Term("initial", domain.initial, lambda f: f.u - initial(*(getattr(f, c) for c in space))),
        ]
    return Problem(
        name=name,
        coordinates=coordinates,
        fields=("u",),
        domain=domain,
        terms=terms,
        reference=AnalyticReference(coordinates, solution),
        params={**params, "constraints": constraints},
        defaults=defaults,
        transform=transform,
        coefficients=coefficients or {},
    )


def heat1d(alpha: float = 0.4, constraints: str = "exact") -> Problem:
    """``u_t = α u_xx`` on (0, 1) × (0, 1], ``u(x, 0) = sin πx``, ``u = 0`` at x = 0, 1.

    Solution: ``u = sin(πx) exp(−απ²t)``. ``constraints``: "exact" (ZeroDirichlet output
    transform, one loss term ``pde``) or "soft" (terms ``boundary`` and ``initial`` too).
    """
    check_positive("heat1d", "alpha", alpha, "the diffusivity")
    domain = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def initial(x):
        return torch.sin(pi * x)

    def solution(x, t):
        return {"u": torch.sin(pi * x) * torch.exp(-alpha * pi**2 * t)}

    defaults = HEAT1D_DEFAULTS[constraints] if constraints in CONSTRAINTS else {}
    return heat_problem(
        "heat1d", domain, ("x", "t"), lambda f: f.u_t - f.alpha * f.u_xx, initial, solution, constraints,
        {"alpha": alpha}, defaults, coefficients={"alpha": alpha},
    )  # fmt: skip


HEAT2D_MODES = ((1, 1, 1.0), (2, 1, 0.5))
"""``(m, n, amplitude)`` of the sine modes ``sin(mπx) sin(nπy)`` of heat2d's initial data."""


def heat2d(alpha: float = 0.1, constraints: str = "exact") -> Problem:
    """``u_t = α (u_xx + u_yy)`` on the unit square × (0, 1], zero Dirichlet data.

    ``u(x, y, 0) = Σ a sin(mπx) sin(nπy)`` over HEAT2D_MODES; each mode decays as
    ``exp(−απ²(m² + n²)t)``. ``constraints`` as for heat1d.
    """
    check_positive("heat2d", "alpha", alpha, "the diffusivity")
    domain = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0))

    def modes(x, y, t):
        return sum(
            a * torch.sin(m * pi * x) * torch.sin(n * pi * y) * torch.exp(-alpha * pi**2 * (m * m + n * n) * t)
            for m, n, a in HEAT2D_MODES
        )

    defaults = HEAT2D_DEFAULTS[constraints] if constraints in CONSTRAINTS else {}
    return heat_problem(
        "heat2d", domain, ("x", "y", "t"), lambda f: f.u_t - f.alpha * f.laplacian("u", "xy"),
        lambda x, y: modes(x, y, 0.0 * x), lambda x, y, t: {"u": modes(x, y, t)}, constraints,
        {"alpha": alpha}, defaults, coefficients={"alpha": alpha},
    )  # fmt: skip


def varcoef_kappa(x, y):
    """Conductivity of heat2d_varcoef: ``κ = 0.05 (1.5 + sin πx cos πy)``, between 0.025 and 0.125."""
    m = namespace(x)
    return 0.05 * (1.5 + m.sin(pi * x) * m.cos(pi * y))


def varcoef_kappa_gradient(x, y):
    """``(κ_x, κ_y) = 0.05π (cos πx cos πy, −sin πx sin πy)``."""
    m = namespace(x)
    return 0.05 * pi * m.cos(pi * x) * m.cos(pi * y), -0.05 * pi * m.sin(pi * x) * m.sin(pi * y)


def varcoef_source(x, y, t):
    """Heat source of heat2d_varcoef: ``s = 2 exp(−20((x − 0.7)² + (y − 0.6)²)) (1 + ½ sin 2πt)``."""
    m = namespace(x)
    return 2.0 * m.exp(-20.0 * ((x - 0.7) ** 2 + (y - 0.6) ** 2)) * (1.0 + 0.5 * m.sin(2 * pi * (t + 0.0 * x)))


def varcoef_initial(x, y):
    """Initial temperature of heat2d_varcoef: ``sin πx sin πy``."""
    m = namespace(x)
    return m.sin(pi * x) * m.sin(pi * y)


HEAT2D_VARCOEF_RESOLUTION = 32
"""Cells per side of the FEM reference mesh of heat2d_varcoef."""


def heat2d_varcoef(constraints: str = "exact") -> Problem:
    """``u_t = ∇·(κ∇u) + s`` on the unit square × (0, 1], ``u = 0`` on the boundary, ``u(·, 0) = u0``.

    κ, s and u0 are ``varcoef_kappa``, ``varcoef_source`` and ``varcoef_initial``; the PINN
    residual expands ``∇·(κ∇u) = κΔu + ∇κ·∇u``. ``constraints`` as for heat2d. No closed
    form: the reference is the P2 finite element solution ``heat2d_varcoef_fem``, computed
    on first use and cached.
    """
    if constraints not in CONSTRAINTS:
        raise ValueError(f"unknown constraints '{constraints}'; valid: {', '.join(CONSTRAINTS)}")
    domain = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0))

    def pde(f):
        kappa_x, kappa_y = varcoef_kappa_gradient(f.x, f.y)
        flux_divergence = varcoef_kappa(f.x, f.y) * f.laplacian("u", "xy") + kappa_x * f.u_x + kappa_y * f.u_y
        return f.u_t - flux_divergence - varcoef_source(f.x, f.y, f.t)

    terms = [Term("pde", domain, pde)]
    if constraints == "soft":
        terms += [
            Term("boundary", domain.boundary, lambda f: f.u),
            Term("initial", domain.initial, lambda f: f.u - varcoef_initial(f.x, f.y)),
        ]
    return Problem(
        name="heat2d_varcoef",
        coordinates=("x", "y", "t"),
        fields=("u",),
        domain=domain,
        terms=terms,
        reference=FEMReference(
            "heat2d_varcoef",
            "pdes.heat_problems:heat2d_varcoef_fem",
            ("x", "y", "t"),
            ("u",),
            resolution=HEAT2D_VARCOEF_RESOLUTION,
        ),
        params={"constraints": constraints},
        defaults=HEAT2D_DEFAULTS[constraints],
        transform=ZeroDirichlet(domain, varcoef_initial) if constraints == "exact" else None,
    )


def heat2d_varcoef_fem(resolution: int, steps: int = 200, element: str = "P2"):
    """The FEM solution of heat2d_varcoef: ``resolution²`` cells, ``steps`` BDF2 steps on [0, 1]."""
    from pdes.fem import heat, mesh  # scikit-fem is loaded only when a reference is computed

    def zero(x, y, t):
        return 0.0 * x

    return heat.solve(
        mesh.rectangle((0.0, 0.0), (1.0, 1.0), resolution, resolution),
        varcoef_kappa,
        varcoef_initial,
        t_end=1.0,
        steps=steps,
        source=varcoef_source,
        dirichlet=dict.fromkeys(("left", "right", "bottom", "top"), zero),
        element=element,
    )


HEAT1D_DEFAULTS = {
    "exact": {"steps": 1000, "lbfgs_steps": 500, "batch": 1024, "width": 32, "depth": 3, "lr": 5e-3},
    "soft": {"steps": 1000, "lbfgs_steps": 1000, "batch": 1024, "width": 32, "depth": 3, "lr": 5e-3},
}
HEAT2D_DEFAULTS = {
    "exact": {"steps": 1500, "lbfgs_steps": 600, "batch": 1024, "width": 32, "depth": 4, "lr": 5e-3},
    "soft": {"steps": 1500, "lbfgs_steps": 1500, "batch": 1024, "width": 32, "depth": 4, "lr": 5e-3},
}
