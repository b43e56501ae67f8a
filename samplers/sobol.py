"""Owen-scrambled Sobol' points (scipy.stats.qmc), an independent scrambling per draw."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import qmc

from samplers.quadrature import Rule, equal_weights, seed_from


class Sobol(Rule):
    """Randomized QMC: each ``draw`` is the first ``n`` points of a freshly scrambled sequence.

    Every draw is an unbiased estimate; successive draws are independent. Balance
    (and the fast variance decay) holds for ``n`` a power of two.
    """

    name = "sobol"

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        if dim == 0:
            return torch.empty(n, 0, dtype=torch.float64), equal_weights(n)
        engine = qmc.Sobol(d=dim, scramble=True, seed=np.random.default_rng(seed_from(generator)))
        return torch.from_numpy(engine.random(n)), equal_weights(n)
