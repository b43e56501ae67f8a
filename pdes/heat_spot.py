"""``heat_spot``: steady heat in the unit disk from a narrow Gaussian heat source, a fine feature.

On the unit disk ``Ω``, ``−Δu = s`` with ``u = 0`` on the circle and the source

    s(r) = (2/σ²) exp(−r²/(2σ²)),     r = |x|,

a spot of width ``σ`` (0.02 by default: 0.16 % of the disk's area lies within 2σ of its centre,
so a set of 256 uniform points holds none of it with probability about 2/3). The total power is ``∫ s = 4π``.
The solution is radial: ``−(r u')'/r = s`` gives ``u' = −2(1 − exp(−a r²))/r``, ``a = 1/(2σ²)``, and

    u(r) = Ein(a) − Ein(a r²),     Ein(z) = ∫₀^z (1 − e^{−τ})/τ dτ = E₁(z) + ln z + γ,

smooth, with a core of width σ and a logarithmic tail (``u(0) = Ein(a) ≈ 7.7`` at σ = 0.02). The
boundary value is imposed exactly: ``u = (1 − r²)·N``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import exp1

from pdes.geometry import Disk
from pdes.problem import Problem, Term, check_positive
from pdes.reference import AnalyticReference
from pdes.taylor import Taylor
from pdes.transforms import AffineTransform, Evaluation

Tensor = torch.Tensor

SERIES_TERMS = 40
"""Terms of Ein's power series, used below ``z = 1`` (where ``E₁ + ln z + γ`` loses digits to cancellation)."""

DEFAULTS = {"steps": 4000, "lbfgs_steps": 0, "batch": 1024, "width": 32, "depth": 4, "lr": 5e-3}


def ein(z: np.ndarray) -> np.ndarray:
    """``Ein(z) = ∫₀^z (1 − e^{−τ})/τ dτ`` for ``z ≥ 0``: ``Σ_k (−1)^{k+1} z^k/(k·k!)`` below 1,
    else ``E₁(z) + ln z + γ``."""
    z = np.asarray(z, dtype=np.float64)
    small = np.minimum(z, 1.0)
    series = np.zeros_like(z)
    term = np.ones_like(z)
    for k in range(1, SERIES_TERMS + 1):
        term = term * small / k
        series += (-1) ** (k + 1) * term / k
    large = exp1(np.maximum(z, 1.0)) + np.log(np.maximum(z, 1.0)) + np.euler_gamma
    return np.where(z < 1.0, series, large)


def spot_solution(width: float):
    """The closed form ``u(r) = Ein(a) − Ein(a r²)`` (module docstring) as a reference solution of (x, y)."""
    a = 1.0 / (2.0 * width**2)
    top = float(ein(np.array(a)))

    def solution(x: Tensor, y: Tensor) -> dict[str, Tensor]:
        r2 = (x**2 + y**2).detach().cpu().to(torch.float64).numpy()
        return {"u": torch.as_tensor(top - ein(a * r2)).to(x.device, x.dtype)}

    return solution


class DiskZeroDirichlet(AffineTransform):
    """``u = (1 − r²)·N`` on the unit disk centred at the origin: zero on the circle, exactly."""

    fields = (0,)

    def offset_and_scale(self, coordinates: list[Tensor | Taylor], data: Evaluation):
        x, y = coordinates
        scale = 1 - x * x - y * y
        return scale * 0.0, scale


def heat_spot(width: float = 0.02) -> Problem:
    """The spot of width ``σ = width`` (module docstring); ``width`` must lie in (0, 0.25]."""
    check_positive("heat_spot", "width", width)
    if width > 0.25:
        raise ValueError(f"heat_spot: width must be at most 0.25 (a spot inside the unit disk), got {width}")
    domain = Disk([0.0, 0.0], 1.0)

    def source(x: Tensor, y: Tensor) -> Tensor:
        return 2.0 / width**2 * torch.exp(-(x**2 + y**2) / (2.0 * width**2))

    def pde(f):
        return -f.laplacian("u", "xy") - source(f.x, f.y)

    return Problem(
        name="heat_spot",
        coordinates=("x", "y"),
        fields=("u",),
        domain=domain,
        terms=[Term("pde", domain, pde)],
        reference=AnalyticReference(("x", "y"), spot_solution(width)),
        params={"width": width},
        defaults=DEFAULTS,
        transform=DiskZeroDirichlet(),
    )
