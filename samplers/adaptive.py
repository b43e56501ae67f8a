"""Residual-driven rules: RAD (adaptive importance sampling) and RAR (adaptive refinement of a pool).

Both are refreshed by the solver through ``refresh(region, residual, step, generator)``
and redraw their candidates at steps that are multiples of ``every``.
"""

from __future__ import annotations

import math

import torch

from samplers.pool import FRESH, Pool
from samplers.quadrature import (
    Quadrature,
    ResidualFn,
    Rule,
    StatefulRule,
    check_count,
    equal_weights,
    quadrature_or_none,
)
from samplers.uniform import Uniform

Tensor = torch.Tensor


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _candidate_residual(
    base: Rule, region, count: int, residual: ResidualFn, generator: torch.Generator, name: str
) -> tuple[Quadrature, Tensor]:
    """``count`` candidates of ``base`` inside the region (nonzero weight) and ``|r|`` at them."""
    q = base.draw(region, count, generator)
    inside = q.weights > 0
    q = Quadrature(q.points[inside], q.weights[inside])
    r = residual(q.points).detach().to(torch.float64).abs()
    if r.shape != (len(q),) or not torch.isfinite(r).all():
        raise ValueError(f"{name}: the residual at the candidate points is not a finite ({len(q)},) tensor")
    return q, r


def importance_density(weights: Tensor, residual: Tensor, k: float, c: float) -> Tensor:
    """``q_j = |r_j|^k / Σ_i v_i |r_i|^k + c``: the RAD density relative to the region's uniform law.

    If the residual vanishes at every candidate, the density is uniform: ``q = c``, or ``q = 1``
    when ``c = 0``.
    """
    a = residual**k
    mean = (weights * a).sum()
    q = (a / mean if mean > 0 else torch.zeros_like(a)) + c
    return q if q.sum() > 0 else torch.ones_like(q)


class RAD(StatefulRule):
    """Residual-based adaptive distribution: importance sampling with density ``∝ |r|^k / mean + c``.

    At refresh, ``candidates`` points ``(y_j, v_j)`` are drawn from ``base`` (zero-weight
    ones dropped) and ``q_j = importance_density(v, |r(y)|, k, c)``. Each draw then picks
    ``n`` candidates iid with probability ``π_j = v_j q_j / Σ_i v_i q_i`` and gives them the
    importance weights ``v_j / (n π_j)``, so ``E[Σ w f] = Σ_j v_j f(y_j)``, the candidates'
    estimate, unbiased for the region mean. This holds whenever ``q > 0`` where ``f ≠ 0``:
    always for ``c > 0``, and for ``c = 0`` still for the loss ``f = r²``. Before the first
    refresh, draws come from ``base``.
    """

    name = "rad"

    def __init__(
        self, base: Rule | None = None, k: float = 1.0, c: float = 1.0, every: int = 500, candidates: int = 16384
    ):
        if not (math.isfinite(k) and k >= 0 and math.isfinite(c) and c >= 0):
            raise ValueError(f"rad needs finite k >= 0 and c >= 0, got k={k}, c={c}")
        _check_positive_int("refresh interval", every)
        _check_positive_int("candidates", candidates)
        self.base = base if base is not None else Uniform()
        self.k, self.c, self.every, self.candidates = float(k), float(c), every, candidates
        self.candidate_set: Quadrature | None = None
        self.probability: Tensor | None = None

    def refresh(self, region, residual: ResidualFn, step: int, generator: torch.Generator) -> None:
        self.bind(region)
        if step % self.every:
            return
        q, r = _candidate_residual(self.base, region, self.candidates, residual, generator, self.name)
        density = importance_density(q.weights, r, self.k, self.c)
        mass = q.weights * density
        self.candidate_set, self.probability = q, mass / mass.sum()

    def state_dict(self) -> dict:
        candidates = None if self.candidate_set is None else self.candidate_set.as_dict()
        return {"candidate_set": candidates, "probability": self.probability}

    def load_state_dict(self, state: dict) -> None:
        self.candidate_set = quadrature_or_none(state["candidate_set"])
        self.probability = state["probability"]

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        check_count(n)
        self.bind(region)
        if self.candidate_set is None:
            return self.base.draw(region, n, generator)
        rows = torch.multinomial(self.probability, n, replacement=True, generator=generator)
        weights = self.candidate_set.weights[rows] / (n * self.probability[rows])
        return Quadrature(self.candidate_set.points[rows], weights)


def inside_points(rule: Rule, region, n: int, generator: torch.Generator) -> Tensor:
    """``n`` points of ``rule`` with nonzero weight: draws of ``n`` repeated until that many are inside."""
    kept, count = [], 0
    while count < n:
        q = rule.draw(region, n, generator)
        inside = q.points[q.weights > 0]
        if len(inside) == 0:
            raise ValueError(f"{rule.name}: a draw of {n} points put none inside the region")
        kept.append(inside)
        count += len(inside)
    return torch.cat(kept)[:n]


class RAR(Pool):
    """Residual-based adaptive refinement: a pool that grows by the worst points of a candidate set.

    The pool starts as ``size`` points of ``base`` (the first batch's ``n`` when ``size`` is
    ``"fresh"``) with nonzero weight: on a region with rejection (a ``Difference``) the base is
    drawn again until that many are inside. At each refresh (once the pool exists)
    ``candidates`` points of ``base`` are drawn and the ``add`` with the largest ``|r|`` join
    the pool. Every pool point weighs the same, served as minibatches like a Pool. RAR is
    deliberately biased toward high residuals (it refines, it does not estimate); the
    pool/fresh gap of the statistics measures by how much.
    """

    name = "rar"

    def __init__(
        self,
        size: int | str | None = FRESH,
        base: Rule | None = None,
        every: int = 500,
        candidates: int = 16384,
        add: int = 64,
    ):
        super().__init__(size, base)
        _check_positive_int("refresh interval", every)
        _check_positive_int("candidates", candidates)
        _check_positive_int("rar_add", add)
        if add > candidates:
            raise ValueError(f"rar adds at most its {candidates} candidates per refresh, got add={add}")
        self.every, self.candidates, self.add = every, candidates, add

    def fill(self, region, n: int, generator: torch.Generator) -> Quadrature:
        self.bind(region)
        if self.pool is None:
            points = inside_points(self.base, region, self.size or n, generator)
            self.pool = Quadrature(points, equal_weights(len(points)))
        return self.pool

    def refresh(self, region, residual: ResidualFn, step: int, generator: torch.Generator) -> None:
        self.bind(region)
        if self.pool is None or step % self.every:
            return
        q, r = _candidate_residual(self.base, region, self.candidates, residual, generator, self.name)
        worst = torch.topk(r, min(self.add, len(r))).indices
        points = torch.cat([self.pool.points, q.points[worst]])
        self.pool = Quadrature(points, equal_weights(len(points)))
        self.restart_epoch()
