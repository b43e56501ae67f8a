"""Trusted reference solutions that every run's error is measured against."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Tensor = torch.Tensor


class Reference:
    """A reference solution: ``evaluate(points) -> {field: (N,) tensor}``.

    ``kind`` is ``"analytic"`` or ``"fem"``; fields named in ``up_to_constant`` are
    fixed only up to an additive constant (e.g. pressure) and compared after
    removing their mean difference.
    """

    kind: str
    fields: tuple[str, ...]
    up_to_constant: tuple[str, ...] = ()

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    def metadata(self) -> dict:
        """What report.json and run files record about this reference."""
        return {"kind": self.kind, "up_to_constant": list(self.up_to_constant)}


class AnalyticReference(Reference):
    """A closed-form solution ``solution(x=…, t=…) -> {"u": …}`` of named coordinates."""

    kind = "analytic"

    def __init__(
        self,
        coordinates: Sequence[str],
        solution: Callable[..., dict[str, Tensor]],
        up_to_constant: Sequence[str] = (),
    ):
        self.coordinates = tuple(coordinates)
        self.solution = solution
        self.up_to_constant = tuple(up_to_constant)
        probe = solution(**{c: torch.zeros(1, dtype=torch.float64) for c in self.coordinates})
        self.fields = tuple(probe)

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        values = self.solution(**{c: points[:, i] for i, c in enumerate(self.coordinates)})
        return {name: v.expand(points.shape[0]) for name, v in values.items()}
