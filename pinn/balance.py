"""Automatic loss balancing by gradient norms (Wang et al., "An expert's guide to training PINNs").

With ``g_k = ‖∇_θ L_k‖`` the gradient norm of term k's loss (before any weight), an update sets

    λ̂_k = Σ_j g_j / g_k,        λ_k ← α λ_k + (1 − α) λ̂_k,     α = MOMENTUM

so that every weighted term pulls on the parameters about equally hard. The solver updates
every ``Config.balance_every`` Adam steps (``pinn.callbacks.Balance``, starting at step 0 from λ = 1) and minimizes
``Σ_k w_k λ_k L_k`` with ``w_k`` the Term's own weight; L-BFGS keeps the last weights. A term
whose gradient norm is zero or not finite keeps its weight, so the weights stay finite and
positive (every λ̂_k ≥ 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

Tensor = torch.Tensor

MOMENTUM = 0.9
"""α, the weight of the old λ in each update (Wang et al.'s choice)."""


def gradient_norm(loss: Tensor, parameters: Sequence[Tensor]) -> float:
    """``‖∇_θ loss‖₂`` over ``parameters``; the graph is kept for the step's own backward pass."""
    grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
    squares = [g.detach().pow(2).sum() for g in grads if g is not None]
    return math.sqrt(float(sum(squares))) if squares else 0.0


def updated_weights(
    weights: Mapping[str, float], losses: Mapping[str, Tensor], parameters: Sequence[Tensor]
) -> dict[str, float]:
    """The weights after one update (module docstring) from the terms' current ``losses``."""
    norms = {name: gradient_norm(loss, parameters) for name, loss in losses.items()}
    usable = {name: g for name, g in norms.items() if math.isfinite(g) and g > 0}
    total = sum(usable.values())
    updated = dict(weights)
    for name, g in usable.items():
        updated[name] = MOMENTUM * weights[name] + (1 - MOMENTUM) * total / g
    return updated
