"""Regions of space and space-time, each with a measure-preserving map from the unit cube.

Every region has

- ``dim``: the number of coordinates of its points;
- ``cube_dim``: the number of unit-cube coordinates its map consumes;
- ``measure``: its length, area or volume (faces of a boundary by their own measure,
  a point by 1);
- ``bounds``: a ``(2, dim)`` float64 tensor, lower then upper corner of a bounding box;
- ``contains(x)``: a boolean ``(N,)`` tensor;
- ``from_unit_cube(u) -> (x, w)``: for ``u`` uniform on ``[0, 1]^cube_dim``,
  ``E[w f(x)]`` is the mean of ``f`` over the region. Exact maps give ``w = 1``;
  rejection (``Difference``) gives ``w = 0`` outside and ``|box| / |region|`` inside.

Boundaries are regions too and also have ``normal(x)``, the outward unit normal.
A space-time domain ``SpaceTime(space, TimeInterval(t0, T))`` has ``.boundary``
(the lateral boundary ``∂Ω × (t0, T]``) and ``.initial`` (the slice ``Ω × {t0}``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import accumulate

import torch

Tensor = torch.Tensor


class Region:
    """Base class: see the module docstring for the contract."""

    dim: int
    cube_dim: int
    measure: float

    @property
    def bounds(self) -> Tensor:
        raise NotImplementedError

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        raise NotImplementedError

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    @property
    def boundary(self) -> Region:
        raise ValueError(f"{type(self).__name__} has no boundary region")

    def normal(self, x: Tensor) -> Tensor:
        raise ValueError(f"{type(self).__name__} is not a boundary: it has no normal")

    def _check_cube(self, u: Tensor) -> None:
        if u.ndim != 2 or u.shape[1] != self.cube_dim:
            raise ValueError(
                f"{type(self).__name__}.from_unit_cube expects (N, {self.cube_dim}) points, got shape {tuple(u.shape)}"
            )


def _ones(u: Tensor) -> Tensor:
    return torch.ones(u.shape[0], dtype=u.dtype, device=u.device)


class Point(Region):
    """A single point; its measure is 1 (counting measure)."""

    def __init__(self, coordinates: Sequence[float], normal: Sequence[float] | None = None):
        self.coordinates = [float(c) for c in coordinates]
        self.dim = len(self.coordinates)
        self.cube_dim = 0
        self.measure = 1.0
        self._normal = None if normal is None else [float(n) for n in normal]

    @property
    def bounds(self) -> Tensor:
        c = torch.tensor(self.coordinates, dtype=torch.float64)
        return torch.stack([c, c])

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        c = torch.tensor(self.coordinates, dtype=x.dtype, device=x.device)
        return (x - c).abs().max(dim=1).values <= tol

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        c = torch.tensor(self.coordinates, dtype=u.dtype, device=u.device)
        return c.expand(u.shape[0], self.dim).clone(), _ones(u)

    def normal(self, x: Tensor) -> Tensor:
        if self._normal is None:
            return super().normal(x)
        n = torch.tensor(self._normal, dtype=x.dtype, device=x.device)
        return n.expand(x.shape[0], self.dim).clone()


class Box(Region):
    """The axis-aligned box ``[lo_0, hi_0] × … × [lo_{d-1}, hi_{d-1}]``; x = lo + (hi − lo)·u."""

    def __init__(self, lower: Sequence[float], upper: Sequence[float]):
        if not all(isinstance(corner, Iterable) and not isinstance(corner, str) for corner in (lower, upper)):
            raise TypeError(
                f"Box needs its corners as lists, e.g. Box([0, 0], [1, 1]) (an interval: Interval(a, b)), "
                f"got {lower!r}, {upper!r}"
            )
        self.lower = [float(v) for v in lower]
        self.upper = [float(v) for v in upper]
        if len(self.lower) != len(self.upper) or not self.lower:
            raise ValueError("Box needs lower and upper corners of the same, positive length")
        if not all(math.isfinite(v) for v in self.lower + self.upper):
            raise ValueError(f"Box needs finite corners, got {self.lower}, {self.upper}")
        if any(hi <= lo for lo, hi in zip(self.lower, self.upper)):
            raise ValueError(f"Box needs lower < upper on every axis, got {self.lower}, {self.upper}")
        self.dim = len(self.lower)
        self.cube_dim = self.dim
        self.measure = math.prod(hi - lo for lo, hi in zip(self.lower, self.upper))

    @property
    def bounds(self) -> Tensor:
        return torch.tensor([self.lower, self.upper], dtype=torch.float64)

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        lo, hi = self.bounds.to(x)
        return ((x >= lo - tol) & (x <= hi + tol)).all(dim=1)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        lo, hi = self.bounds.to(u)
        return lo + (hi - lo) * u, _ones(u)

    @property
    def boundary(self) -> Union:
        return Union([face for axis in range(self.dim) for face in _faces(self, axis)])


def Interval(a: float, b: float) -> Box:
    """The interval ``[a, b]`` as a one-dimensional Box."""
    if not float(a) < float(b):
        raise ValueError(f"Interval needs a < b, got a={a}, b={b}")
    return Box([a], [b])


class Face(Region):
    """The face ``x_axis = lo_axis`` (side −1) or ``hi_axis`` (side +1) of a box."""

    def __init__(self, box: Box, axis: int, side: int):
        self.box, self.axis, self.side = box, axis, side
        self.dim = box.dim
        self.cube_dim = box.dim - 1
        self.value = box.upper[axis] if side > 0 else box.lower[axis]
        self.measure = math.prod(hi - lo for i, (lo, hi) in enumerate(zip(box.lower, box.upper)) if i != axis)

    @property
    def bounds(self) -> Tensor:
        b = self.box.bounds.clone()
        b[:, self.axis] = self.value
        return b

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        on_plane = (x[:, self.axis] - self.value).abs() <= tol
        return on_plane & self.box.contains(x, tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        column = torch.full((u.shape[0], 1), 0.5, dtype=u.dtype, device=u.device)
        full = torch.cat([u[:, : self.axis], column, u[:, self.axis :]], dim=1)
        x, w = self.box.from_unit_cube(full)
        x[:, self.axis] = self.value
        return x, w

    def normal(self, x: Tensor) -> Tensor:
        n = torch.zeros_like(x)
        n[:, self.axis] = float(self.side)
        return n


def _faces(box: Box, axis: int) -> list[Region]:
    if box.dim == 1:
        return [Point([box.lower[0]], [-1.0]), Point([box.upper[0]], [1.0])]
    return [Face(box, axis, -1), Face(box, axis, 1)]


class Ball(Region):
    """The closed ball ``|x − c| ≤ r`` in any dimension.

    Exact maps: polar ``(r√u₀, 2πu₁)`` in 2D, ``(r u₀^{1/3}, cos θ = 1 − 2u₁, φ = 2πu₂)``
    in 3D; in other dimensions the radius ``r u₀^{1/d}`` and a direction from
    ``d`` Gaussian coordinates (so ``cube_dim = d + 1``).
    """

    def __init__(self, center: Sequence[float], radius: float):
        self.center = [float(c) for c in center]
        self.radius = float(radius)
        if not 0 < self.radius < math.inf:
            raise ValueError(f"Ball radius must be positive and finite, got {radius}")
        self.dim = len(self.center)
        self.cube_dim = self.dim if self.dim in (1, 2, 3) else self.dim + 1
        d = self.dim
        self.measure = math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius**d

    @property
    def bounds(self) -> Tensor:
        return _cube_around(self.center, self.radius)

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return (x - c).norm(dim=1) <= self.radius + tol

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        c = torch.tensor(self.center, dtype=u.dtype, device=u.device)
        if self.dim == 1:
            return c + self.radius * (2 * u - 1), _ones(u)
        radius = self.radius * u[:, 0:1] ** (1.0 / self.dim)
        direction = _sphere_direction(self.dim, u[:, 1:])
        return c + radius * direction, _ones(u)

    @property
    def boundary(self) -> Sphere:
        return Sphere(self.center, self.radius)


def _cube_around(center: Sequence[float], radius: float) -> Tensor:
    """Bounds ``(2, d)`` of the cube ``center ± radius``."""
    c = torch.tensor(center, dtype=torch.float64)
    return torch.stack([c - radius, c + radius])


def _sphere_direction(dim: int, u: Tensor) -> Tensor:
    """A uniformly distributed unit vector in R^dim from uniform ``u``."""
    if dim == 2:
        angle = 2 * math.pi * u[:, 0]
        return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    if dim == 3:
        z = 1 - 2 * u[:, 0]
        phi = 2 * math.pi * u[:, 1]
        rho = torch.sqrt((1 - z * z).clamp_min(0))
        return torch.stack([rho * torch.cos(phi), rho * torch.sin(phi), z], dim=1)
    eps = torch.finfo(u.dtype).eps
    g = torch.special.ndtri(u.clamp(eps, 1 - eps))
    return g / g.norm(dim=1, keepdim=True)


def _sphere_cube_dim(dim: int) -> int:
    return dim - 1 if dim in (2, 3) else dim


class Sphere(Region):
    """The sphere ``|x − c| = r`` (boundary of a Ball), outward normal ``(x − c)/r``."""

    def __init__(self, center: Sequence[float], radius: float, inward: bool = False):
        self.center = [float(c) for c in center]
        self.radius = float(radius)
        self.inward = inward
        self.dim = len(self.center)
        if self.dim < 2:
            raise ValueError("a Sphere needs dimension 2 or more; the boundary of a 1D ball is two points")
        self.cube_dim = _sphere_cube_dim(self.dim)
        d = self.dim
        self.measure = 2 * math.pi ** (d / 2) / math.gamma(d / 2) * self.radius ** (d - 1)

    @property
    def bounds(self) -> Tensor:
        return _cube_around(self.center, self.radius)

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return ((x - c).norm(dim=1) - self.radius).abs() <= tol

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        c = torch.tensor(self.center, dtype=u.dtype, device=u.device)
        return c + self.radius * _sphere_direction(self.dim, u), _ones(u)

    def normal(self, x: Tensor) -> Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        n = (x - c) / self.radius
        return -n if self.inward else n

    def flipped(self) -> Sphere:
        """The same sphere with the opposite normal (a hole's boundary seen from outside it)."""
        return Sphere(self.center, self.radius, inward=not self.inward)


class Union(Region):
    """A disjoint union of pieces of equal ``dim``, each chosen with probability ∝ its measure.

    The first unit-cube coordinate picks the piece (so stratified and QMC rules
    stratify across pieces), the next ``cube_dim − 1`` place the point in it.
    """

    def __init__(self, pieces: Sequence[Region]):
        self.pieces = list(pieces)
        if not self.pieces or len({p.dim for p in self.pieces}) != 1:
            raise ValueError("a Union needs one or more pieces of the same dimension")
        self.dim = self.pieces[0].dim
        self.cube_dim = 1 + max(p.cube_dim for p in self.pieces)
        self.measure = sum(p.measure for p in self.pieces)
        self._edges = torch.tensor(
            [0.0] + list(accumulate([p.measure / self.measure for p in self.pieces])),
            dtype=torch.float64,
        )
        self._edges[-1] = 1.0

    @property
    def bounds(self) -> Tensor:
        b = torch.stack([p.bounds for p in self.pieces])
        return torch.stack([b[:, 0].min(dim=0).values, b[:, 1].max(dim=0).values])

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        inside = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for p in self.pieces:
            inside |= p.contains(x, tol)
        return inside

    def piece_index(self, u0: Tensor) -> Tensor:
        """Index of the piece that unit-cube coordinate ``u0`` selects."""
        edges = self._edges.to(u0)[1:-1].contiguous()
        return torch.bucketize(u0.contiguous(), edges, right=True)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        index = self.piece_index(u[:, 0])
        x = torch.empty(u.shape[0], self.dim, dtype=u.dtype, device=u.device)
        w = torch.empty(u.shape[0], dtype=u.dtype, device=u.device)
        for k, piece in enumerate(self.pieces):
            rows = index == k
            xk, wk = piece.from_unit_cube(u[rows, 1 : 1 + piece.cube_dim])
            x[rows], w[rows] = xk, wk
        return x, w

    def normal(self, x: Tensor) -> Tensor:
        n = torch.full_like(x, float("nan"))
        for piece in self.pieces:
            on = piece.contains(x, 1e-6) & n[:, 0].isnan()
            if on.any():
                n[on] = piece.normal(x[on])
        return n


class Difference(Region):
    """``base`` minus holes (balls or boxes) that lie strictly inside it.

    Sampling is by rejection: a point of ``base`` inside a hole gets weight 0 and
    every other point ``|base| / |region|``, so ``E[w f(x)]`` is the region mean.
    """

    def __init__(self, base: Region, holes: Sequence[Region]):
        self.base = base
        self.holes = list(holes)
        for hole in self.holes:
            lo, hi = hole.bounds
            if hole.dim != base.dim or not base.contains(torch.stack([lo, hi])).all():
                raise ValueError(f"a hole must lie inside the base region: {type(hole).__name__} does not")
        self.dim = base.dim
        self.cube_dim = base.cube_dim
        self.measure = base.measure - sum(h.measure for h in self.holes)
        if self.measure <= 0:
            raise ValueError("the holes of a Difference cover its base region")

    @property
    def bounds(self) -> Tensor:
        return self.base.bounds

    def _in_hole(self, x: Tensor, tol: float) -> Tensor:
        inside = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for hole in self.holes:
            inside |= hole.contains(x, tol)
        return inside

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return self.base.contains(x, tol) & ~self._in_hole(x, -tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        x, w = self.base.from_unit_cube(u)
        keep = ~self._in_hole(x, 0.0)
        return x, w * keep.to(w.dtype) * (self.base.measure / self.measure)

    @property
    def boundary(self) -> Union:
        outer = self.base.boundary
        outer_pieces = outer.pieces if isinstance(outer, Union) else [outer]
        return Union(outer_pieces + [_hole_boundary(h) for h in self.holes])


def _hole_boundary(hole: Region) -> Region:
    """The boundary of a hole with normals pointing into the hole (out of the region)."""
    if isinstance(hole, Ball):
        return hole.boundary.flipped()
    if isinstance(hole, Box):
        return Union([_FlippedNormal(face) for face in hole.boundary.pieces])
    raise ValueError(f"holes must be Ball or Box, got {type(hole).__name__}")


class _FlippedNormal(Region):
    """A boundary piece with its normal reversed."""

    def __init__(self, piece: Region):
        self.piece = piece
        self.dim, self.cube_dim, self.measure = piece.dim, piece.cube_dim, piece.measure

    @property
    def bounds(self) -> Tensor:
        return self.piece.bounds

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return self.piece.contains(x, tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        return self.piece.from_unit_cube(u)

    def normal(self, x: Tensor) -> Tensor:
        return -self.piece.normal(x)


class TimeInterval(Box):
    """The time interval ``[t0, T]``."""

    def __init__(self, t0: float, t1: float):
        if not float(t0) < float(t1):
            raise ValueError(f"TimeInterval needs t0 < t1, got t0={t0}, t1={t1}")
        super().__init__([t0], [t1])
        self.t0, self.t1 = float(t0), float(t1)


class Product(Region):
    """The Cartesian product ``A × B``: coordinates of A then of B, measure |A|·|B|."""

    def __init__(self, first: Region, second: Region):
        self.first, self.second = first, second
        self.dim = first.dim + second.dim
        self.cube_dim = first.cube_dim + second.cube_dim
        self.measure = first.measure * second.measure

    @property
    def bounds(self) -> Tensor:
        return torch.cat([self.first.bounds, self.second.bounds], dim=1)

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        d = self.first.dim
        return self.first.contains(x[:, :d], tol) & self.second.contains(x[:, d:], tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        k = self.first.cube_dim
        xa, wa = self.first.from_unit_cube(u[:, :k])
        xb, wb = self.second.from_unit_cube(u[:, k:])
        return torch.cat([xa, xb], dim=1), wa * wb

    def normal(self, x: Tensor) -> Tensor:
        """Normal of ``∂A × B``: A's normal, zero in B's coordinates."""
        d = self.first.dim
        return torch.cat([self.first.normal(x[:, :d]), torch.zeros_like(x[:, d:])], dim=1)


class SpaceTime(Product):
    """``Ω × [t0, T]``: time is the last coordinate."""

    def __init__(self, space: Region, time: TimeInterval):
        if not isinstance(space, Region) or not isinstance(time, TimeInterval):
            raise TypeError(
                "SpaceTime needs a Region and a TimeInterval, e.g. SpaceTime(Box([0, 0], [1, 1]), TimeInterval(0, 1)), "
                f"got {type(space).__name__} and {type(time).__name__}"
            )
        super().__init__(space, time)
        self.space, self.time = space, time

    @property
    def boundary(self) -> Product:
        """The lateral boundary ``∂Ω × [t0, T]``."""
        return Product(self.space.boundary, self.time)

    @property
    def initial(self) -> Product:
        """The initial slice ``Ω × {t0}``."""
        return Product(self.space, Point([self.time.t0]))
