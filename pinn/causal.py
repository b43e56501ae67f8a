"""Causal weighting of a time-dependent residual: later times enter the loss as earlier ones are resolved.

A PINN trained on all of ``[t0, T]`` at once can fit the residual at late times before the solution
there is determined by the earlier ones, and settle on a wrong one. Causal training (Wang, Sankaran
& Perdikaris, "Respecting causality is all you need", 2022) weights the residual at time ``t`` by how
well every earlier time is resolved. Here, in the language of quadrature: the interval is cut into
``bins`` equal bins; ``L_m`` is the batch's estimate of the mean squared residual in bin ``m``
(``Σ_{i∈m} w_i r_i² / Σ_{i∈m} w_i``, 0 for a bin without points); a point in bin ``m`` gets the factor

    c_m = exp(−ε Σ_{k<m} L_k),

held fixed (no gradient flows through it), and the term's loss is ``Σ_i c(t_i) w_i r_i²``. So ``c = 1``
in the first bin and ``c`` never grows with time; ``ε = 0`` is the plain loss. The factors apply to a
term on the problem's own space-time domain (the PDE residual), not to its boundary or initial terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from pdes.geometry import SpaceTime
from pdes.problem import Problem, Term

Tensor = torch.Tensor


@dataclass(frozen=True)
class Causal:
    """The causal factors of the module docstring on the time interval ``[t0, t1]`` (time: the last coordinate)."""

    epsilon: float
    bins: int
    t0: float
    t1: float

    def bin_of(self, t: Tensor) -> Tensor:
        """The bin ``0 … bins − 1`` of each time ``t``."""
        position = (t.detach() - self.t0) / (self.t1 - self.t0) * self.bins
        return position.floor().clamp(0, self.bins - 1).long()

    def bin_losses(self, t: Tensor, squared: Tensor, weights: Tensor) -> Tensor:
        """``L_m``: the weighted mean of ``squared`` over each bin's points (0 where a bin has none)."""
        index = self.bin_of(t)
        totals = torch.zeros(self.bins, dtype=squared.dtype, device=squared.device)
        masses = torch.zeros_like(totals)
        totals.index_add_(0, index, (weights * squared).detach())
        masses.index_add_(0, index, weights.detach().to(squared.dtype))
        return torch.where(masses > 0, totals / masses.clamp_min(torch.finfo(squared.dtype).tiny), 0.0)

    def factors(self, t: Tensor, squared: Tensor, weights: Tensor) -> Tensor:
        """``c(t_i)`` at every point: ``exp(−ε Σ_{k<m} L_k)`` for the point's bin ``m``, without gradient."""
        losses = self.bin_losses(t, squared, weights)
        earlier = torch.cumsum(losses, 0) - losses
        return torch.exp(-self.epsilon * earlier)[self.bin_of(t)]


def causal_terms(problem: Problem, epsilon: float, bins: int) -> dict[str, Causal]:
    """``{term: Causal}`` for the terms on the problem's space-time domain; empty when ``epsilon`` is 0 or the
    problem has no time."""
    domain = problem.domain
    if epsilon == 0 or not isinstance(domain, SpaceTime):
        return {}
    causal = Causal(epsilon, bins, domain.time.t0, domain.time.t1)
    return {term.name: causal for term in problem.terms if on_domain(term, domain)}


def on_domain(term: Term, domain: SpaceTime) -> bool:
    return term.region is domain
