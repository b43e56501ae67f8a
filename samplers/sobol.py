"""Owen-scrambled Sobol' points (scipy.stats.qmc), an independent scrambling per draw."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.stats import qmc

from samplers.quadrature import Rule, equal_weights, seed_from


class Sobol(Rule):
    """Randomized QMC: each ``draw`` is the first ``n`` points of a freshly scrambled sequence.

    Every draw is an unbiased estimate; successive draws are independent. Balance
    (and the fast variance decay, about ``n^-3`` for smooth integrands) holds for ``n``
    a power of two; other ``n`` give a warning.
    """

    name = "sobol"

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        if dim == 0:
            return torch.empty(n, 0, dtype=torch.float64), equal_weights(n)
        if n & (n - 1):
            warnings.warn(
                f"sobol: n={n} is not a power of two, so the points lose their balance and fast "
                "variance decay; use a batch of 2^k points",
                stacklevel=3,
            )
        engine = qmc.Sobol(d=dim, scramble=True, rng=np.random.default_rng(seed_from(generator)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            points = engine.random(n)
        return torch.from_numpy(points), equal_weights(n)
