"""Laplace's equation on an L-shaped domain with the corner singularity: a problem a user writes.

    Δu = 0 on L = (−1, 1)² minus [0, 1] × [−1, 0],   u = g on ∂L,
    u = r^(2/3) sin(2θ/3)   (θ ∈ [0, 3π/2] measured from the positive x axis),

whose gradient is infinite at the re-entrant corner (0, 0). Run it from the command line,
``pinn solve examples/l_shape.py:problem --out runs/l_shape`` (then ``pinn export-vtk runs/l_shape``,
``pinn plot runs/l_shape``), or as a script, ``python examples/l_shape.py``, which solves it
with the settings below and prints the error against the exact solution.
"""

import time

import torch

import pinn
from pdes import Problem, Term
from pdes.geometry import Polygon
from pdes.reference import AnalyticReference

CORNERS = [(-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (-1.0, 1.0)]
"""The L's vertices, counter-clockwise; the re-entrant corner is (0, 0)."""

SETTINGS = dict(steps=4000, lbfgs_steps=1000, batch=2048, width=64, depth=4, lr=2e-3, sampler="sobol")
"""Settings of the benchmark (benchmarks/l_shape.py) and of this script."""


def corner_solution(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``r^(2/3) sin(2θ/3)`` with ``θ = atan2(y, x)`` taken in ``[0, 2π)``."""
    r = torch.sqrt(x**2 + y**2)
    theta = torch.remainder(torch.atan2(y, x), 2 * torch.pi)
    return r ** (2 / 3) * torch.sin(2 * theta / 3)


def problem() -> Problem:
    """The L-shape problem (module docstring), with Dirichlet data from the exact solution."""
    domain = Polygon(CORNERS)
    terms = [
        Term("pde", domain, lambda f: f.u_xx + f.u_yy),
        Term("boundary", domain.boundary, lambda f: f.u - corner_solution(f.x, f.y), weight=10.0),
    ]
    reference = AnalyticReference(("x", "y"), lambda x, y: {"u": corner_solution(x, y)})
    return Problem("l_shape", ("x", "y"), ("u",), domain, terms, reference=reference, defaults=SETTINGS)


if __name__ == "__main__":
    result = pinn.solve(problem(), out=f"runs/l_shape-{time.strftime('%Y%m%d-%H%M%S')}")
    print(f"relative L2 error of u: {result.report['errors']['u']['rel_l2']:.2e}")
    print(f"wall time: {result.report['wall_time_s']:.1f} s")
