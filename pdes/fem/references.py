"""Ready-made cached FEM references for the Navier–Stokes problems (fields u, v, p).

Each returns a ``pdes.reference.FEMReference`` whose solver lives in
``pdes.fem.navier_stokes``; nothing is computed (and scikit-fem is not imported) until
the reference is first evaluated. Pressure is compared up to a constant; the solutions
store it with zero mean over the domain.
"""

from __future__ import annotations

import math

from pdes.closed_forms import lid_velocity
from pdes.reference import FEMReference

CAVITY_RESOLUTION = 64
"""Default cells per side of the cavity mesh (converged centreline at Re ≤ 1000, see benchmarks/RESULTS.md)."""


CAVITY_MAX_RE = 1000.0
"""Largest Reynolds number the cavity solver is verified for (continuation from Re = 100)."""


def cavity(re: float = 100.0, lid: str = "classic", resolution: int = CAVITY_RESOLUTION) -> FEMReference:
    """The lid-driven cavity on the unit square, coordinates (x, y), lid ``classic`` (u = 1) or ``smooth``."""
    lid_velocity(lid, 0.0)
    if not 0 < re <= CAVITY_MAX_RE:
        raise ValueError(f"re must lie in (0, {CAVITY_MAX_RE:g}], got {re}")
    return FEMReference(
        "cavity",
        "pdes.fem.navier_stokes:cavity",
        ("x", "y"),
        ("u", "v", "p"),
        resolution,
        params={"re": re, "lid": lid},
        up_to_constant=("p",),
    )


def kovasznay(re: float = 20.0, resolution: int = 32) -> FEMReference:
    """Kovasznay's flow on [−0.5, 1] × [−0.5, 1.5], coordinates (x, y)."""
    if not re > 0:
        raise ValueError(f"re must be positive, got {re}")
    return FEMReference(
        "kovasznay",
        "pdes.fem.navier_stokes:kovasznay",
        ("x", "y"),
        ("u", "v", "p"),
        resolution,
        params={"re": re},
        up_to_constant=("p",),
    )


def taylor_green(
    nu: float = 0.01, t_end: float = 1.0, length: float = 2 * math.pi, resolution: int = 32, steps: int = 100
) -> FEMReference:
    """The Taylor–Green vortex on [0, L]² × [0, t_end], coordinates (x, y, t)."""
    if not nu > 0 or not t_end > 0 or not length > 0:
        raise ValueError(f"nu, t_end and length must be positive, got {nu}, {t_end}, {length}")
    return FEMReference(
        "taylor_green",
        "pdes.fem.navier_stokes:taylor_green",
        ("x", "y", "t"),
        ("u", "v", "p"),
        resolution,
        params={"nu": nu, "t_end": t_end, "length": length},
        settings={"steps": steps},
        up_to_constant=("p",),
    )
