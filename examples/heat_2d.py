"""Solve u_t = 0.1 (u_xx + u_yy) on the unit square, written out as a user would define it.

The registered problem ``pdes.get("heat2d")`` is the same; this script builds it from
regions and Terms to show how a new PDE is defined without touching the solver.
"""

import math
import time

import torch

import pinn
from pdes import Problem, Term
from pdes.geometry import Box, SpaceTime, TimeInterval
from pdes.reference import AnalyticReference

alpha = 0.1
pi = math.pi
domain = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0))


def initial(x, y):
    return torch.sin(pi * x) * torch.sin(pi * y) + 0.5 * torch.sin(2 * pi * x) * torch.sin(pi * y)


def exact(x, y, t):
    return {
        "u": torch.sin(pi * x) * torch.sin(pi * y) * torch.exp(-2 * alpha * pi**2 * t)
        + 0.5 * torch.sin(2 * pi * x) * torch.sin(pi * y) * torch.exp(-5 * alpha * pi**2 * t)
    }


problem = Problem(
    name="my_heat2d",
    coordinates=("x", "y", "t"),
    fields=("u",),
    domain=domain,
    terms=[
        Term("pde", domain, lambda f: f.u_t - alpha * f.laplacian("u", "xy")),
        Term("boundary", domain.boundary, lambda f: f.u),
        Term("initial", domain.initial, lambda f: f.u - initial(f.x, f.y)),
    ],
    reference=AnalyticReference(("x", "y", "t"), exact),
)

result = pinn.solve(
    problem,
    steps=2000,
    lbfgs_steps=1000,
    batch=1024,
    width=32,
    depth=4,
    lr=5e-3,
    out=f"runs/heat2d-{time.strftime('%Y%m%d-%H%M%S')}",
)
print(f"relative L2 error of u: {result.report['errors']['u']['rel_l2']:.2e} in {result.report['wall_time_s']:.0f} s")
