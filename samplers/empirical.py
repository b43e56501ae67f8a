"""The empirical measure of a finite set of points (observations), served in epochs without replacement."""

from __future__ import annotations

import torch

from samplers.quadrature import Quadrature, StatefulRule, check_count


class Empirical(StatefulRule):
    """Minibatches of a region's own finite quadrature ``region.quadrature()`` (``pdes.data.Data``: weights ``1/N``).

    An epoch is a random permutation of the ``N`` points cut into minibatches of ``n``
    consecutive points, the last one shorter when ``n`` does not divide ``N``, so every point
    is served exactly once per epoch; ``n ≥ N`` serves the whole set every step. A minibatch
    of ``m`` points is a uniformly random ``m``-subset with weights ``1/m``: its estimate is
    unbiased for the set's mean ``(1/N) Σ_j f(x_j)``. Each batch carries its points' values.
    """

    name = "data"
    randomized = True

    def __init__(self) -> None:
        self._order: torch.Tensor | None = None
        self._cursor = 0

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        check_count(n)
        self.bind(region)
        full = region.quadrature()
        if self._order is None or self._cursor >= len(full):
            self._order, self._cursor = torch.randperm(len(full), generator=generator), 0
        rows = self._order[self._cursor : self._cursor + n]
        self._cursor += len(rows)
        return _mean_of(full, rows)

    def replicate(self, region, n: int, generator: torch.Generator) -> Quadrature:
        """A uniformly random ``min(n, N)``-subset (the law of a full minibatch); the epoch is untouched."""
        check_count(n)
        self.bind(region)
        full = region.quadrature()
        return _mean_of(full, torch.randperm(len(full), generator=generator)[:n])

    def state_dict(self) -> dict:
        return {"order": self._order, "cursor": self._cursor}

    def load_state_dict(self, state: dict) -> None:
        self._order, self._cursor = state["order"], state["cursor"]


def _mean_of(full: Quadrature, rows: torch.Tensor) -> Quadrature:
    """The points ``rows`` of ``full`` with equal weights ``1/len(rows)`` and their values."""
    q = full.subset(rows)
    return Quadrature(q.points, torch.full((len(rows),), 1.0 / len(rows), dtype=torch.float64), q.values)
