"""The PINN loss: per term, the quadrature of the squared residual.

L(θ) = Σ_k λ_k Σ_i w_i r_k(x_i; θ)²
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from pdes.problem import Derivatives, Problem, Term
from pinn.derivatives import ENGINES, AutogradDerivatives, ForwardDerivatives, forward_parts
from pinn.nn import check_choice
from pinn.reads import derivatives_read
from samplers.quadrature import Quadrature

Tensor = torch.Tensor


def derivative_engine(
    model: Callable[[Tensor], Tensor], problem: Problem, term: Term, points: Tensor, engine: str = "auto"
) -> Derivatives:
    """The derivative engine ``engine`` (``ENGINES``) of ``model`` for ``term`` at ``points``.

    ``forward`` carries exactly the derivatives the residual reads (``pinn.reads``);
    ``autograd`` is nested reverse mode; ``auto`` is ``forward`` where it saves work: for a
    model it knows (``pinn.derivatives.forward_parts``) and a residual that reads second
    derivatives. Residuals of first derivatives cost nested autograd as many matrix
    products as the jet and fewer other operations (benchmarks/RESULTS.md), so they get
    ``autograd``, as do models the forward engine does not know.
    """
    check_choice("engine", engine, ENGINES)
    if engine == "autograd" or (engine == "auto" and forward_parts(model) is None):
        return AutogradDerivatives(model, points)
    needed = derivatives_read(problem, term, points)
    if engine == "auto" and not any(len(wrt) == 2 for _, wrt in needed):
        return AutogradDerivatives(model, points)
    return ForwardDerivatives(model, points, needed)


def residual(
    model: Callable[[Tensor], Tensor], problem: Problem, term: Term, points: Tensor, engine: str = "auto"
) -> Tensor:
    """The residual ``r(x_i)`` of ``term`` at each point, an ``(N,)`` tensor, by the derivative ``engine``."""
    fields = problem.fields_at(derivative_engine(model, problem, term, points, engine), term.region)
    r = term.residual(fields)
    r = torch.as_tensor(r, dtype=points.dtype, device=points.device)
    if r.ndim == 0:
        return r.expand(points.shape[0])
    if r.shape != (points.shape[0],):
        raise ValueError(f"term '{term.name}': residual has shape {tuple(r.shape)}, expected ({points.shape[0]},)")
    return r


def term_losses(
    model: Callable[[Tensor], Tensor], problem: Problem, batches: Mapping[str, Quadrature], engine: str = "auto"
) -> dict[str, Tensor]:
    """``{term: Σ_i w_i r(x_i)²}`` (unweighted by λ) for each term's batch, by the derivative ``engine``."""
    return {
        t.name: batches[t.name].mean(residual(model, problem, t, batches[t.name].points, engine) ** 2)
        for t in problem.terms
    }


def total_loss(problem: Problem, losses: Mapping[str, Tensor], balance: Mapping[str, float] | None = None) -> Tensor:
    """``Σ_k λ_k L_k`` with ``λ_k`` the Term's weight, times its balancing weight if ``balance`` is given."""
    return sum(t.weight * (1.0 if balance is None else balance[t.name]) * losses[t.name] for t in problem.terms)
