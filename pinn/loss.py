"""The PINN loss: per term, the quadrature of the squared residual.

L(θ) = Σ_k λ_k Σ_i w_i r_k(x_i; θ)²
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from pdes.problem import Problem, Term
from pinn.derivatives import AutogradDerivatives
from samplers.quadrature import Quadrature

Tensor = torch.Tensor


def residual(model: Callable[[Tensor], Tensor], problem: Problem, term: Term, points: Tensor) -> Tensor:
    """The residual ``r(x_i)`` of ``term`` at each point, an ``(N,)`` tensor."""
    engine = AutogradDerivatives(model, points)
    r = term.residual(problem.fields_at(engine, term.region))
    r = torch.as_tensor(r, dtype=points.dtype, device=points.device)
    if r.ndim == 0:
        return r.expand(points.shape[0])
    if r.shape != (points.shape[0],):
        raise ValueError(f"term '{term.name}': residual has shape {tuple(r.shape)}, expected ({points.shape[0]},)")
    return r


def term_losses(
    model: Callable[[Tensor], Tensor], problem: Problem, batches: Mapping[str, Quadrature]
) -> dict[str, Tensor]:
    """``{term: Σ_i w_i r(x_i)²}`` (unweighted by λ) for each term's batch."""
    return {
        t.name: batches[t.name].mean(residual(model, problem, t, batches[t.name].points) ** 2) for t in problem.terms
    }


def total_loss(problem: Problem, losses: Mapping[str, Tensor], balance: Mapping[str, float] | None = None) -> Tensor:
    """``Σ_k λ_k L_k`` with ``λ_k`` the Term's weight, times its balancing weight if ``balance`` is given."""
    return sum(t.weight * (1.0 if balance is None else balance[t.name]) * losses[t.name] for t in problem.terms)
