"""Output transforms affine in the network's raw outputs: ``u = B(x) + φ(x)·N`` on some fields.

A transform names its ``fields`` (output columns; the others pass through unchanged) and
writes ``B`` and ``φ`` once, in ``offset_and_scale(coordinates, data)``, with ``+``, ``−``,
``*`` and ``/`` only. The base class evaluates that one formula on the coordinates as plain
values ``(1, N)`` (``affine``: ``B`` and ``φ`` as ``(m, N)`` tensors) or as
``pdes.taylor.Taylor`` coordinates (``affine_taylor``: their gradients and Hessians too);
``data`` (an ``Evaluation``) gives the values, or the Taylors, of the data the formula
reads. A derivative engine joins these Taylors to the network's own derivatives by the
product rule instead of differentiating the transform (``pinn.derivatives.affine_transform_jet``).

``BoxDirichlet`` imposes Dirichlet data exactly on a rectangle (× a time interval). For a
constrained field with boundary data ``g`` (and initial data ``u0`` when there is time), the
network's raw output ``N`` becomes

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
constrained pass through unchanged. Its Taylors are computed from these formulas with the
data's derivatives along the edges, so that a derivative engine need not differentiate
the transform itself.

``ZeroDirichlet`` imposes ``u = 0`` on ``∂Ω`` and ``u = u0`` at ``t0`` exactly, Ω a box of any
dimension:

    u = u0(x) + τ · Π_i 4 ξ_i (1 − ξ_i) · N,   ξ_i = (x_i − lo_i)/(hi_i − lo_i),   τ = (t − t0)/(T − t0)

with offset ``u0`` and scale ``τ Π_i 4 ξ_i (1 − ξ_i)``; ``u0`` must vanish on ``∂Ω``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from pdes.geometry import Box, SpaceTime, TimeInterval
from pdes.taylor import Taylor, coordinates

Tensor = torch.Tensor
Number = Tensor | Taylor
"""A function of the points: its values ``(m, N)``, or its ``Taylor``."""
Data = Callable[..., Sequence[Tensor]]
"""``data(x, y[, t]) -> (values of each constrained field)``, tensors broadcastable to ``x``."""
PROJECTIONS = ("left", "right", "bottom", "top", "ac", "bc", "ad", "bd")
"""A point's projections on the edges ``x = a``, ``x = b``, ``y = c``, ``y = d`` and the corners ``(a, c)`` …"""


class Evaluation:
    """The points ``(N, d)`` a transform's formula is evaluated at, and whether as values or as Taylors."""

    def __init__(self, points: Tensor, taylor: bool):
        self.points, self.taylor = points, taylor
        self.dim = points.shape[1]

    def coordinates(self) -> list[Number]:
        """Each coordinate, as its values ``(1, N)`` or as a ``Taylor``."""
        return coordinates(self.points, self.taylor)

    def of(
        self, function: Callable[[Tensor], Tensor], inputs: Tensor, m: int, axes: Sequence[Sequence[int]]
    ) -> list[Number]:
        """A pointwise ``function`` ``(M, k) -> (m, M)`` at ``inputs`` ``(len(axes)·N, k)``, block by block.

        Block ``b`` is ``N`` rows, one per point, whose ``k`` columns are the point's
        coordinates ``axes[b]`` (the function does not vary along the others). ``function``
        is called once for all the blocks; each block's result is its values ``(m, N)``, or
        its ``Taylor`` in the ``d`` coordinates.
        """
        n = self.points.shape[0]
        if not self.taylor:
            return list(function(inputs).reshape(m, len(axes), n).unbind(1))
        taylor = Taylor.of(function, inputs, m)
        return [taylor.at(b * n, (b + 1) * n).embedded(block_axes, self.dim) for b, block_axes in enumerate(axes)]

    def constant(self, value: Tensor) -> Number:
        """``value`` ``(m, N)`` or ``(m, 1)``, which does not vary with the points."""
        return Taylor.constant(value, self.dim) if self.taylor else value


class AffineTransform:
    """``(points, raw) -> outputs``: ``raw``, with ``B + φ·raw`` on the columns ``fields``."""

    fields: tuple[int, ...]

    def __call__(self, points: Tensor, raw: Tensor) -> Tensor:
        offset, scale = self.affine(points)
        full_offset, full_scale = torch.zeros_like(raw), torch.ones_like(raw)
        full_offset[:, self.fields], full_scale[:, self.fields] = offset.T, scale.T
        return full_offset + full_scale * raw

    def affine(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, φ)`` at ``points``: ``(len(fields), N)`` and ``(1, N)`` (or one row per field)."""
        return self._evaluate(Evaluation(points, taylor=False))

    def affine_taylor(self, points: Tensor) -> tuple[Taylor, Taylor]:
        """The ``Taylor`` of ``B`` and of ``φ`` at ``points`` (no autograd graph)."""
        return self._evaluate(Evaluation(points.detach(), taylor=True))

    def offset_and_scale(self, coordinates: list[Number], data: Evaluation) -> tuple[Number, Number]:
        """``(B, φ)`` from the ``coordinates`` (values or Taylors) and the data, evaluated by ``data``."""
        raise NotImplementedError

    def _evaluate(self, evaluation: Evaluation) -> tuple[Number, Number]:
        return self.offset_and_scale(evaluation.coordinates(), evaluation)


class BoxDirichlet(AffineTransform):
    """The output transform ``u = B + φ·N`` of the module docstring: Dirichlet data on a rectangle.

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

    def offset_and_scale(self, coordinates: list[Number], data: Evaluation) -> tuple[Number, Number]:
        """``(B, φ)`` of the module docstring."""
        x, y, *t = coordinates
        xi, eta = self._unit(x, 0), self._unit(y, 1)
        phi = 16 * xi * (1 - xi) * eta * (1 - eta)
        if self.time is None:
            return coons(xi, eta, self._projected_data(data, None)), phi
        t0, t1 = self.time.t0, self.time.t1
        extension = coons(xi, eta, self._projected_data(data, data.points[:, 2:3]))
        at_start = coons(xi, eta, self._projected_data(data, t0))
        return extension + self._initial(data) - at_start, phi * (t[0] - t0) / (t1 - t0)

    def _unit(self, z: Number, axis: int) -> Number:
        lo, hi = self.box.lower[axis], self.box.upper[axis]
        return (z - lo) / (hi - lo)

    def _projected_data(self, data: Evaluation, t: Tensor | float | None) -> dict[str, Number]:
        """The data at each point's projections (``PROJECTIONS``) at time ``t`` (a column, a number, or none).

        One call of the data for all the projections; an edge's data vary along the edge
        (and in ``t`` when it is a column) only. Without a time column the corners' data
        are constants, evaluated once.
        """
        points = data.points
        n = points.shape[0]
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
        axes = [[1], [1], [0], [0], [0], [0], [0], [0]]  # a corner's data do not vary with s
        time_axis = [2] if time_column else []
        values = data.of(at_projections, inputs, len(self.fields), [axis + time_axis for axis in axes[:varying]])
        projected = dict(zip(PROJECTIONS, values))
        if varying < len(PROJECTIONS):
            corners = self._values(self.data, x_fixed.new_tensor([a, b, a, b]), x_fixed.new_tensor([c, c, d, d]),
                                   *(() if t is None else (x_fixed.new_full((4,), t),)))  # fmt: skip
            for name, value in zip(PROJECTIONS[varying:], corners.T):
                projected[name] = data.constant(value[:, None])
        return projected

    def _initial(self, data: Evaluation) -> Number:
        """The initial data ``u0(x, y)`` at the points."""

        def initial(xy: Tensor) -> Tensor:
            return self._values(self.initial, xy[:, 0], xy[:, 1])

        (values,) = data.of(initial, data.points[:, :2], len(self.fields), [[0, 1]])
        return values

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


class ZeroDirichlet(AffineTransform):
    """The output transform ``u = u0 + τ Π_i 4 ξ_i (1 − ξ_i) · N`` of the module docstring, on a box × time.

    ``initial(*space_coordinates)`` is ``u0``; it must vanish on ``∂Ω``. One field, the first.
    """

    fields = (0,)

    def __init__(self, domain: SpaceTime, initial: Callable[..., Tensor]):
        self.lower, self.upper = domain.space.bounds
        self.t0, self.t1 = domain.time.t0, domain.time.t1
        self.initial = initial

    def offset_and_scale(self, coordinates: list[Number], data: Evaluation) -> tuple[Number, Number]:
        *space, t = coordinates
        scale = (t - self.t0) / (self.t1 - self.t0)
        for x, lo, hi in zip(space, self.lower.tolist(), self.upper.tolist()):
            xi = (x - lo) / (hi - lo)
            scale = scale * (4 * xi * (1 - xi))
        (offset,) = data.of(self._initial_values, data.points[:, :-1], 1, [list(range(len(space)))])
        return offset, scale

    def _initial_values(self, space: Tensor) -> Tensor:
        """``u0`` at the space coordinates ``(N, d − 1)``, as ``(1, N)``."""
        return (torch.zeros_like(space[:, 0]) + self.initial(*space.unbind(dim=1)))[None]
