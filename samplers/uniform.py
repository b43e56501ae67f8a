"""Monte Carlo: independent uniform points with equal weights 1/n."""

from __future__ import annotations

import torch

from samplers.quadrature import Rule, equal_weights


class Uniform(Rule):
    """iid uniform points; the estimate's variance is Var(f)/n."""

    name = "uniform"

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.rand(n, dim, generator=generator, dtype=torch.float64), equal_weights(n)
