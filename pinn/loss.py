"""The PINN loss: per term, the quadrature of the squared residual.

L(θ) = Σ_k λ_k Σ_i w_i r_k(x_i; θ)²
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from pdes.problem import Derivatives, Problem, Term
from pinn.derivatives import ENGINES, AutogradDerivatives, ForwardDerivatives, forward_parts
from pinn.jets import is_second_order
from pinn.nn import check_choice
from pinn.reads import derivatives_read
from samplers.quadrature import Quadrature

Tensor = torch.Tensor


def derivative_engine(
    model: Callable[[Tensor], Tensor], problem: Problem, terms: Sequence[Term], points: Tensor, engine: str = "auto"
) -> Derivatives:
    """The derivative engine ``engine`` (``ENGINES``) of ``model`` for ``terms``' residuals at ``points``.

    ``forward`` carries exactly the derivatives the residuals read (``pinn.reads``), for all
    of ``terms`` in one pass; ``autograd`` is nested reverse mode, its cache shared by the
    terms; ``auto`` is ``forward`` where it saves work: residuals that read values only
    (a plain forward pass, any model), and residuals that read second derivatives of a
    model it knows (``pinn.derivatives.forward_parts``). Residuals of first derivatives
    cost nested autograd as many matrix products as the jet and fewer other operations
    (benchmarks/RESULTS.md), so they get ``autograd``, as do models the forward engine does
    not know.
    """
    check_choice("engine", engine, ENGINES)
    if engine == "autograd":
        return AutogradDerivatives(model, points)
    needed = frozenset().union(*(derivatives_read(problem, term, points) for term in terms))
    values_only = all(not wrt for _, wrt in needed)
    if engine == "auto" and not values_only:
        if forward_parts(model) is None or not any(is_second_order(wrt) for _, wrt in needed):
            return AutogradDerivatives(model, points)
    return ForwardDerivatives(model, points, needed)


def residuals(
    model: Callable[[Tensor], Tensor], problem: Problem, terms: Sequence[Term], points: Tensor, engine: str = "auto"
) -> list[Tensor]:
    """The residual ``r_k(x_i)`` of each of ``terms`` at the same ``points``, ``(N,)`` tensors.

    One derivative engine serves them all, so a derivative several residuals read (e.g.
    ``u_x`` in both momentum equations and continuity) is computed once.
    """
    derivatives = derivative_engine(model, problem, terms, points, engine)
    return [_checked(term, term.residual(problem.fields_at(derivatives, term.region)), points) for term in terms]


def residual(
    model: Callable[[Tensor], Tensor], problem: Problem, term: Term, points: Tensor, engine: str = "auto"
) -> Tensor:
    """The residual ``r(x_i)`` of ``term`` at each point, an ``(N,)`` tensor, by the derivative ``engine``."""
    (r,) = residuals(model, problem, [term], points, engine)
    return r


def _checked(term: Term, r: Tensor | float, points: Tensor) -> Tensor:
    """``r`` as an ``(N,)`` tensor of ``points``' dtype (a constant broadcast); a wrong shape raises."""
    r = torch.as_tensor(r, dtype=points.dtype, device=points.device)
    if r.ndim == 0:
        return r.expand(points.shape[0])
    if r.shape != (points.shape[0],):
        raise ValueError(f"term '{term.name}': residual has shape {tuple(r.shape)}, expected ({points.shape[0]},)")
    return r


def sharing_groups(terms: Sequence[Term], shared: Mapping[str, object]) -> list[list[Term]]:
    """``terms`` grouped, in order, by the identity of ``shared[term.name]``.

    With a step's batches, terms whose quadrature is one and the same object share its points;
    with the solver's rules, terms that share a rule draw one batch.
    """
    groups: dict[int, list[Term]] = {}
    for term in terms:
        groups.setdefault(id(shared[term.name]), []).append(term)
    return list(groups.values())


def term_losses(
    model: Callable[[Tensor], Tensor], problem: Problem, batches: Mapping[str, Quadrature], engine: str = "auto"
) -> dict[str, Tensor]:
    """``{term: Σ_i w_i r(x_i)²}`` (unweighted by λ) for each term's batch, by the derivative ``engine``.

    Terms sharing a batch (``sharing_groups``) share one derivative pass.
    """
    losses = {}
    for group in sharing_groups(problem.terms, batches):
        q = batches[group[0].name]
        for term, r in zip(group, residuals(model, problem, group, q.points, engine)):
            losses[term.name] = q.mean(r**2)
    return {t.name: losses[t.name] for t in problem.terms}


def total_loss(problem: Problem, losses: Mapping[str, Tensor], balance: Mapping[str, float] | None = None) -> Tensor:
    """``Σ_k λ_k L_k`` with ``λ_k`` the Term's weight, times its balancing weight if ``balance`` is given."""
    return sum(t.weight * (1.0 if balance is None else balance[t.name]) * losses[t.name] for t in problem.terms)
