"""A fixed pool of collocation points served as minibatches: collocation density apart from batch size."""

from __future__ import annotations

import torch

from samplers.quadrature import Quadrature, Rule, StatefulRule, check_count, quadrature_or_none
from samplers.uniform import Uniform

FRESH = "fresh"
"""Pool size meaning "no pool": a new draw of the base rule every step."""


def pool_size(size: int | str | None) -> int | None:
    """``size`` as a positive integer, or ``None`` for ``"fresh"``/``None``."""
    if size is None or size == FRESH:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"pool size must be a positive integer or '{FRESH}', got {size!r}")
    return size


class Pool(StatefulRule):
    """``size`` points ``(x_j, v_j)`` drawn once by ``base``, served as minibatches without replacement.

    An epoch is a random permutation of the pool cut into ``⌊N/n⌋`` minibatches of ``n``
    consecutive points (the remainder waits for a later epoch), so every minibatch is a
    uniformly random n-subset. Its weights ``v_j·N/n`` make ``E[Σ_batch w f]`` the pool's
    own estimate ``Σ_pool v_j f(x_j)``, which is unbiased for the region mean when
    ``base`` is randomized. ``size="fresh"``: a new draw of ``base`` every step.
    """

    name = "pool"

    def __init__(self, size: int | str | None = FRESH, base: Rule | None = None):
        self.size = pool_size(size)
        self.base = base if base is not None else Uniform()
        self.pool: Quadrature | None = None
        self._order: torch.Tensor | None = None
        self._cursor = 0

    def fill(self, region, n: int, generator: torch.Generator) -> Quadrature | None:
        """The pool of ``region``, drawn on first use (with ``n`` points when no size is set)."""
        self.bind(region)
        if self.pool is None and self.size is not None:
            self.pool = self.base.draw(region, self.size, generator)
        return self.pool

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        check_count(n)
        pool = self.fill(region, n, generator)
        if pool is None:
            return self.base.draw(region, n, generator)
        self._check_batch(n)
        if self._order is None or self._cursor + n > len(pool):
            self._order, self._cursor = torch.randperm(len(pool), generator=generator), 0
        rows = self._order[self._cursor : self._cursor + n]
        self._cursor += n
        return self._minibatch(rows)

    def replicate(self, region, n: int, generator: torch.Generator) -> Quadrature:
        """A uniformly random n-subset of the pool (the law of one minibatch); the epoch is untouched."""
        check_count(n)
        pool = self.fill(region, n, generator)
        if pool is None:
            return self.base.draw(region, n, generator)
        self._check_batch(n)
        return self._minibatch(torch.randperm(len(pool), generator=generator)[:n])

    def _check_batch(self, n: int) -> None:
        if n > len(self.pool):
            raise ValueError(f"a pool of {len(self.pool)} points cannot serve batches of {n}; use --pool >= batch")

    def _minibatch(self, rows: torch.Tensor) -> Quadrature:
        return self.pool.subset(rows, len(self.pool) / len(rows))

    def state_dict(self) -> dict:
        pool = None if self.pool is None else self.pool.as_dict()
        return {"pool": pool, "order": self._order, "cursor": self._cursor}

    def load_state_dict(self, state: dict) -> None:
        self.pool = quadrature_or_none(state["pool"])
        self._order, self._cursor = state["order"], state["cursor"]

    def restart_epoch(self) -> None:
        """Forget the current epoch: the next draw starts a new permutation (after the pool changed)."""
        self._order, self._cursor = None, 0
