"""Plane geometry: segments, arcs, triangles and simple polygons, with exact measures and maps.

- ``Segment(a, b, normal)`` and ``Arc(center, radius, start, sweep)`` are boundary curves: an
  affine (or angular) map of one unit-cube coordinate, weight 1, exact length, and
  ``flux() = ∫ x·n ds``, so the area a closed boundary encloses is ``½ Σ flux`` (divergence
  theorem). ``where(predicate)`` keeps the sub-curves where a predicate holds (exactly, see
  ``Curve.where``). ``split(cutters, keep)`` cuts a curve where it crosses other curves' carriers
  (lines and circles) and keeps the pieces a test accepts: how CSG boundaries are clipped exactly.
- ``Triangles(vertices)`` is a union of disjoint triangles: the first unit-cube coordinate picks a
  triangle in proportion to its area, the next two place the point by the square-root map
  ``(1 − √u₁) A + √u₁ (1 − u₂) B + √u₁ u₂ C``, weight exactly 1.
- ``Polygon(vertices, names=None)`` is a simple polygon (either orientation), triangulated by ear
  clipping and sampled as ``Triangles``; its boundary parts are its edges ``edge0, edge1, …``
  (edge ``i`` runs from vertex ``i`` to vertex ``i + 1``) with outward normals, or the parts
  ``names`` gives (edges that share a name form one part).
- ``convex_difference``, ``convex_intersection`` and friends are the boolean operations on lists
  of disjoint convex polygons that make a CSG of polygons and boxes a ``Triangles`` region.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np
import torch

from pdes.geometry.region import Boundary, Flipped, Pieces, Predicate, Region, ones
from pdes.geometry.shapes import Empty, Face, Sphere

Tensor = torch.Tensor

WHERE_GRID = 4096
"""``Curve.where`` evaluates the predicate at this many + 1 equally spaced points of each curve."""

BISECTIONS = 60
"""Bisection steps that place each change of a predicate along a curve (to 2^-60 of the curve)."""


def as_points(x: np.ndarray) -> Tensor:
    """A float64 tensor copy of numpy points."""
    return torch.from_numpy(np.array(x, dtype=np.float64))


class Line:
    """The carrier of a segment: points ``p + s d``."""

    def __init__(self, point: np.ndarray, direction: np.ndarray):
        self.point, self.direction = point, direction


class Circle:
    """The carrier of an arc: ``|x − c| = r``."""

    def __init__(self, center: np.ndarray, radius: float):
        self.center, self.radius = center, radius


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def line_line_points(a: Line, b: Line) -> np.ndarray:
    """The crossing point of two lines (none where they are parallel): ``(k, 2)``."""
    cross = _cross(a.direction, b.direction)
    scale = np.linalg.norm(a.direction) * np.linalg.norm(b.direction)
    if abs(cross) <= 1e-14 * scale:
        return np.empty((0, 2))
    s = _cross(b.point - a.point, b.direction) / cross
    return (a.point + s * a.direction)[None]


def line_circle_points(line: Line, circle: Circle) -> np.ndarray:
    """Points where a line meets a circle: ``|p + s d − c|² = r²``; a tangent (to rounding) gives its one point."""
    d, f = line.direction, line.point - circle.center
    a, b, c = d @ d, 2 * d @ f, f @ f - circle.radius**2
    disc = b * b - 4 * a * c
    if disc < -1e-12 * (b * b + abs(4 * a * c)):
        return np.empty((0, 2))
    root = math.sqrt(max(disc, 0.0))
    s = np.array([(-b - root) / (2 * a), (-b + root) / (2 * a)])
    return line.point + s[:, None] * d


def circle_circle_points(a: Circle, b: Circle) -> np.ndarray:
    """Points where two circles meet (none for concentric ones); a tangent (to rounding) gives its one point."""
    offset = b.center - a.center
    distance = float(np.linalg.norm(offset))
    if distance <= 1e-14 * max(a.radius, b.radius):
        return np.empty((0, 2))
    along = (distance**2 + a.radius**2 - b.radius**2) / (2 * distance)
    h2 = a.radius**2 - along**2
    if h2 < -1e-12 * a.radius**2:
        return np.empty((0, 2))
    h = math.sqrt(max(h2, 0.0))
    unit = offset / distance
    normal = np.array([-unit[1], unit[0]])
    base = a.center + along * unit
    return np.stack([base + h * normal, base - h * normal])


def carrier_points(a: Line | Circle, b: Line | Circle) -> np.ndarray:
    """Points where two carriers meet."""
    if isinstance(a, Line) and isinstance(b, Line):
        return line_line_points(a, b)
    if isinstance(a, Line):
        return line_circle_points(a, b)
    if isinstance(b, Line):
        return line_circle_points(b, a)
    return circle_circle_points(a, b)


class Curve(Region):
    """A plane boundary curve ``x(s)``, ``s ∈ [0, 1]``, of constant speed: the map is ``x(u₀)``, weight 1.

    Subclasses give ``at(s)`` (numpy points), ``normal_at(s)``, ``parameter_of(points)``,
    ``sub(s0, s1)``, ``carrier`` and ``flux()``.
    """

    dim = 2
    cube_dim = 1
    has_normal = True
    carrier: Line | Circle
    """The line or circle the curve lies on."""

    def at(self, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def normal_at(self, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def parameter_of(self, points: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def sub(self, s0: float, s1: float) -> Curve:
        raise NotImplementedError

    def flux(self) -> float:
        """``∫ x·n ds`` over the curve, in closed form."""
        raise NotImplementedError

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        return self._map(u[:, 0]), ones(u)

    def _map(self, s: Tensor) -> Tensor:
        raise NotImplementedError

    def cuts(self, cutters: Sequence[Line | Circle]) -> np.ndarray:
        """The sorted parameters ``0, …, 1`` where the curve crosses ``cutters`` (and its ends)."""
        found = [np.array([0.0, 1.0])]
        for cutter in cutters:
            points = carrier_points(self.carrier, cutter)
            if len(points):
                s = self.parameter_of(points)
                found.append(s[(s > 0) & (s < 1)])
        s = np.unique(np.concatenate(found))
        return s[np.concatenate([[True], np.diff(s) > 1e-12])] if len(s) > 2 else s

    def split(self, cutters: Sequence[Line | Circle], keep: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> list:
        """The sub-curves between crossings with ``cutters`` whose midpoint ``m`` and normal ``n`` pass ``keep(m, n)``.

        Adjacent kept pieces are joined; the curve itself is returned where all of it is kept.
        """
        s = self.cuts(cutters)
        middle = (s[:-1] + s[1:]) / 2
        kept = keep(self.at(middle), self.normal_at(middle))
        return self._pieces_between(s, kept)

    def _pieces_between(self, s: np.ndarray, kept: np.ndarray) -> list:
        """The sub-curves over the runs of ``kept`` intervals ``[s_i, s_{i+1}]``."""
        if kept.all():
            return [self]
        pieces, start = [], None
        for i, keep in enumerate(kept):
            if keep and start is None:
                start = s[i]
            if start is not None and (not keep or i == len(kept) - 1):
                end = s[i + 1] if keep else s[i]
                pieces.append(self.sub(float(start), float(end)))
                start = None
        return pieces

    def where(self, predicate: Predicate) -> Region:
        """The sub-curves where ``predicate`` holds, computed (not sampled by rejection).

        The predicate is read at ``WHERE_GRID + 1`` equally spaced points; each change between two
        neighbours is placed by ``BISECTIONS`` bisection steps, so the kept length is exact to
        rounding wherever the predicate's set along the curve is a union of intervals (and gaps)
        longer than ``1/WHERE_GRID`` of the curve. An empty result has measure 0.
        """
        s = np.linspace(0.0, 1.0, WHERE_GRID + 1)
        values = self._holds(predicate, s)
        changes = np.nonzero(values[:-1] != values[1:])[0]
        lo, hi = s[changes], s[changes + 1]
        for _ in range(BISECTIONS):
            mid = (lo + hi) / 2
            same = self._holds(predicate, mid) == values[changes]
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        cuts = np.concatenate([[0.0], (lo + hi) / 2, [1.0]])
        kept = np.concatenate([values[:1], values[changes + 1]])
        pieces = self._pieces_between(cuts, kept)
        if not pieces:
            return Empty(2)
        return pieces[0] if len(pieces) == 1 else Pieces(pieces)

    def _holds(self, predicate: Predicate, s: np.ndarray) -> np.ndarray:
        return predicate(as_points(self.at(s))).numpy().astype(bool)


class Segment(Curve):
    """The segment from ``a`` to ``b``, ``x = a + (b − a)u``, with a constant unit normal.

    ``normal`` defaults to the right-hand normal ``(dy, −dx)/L``, outward for a counter-clockwise polygon.
    """

    def __init__(self, start: Sequence[float], end: Sequence[float], normal: Sequence[float] | None = None):
        self.start, self.end = np.array(start, dtype=np.float64), np.array(end, dtype=np.float64)
        if self.start.shape != (2,) or self.end.shape != (2,):
            raise ValueError(f"a Segment needs 2D end points, got {list(start)}, {list(end)}")
        d = self.end - self.start
        self.measure = float(np.hypot(*d))
        if not self.measure > 0:
            raise ValueError(f"a Segment needs distinct end points, got {list(start)} twice")
        default = np.array([d[1], -d[0]]) / self.measure
        self._normal = default if normal is None else np.array(normal, dtype=np.float64)
        self.carrier = Line(self.start, d)

    @property
    def bounds(self) -> Tensor:
        return torch.from_numpy(np.stack([np.minimum(self.start, self.end), np.maximum(self.start, self.end)]))

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return segment_distance(x, self.start, self.end) <= tol

    def _map(self, s: Tensor) -> Tensor:
        a, d = (torch.from_numpy(v).to(s) for v in (self.start, self.end - self.start))
        return a + s[:, None] * d

    def normal(self, x: Tensor) -> Tensor:
        return torch.from_numpy(self._normal).to(x).expand(x.shape[0], 2).clone()

    def at(self, s: np.ndarray) -> np.ndarray:
        return self.start + np.asarray(s)[:, None] * (self.end - self.start)

    def normal_at(self, s: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._normal, (len(s), 2))

    def parameter_of(self, points: np.ndarray) -> np.ndarray:
        d = self.end - self.start
        return (points - self.start) @ d / (d @ d)

    def sub(self, s0: float, s1: float) -> Segment:
        a, b = self.at(np.array([s0, s1]))
        return Segment(a, b, self._normal)

    def flipped(self) -> Segment:
        return Segment(self.start, self.end, -self._normal)

    def flux(self) -> float:
        """``(a·n) L``: ``x·n`` is constant along a segment."""
        return float(self.start @ self._normal) * self.measure

    def __repr__(self) -> str:
        return f"Segment({self.start.tolist()}, {self.end.tolist()})"


def segment_distance(x: Tensor, a: np.ndarray, b: np.ndarray) -> Tensor:
    """Distance ``(N,)`` from points ``x (N, 2)`` to the segment ``[a, b]``."""
    a_, d = torch.from_numpy(a).to(x), torch.from_numpy(b - a).to(x)
    s = (((x - a_) @ d) / (d @ d)).clamp(0, 1)
    return (x - a_ - s[:, None] * d).norm(dim=1)


class Arc(Curve):
    """The arc ``c + r (cos θ, sin θ)``, ``θ = start + sweep·u`` (``0 < sweep ≤ 2π``), length ``r·sweep``.

    Normal ``(x − c)/r`` (``outward=True``, the boundary of a disk) or its opposite (a hole's).
    """

    def __init__(self, center: Sequence[float], radius: float, start: float, sweep: float, outward: bool = True):
        self.center = np.array(center, dtype=np.float64)
        self.radius, self.start, self.sweep, self.outward = float(radius), float(start), float(sweep), outward
        if not (self.radius > 0 and 0 < self.sweep <= 2 * math.pi + 1e-12):
            raise ValueError(f"an Arc needs radius > 0 and 0 < sweep ≤ 2π, got {radius}, {sweep}")
        self.measure = self.radius * self.sweep
        self.carrier = Circle(self.center, self.radius)

    @property
    def bounds(self) -> Tensor:
        c, r = torch.from_numpy(self.center), self.radius
        return torch.stack([c - r, c + r])

    def _angle_parameter(self, angle: Tensor | np.ndarray):
        turn = 2 * math.pi
        return ((angle - self.start) % turn) / self.sweep

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        c = torch.from_numpy(self.center).to(x)
        offset = x - c
        on_circle = (offset.norm(dim=1) - self.radius).abs() <= tol
        if self.sweep >= 2 * math.pi:
            return on_circle
        s = self._angle_parameter(torch.atan2(offset[:, 1], offset[:, 0]))
        slack = tol / self.measure
        return on_circle & ((s <= 1 + slack) | (s >= 2 * math.pi / self.sweep - slack))

    def _map(self, s: Tensor) -> Tensor:
        theta = self.start + self.sweep * s
        c = torch.from_numpy(self.center).to(s)
        return c + self.radius * torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)

    def normal(self, x: Tensor) -> Tensor:
        n = (x - torch.from_numpy(self.center).to(x)) / self.radius
        return n if self.outward else -n

    def at(self, s: np.ndarray) -> np.ndarray:
        theta = self.start + self.sweep * np.asarray(s)
        return self.center + self.radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)

    def normal_at(self, s: np.ndarray) -> np.ndarray:
        n = (self.at(s) - self.center) / self.radius
        return n if self.outward else -n

    def parameter_of(self, points: np.ndarray) -> np.ndarray:
        offset = points - self.center
        return self._angle_parameter(np.arctan2(offset[:, 1], offset[:, 0]))

    def sub(self, s0: float, s1: float) -> Arc:
        return Arc(self.center, self.radius, self.start + self.sweep * s0, self.sweep * (s1 - s0), self.outward)

    def flipped(self) -> Arc:
        return Arc(self.center, self.radius, self.start, self.sweep, not self.outward)

    def flux(self) -> float:
        """``±r (c·[sin θ, −cos θ] + r θ)`` between the end angles (+ for an outward normal)."""
        t0, t1 = self.start, self.start + self.sweep
        chord = np.array([math.sin(t1) - math.sin(t0), math.cos(t0) - math.cos(t1)])
        value = self.radius * (float(self.center @ chord) + self.radius * self.sweep)
        return value if self.outward else -value

    def __repr__(self) -> str:
        return f"Arc({self.center.tolist()}, {self.radius}, start={self.start}, sweep={self.sweep})"


def as_curves(region: Region) -> list[Curve] | None:
    """The segments and arcs that make up a plane boundary region, or None where it is not made of them."""
    if isinstance(region, Curve):
        return [region]
    if isinstance(region, Face) and region.dim == 2:
        free = 1 - region.axis
        start, end = [0.0, 0.0], [0.0, 0.0]
        start[region.axis] = end[region.axis] = region.value
        start[free], end[free] = region.box.lower[free], region.box.upper[free]
        normal = [0.0, 0.0]
        normal[region.axis] = float(region.side)
        return [Segment(start, end, normal)]
    if isinstance(region, Sphere) and region.dim == 2:
        return [Arc(region.center, region.radius, 0.0, 2 * math.pi, outward=not region.inward)]
    if isinstance(region, Flipped):
        curves = as_curves(region.piece)
        return None if curves is None else [c.flipped() for c in curves]
    if isinstance(region, Pieces) and region.dim == 2:
        found = [as_curves(p) for p in region.pieces]
        return None if any(c is None for c in found) else [c for curves in found for c in curves]
    return None


def signed_area(vertices: np.ndarray) -> float:
    """The shoelace area ``½ Σ (x_i y_{i+1} − x_{i+1} y_i)``: positive for a counter-clockwise polygon."""
    return 0.5 * float(_cross(vertices, np.roll(vertices, -1, axis=0)).sum())


def check_simple(vertices: np.ndarray) -> None:
    """Raise a one-sentence ValueError unless ``vertices (n, 2)`` are a simple polygon of positive area."""
    n = len(vertices)
    if vertices.ndim != 2 or vertices.shape[1:] != (2,) or n < 3:
        raise ValueError(f"a Polygon needs three or more 2D vertices, got an array of shape {vertices.shape}")
    if not np.isfinite(vertices).all():
        raise ValueError("a Polygon needs finite vertices")
    start, end = vertices, np.roll(vertices, -1, axis=0)
    scale = float(np.abs(vertices - vertices.mean(axis=0)).max())
    lengths = np.linalg.norm(end - start, axis=1)
    if (short := np.nonzero(lengths <= 1e-12 * scale)[0]).size:
        raise ValueError(f"Polygon vertex {(short[0] + 1) % n} repeats vertex {short[0]}: edges need a positive length")
    spread = vertices - vertices[0]
    if np.abs(_cross(spread, spread[np.argmax(np.linalg.norm(spread, axis=1))])).max() <= 1e-12 * scale**2:
        raise ValueError("a Polygon needs a positive area, got collinear vertices")
    crossing = segments_meet(start, end, tol=1e-12 * scale)
    index = np.arange(n)
    gap = (index[None, :] - index[:, None]) % n
    adjacent = (gap == 1) | (gap == n - 1)
    folds = adjacent & (np.einsum("id,jd->ij", end - start, end - start) < 0) & _collinear(start, end, 1e-12 * scale)
    bad = np.triu((crossing & ~adjacent & (gap != 0)) | folds)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ValueError(f"Polygon edges {i} and {j} meet: a polygon must be simple (not self-intersecting)")


def _collinear(start: np.ndarray, end: np.ndarray, tol: float) -> np.ndarray:
    """``(n, n)``: edge j's end points lie on edge i's line."""
    d = end - start
    unit = d / np.linalg.norm(d, axis=1, keepdims=True)
    a = _cross(unit[:, None], start[None, :] - start[:, None])
    b = _cross(unit[:, None], end[None, :] - start[:, None])
    return (np.abs(a) <= tol) & (np.abs(b) <= tol)


def segments_meet(start: np.ndarray, end: np.ndarray, tol: float) -> np.ndarray:
    """``(n, n)``: closed segments i and j share a point (orientation tests, ``|·| ≤ tol·L`` counts as 0)."""
    d = end - start
    length = np.linalg.norm(d, axis=1)

    def side(i_start, i_dir, i_len, p):
        value = _cross(i_dir[:, None], p[None, :] - i_start[:, None]) / i_len[:, None]
        return np.where(np.abs(value) <= tol, 0.0, np.sign(value))

    s1, s2 = side(start, d, length, start), side(start, d, length, end)  # j's ends against i's line
    straddle_j = s1 * s2 <= 0
    straddle_i = straddle_j.T
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    boxes = ((lo[:, None] <= hi[None, :] + tol) & (lo[None, :] <= hi[:, None] + tol)).all(axis=2)
    return straddle_j & straddle_i & boxes


def ear_clip(vertices: np.ndarray) -> np.ndarray:
    """Triangles ``(n − 2, 3, 2)`` of a simple counter-clockwise polygon, by ear clipping.

    Walking round the polygon, a vertex where the boundary runs straight is dropped (a zero-area
    ear) and a convex vertex whose triangle with its neighbours holds no other remaining vertex is
    cut off (a simple polygon always has such an ear: the two-ears theorem).
    """
    scale = float(np.abs(vertices - vertices.mean(axis=0)).max())
    tol = 1e-12 * scale**2
    order = list(range(len(vertices)))
    triangles = []
    k, misses = 0, 0
    while len(order) > 3:
        if misses > len(order):
            raise ValueError("the Polygon could not be triangulated: it is not simple to rounding accuracy")
        k %= len(order)
        i, j, m = order[k - 1], order[k], order[(k + 1) % len(order)]
        a, b, c = vertices[i], vertices[j], vertices[m]
        turn = _cross(b - a, c - b)
        if abs(turn) <= tol or (turn > 0 and not _holds_a_vertex(vertices, order, (i, j, m), tol)):
            if abs(turn) > tol:
                triangles.append([a, b, c])
            order.pop(k)
            k, misses = k - 1, 0
        else:
            k, misses = k + 1, misses + 1
    a, b, c = vertices[order]
    if _cross(b - a, c - b) > tol:
        triangles.append([a, b, c])
    return np.array(triangles, dtype=np.float64).reshape(-1, 3, 2)


def _holds_a_vertex(vertices: np.ndarray, order: list[int], ear: tuple[int, int, int], tol: float) -> bool:
    """Whether a remaining vertex other than the ear's own lies in the ear's triangle (or on its edges)."""
    remaining = np.asarray(order)
    a, b, c = vertices[list(ear)]
    p = vertices[remaining[~np.isin(remaining, ear)]]
    p = p[~(p == b).all(axis=1)]
    inside = (_cross(b - a, p - a) >= -tol) & (_cross(c - b, p - b) >= -tol) & (_cross(a - c, p - c) >= -tol)
    return bool(inside.any())


class Triangles(Region):
    """A union of disjoint triangles ``(T, 3, 2)``: exact measure, map without rejection (module docstring)."""

    dim = 2
    cube_dim = 3

    def __init__(self, triangles: np.ndarray):
        self.triangles = counter_clockwise(np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 2))
        a, b, c = self.triangles[:, 0], self.triangles[:, 1], self.triangles[:, 2]
        self.areas = _cross(b - a, c - a) / 2
        if not len(self.areas) or not self.areas.sum() > 0:
            raise ValueError("a Triangles region needs one or more triangles of positive area")
        self.measure = float(self.areas.sum())
        edges = np.concatenate([[0.0], np.cumsum(self.areas) / self.measure])
        edges[-1] = 1.0
        self._edges = torch.from_numpy(edges)

    @property
    def bounds(self) -> Tensor:
        flat = self.triangles.reshape(-1, 2)
        return torch.from_numpy(np.stack([flat.min(axis=0), flat.max(axis=0)]))

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        """In some triangle: no point farther than ``tol`` beyond any of its three edge lines."""
        t = torch.from_numpy(self.triangles).to(x)
        inside = torch.ones(x.shape[0], len(t), dtype=torch.bool, device=x.device)
        for k in range(3):
            a, d = t[:, k], t[:, (k + 1) % 3] - t[:, k]
            offset = x[:, None, :] - a[None]
            left = (d[None, :, 0] * offset[..., 1] - d[None, :, 1] * offset[..., 0]) / d.norm(dim=1)
            inside &= left >= -tol
        return inside.any(dim=1)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        index = torch.bucketize(u[:, 0].contiguous(), self._edges.to(u)[1:-1].contiguous(), right=True)
        corners = torch.from_numpy(self.triangles).to(u)[index]
        root = torch.sqrt(u[:, 1:2])
        x = (1 - root) * corners[:, 0] + root * (1 - u[:, 2:3]) * corners[:, 1] + root * u[:, 2:3] * corners[:, 2]
        return x, ones(u)

    def gauss_points(self, degree: int) -> tuple[Tensor, Tensor]:
        """Points and weights (summing to 1) exact for polynomials of ``degree`` on every triangle
        (the per-cell rule of ``pdes.meshes.Simplices``): what ``sampler="gauss"`` uses."""
        from pdes.meshes.simplices import Simplices  # pdes.meshes builds on this package

        corners = self.triangles.reshape(-1, 2)
        return Simplices(corners, np.arange(len(corners)).reshape(-1, 3)).gauss_points(degree)


class Polygon(Region):
    """A simple polygon (module docstring): ``Polygon([(0, 0), (1, 0), (1, 1), (0, 1)], names=None)``.

    ``names``: one name per edge (edge ``i`` from vertex ``i`` to ``i + 1``); edges that share a
    name form one part. Default ``edge0, edge1, …``. The interior map is that of its ear-clipping
    ``Triangles``; its measure the shoelace area.
    """

    dim = 2
    cube_dim = 3

    def __init__(self, vertices: Sequence[Sequence[float]], names: Sequence[str] | None = None):
        self.vertices = np.array(vertices, dtype=np.float64)
        check_simple(self.vertices)
        n = len(self.vertices)
        self.edge_names = [f"edge{i}" for i in range(n)] if names is None else list(names)
        if len(self.edge_names) != n or not all(isinstance(k, str) and k for k in self.edge_names):
            raise ValueError(f"Polygon names must be {n} non-empty strings, one per edge, got {names!r}")
        area = signed_area(self.vertices)
        self.counter_clockwise = area > 0
        self.measure = abs(area)
        self.triangles = Triangles(ear_clip(self.vertices if self.counter_clockwise else self.vertices[::-1]))

    @property
    def bounds(self) -> Tensor:
        return torch.from_numpy(np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)]))

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        """Inside by the even–odd rule, or within ``tol`` of an edge (``tol < 0``: at least ``−tol`` inside)."""
        a = torch.from_numpy(self.vertices).to(x)
        b = torch.roll(a, -1, dims=0)
        px, py = x[:, None, 0], x[:, None, 1]
        straddles = (a[None, :, 1] > py) != (b[None, :, 1] > py)
        dy = torch.where(straddles, b[:, 1] - a[:, 1], torch.ones_like(a[:, 1]))
        crossing_x = a[:, 0] + (py - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
        inside = (straddles & (px < crossing_x)).sum(dim=1) % 2 == 1
        distance = torch.stack([segment_distance(x, p, q) for p, q in self._edges()], dim=1).min(dim=1).values
        return inside | (distance <= tol) if tol >= 0 else inside & (distance >= -tol)

    def _edges(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self.vertices[i], self.vertices[(i + 1) % len(self.vertices)]) for i in range(len(self.vertices))]

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        return self.triangles.from_unit_cube(u)

    def gauss_points(self, degree: int) -> tuple[Tensor, Tensor]:
        """The per-triangle rule exact for polynomials of ``degree`` (``Triangles.gauss_points``)."""
        return self.triangles.gauss_points(degree)

    def edges(self) -> list[Segment]:
        """The edges as Segments in vertex order, each with its outward unit normal."""
        sign = 1.0 if self.counter_clockwise else -1.0
        segments = []
        for a, b in self._edges():
            d = b - a
            segments.append(Segment(a, b, sign * np.array([d[1], -d[0]]) / np.hypot(*d)))
        return segments

    @cached_property
    def boundary(self) -> Boundary:
        groups: dict[str, list[Segment]] = {}
        for name, segment in zip(self.edge_names, self.edges()):
            groups.setdefault(name, []).append(segment)
        return Boundary({k: v[0] if len(v) == 1 else Pieces(v) for k, v in groups.items()})


def convex_pieces(region: Region) -> list[np.ndarray] | None:
    """Disjoint counter-clockwise convex polygons whose union is a polygonal plane region, else None."""
    from pdes.geometry.shapes import Box

    if isinstance(region, Box) and region.dim == 2:
        (x0, y0), (x1, y1) = region.lower, region.upper
        return [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])]
    if isinstance(region, Polygon):
        return list(region.triangles.triangles)
    triangles = getattr(region, "triangles", None)
    return list(triangles.triangles) if isinstance(triangles, Triangles) else None


def clip(polygon: np.ndarray, point: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The part of a convex polygon left of the line ``point + s·direction`` (Sutherland–Hodgman)."""
    if len(polygon) == 0:
        return polygon
    side = _cross(direction, polygon - point)
    out = []
    for k in range(len(polygon)):
        p, q, sp, sq = polygon[k], polygon[(k + 1) % len(polygon)], side[k], side[(k + 1) % len(polygon)]
        if sp >= 0:
            out.append(p)
        if (sp > 0 > sq) or (sp < 0 < sq):
            out.append(p + (q - p) * (sp / (sp - sq)))
    return np.array(out).reshape(-1, 2)


def area(polygon: np.ndarray) -> float:
    """The area of a convex polygon (0 for fewer than 3 vertices)."""
    return abs(signed_area(polygon)) if len(polygon) >= 3 else 0.0


def _edges_of(convex: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(convex[k], convex[(k + 1) % len(convex)] - convex[k]) for k in range(len(convex))]


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((a.min(axis=0) < b.max(axis=0)).all() and (b.min(axis=0) < a.max(axis=0)).all())


def convex_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a ∩ b`` of two convex polygons: ``a`` clipped by every edge of ``b``."""
    for point, direction in _edges_of(b):
        a = clip(a, point, direction)
    return a


def convex_difference(a: np.ndarray, b: np.ndarray, tiny: float) -> list[np.ndarray]:
    """``a − b`` as disjoint convex polygons: for each edge of ``b`` in turn, the part of what is left of ``a``
    beyond that edge, ``a ∩ H₁ ∩ … ∩ H_{i−1} ∩ H̄_i`` (``H`` the inner half-planes of ``b``)."""
    if not _overlap(a, b):
        return [a]
    pieces, rest = [], a
    for point, direction in _edges_of(b):
        beyond = clip(rest, point, -direction)
        if area(beyond) > tiny:
            pieces.append(beyond)
        rest = clip(rest, point, direction)
        if area(rest) <= tiny:
            break
    return pieces


def difference(a: list[np.ndarray], b: list[np.ndarray], tiny: float) -> list[np.ndarray]:
    """``A − B`` for lists of disjoint convex polygons."""
    for cutter in b:
        a = [piece for p in a for piece in convex_difference(p, cutter, tiny)]
    return a


def intersection(a: list[np.ndarray], b: list[np.ndarray], tiny: float) -> list[np.ndarray]:
    """``A ∩ B`` for lists of disjoint convex polygons."""
    pieces = [convex_intersection(p, q) for p in a for q in b if _overlap(p, q)]
    return [p for p in pieces if area(p) > tiny]


def union(a: list[np.ndarray], b: list[np.ndarray], tiny: float) -> list[np.ndarray]:
    """``A ∪ B = A + (B − A)``, disjoint."""
    return a + difference(b, a, tiny)


def counter_clockwise(triangles: np.ndarray) -> np.ndarray:
    """Triangles ``(T, 3, 2)`` with their last two vertices swapped where they run clockwise."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    clockwise = _cross(b - a, c - a) < 0
    out = triangles.copy()
    out[clockwise, 1], out[clockwise, 2] = triangles[clockwise, 2], triangles[clockwise, 1]
    return out


def fan(convex: list[np.ndarray]) -> np.ndarray:
    """Triangles ``(T, 3, 2)`` of convex polygons, fanned from each polygon's first vertex."""
    triangles = [[p[0], p[k], p[k + 1]] for p in convex for k in range(1, len(p) - 1)]
    return np.array(triangles, dtype=np.float64).reshape(-1, 3, 2)
