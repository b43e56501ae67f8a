"""Exact imposition of Dirichlet data on a rectangle (× a time interval) by an output transform.

For a constrained field with boundary data ``g`` (and initial data ``u0`` when there is time),
the network's raw output ``N`` becomes

    u = B + φ·N,    φ(x, y, t) = D(x, y) · (t − t0)/(T − t0)   (without time: φ = D)
    D(x, y) = 16 ξ(1 − ξ) η(1 − η),   ξ = (x − a)/(b − a),  η = (y − c)/(d − c)

``D`` is a distance-like function to the edges of ``[a, b] × [c, d]`` (zero on them, 1 at the
center). ``B`` extends the data inside: ``C`` is the transfinite (Coons) interpolant of ``g``
from the four edges,

    C = (1 − ξ) g(a, y) + ξ g(b, y) + (1 − η) g(x, c) + η g(x, d)
        − [(1 − ξ)(1 − η) g(a, c) + ξ(1 − η) g(b, c) + (1 − ξ)η g(a, d) + ξη g(b, d)],

which equals ``g`` on every edge when ``g`` is continuous at the corners, and
``B = C(x, y, t) + u0(x, y) − C(x, y, t0)`` with time (``B = C`` without), which also equals
``u0`` at ``t = t0`` when the data are compatible (``u0 = g`` on the edges at ``t0``). ``B`` is
built from boundary and initial values only, never from a solution inside. Fields not
constrained pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from pdes.geometry import Box, TimeInterval

Tensor = torch.Tensor
Data = Callable[..., Sequence[Tensor]]
"""``data(x, y[, t]) -> (values of each constrained field)``, tensors broadcastable to ``x``."""


class BoxDirichlet:
    """The output transform ``(points, raw) -> outputs`` of the module docstring.

    ``fields`` are the output columns constrained, in the order of ``data``'s values;
    ``time`` and ``initial(x, y)`` are given together for space-time problems (time is the
    last coordinate). Differentiable in the points, so every derivative engine sees it.
    """

    def __init__(
        self,
        box: Box,
        data: Data,
        fields: Sequence[int],
        time: TimeInterval | None = None,
        initial: Data | None = None,
    ):
        if box.dim != 2:
            raise ValueError(f"BoxDirichlet constrains fields on a rectangle, got a {box.dim}-dimensional box")
        if (time is None) != (initial is None):
            raise ValueError("BoxDirichlet needs both a time interval and initial data, or neither")
        self.box, self.data, self.fields = box, data, tuple(fields)
        self.time, self.initial = time, initial

    def __call__(self, points: Tensor, raw: Tensor) -> Tensor:
        x, y = points[:, 0], points[:, 1]
        t = (points[:, 2],) if self.time is not None else ()
        phi = self.distance(x, y)
        extension = self.coons(x, y, *t)
        if self.time is not None:
            t0, t1 = self.time.t0, self.time.t1
            phi = phi * (t[0] - t0) / (t1 - t0)
            at_start = self.coons(x, y, torch.full_like(x, t0))
            extension = [c + u0 - s for c, u0, s in zip(extension, self._values(self.initial, x, y), at_start)]
        columns = list(raw.unbind(dim=1))
        for k, b in zip(self.fields, extension):
            columns[k] = b + phi * columns[k]
        return torch.stack(columns, dim=1)

    def distance(self, x: Tensor, y: Tensor) -> Tensor:
        """``D = 16 ξ(1 − ξ) η(1 − η)``: zero on the edges, 1 at the center."""
        xi, eta = self._unit(x, 0), self._unit(y, 1)
        return 16 * xi * (1 - xi) * eta * (1 - eta)

    def coons(self, x: Tensor, y: Tensor, *t: Tensor) -> list[Tensor]:
        """The transfinite interpolant ``C`` of the edge data, one tensor per constrained field."""
        (a, c), (b, d) = self.box.lower, self.box.upper
        xi, eta = self._unit(x, 0), self._unit(y, 1)

        def g(px: Tensor | float, py: Tensor | float) -> list[Tensor]:
            return self._values(self.data, torch.zeros_like(x) + px, torch.zeros_like(y) + py, *t)

        left, right, bottom, top = g(a, y), g(b, y), g(x, c), g(x, d)
        corners = g(a, c), g(b, c), g(a, d), g(b, d)
        return [
            (1 - xi) * l_
            + xi * r_
            + (1 - eta) * b_
            + eta * t_
            - ((1 - xi) * (1 - eta) * ac + xi * (1 - eta) * bc + (1 - xi) * eta * ad + xi * eta * bd)
            for l_, r_, b_, t_, ac, bc, ad, bd in zip(left, right, bottom, top, *corners)
        ]

    def _unit(self, z: Tensor, axis: int) -> Tensor:
        lo, hi = self.box.lower[axis], self.box.upper[axis]
        return (z - lo) / (hi - lo)

    def _values(self, data: Data, x: Tensor, *rest: Tensor) -> list[Tensor]:
        values = [torch.zeros_like(x) + v for v in data(x, *rest)]
        if len(values) != len(self.fields):
            raise ValueError(f"Dirichlet data gave {len(values)} values for {len(self.fields)} constrained fields")
        return values
