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

The transform is affine in ``N`` (``pdes.affine``): ``affine_taylor`` gives the value,
gradient and Hessian of ``B`` and ``φ``, computed from the formulas above with the data's
derivatives along the edges, so that a derivative engine need not differentiate the
transform itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from pdes.affine import AffineTransform, Number
from pdes.geometry import Box, TimeInterval
from pdes.taylor import Taylor, coordinates

Tensor = torch.Tensor
Data = Callable[..., Sequence[Tensor]]
"""``data(x, y[, t]) -> (values of each constrained field)``, tensors broadcastable to ``x``."""
PROJECTIONS = ("left", "right", "bottom", "top", "ac", "bc", "ad", "bd")
"""A point's projections on the edges ``x = a``, ``x = b``, ``y = c``, ``y = d`` and the corners ``(a, c)`` …"""


class BoxDirichlet(AffineTransform):
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

    def _affine(self, points: Tensor, taylor: bool) -> tuple[Number, Number]:
        """``(B, φ)`` of the module docstring, as values or as Taylors."""
        x, y, *t = coordinates(points, taylor)
        xi, eta = self._unit(x, 0), self._unit(y, 1)
        phi = 16 * xi * (1 - xi) * eta * (1 - eta)
        if self.time is None:
            return coons(xi, eta, self._projected_data(points, None, taylor)), phi
        t0, t1 = self.time.t0, self.time.t1
        extension = coons(xi, eta, self._projected_data(points, points[:, 2:3], taylor))
        at_start = coons(xi, eta, self._projected_data(points, t0, taylor))
        return extension + self._initial(points, taylor) - at_start, phi * (t[0] - t0) / (t1 - t0)

    def _unit(self, z: Number, axis: int) -> Number:
        lo, hi = self.box.lower[axis], self.box.upper[axis]
        return (z - lo) / (hi - lo)

    def _projected_data(self, points: Tensor, t: Tensor | float | None, taylor: bool) -> dict[str, Number]:
        """The data at each point's projections (``PROJECTIONS``) at time ``t`` (a column, a number, or none).

        As Taylors, an edge's data vary along the edge (and in ``t`` when it is a column) only;
        without a time column the corners' data are constants, evaluated once.
        """
        n, dim = points.shape
        (a, c), (b, d) = self.box.lower, self.box.upper
        time_column = isinstance(t, Tensor)
        varying = len(PROJECTIONS) if time_column else 4
        x_fixed = points.new_tensor([a, b, 0, 0, a, b, a, b])[:varying, None]
        y_fixed = points.new_tensor([0, 0, c, d, c, c, d, d])[:varying, None]
        along_x = torch.tensor([0, 0, 1, 1, 0, 0, 0, 0], dtype=torch.bool, device=points.device)[:varying, None]
        along_y = torch.tensor([1, 1, 0, 0, 0, 0, 0, 0], dtype=torch.bool, device=points.device)[:varying, None]

        def at_projections(inputs: Tensor) -> Tensor:
            """``(varying·n, k) -> (fields, varying·n)``: the along-edge coordinate (and time), block by block."""
            inputs = inputs.view(-1, varying, n, inputs.shape[1])
            s = inputs[..., 0]
            x, y = torch.where(along_x, s, x_fixed), torch.where(along_y, s, y_fixed)
            time = () if t is None else (inputs[..., 1] if time_column else torch.full_like(s, t),)
            return self._values(self.data, x, y, *time).reshape(len(self.fields), -1)

        along = torch.cat([points[:, 1:2]] * 2 + [points[:, 0:1]] * (varying - 2))
        inputs = torch.cat([along, t.repeat(varying, 1)], dim=1) if time_column else along
        names = PROJECTIONS[:varying]
        if not taylor:
            data = dict(zip(names, at_projections(inputs).view(-1, varying, n).unbind(1)))
        else:
            taylor_data = Taylor.of(at_projections, inputs, len(self.fields))
            axes = [[1], [1], [0], [0], [0], [0], [0], [0]]  # a corner's data do not vary with s
            time_axis = [2] if time_column else []
            data = {
                name: taylor_data.at(k * n, (k + 1) * n).embedded(axes[k] + time_axis, dim)
                for k, name in enumerate(names)
            }
        if varying < len(PROJECTIONS):
            corners = self._values(self.data, x_fixed.new_tensor([a, b, a, b]), x_fixed.new_tensor([c, c, d, d]),
                                   *(() if t is None else (x_fixed.new_full((4,), t),)))  # fmt: skip
            for name, value in zip(PROJECTIONS[varying:], corners.T):
                data[name] = Taylor.constant(value[:, None], dim) if taylor else value[:, None]
        return data

    def _initial(self, points: Tensor, taylor: bool) -> Number:
        """The initial data ``u0(x, y)`` at the points."""

        def initial(xy: Tensor) -> Tensor:
            return self._values(self.initial, xy[:, 0], xy[:, 1])

        if not taylor:
            return initial(points[:, :2])
        return Taylor.of(initial, points[:, :2], len(self.fields)).embedded([0, 1], points.shape[1])

    def _values(self, data: Data, x: Tensor, *rest: Tensor) -> Tensor:
        """``data(x, *rest)`` as one tensor, the constrained fields first."""
        values = data(x, *rest)
        if len(values) != len(self.fields):
            raise ValueError(f"Dirichlet data gave {len(values)} values for {len(self.fields)} constrained fields")
        return torch.stack([torch.zeros_like(x) + v for v in values])


def coons(xi: Number, eta: Number, data: dict[str, Number]) -> Number:
    """The transfinite interpolant ``C`` of the module docstring from the data at the projections."""
    left, right, bottom, top = data["left"], data["right"], data["bottom"], data["top"]
    corners = (1 - eta) * ((1 - xi) * data["ac"] + xi * data["bc"]) + eta * ((1 - xi) * data["ad"] + xi * data["bd"])
    return (1 - xi) * left + xi * right + (1 - eta) * bottom + eta * top - corners
