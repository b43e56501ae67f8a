"""The empirical measure of a finite set of points (observations), served in epochs without replacement."""

from __future__ import annotations

import hashlib

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
        self._expected: str | None = None

    def bind(self, region) -> None:
        """Remember ``region``; a resumed rule refuses observations other than those it was saved with."""
        super().bind(region)
        if self._expected is not None:
            if fingerprint(region.quadrature()) != self._expected:
                raise ValueError(
                    "the observations differ from those the run was trained on (their points or values changed); "
                    "resume with the same data"
                )
            self._expected = None

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        check_count(n)
        self.bind(region)
        full = region.quadrature()
        if self._order is None or self._cursor >= len(full):
            self._order, self._cursor = torch.randperm(len(full), generator=generator), 0
        rows = self._order[self._cursor : self._cursor + n]
        self._cursor += len(rows)
        return full.subset(rows, len(full) / len(rows))

    def replicate(self, region, n: int, generator: torch.Generator) -> Quadrature:
        """A uniformly random ``min(n, N)``-subset (the law of a full minibatch); the epoch is untouched."""
        check_count(n)
        self.bind(region)
        full = region.quadrature()
        rows = torch.randperm(len(full), generator=generator)[:n]
        return full.subset(rows, len(full) / len(rows))

    def state_dict(self) -> dict:
        data = None if self.region is None else fingerprint(self.region.quadrature())
        return {"order": self._order, "cursor": self._cursor, "data": data}

    def load_state_dict(self, state: dict) -> None:
        self._order, self._cursor, self._expected = state["order"], state["cursor"], state["data"]


def fingerprint(q: Quadrature) -> str:
    """A SHA-256 of the observations' points and values (names included): what a resumed run must see again."""
    digest = hashlib.sha256(q.points.numpy().tobytes())
    for name, value in sorted((q.values or {}).items()):
        digest.update(name.encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()
