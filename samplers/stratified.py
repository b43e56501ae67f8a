"""Jittered (stratified) sampling: one uniform point in each of n equal-volume cells."""

from __future__ import annotations

import torch

from samplers.quadrature import Rule, equal_weights

Tensor = torch.Tensor


def cells(n: int, dim: int) -> tuple[Tensor, Tensor]:
    """Lower and upper corners ``(n, dim)`` of a near-cubic partition of the unit cube into n cells.

    Axis by axis, a group of ``c`` cells (at first all n) with ``k`` axes left is cut into
    ``m = round(c^(1/k))`` slabs holding ``⌊c/m⌋`` or ``⌈c/m⌉`` cells each, every slab as
    wide as its share of the group's cells; on the last axis every cell is its own slab.
    So every cell has volume ``1/n`` exactly, and for ``n = m^dim`` the partition is the
    ``m × … × m`` grid.
    """
    lower = torch.zeros(n, dim, dtype=torch.float64)
    upper = torch.ones(n, dim, dtype=torch.float64)
    count = torch.full((n,), n, dtype=torch.int64)
    local = torch.arange(n)
    for axis in range(dim):
        left = dim - axis
        slabs = count if left == 1 else torch.round(count.double() ** (1.0 / left)).long().clamp(1)
        small, big_slabs = count // slabs, count % slabs
        in_big = local < big_slabs * (small + 1)
        slab = torch.where(in_big, local // (small + 1), big_slabs + (local - big_slabs * (small + 1)) // small)
        offset = torch.where(in_big, slab * (small + 1), big_slabs * (small + 1) + (slab - big_slabs) * small)
        size = small + (slab < big_slabs).long()
        width = upper[:, axis] - lower[:, axis]
        start = lower[:, axis] + width * offset / count
        upper[:, axis] = lower[:, axis] + width * (offset + size) / count
        lower[:, axis] = start
        count, local = size, local - offset
    return lower, upper


class Stratified(Rule):
    """Jittered grid: one uniform point per cell of ``cells(n, dim)``, weighted by the cell's volume.

    Unbiased (each cell's term is its volume times an unbiased estimate of its mean);
    for smooth integrands the variance falls as ``n^(-1-2/dim)``.
    """

    name = "stratified"

    def unit_cube(self, n: int, dim: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        if dim == 0:
            return torch.empty(n, 0, dtype=torch.float64), equal_weights(n)
        lower, upper = cells(n, dim)
        jitter = torch.rand(n, dim, generator=generator, dtype=torch.float64)
        return lower + (upper - lower) * jitter, (upper - lower).prod(dim=1)
