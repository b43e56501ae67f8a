"""Scrambled Halton points (scipy.stats.qmc), an independent scrambling per draw."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import qmc

from samplers.quadrature import Rule, equal_weights, seed_from


class Halton(Rule):
    """Randomized QMC: each ``draw`` is the first ``n`` points of a freshly scrambled Halton sequence.

    The scrambling permutes the digits of every point (in base ``p_j``, the j-th prime, on
    axis j) with random permutations, so each point is uniform on the cube and the estimate
    is unbiased; successive draws are independent. Any ``n`` keeps the low discrepancy.
    """

    name = "halton"

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        if dim == 0:
            return torch.empty(n, 0, dtype=torch.float64), equal_weights(n)
        engine = qmc.Halton(d=dim, scramble=True, rng=np.random.default_rng(seed_from(generator)))
        return torch.from_numpy(engine.random(n)), equal_weights(n)
