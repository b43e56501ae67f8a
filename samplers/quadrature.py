"""Quadrature rules: points and weights for the mean of a function over a region."""

from __future__ import annotations

from dataclasses import dataclass

import torch

Tensor = torch.Tensor


@dataclass
class Quadrature:
    """Points ``(N, d)`` and weights ``(N,)`` with ``Σ w_i f(x_i) ≈ mean of f over the region``."""

    points: Tensor
    weights: Tensor

    def mean(self, values: Tensor) -> Tensor:
        """The quadrature estimate ``Σ w_i values_i``."""
        return (self.weights * values).sum()

    def to(self, device: torch.device | str, dtype: torch.dtype) -> Quadrature:
        return Quadrature(self.points.to(device, dtype), self.weights.to(device, dtype))

    def __len__(self) -> int:
        return self.points.shape[0]


class Rule:
    """A quadrature rule on the unit cube, carried to any region by its ``from_unit_cube`` map.

    Subclasses give ``unit_cube(n, dim, generator) -> (u, weights)`` with ``u`` in
    ``[0, 1]^dim`` (float64) and weights summing to 1. ``randomized`` rules are unbiased:
    ``E[Σ w_i f(x_i)]`` is the region mean of ``f``.
    """

    name: str = ""
    randomized: bool = True

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        """``n`` points and weights on ``region`` (float64, on the CPU)."""
        if n < 1:
            raise ValueError(f"a quadrature needs at least one point, got n={n}")
        u, base = self.unit_cube(n, region.cube_dim, generator)
        x, w = region.from_unit_cube(u)
        return Quadrature(x, base * w)


def equal_weights(n: int) -> Tensor:
    """Weights ``1/n`` of an equal-weight rule."""
    return torch.full((n,), 1.0 / n, dtype=torch.float64)


def seed_from(generator: torch.Generator) -> int:
    """A 63-bit integer seed drawn from ``generator``, for libraries with their own streams."""
    return int(torch.randint(0, 2**62, (1,), generator=generator))
