"""Boxes, balls, points, their faces and spheres, and products (space-time) of regions."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cached_property

import torch

from pdes.geometry.region import Boundary, Pieces, Region, ones

Tensor = torch.Tensor

FACE_NAMES = (("left", "right"), ("bottom", "top"), ("back", "front"))
"""Names of a box's faces on axes 0, 1, 2, low side then high side; axis k ≥ 3: ``x{k}_low``, ``x{k}_high``."""


class Point(Region):
    """A single point; its measure is 1 (counting measure). With ``normal`` it is a boundary point."""

    def __init__(self, coordinates: Sequence[float], normal: Sequence[float] | None = None):
        self.coordinates = [float(c) for c in coordinates]
        self.dim = len(self.coordinates)
        self.cube_dim = 0
        self.measure = 1.0
        self._normal = None if normal is None else [float(n) for n in normal]
        self.has_normal = normal is not None

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
        return c.expand(u.shape[0], self.dim).clone(), ones(u)

    def normal(self, x: Tensor) -> Tensor:
        if self._normal is None:
            return super().normal(x)
        n = torch.tensor(self._normal, dtype=x.dtype, device=x.device)
        return n.expand(x.shape[0], self.dim).clone()

    def flipped(self) -> Point:
        if self._normal is None:
            return super().flipped()
        return Point(self.coordinates, [-n for n in self._normal])

    def where(self, predicate) -> Region:
        """The point itself where ``predicate`` holds there, else an empty region (measure 0): exact."""
        x = torch.tensor([self.coordinates], dtype=torch.float64)
        return self if bool(predicate(x)[0]) else Empty(self.dim)


class Empty(Region):
    """The empty set, which ``where`` gives where a predicate never holds (it is left out of unions)."""

    cube_dim = 0
    measure = 0.0
    has_normal = True

    def __init__(self, dim: int):
        self.dim = dim


class Box(Region):
    """The axis-aligned box ``[lo_0, hi_0] × … × [lo_{d-1}, hi_{d-1}]``; x = lo + (hi − lo)·u.

    Its boundary's parts are its faces, named by ``FACE_NAMES`` (1D: the end points ``left``,
    ``right``; 2D: ``left``, ``right``, ``bottom``, ``top``; 3D also ``back``, ``front``, z low
    and high), in that order.
    """

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
        return lo + (hi - lo) * u, ones(u)

    @cached_property
    def boundary(self) -> Boundary:
        faces = {}
        for axis in range(self.dim):
            low, high = face_names(axis)
            faces[low], faces[high] = _faces(self, axis)
        return Boundary(faces)


def face_names(axis: int) -> tuple[str, str]:
    """The names of a box's low and high faces on ``axis`` (``FACE_NAMES``)."""
    return FACE_NAMES[axis] if axis < len(FACE_NAMES) else (f"x{axis}_low", f"x{axis}_high")


def Interval(a: float, b: float) -> Box:
    """The interval ``[a, b]`` as a one-dimensional Box."""
    if not float(a) < float(b):
        raise ValueError(f"Interval needs a < b, got a={a}, b={b}")
    return Box([a], [b])


def Rectangle(lower: Sequence[float], upper: Sequence[float]) -> Box:
    """The rectangle ``[x0, x1] × [y0, y1]`` as a two-dimensional Box: ``Rectangle([x0, y0], [x1, y1])``."""
    if len(lower) != 2 or len(upper) != 2:
        raise ValueError(f"Rectangle needs 2D corners, got {list(lower)}, {list(upper)}")
    return Box(lower, upper)


class Face(Region):
    """The face ``x_axis = lo_axis`` (side −1) or ``hi_axis`` (side +1) of a box."""

    has_normal = True

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

    def where(self, predicate) -> Region:
        """Exact for the edge of a rectangle (a Segment's ``where``), by rejection in 3D and more."""
        if self.dim == 2:
            from pdes.geometry.planar import as_curves

            return as_curves(self)[0].where(predicate)
        return super().where(predicate)


def _faces(box: Box, axis: int) -> list[Region]:
    if box.dim == 1:
        return [Point([box.lower[0]], [-1.0]), Point([box.upper[0]], [1.0])]
    return [Face(box, axis, -1), Face(box, axis, 1)]


class Ball(Region):
    """The closed ball ``|x − c| ≤ r`` in any dimension.

    Exact maps: polar ``(r√u₀, 2πu₁)`` in 2D, ``(r u₀^{1/3}, cos θ = 1 − 2u₁, φ = 2πu₂)``
    in 3D; in other dimensions the radius ``r u₀^{1/d}`` and a direction from
    ``d`` Gaussian coordinates (so ``cube_dim = d + 1``). Its boundary has one part,
    ``circle`` in 2D, ``sphere`` otherwise (in 1D the two end points).
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
            return c + self.radius * (2 * u - 1), ones(u)
        radius = self.radius * u[:, 0:1] ** (1.0 / self.dim)
        direction = _sphere_direction(self.dim, u[:, 1:])
        return c + radius * direction, ones(u)

    @cached_property
    def boundary(self) -> Boundary:
        if self.dim == 1:
            (c,), r = self.center, self.radius
            return Boundary({"sphere": Pieces([Point([c - r], [-1.0]), Point([c + r], [1.0])])})
        return Boundary({"circle" if self.dim == 2 else "sphere": Sphere(self.center, self.radius)})


def Disk(center: Sequence[float], radius: float) -> Ball:
    """The disk ``|x − c| ≤ r`` in the plane as a two-dimensional Ball (boundary part ``circle``)."""
    if len(center) != 2:
        raise ValueError(f"Disk needs a 2D center, got {list(center)}")
    return Ball(center, radius)


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
    """The sphere ``|x − c| = r`` (boundary of a Ball), outward normal ``(x − c)/r`` (``inward``: its opposite)."""

    has_normal = True

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
        return c + self.radius * _sphere_direction(self.dim, u), ones(u)

    def normal(self, x: Tensor) -> Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        n = (x - c) / self.radius
        return -n if self.inward else n

    def flipped(self) -> Sphere:
        """The same sphere with the opposite normal (a hole's boundary seen from outside it)."""
        return Sphere(self.center, self.radius, inward=not self.inward)

    def where(self, predicate) -> Region:
        """Exact on a circle (an Arc's ``where``), by rejection in 3D and more."""
        if self.dim == 2:
            from pdes.geometry.planar import as_curves

            return as_curves(self)[0].where(predicate)
        return super().where(predicate)


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
        self.measure_error = first.measure_error * second.measure
        self.has_normal = first.has_normal

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

    def flipped(self) -> Product:
        return Product(self.first.flipped(), self.second)


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

    @cached_property
    def boundary(self) -> Boundary:
        """The lateral boundary ``∂Ω × [t0, T]``, with the parts (and names) of ``∂Ω`` times the interval."""
        return Boundary({name: Product(part, self.time) for name, part in self.space.boundary.parts.items()})

    @property
    def initial(self) -> Product:
        """The initial slice ``Ω × {t0}``."""
        return Product(self.space, Point([self.time.t0]))
