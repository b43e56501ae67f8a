"""The Region contract (``pdes.geometry``'s docstring), named boundaries and disjoint unions of pieces."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from itertools import accumulate

import torch

Tensor = torch.Tensor

Predicate = Callable[[Tensor], Tensor]
"""A selection of points: ``(N, d)`` points → boolean ``(N,)``."""

ESTIMATE_REPLICATES = 16
ESTIMATE_POINTS = 2**14
"""A measure that has no closed form is estimated from this many independent scrambled Sobol' draws of this many
points each (fixed seeds); their spread gives its standard error, kept as ``measure_error``."""


class Region:
    """Base class: see ``pdes.geometry``'s docstring for the contract."""

    dim: int
    cube_dim: int
    measure: float
    measure_error: float = 0.0
    """Standard error of ``measure``: 0 where it is exact, else that of its Monte Carlo estimate."""
    name: str | None = None
    """The part's name where it is a named part of a Boundary."""
    has_normal: bool = False
    """True for boundary regions, which have an outward unit normal."""

    @property
    def bounds(self) -> Tensor:
        raise NotImplementedError

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        raise NotImplementedError

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    @property
    def boundary(self) -> Boundary:
        raise ValueError(f"{type(self).__name__} has no boundary region")

    def normal(self, x: Tensor) -> Tensor:
        raise ValueError(f"{type(self).__name__} is not a boundary: it has no normal")

    def flipped(self) -> Region:
        """The same boundary region with the opposite normal (a hole's boundary seen from outside the hole)."""
        if not self.has_normal:
            raise ValueError(f"{type(self).__name__} is not a boundary: it has no normal to flip")
        return Flipped(self)

    def where(self, predicate: Predicate) -> Region:
        """The part of this region where ``predicate(x)`` holds, sampled by rejection (``Restricted``)."""
        return Restricted(self, predicate)

    def __or__(self, other: Region) -> Region:
        """``a | b``: a Boundary of the parts of both where both are named parts, else ``Union([a, b])``."""
        if not isinstance(other, Region):
            return NotImplemented
        left, right = _named_parts(self), _named_parts(other)
        if left is not None and right is not None:
            parts = _merge_parts(left, right)
            return Boundary(parts, name="|".join(parts))
        from pdes.geometry.csg import Union

        return Union([self, other])

    def _check_cube(self, u: Tensor) -> None:
        if u.ndim != 2 or u.shape[1] != self.cube_dim:
            raise ValueError(
                f"{type(self).__name__}.from_unit_cube expects (N, {self.cube_dim}) points, got shape {tuple(u.shape)}"
            )


def ones(u: Tensor) -> Tensor:
    """Unit weights for the rows of ``u``."""
    return torch.ones(u.shape[0], dtype=u.dtype, device=u.device)


def union_bounds(regions: Sequence[Region]) -> Tensor:
    """The bounding box ``(2, d)`` of the bounding boxes of ``regions``."""
    b = torch.stack([r.bounds for r in regions])
    return torch.stack([b[:, 0].min(dim=0).values, b[:, 1].max(dim=0).values])


class Pieces(Region):
    """A disjoint union (up to a set of measure zero) of pieces of one ``dim``, each chosen ∝ its measure.

    The first unit-cube coordinate picks the piece (so stratified and QMC rules stratify across
    pieces), the next ``cube_dim − 1`` place the point in it with the piece's own map and weight.
    The measure is the sum of the pieces' measures; the normal at a point is that of the first
    piece containing it.
    """

    def __init__(self, pieces: Sequence[Region]):
        self.pieces = list(pieces)
        if not self.pieces or len({p.dim for p in self.pieces}) != 1:
            raise ValueError("a union needs one or more pieces of the same dimension")
        self.dim = self.pieces[0].dim
        self.cube_dim = 1 + max(p.cube_dim for p in self.pieces)
        self.measure = sum(p.measure for p in self.pieces)
        self.measure_error = math.sqrt(sum(p.measure_error**2 for p in self.pieces))
        self.has_normal = all(p.has_normal for p in self.pieces)
        self._edges = torch.tensor(
            [0.0] + list(accumulate([p.measure / self.measure for p in self.pieces])), dtype=torch.float64
        )
        self._edges[-1] = 1.0

    @property
    def bounds(self) -> Tensor:
        return union_bounds(self.pieces)

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
        if not self.has_normal:
            return super().normal(x)
        n = torch.full_like(x, float("nan"))
        for piece in self.pieces:
            on = piece.contains(x, 1e-6) & n[:, 0].isnan()
            if on.any():
                n[on] = piece.normal(x[on])
        return n

    def flipped(self) -> Pieces:
        return Pieces([p.flipped() for p in self.pieces])

    def where(self, predicate: Predicate) -> Region:
        """The pieces where ``predicate`` holds (each piece's own ``where``); empty pieces are left out."""
        kept = [r for r in (p.where(predicate) for p in self.pieces) if r.measure > 0]
        if not kept:
            raise ValueError("the predicate holds nowhere on this region")
        return kept[0] if len(kept) == 1 else Pieces(kept)


class Boundary(Pieces):
    """The boundary of a region as named parts: ``Boundary({"inlet": a, "walls": b | c})``.

    Each part is a Region with a normal (a Face, Segment, Arc, Sphere, …, or a Boundary itself);
    the parts must not overlap (they may share end points or edges of measure zero): the measure
    is the sum of theirs. Sampling, ``contains`` and ``normal`` are those of ``Pieces``: a part is
    chosen in proportion to its measure by the first unit-cube coordinate, and the normal at a
    point is the normal of the part it lies on.

    ``boundary["inlet"]`` is that part (named: ``part.name == "inlet"``), ``boundary.names`` the
    names in order, ``a | b`` of named parts a Boundary named ``"a|b"``, and
    ``boundary.where(predicate)`` the parts restricted to where ``predicate`` holds.
    """

    def __init__(self, parts: Mapping[str, Region], name: str | None = None):
        if not isinstance(parts, Mapping) or not parts:
            raise ValueError("a Boundary needs a non-empty mapping of part names to boundary regions")
        for part_name, part in parts.items():
            _check_part(part_name, part)
        self.parts = {part_name: _named(part, part_name) for part_name, part in parts.items()}
        super().__init__(list(self.parts.values()))
        self.name = name

    @property
    def names(self) -> tuple[str, ...]:
        """The part names, in order."""
        return tuple(self.parts)

    def __getitem__(self, name: str) -> Region:
        if name not in self.parts:
            raise ValueError(f"unknown boundary part {name!r}; valid names: {', '.join(self.parts)}")
        return self.parts[name]

    def flipped(self) -> Boundary:
        return Boundary({k: p.flipped() for k, p in self.parts.items()}, name=self.name)

    def where(self, predicate: Predicate) -> Boundary:
        """The named parts restricted to where ``predicate(x)`` holds; parts where it never holds are left out.

        Exact where the parts are segments, arcs or points (their own ``where``); elsewhere sampled
        by rejection with an estimated measure (``Restricted``).
        """
        kept = {k: r for k, r in ((k, p.where(predicate)) for k, p in self.parts.items()) if r.measure > 0}
        if not kept:
            raise ValueError("the predicate holds nowhere on this boundary")
        return Boundary(kept)

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"Boundary({label}{', '.join(self.parts)})"


def _check_part(name: object, part: object) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a boundary part needs a non-empty name, got {name!r}")
    if not isinstance(part, Region) or not part.has_normal:
        raise ValueError(
            f"boundary part {name!r} must be a boundary region with a normal (a Face, Segment, Arc, Sphere, …), "
            f"got {type(part).__name__}"
        )


def _named(part: Region, name: str) -> Region:
    """``part`` itself where it already has ``name``, else a shallow copy that has it."""
    if part.name == name:
        return part
    named = copy.copy(part)
    named.name = name
    return named


def _named_parts(region: Region) -> dict[str, Region] | None:
    """The named parts ``a | b`` joins: a Boundary made by ``|`` (or unnamed) gives its parts, a named part itself."""
    if isinstance(region, Boundary) and region.name in (None, "|".join(region.names)):
        return region.parts
    if region.name is not None and region.has_normal:
        return {region.name: region}
    return None


def _merge_parts(left: Mapping[str, Region], right: Mapping[str, Region]) -> dict[str, Region]:
    merged = dict(left)
    for name, part in right.items():
        if name in merged and merged[name] is not part:
            raise ValueError(f"both sides have a different part named {name!r}; rename one with Boundary({{...}})")
        merged[name] = part
    return merged


class Flipped(Region):
    """A boundary region with its normal reversed."""

    has_normal = True

    def __init__(self, piece: Region):
        self.piece = piece
        self.dim, self.cube_dim, self.measure = piece.dim, piece.cube_dim, piece.measure
        self.measure_error = piece.measure_error

    @property
    def bounds(self) -> Tensor:
        return self.piece.bounds

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return self.piece.contains(x, tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        return self.piece.from_unit_cube(u)

    def normal(self, x: Tensor) -> Tensor:
        return -self.piece.normal(x)

    def flipped(self) -> Region:
        return self.piece


class Restricted(Region):
    """The part of ``region`` where ``keep(x)`` holds, sampled by rejection.

    ``x`` comes from ``region``'s map; ``w = 0`` where ``keep`` fails and ``|region| / |kept|`` where
    it holds. ``|kept|`` is ``measure`` where given (a closed form), else estimated by
    ``estimate_fraction`` (standard error ``measure_error``): then ``E[w]`` is 1 to that relative
    error. The wasted fraction of a batch is ``1 − |kept| / |region|``.
    """

    def __init__(self, region: Region, keep: Predicate, measure: float | None = None):
        self.region, self.keep = region, keep
        self.dim, self.cube_dim = region.dim, region.cube_dim
        self.has_normal = region.has_normal
        if measure is None:
            fraction, error = estimate_fraction(region, keep)
            measure, self.measure_error = fraction * region.measure, error * region.measure
        self.measure = measure

    @property
    def bounds(self) -> Tensor:
        return self.region.bounds

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return self.region.contains(x, tol) & self.keep(x)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        x, w = self.region.from_unit_cube(u)
        return x, w * self.keep(x).to(w.dtype) * (self.region.measure / self.measure)

    def normal(self, x: Tensor) -> Tensor:
        return self.region.normal(x)

    def flipped(self) -> Restricted:
        return Restricted(self.region.flipped(), self.keep, self.measure)


def estimate_fraction(region: Region, keep: Callable[[Tensor], Tensor], seed: int = 0) -> tuple[float, float]:
    """The share of ``region`` (by its own measure) where ``keep`` holds, and its standard error.

    ``keep(x)`` is boolean, or a weight per point (then its mean is estimated). The mean of
    ``w·keep(x)`` over ``ESTIMATE_REPLICATES`` scrambled Sobol' draws of ``ESTIMATE_POINTS``
    points (seeds ``seed, seed + 1, …``); the standard error is the spread of the draws over
    ``√replicates``. A region of ``cube_dim`` 0 (a point) is evaluated exactly.
    """
    if region.cube_dim == 0:
        x, w = region.from_unit_cube(torch.empty(1, 0, dtype=torch.float64))
        return float((w * keep(x)).sum()), 0.0
    draws = []
    for k in range(ESTIMATE_REPLICATES):
        engine = torch.quasirandom.SobolEngine(region.cube_dim, scramble=True, seed=seed + k)
        x, w = region.from_unit_cube(engine.draw(ESTIMATE_POINTS, dtype=torch.float64))
        draws.append(float((w * keep(x).to(w.dtype)).mean()))
    mean = sum(draws) / len(draws)
    spread = math.sqrt(sum((d - mean) ** 2 for d in draws) / (len(draws) - 1))
    return mean, spread / math.sqrt(len(draws))
