"""``DistanceDirichlet``: Dirichlet data imposed exactly on parts of a 2D boundary made of lines and circles.

For Dirichlet parts ``Γ_1 … Γ_m`` with data ``g_i`` the network's raw output ``N`` of each constrained field
becomes (steady)

    u = B + φ·N,    φ = (Σ_i d_i⁻²)^(−1/2) = Π_i d_i / √S,    B = Σ_i g_i P_i / S,
    P_i = Π_{j≠i} d_j²,    S = Σ_k P_k

with ``d_i ≥ 0`` the distance to the *carrier* of part ``i`` (the line of a face or segment, the circle of an
arc or a disk's boundary) in units of the domain's diagonal. ``φ`` behaves like the distance to the nearest
Dirichlet part (a smooth minimum of the ``d_i``: it does not shrink where several parts are far, as their
product would), divided by its largest value on the domain; it vanishes on every part. ``B`` is the
transfinite interpolation of the data with weights ``P_i / S`` (``1/d_i²`` normalized): ``B = g_i`` on
``Γ_i``. Both are written without a division by a ``d_i``, so they are smooth wherever at most one ``d_i``
vanishes; at a corner where two parts meet (``S = 0``) they are evaluated as 0 and the data must agree there.
The carriers' distances are exact and smooth in the domain: ``|x_a − c|`` for a line, ``|x − c| − r`` for a
hole's circle, ``(r² − |x − c|²)/(2r)`` for a circle around the domain. That needs each carrier to leave the
domain on one side (a convex outline with holes); a carrier that cuts the domain is refused. With time,

    u = B(x, t) + u0(x) − B(x, t0) + φ(x) (t − t0)/(T − t0) · N,

which is ``u0`` at ``t0`` and ``g`` on the parts when the data are compatible (``u0 = g`` there at ``t0``).

The formula is one torch function of the points; the forward engine gets its Taylor (values, gradients,
Hessians) by ``pdes.taylor.Taylor.of``, as for any ``AffineTransform``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from pdes.geometry import Face, Region, Sphere, TimeInterval
from pdes.geometry.planar import Arc, Segment
from pdes.transforms import AffineTransform, Evaluation, Number

Tensor = torch.Tensor

CUT_TOLERANCE = 1e-9
"""A carrier's signed distance below ``−this × the domain's diagonal`` at a point of the domain cuts it."""

CORNER = 1e-30
"""Added to the interpolation's denominator, so that it is 0, not NaN, where two parts meet."""


def carrier(part: Region) -> Callable[[Tensor, Tensor], Tensor]:
    """The signed distance-like function ``(x, y) ↦ s`` of a part's carrier (a line, or ``(|x − c|² − r²)/(2r)``
    for a circle); one line for a part of another kind."""
    if isinstance(part, Face) and part.dim == 2:
        axis, value = part.axis, part.value
        return lambda x, y: (x if axis == 0 else y) - value
    if isinstance(part, Segment):
        (x0, y0), (x1, y1) = part.start.tolist(), part.end.tolist()
        length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        return lambda x, y: ((x - x0) * (y1 - y0) - (y - y0) * (x1 - x0)) / length
    if isinstance(part, Sphere | Arc) and len(part.center) == 2:
        (cx, cy), r = [float(c) for c in part.center], float(part.radius)
        return lambda x, y: ((x - cx) ** 2 + (y - cy) ** 2 - r * r) / (2 * r)
    raise ValueError(
        f"constraints='exact' imposes velocity on faces, segments, arcs and circles; the part "
        f"'{part.name}' is a {type(part).__name__}: use constraints='soft'"
    )


def distance(part: Region, outside_circle: bool) -> Callable[[Tensor, Tensor], Tensor]:
    """The distance to a part's carrier on the domain's side: a line's ``|s|`` (signed by the side), a hole's
    ``|x − c| − r`` (``outside_circle``), a surrounding circle's ``(r² − |x − c|²)/(2r)``."""
    if isinstance(part, Sphere | Arc) and outside_circle:
        (cx, cy), r = [float(c) for c in part.center], float(part.radius)
        return lambda x, y: torch.sqrt((x - cx) ** 2 + (y - cy) ** 2) - r
    signed = carrier(part)
    return signed if outside_circle else lambda x, y: -signed(x, y)


class DistanceDirichlet(AffineTransform):
    """``u = B + φ·N`` of the module docstring on the output columns ``fields``.

    ``parts`` are ``(part, data)`` with ``data(x, y[, t]) -> tuple`` of one value per constrained field;
    ``interior`` are points of the domain (to orient and normalize each carrier, and to check that it does not
    cut the domain); ``time`` and ``initial(x, y) -> tuple`` come together for a problem with time.
    """

    def __init__(
        self,
        parts: Sequence[tuple[Region, Callable]],
        fields: Sequence[int],
        interior: Tensor,
        time: TimeInterval | None = None,
        initial: Callable | None = None,
    ):
        self.fields, self.time, self.initial = tuple(fields), time, initial
        self.data = [data for _, data in parts]
        self.diagonal = float((interior.max(dim=0).values - interior.min(dim=0).values).norm())
        self.carriers = []
        for part, _ in parts:
            s = carrier(part)(interior[:, 0], interior[:, 1])
            positive = float(s.median()) > 0
            if float((s if positive else -s).min()) < -CUT_TOLERANCE * self.diagonal:
                raise ValueError(
                    f"constraints='exact': the {'circle' if hasattr(part, 'radius') else 'line'} of the part "
                    f"'{part.name}' cuts the domain, so its distance cannot vanish on the part alone; "
                    "use constraints='soft'"
                )
            self.carriers.append(distance(part, positive))
        self.largest = 1.0
        self.largest = float(self._scale(interior).max())

    def offset_and_scale(self, coordinates: list[Number], data: Evaluation) -> tuple[Number, Number]:
        space = data.points[:, :2]
        (scale,) = data.of(self._scale, space, 1, [[0, 1]])
        if self.time is None:
            (offset,) = data.of(self._offset, space, len(self.fields), [[0, 1]])
            return offset, scale
        t0, t1 = self.time.t0, self.time.t1
        (offset,) = data.of(self._offset, data.points, len(self.fields), [[0, 1, 2]])
        (start,) = data.of(lambda xy: self._offset(_with_time(xy, t0)), space, len(self.fields), [[0, 1]])
        (initial,) = data.of(self._initial, space, len(self.fields), [[0, 1]])
        return offset + initial - start, scale * ((coordinates[2] - t0) / (t1 - t0))

    def distances(self, x: Tensor, y: Tensor) -> Tensor:
        """The distances ``d_i`` at the points, in units of the domain's diagonal: ``(m, N)``."""
        return torch.stack([d(x, y) for d in self.carriers]) / self.diagonal

    def _weights(self, d: Tensor) -> tuple[Tensor, Tensor]:
        """``P_i = Π_{j≠i} d_j²`` ``(m, N)`` and ``S = Σ_k P_k``."""
        squares = d * d
        others = torch.stack([torch.cat([squares[:i], squares[i + 1 :]]).prod(dim=0) for i in range(len(d))])
        return others, others.sum(dim=0)

    def _scale(self, points: Tensor) -> Tensor:
        """``φ = Π d_i / √S`` over its largest value on the domain, as ``(1, N)``."""
        d = self.distances(points[:, 0], points[:, 1])
        _, total = self._weights(d)
        return (d.prod(dim=0) / (torch.sqrt(total) + CORNER) / self.largest)[None]

    def _offset(self, points: Tensor) -> Tensor:
        """``B = Σ_i g_i P_i / S`` as ``(fields, N)`` at points ``(x, y[, t])``."""
        x, y = points[:, 0], points[:, 1]
        others, total = self._weights(self.distances(x, y))
        values = torch.stack([self._values(g, x, y, *points[:, 2:].unbind(dim=1)) for g in self.data])
        return (others[:, None, :] * values).sum(dim=0) / (total + CORNER)

    def _initial(self, points: Tensor) -> Tensor:
        return self._values(self.initial, points[:, 0], points[:, 1])

    def _values(self, data: Callable, x: Tensor, *rest: Tensor) -> Tensor:
        values = data(x, *rest)
        return torch.stack([torch.zeros_like(x) + v for v in values])


def _with_time(points: Tensor, t: float) -> Tensor:
    return torch.cat([points, torch.full_like(points[:, :1], t)], dim=1)
