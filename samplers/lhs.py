"""Latin hypercube sampling."""

from __future__ import annotations

import torch

from samplers.quadrature import Rule, equal_weights

Tensor = torch.Tensor


class LatinHypercube(Rule):
    """n points such that on every axis each of the n intervals ``[k/n, (k+1)/n)`` holds exactly one.

    Coordinate j of point i is ``(π_j(i) + U_ij)/n`` with independent random permutations
    ``π_j`` and uniform jitter ``U``: every point is uniform on the cube, so the equal-weight
    estimate is unbiased; the additive (one-coordinate) part of the integrand is stratified.
    """

    name = "lhs"

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        ranks = torch.zeros(n, dim, dtype=torch.float64)
        for axis in range(dim):
            ranks[:, axis] = torch.randperm(n, generator=generator).double()
        jitter = torch.rand(n, dim, generator=generator, dtype=torch.float64)
        return (ranks + jitter) / n, equal_weights(n)
