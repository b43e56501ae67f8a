"""Heat-equation problems ``u_t = α Δu`` with analytic solutions."""

from __future__ import annotations

import math

import torch

from pdes.geometry import Box, Interval, SpaceTime, TimeInterval
from pdes.problem import Problem, Term
from pdes.reference import AnalyticReference

pi = math.pi


def heat1d(alpha: float = 0.4) -> Problem:
    """``u_t = α u_xx`` on (0, 1) × (0, 1], ``u(x, 0) = sin πx``, ``u = 0`` at x = 0, 1.

    Solution: ``u = sin(πx) exp(−απ²t)``.
    """
    domain = SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def solution(x, t):
        return {"u": torch.sin(pi * x) * torch.exp(-alpha * pi**2 * t)}

    return Problem(
        name="heat1d",
        coordinates=("x", "t"),
        fields=("u",),
        domain=domain,
        terms=[
            Term("pde", domain, lambda f: f.u_t - alpha * f.u_xx),
            Term("boundary", domain.boundary, lambda f: f.u),
            Term("initial", domain.initial, lambda f: f.u - torch.sin(pi * f.x)),
        ],
        reference=AnalyticReference(("x", "t"), solution),
        params={"alpha": alpha},
        defaults=HEAT1D_DEFAULTS,
    )


HEAT2D_MODES = ((1, 1, 1.0), (2, 1, 0.5))
"""``(m, n, amplitude)`` of the sine modes ``sin(mπx) sin(nπy)`` of heat2d's initial data."""


def heat2d(alpha: float = 0.1) -> Problem:
    """``u_t = α (u_xx + u_yy)`` on the unit square × (0, 1], zero Dirichlet data.

    ``u(x, y, 0) = Σ a sin(mπx) sin(nπy)`` over HEAT2D_MODES; each mode decays as
    ``exp(−απ²(m² + n²)t)``.
    """
    domain = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0))

    def modes(x, y, t):
        return sum(
            a * torch.sin(m * pi * x) * torch.sin(n * pi * y) * torch.exp(-alpha * pi**2 * (m * m + n * n) * t)
            for m, n, a in HEAT2D_MODES
        )

    return Problem(
        name="heat2d",
        coordinates=("x", "y", "t"),
        fields=("u",),
        domain=domain,
        terms=[
            Term("pde", domain, lambda f: f.u_t - alpha * (f.u_xx + f.u_yy)),
            Term("boundary", domain.boundary, lambda f: f.u),
            Term("initial", domain.initial, lambda f: f.u - modes(f.x, f.y, 0.0 * f.t)),
        ],
        reference=AnalyticReference(("x", "y", "t"), lambda x, y, t: {"u": modes(x, y, t)}),
        params={"alpha": alpha},
        defaults=HEAT2D_DEFAULTS,
    )


HEAT1D_DEFAULTS = {"steps": 3000, "lbfgs_steps": 500, "batch": 1024, "width": 32, "depth": 3}
HEAT2D_DEFAULTS = {"steps": 4000, "lbfgs_steps": 800, "batch": 2048, "width": 48, "depth": 4}
