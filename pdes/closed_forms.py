"""Closed-form functions written once for numpy arrays and torch tensors alike.

A PINN residual calls them with torch tensors, a FEM solver with numpy arrays at
quadrature points or nodes; ``namespace(x)`` picks the module whose ``sin``, ``cos``,
``exp`` … apply to ``x``. Nothing here imports scikit-fem.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np
import torch

LIDS = ("classic", "smooth")
"""Lid profiles of the driven cavity: ``classic`` u = 1, ``smooth`` u = 4x(1 − x)."""


def namespace(x: Any) -> ModuleType:
    """``torch`` for a torch tensor, else ``numpy``."""
    return torch if isinstance(x, torch.Tensor) else np


def lid_velocity(lid: str, x: Any) -> Any:
    """Horizontal velocity of the cavity lid at ``x``: 1 (classic) or ``4x(1 − x)`` (smooth)."""
    if lid == "classic":
        return 1.0 + 0.0 * x
    if lid == "smooth":
        return 4.0 * x * (1.0 - x)
    raise ValueError(f"unknown lid '{lid}'; valid lids: {', '.join(LIDS)}")


def kovasznay_lambda(re: float) -> float:
    """``λ = Re/2 − sqrt(Re²/4 + 4π²)`` of Kovasznay's flow."""
    return re / 2 - math.sqrt(re * re / 4 + 4 * math.pi**2)


def kovasznay(x: Any, y: Any, re: float) -> tuple[Any, Any, Any]:
    """Kovasznay's steady flow ``(u, v, p)``, pressure with ``p → 0`` as ``x → −∞``.

    ``u = 1 − e^{λx} cos 2πy``, ``v = λ/(2π) e^{λx} sin 2πy``, ``p = (1 − e^{2λx})/2``.
    """
    m = namespace(x)
    lam = kovasznay_lambda(re)
    decay = m.exp(lam * x)
    u = 1.0 - decay * m.cos(2 * math.pi * y)
    v = lam / (2 * math.pi) * decay * m.sin(2 * math.pi * y)
    p = 0.5 * (1.0 - m.exp(2 * lam * x))
    return u, v, p


def taylor_green(x: Any, y: Any, t: Any, nu: float, length: float) -> tuple[Any, Any, Any]:
    """The decaying Taylor–Green vortex on ``[0, L]²``, wave number ``k = 2π/L``, ``F = e^{−2νk²t}``.

    ``u = −cos kx sin ky F``, ``v = sin kx cos ky F``, ``p = −(cos 2kx + cos 2ky) F²/4``.
    """
    m = namespace(x)
    k = 2 * math.pi / length
    decay = m.exp(-2 * nu * k * k * (t + 0.0 * x))
    u = -m.cos(k * x) * m.sin(k * y) * decay
    v = m.sin(k * x) * m.cos(k * y) * decay
    p = -0.25 * (m.cos(2 * k * x) + m.cos(2 * k * y)) * decay**2
    return u, v, p
