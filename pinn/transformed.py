"""A backbone followed by its problem's output transform: ``fields(x) = transform(x, network(x))``.

``pdes.problem.Problem.transform`` (e.g. exact Dirichlet data, ``pdes.transforms``) is applied
here, inside the model, so every derivative engine, the evaluation and the per-point gradient
statistics see the transformed fields. BatchNorm statistics pass through to the network
(any ``torch.nn.Module``; one without ``couples_points`` is taken as pointwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from pinn.nn import BatchStatistics

Tensor = torch.Tensor


class AroundNetwork(nn.Module):
    """A module around a backbone ``self.network`` that passes its BatchNorm statistics through to it."""

    network: nn.Module

    @property
    def couples_points(self) -> bool:
        return getattr(self.network, "couples_points", False)

    def batch_statistics(self, x: Tensor) -> list[BatchStatistics]:
        return self.network.batch_statistics(x) if self.couples_points else []

    def update_running_statistics(self, statistics: Sequence[BatchStatistics]) -> None:
        if self.couples_points:
            self.network.update_running_statistics(statistics)


class Transformed(AroundNetwork):
    """``network`` followed by ``transform(points, raw) -> outputs``."""

    def __init__(self, network: nn.Module, transform: Callable[[Tensor, Tensor], Tensor]):
        super().__init__()
        self.network = network
        self.transform = transform

    def forward(self, x: Tensor, statistics: Sequence[BatchStatistics] | None = None) -> Tensor:
        raw = self.network(x) if statistics is None else self.network(x, statistics)
        out = self.transform(x, raw)
        if out.shape != raw.shape:
            raise ValueError(f"the output transform returned shape {tuple(out.shape)}, expected {tuple(raw.shape)}")
        return out
