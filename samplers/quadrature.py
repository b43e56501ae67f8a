"""Quadrature rules: points and weights for the mean of a function over a region."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Tensor = torch.Tensor

ResidualFn = Callable[[Tensor], Tensor]
"""A term's residual at points: ``(N, d)`` float64 CPU points → ``(N,)`` float64 CPU values."""


@dataclass
class Quadrature:
    """Points ``(N, d)`` and weights ``(N,)`` with ``Σ w_i f(x_i) ≈ mean of f over the region``.

    ``values`` are data carried with the points, ``{name: (N,)}``: the observed values at
    observation points (``pdes.data.Data``), which a residual reads as ``f.data(name)``; None elsewhere.
    """

    points: Tensor
    weights: Tensor
    values: dict[str, Tensor] | None = None

    def mean(self, values: Tensor) -> Tensor:
        """The quadrature estimate ``Σ w_i values_i``."""
        return (self.weights * values).sum()

    def to(self, device: torch.device | str, dtype: torch.dtype) -> Quadrature:
        values = None if self.values is None else {k: v.to(device, dtype) for k, v in self.values.items()}
        return Quadrature(self.points.to(device, dtype), self.weights.to(device, dtype), values)

    def subset(self, rows: Tensor, scale: float = 1.0) -> Quadrature:
        """The points ``rows`` with their values, weights multiplied by ``scale``."""
        values = None if self.values is None else {k: v[rows] for k, v in self.values.items()}
        return Quadrature(self.points[rows], self.weights[rows] * scale, values)

    def __len__(self) -> int:
        return self.points.shape[0]

    def as_dict(self) -> dict[str, Tensor]:
        """``{"points", "weights"}`` and ``"values"`` where there are any, as run files keep a quadrature."""
        kept = {"points": self.points, "weights": self.weights}
        return kept if self.values is None else {**kept, "values": dict(self.values)}


def quadrature_or_none(state: dict | None) -> Quadrature | None:
    """The quadrature of ``Quadrature.as_dict()`` (None stays None)."""
    return None if state is None else Quadrature(state["points"], state["weights"], state.get("values"))


class Rule:
    """A quadrature rule on the unit cube, carried to any region by its ``from_unit_cube`` map.

    Subclasses give ``unit_cube(n, dim, generator) -> (u, weights)`` with ``u`` in
    ``[0, 1]^dim`` (float64) and weights summing to 1. ``randomized`` rules are unbiased:
    ``E[Σ w_i f(x_i)]`` is the region mean of ``f``.

    Stateful rules (pools, adaptive rules) hold points of one region: the solver makes
    one rule per term. They may override two hooks: ``refresh`` (called before every
    training step with the term's residual) and ``replicate`` (an independent draw for
    statistics that leaves the rule's state as it was).
    """

    name: str = ""
    randomized: bool = True

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        """``n`` points and weights on ``region`` (float64, on the CPU): the next training batch."""
        check_count(n)
        u, base = self.unit_cube(n, region.cube_dim, generator)
        x, w = region.from_unit_cube(u)
        return Quadrature(x, base * w)

    def replicate(self, region, n: int, generator: torch.Generator) -> Quadrature:
        """An independent draw from the rule's current distribution; the rule's state is unchanged."""
        return self.draw(region, n, generator)

    def refresh(self, region, residual: ResidualFn, step: int, generator: torch.Generator) -> None:
        """Called by the solver before training step ``step``; stateless rules ignore it."""

    def state_dict(self) -> dict:
        """What a run file keeps of the rule between steps: tensors, numbers and None (``pinn.tree``)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state_dict()``'s dictionary (a new rule of the same settings)."""


class StatefulRule(Rule):
    """A rule that keeps points of the one region it first served."""

    region = None

    def bind(self, region) -> None:
        """Remember ``region``; serving a different one is an error."""
        if self.region is None:
            self.region = region
        elif region is not self.region:
            raise ValueError(
                f"a '{self.name}' rule holds points of one region; make one rule per term with samplers.get"
            )


def check_count(n: int) -> None:
    """Raise unless a quadrature of ``n`` points makes sense."""
    if n < 1:
        raise ValueError(f"a quadrature needs at least one point, got n={n}")


def equal_weights(n: int) -> Tensor:
    """Weights ``1/n`` of an equal-weight rule."""
    return torch.full((n,), 1.0 / n, dtype=torch.float64)


def seed_from(generator: torch.Generator) -> int:
    """A 63-bit integer seed drawn from ``generator``, for libraries with their own streams."""
    return int(torch.randint(0, 2**62, (1,), generator=generator))
