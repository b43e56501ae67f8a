"""Union, Intersection and Difference of regions of one dimension, with correct boundaries.

**Boundary.** The boundary of a CSG region is the part of each piece's boundary (a hole's with
its normal flipped) that lies on the result: a piece of boundary with normal ``n`` at ``x`` is
kept where the result holds ``x − εn`` but not ``x + εn`` (``ε = SIDE_STEP`` times the pieces'
extent; features thinner than ε are not resolved), and once only where two pieces' boundaries
coincide. Part names: a Difference keeps its base's names and adds ``hole0``, ``hole1``, … (after
any the base already has), one part per hole; a Union or Intersection names piece ``i``'s parts
``region{i}.{name}``. Parts that lie nowhere on the result are left out.

- In the plane, where every piece's boundary is made of segments and arcs (boxes, disks,
  polygons, and CSG of those), each curve is cut where it crosses the other pieces' lines and
  circles and the test is applied once per sub-curve: the kept sub-curves are exact (lengths and
  normals to rounding), sampled without rejection, and the region's area is ``½ ∮ x·n ds``
  over them in closed form (divergence theorem).
- Elsewhere a part whose relation to the other pieces is decided exactly (bounding boxes apart;
  boxes and balls strictly inside or apart from each other) is kept or dropped whole; a part that
  crosses another piece is sampled by rejection of its own boundary (weight 0 off the result,
  wasted share ``1 − kept/whole``). Its kept measure has a closed form for a 3D box minus balls
  that cut its faces in circles inside the faces (spherical caps, ``Difference._ball_caps``);
  otherwise it is estimated (``pdes.geometry.region.estimate_fraction``, standard error
  ``measure_error``, about 1e-4 relative). End points (1D) are kept or dropped exactly.

**Interior.**

- Polygons and boxes only (plane): the result is computed as disjoint convex polygons (convex
  clipping) and sampled as ``Triangles``: exact measure, weight 1, no rejection.
- A Union of pieces apart from each other: the pieces chosen in proportion to their measures
  (``Pieces``), exact. A Union of overlapping curved pieces: the same mixture, weighted
  ``Σ|piece| / (|union| · c(x))`` with ``c(x)`` the number of pieces holding ``x``: unbiased and no
  point wasted.
- A Difference with curved pieces: the base's map, weight 0 in a hole (rejection; the wasted share
  of a batch is ``1 − |result| / |base|``). An Intersection: the smallest piece's map, weight 0
  outside the others (wasted share ``1 − |result| / |smallest|``).
- The measure of a curved result is exact in the plane (from the boundary), in closed form where
  the pieces are strictly inside or apart from each other and for the 3D box minus balls above,
  and otherwise estimated as above (then ``E[w]`` is 1 only to ``measure_error``).

A Union of boundary regions (faces, segments, …; they must not overlap) is their disjoint union,
as ``Boundary`` without names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np
import torch

from pdes.geometry.planar import (
    Triangles,
    area,
    as_curves,
    as_points,
    convex_pieces,
    difference,
    fan,
    intersection,
    union,
)
from pdes.geometry.region import Boundary, Pieces, Region, Restricted, estimate_fraction, union_bounds
from pdes.geometry.shapes import Ball, Box, face_names

Tensor = torch.Tensor

SIDE_STEP = 1e-7
"""The step ε (relative to the pieces' extent) to either side of a boundary point at which the result is tested."""

TINY = 1e-13
"""A result whose measure is below this (relative to extent^dim) is empty."""


def _check_regions(kind: str, regions: Sequence[Region]) -> list[Region]:
    regions = list(regions)
    if not regions or not all(isinstance(r, Region) for r in regions):
        raise TypeError(f"{kind} needs one or more Regions, got {regions!r}")
    dims = sorted({r.dim for r in regions})
    if len(dims) > 1:
        raise ValueError(f"{kind} needs regions of one dimension, got dimensions {', '.join(map(str, dims))}")
    return regions


def _check_solid(kind: str, regions: Sequence[Region]) -> None:
    for r in regions:
        if r.has_normal:
            raise ValueError(
                f"{kind} needs solid regions, but {type(r).__name__} is a boundary region "
                "(select part of a boundary with boundary.where(predicate))"
            )


def separated(a: Region, b: Region) -> bool:
    """True where ``a`` and ``b`` provably do not touch (bounding boxes apart; two balls; a box and a ball)."""
    (alo, ahi), (blo, bhi) = a.bounds, b.bounds
    if bool(((ahi < blo) | (bhi < alo)).any()):
        return True
    if isinstance(a, Ball) and isinstance(b, Ball):
        return math.dist(a.center, b.center) > a.radius + b.radius
    if isinstance(a, Ball) and isinstance(b, Box) or isinstance(a, Box) and isinstance(b, Ball):
        box, ball = (a, b) if isinstance(a, Box) else (b, a)
        nearest = [min(max(c, lo), hi) for c, lo, hi in zip(ball.center, box.lower, box.upper)]
        return math.dist(nearest, ball.center) > ball.radius
    return False


def inside(a: Region, b: Region) -> bool:
    """True where ``a`` provably lies in the interior of ``b`` (a box or a ball), not touching its boundary."""
    if isinstance(a, Ball) and isinstance(b, Ball):
        return math.dist(a.center, b.center) + a.radius < b.radius
    lo, hi = a.bounds
    if isinstance(b, Box):
        return bool((lo > b.bounds[0]).all() and (hi < b.bounds[1]).all())
    if isinstance(b, Ball) and a.dim <= 12:
        corners = torch.cartesian_prod(*[torch.stack([lo[k], hi[k]]) for k in range(a.dim)]).reshape(-1, a.dim)
        return bool(((corners - torch.tensor(b.center, dtype=torch.float64)).norm(dim=1) < b.radius).all())
    return False


def face_cuts(box: Box, ball: Ball) -> list[tuple[str, float]] | None:
    """The faces of ``box`` whose planes ``ball`` crosses, each with the signed distance ``δ`` from the ball's
    center to the plane (positive on the box's side); None unless every circle of crossing lies strictly
    inside its face (then the caps beyond the faces do not meet)."""
    cuts = []
    for axis in range(box.dim):
        for side, plane, name in zip((-1, 1), (box.lower[axis], box.upper[axis]), face_names(axis)):
            delta = side * (plane - ball.center[axis])
            if abs(delta) >= ball.radius:
                continue
            rho = math.sqrt(ball.radius**2 - delta**2)
            others = [k for k in range(box.dim) if k != axis]
            if not all(box.lower[k] < ball.center[k] - rho and ball.center[k] + rho < box.upper[k] for k in others):
                return None
            cuts.append((name, delta))
    return cuts


class _CSG(Region):
    """What Union, Intersection and Difference share: the boundary, measure and map (module docstring).

    Subclasses set ``regions`` and ``empty_message`` and give ``_member(x, tol)`` (the result's
    ``contains``), ``_contributions()`` (part name, boundary part — a hole's already flipped —, index
    of its piece),
    ``_combine_convex`` (the operation on convex pieces), ``_fates()`` (which pieces keep or drop
    their whole boundary), ``_isolated_part_kept(i)`` (whether a part of piece ``i`` apart from all
    other pieces lies on the result), ``_closed_form_measure()`` and ``_rejection_map(measure)``;
    then call ``_build()``.
    """

    empty_message = ""
    regions: list[Region]

    def _build(self) -> None:
        self.dim = self.regions[0].dim
        lower, upper = union_bounds(self.regions)
        self.extent = float((upper - lower).max())
        self.eps = SIDE_STEP * self.extent
        self.tiny = TINY * self.extent**self.dim
        self.triangles: Triangles | None = None
        self._curves = self._plane_boundary() if self.dim == 2 else None
        convex = [convex_pieces(r) for r in self.regions] if self.dim == 2 else [None]
        if all(c is not None for c in convex):
            pieces = self._combine_convex(convex)
            if sum(area(p) for p in pieces) <= self.tiny:
                raise ValueError(self.empty_message)
            self.triangles = Triangles(fan(pieces))
            self.measure = self.triangles.measure
            self._map = self.triangles
        else:
            self.measure, self.measure_error = self._measure()
            if self.measure <= self.tiny:
                raise ValueError(self.empty_message)
            self._map = self._rejection_map(self.measure)
        self.cube_dim = self._map.cube_dim

    def _contributions(self) -> list[tuple[str, Region, int]]:
        """Every boundary part of every piece, named ``region{i}.{name}`` (a Difference names its own)."""
        return [
            (f"region{i}.{name}", part, i)
            for i, r in enumerate(self.regions)
            for name, part in r.boundary.parts.items()
        ]

    @property
    def bounds(self) -> Tensor:
        return union_bounds(self.regions)

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return self._member(x, tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        return self._map.from_unit_cube(u)

    def gauss_points(self, degree: int) -> tuple[Tensor, Tensor]:
        """The per-triangle rule exact for polynomials of ``degree``, for a result of polygons and boxes."""
        if self.triangles is None:
            raise ValueError(
                f"gauss needs a region cut into exact cells; this {type(self).__name__} of curved pieces is "
                "sampled by rejection: use another sampler, or mesh it (pdes.meshes.MeshRegion.from_gmsh)"
            )
        return self.triangles.gauss_points(degree)

    def _measure(self) -> tuple[float, float]:
        """The measure and its standard error: a closed form, from the exact plane boundary, or an estimate."""
        closed = self._closed_form_measure()
        if closed is not None:
            return closed, 0.0
        if self._curves is not None:
            return 0.5 * sum(c.flux() for curves in self._curves.values() for c, _ in curves), 0.0
        region, keep = self._estimate_over()
        fraction, error = estimate_fraction(region, keep)
        return fraction * region.measure, error * region.measure

    def _on_side(self, points: Tensor, normals: Tensor) -> Tensor:
        """Whether the result holds ``x − εn`` and not ``x + εn``: ``x`` lies on its boundary with outward ``n``."""
        return self._member(points - self.eps * normals, 0.0) & ~self._member(points + self.eps * normals, 0.0)

    def _plane_boundary(self) -> dict[str, list] | None:
        """Each part's kept sub-curves ``[(curve, unchanged?)]``, or None where a piece's boundary is not curves."""
        contributions = [(name, part, i, as_curves(part)) for name, part, i in self._contributions()]
        if any(curves is None for *_, curves in contributions):
            return None
        carriers = [[c.carrier for c in as_curves(r.boundary)] for r in self.regions]

        kept_all: list = []

        def keep(m: np.ndarray, n: np.ndarray) -> np.ndarray:
            """On the result's boundary, and not on a sub-curve an earlier part already has."""
            points = as_points(m)
            taken = torch.zeros(len(m), dtype=torch.bool)
            for curve in kept_all:
                taken |= curve.contains(points, 1e-9 * self.extent)
            return (self._on_side(points, as_points(n)) & ~taken).numpy()

        parts = {}
        for name, _, i, curves in contributions:
            cutters = [c for j, cs in enumerate(carriers) if j != i for c in cs]
            kept = [(sub, sub is curve) for curve in curves for sub in curve.split(cutters, keep)]
            kept_all += [sub for sub, _ in kept]
            parts[name] = kept
        return parts

    @cached_property
    def boundary(self) -> Boundary:
        """The named parts of the boundary (module docstring)."""
        if self._curves is None:
            return Boundary(self._clipped_parts())
        parts = {}
        originals = {name: part for name, part, _ in self._contributions()}
        for name, kept in self._curves.items():
            if kept and len(kept) == len(as_curves(originals[name])) and all(same for _, same in kept):
                parts[name] = originals[name]
            elif kept:
                parts[name] = kept[0][0] if len(kept) == 1 else Pieces([c for c, _ in kept])
        return Boundary(parts)

    def _clipped_parts(self) -> dict[str, Region]:
        """Boundary parts away from the plane: whole, left out, or restricted to the result (module docstring)."""
        fates = self._fates()
        exact = self._part_measures() or {}
        earlier: list[Region] = []
        parts = {}
        for name, part, i in self._contributions():
            if fates[i] == "dropped":
                continue
            isolated = all(separated(part, r) for j, r in enumerate(self.regions) if j != i)
            if fates[i] == "kept" or (isolated and self._isolated_part_kept(i)):
                parts[name] = part
            elif not isolated:
                clipped = self._restrict(part, list(earlier), exact.get(name))
                if clipped is not None:
                    parts[name] = clipped
            earlier.append(part)
        return parts

    def _part_measures(self) -> dict[str, float] | None:
        """Closed forms of the kept measures of boundary parts that are clipped (None: none known)."""
        return None

    def _restrict(self, part: Region, earlier: list[Region], measure: float | None = None) -> Region | None:
        """``part`` where it lies on the result and on no earlier part that does: exact for points, else rejection
        (with the kept ``measure`` where a closed form gives it, else estimated)."""

        def on_result(x: Tensor, region: Region) -> Tensor:
            return self._on_side(x, region.normal(x))

        def keep(x: Tensor) -> Tensor:
            taken = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
            for other in earlier:
                taken |= other.contains(x, 1e-9 * self.extent) & on_result(x, other)
            return on_result(x, part) & ~taken

        if isinstance(part, Pieces):
            kept = [r for r in (self._restrict(p, earlier) for p in part.pieces) if r is not None]
            return None if not kept else kept[0] if len(kept) == 1 else Pieces(kept)
        if part.cube_dim == 0:
            x, _ = part.from_unit_cube(torch.empty(1, 0, dtype=torch.float64))
            return part if bool(keep(x)[0]) else None
        restricted = Restricted(part, keep, measure)
        return restricted if restricted.measure > 0 else None


def _whole_boundary(region: Region, flip: bool) -> Region:
    """A region's whole boundary as one part (its single part itself where it has one), flipped for a hole."""
    parts = list(region.boundary.parts.values())
    if flip:
        parts = [p.flipped() for p in parts]
    return parts[0] if len(parts) == 1 else Pieces(parts)


def _any_contains(regions: Sequence[Region], x: Tensor, tol: float) -> Tensor:
    found = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for r in regions:
        found |= r.contains(x, tol)
    return found


def _all_contain(regions: Sequence[Region], x: Tensor, tol: float) -> Tensor:
    found = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    for r in regions:
        found &= r.contains(x, tol)
    return found


class Difference(_CSG):
    """``base`` minus ``holes``: regions of one dimension; holes may touch, cross or lie outside the base.

    ``contains(x, tol)``: in the base (to ``tol``) and in no hole's interior (deeper than ``tol``).
    Boundary parts: the base's names, then ``hole0``, ``hole1``, … (module docstring).
    """

    empty_message = "the holes of this Difference cover its base region"

    def __init__(self, base: Region, holes: Sequence[Region] | Region):
        holes = [holes] if isinstance(holes, Region) else list(holes)
        if not holes:
            raise ValueError("a Difference needs one or more holes")
        self.regions = _check_regions("a Difference", [base, *holes])
        _check_solid("a Difference", self.regions)
        self.base, self.holes = base, holes
        self._build()

    def _member(self, x: Tensor, tol: float) -> Tensor:
        return self.base.contains(x, tol) & ~_any_contains(self.holes, x, -tol)

    def _hole_names(self) -> list[str]:
        taken, names, k = set(self.base.boundary.names), [], 0
        for _ in self.holes:
            while f"hole{k}" in taken:
                k += 1
            names.append(f"hole{k}")
            k += 1
        return names

    def _contributions(self) -> list[tuple[str, Region, int]]:
        found = [(name, part, 0) for name, part in self.base.boundary.parts.items()]
        found += [
            (name, _whole_boundary(h, flip=True), i + 1)
            for i, (name, h) in enumerate(zip(self._hole_names(), self.holes))
        ]
        return found

    def _combine_convex(self, convex: list[list[np.ndarray]]) -> list[np.ndarray]:
        return difference(convex[0], [p for hole in convex[1:] for p in hole], self.tiny)

    def _isolated_part_kept(self, i: int) -> bool:
        return i == 0

    def _relevant(self) -> list[Region]:
        return [h for h in self.holes if not separated(h, self.base)]

    def _fates(self) -> list[str]:
        relevant = self._relevant()
        fates = ["kept" if all(inside(h, self.base) for h in relevant) else "clipped"]
        for h in self.holes:
            apart = all(separated(h, o) for o in relevant if o is not h)
            fates.append(
                "dropped" if separated(h, self.base) else "kept" if inside(h, self.base) and apart else "clipped"
            )
        return fates

    def _closed_form_measure(self) -> float | None:
        relevant = self._relevant()
        pairwise = all(separated(a, b) for k, a in enumerate(relevant) for b in relevant[k + 1 :])
        if pairwise and all(inside(h, self.base) for h in relevant):
            return self.base.measure - sum(h.measure for h in relevant)
        caps = self._ball_caps()
        return None if caps is None else caps[0]

    def _part_measures(self) -> dict[str, float] | None:
        caps = self._ball_caps()
        return None if caps is None else caps[1]

    def _ball_caps(self) -> tuple[float, dict[str, float]] | None:
        """A 3D box minus balls that cut its faces in circles inside the faces (and not each other): the volume
        and the kept measures of the parts, in closed form; None for any other Difference.

        A ball of radius r whose center lies at signed distance δ inside a face's plane pokes out of it
        in a cap of height ``h = r − δ``: volume ``πh²(3r − h)/3``, area ``2πrh``; the face loses the
        disk ``π(r² − δ²)``.
        """
        relevant = self._relevant()
        if self.dim != 3 or not isinstance(self.base, Box) or not all(isinstance(h, Ball) for h in relevant):
            return None
        if not all(separated(a, b) for k, a in enumerate(relevant) for b in relevant[k + 1 :]):
            return None
        volume, measures = self.base.measure, {}
        for name, hole in zip(self._hole_names(), self.holes):
            if hole not in relevant:
                continue
            cuts = face_cuts(self.base, hole)
            if cuts is None:
                return None
            r = hole.radius
            heights = [r - delta for _, delta in cuts]
            volume -= hole.measure - sum(math.pi * h * h * (3 * r - h) / 3 for h in heights)
            measures[name] = hole.boundary.measure - sum(2 * math.pi * r * h for h in heights)
            for face, delta in cuts:
                measures[face] = measures.get(face, self.base.boundary[face].measure) - math.pi * (
                    r * r - delta * delta
                )
        return volume, measures

    def _estimate_over(self) -> tuple[Region, Callable[[Tensor], Tensor]]:
        return self.base, self._outside_holes

    def _outside_holes(self, x: Tensor) -> Tensor:
        return ~_any_contains(self._relevant(), x, 0.0)

    def _rejection_map(self, measure: float) -> Region:
        return Restricted(self.base, self._outside_holes, measure)


class Intersection(_CSG):
    """The points in every one of ``regions`` (of one dimension); parts named ``region{i}.{name}``.

    Sampled by rejection from the smallest region where the result is not polygonal.
    """

    empty_message = "this Intersection is empty: its regions do not overlap"

    def __init__(self, regions: Sequence[Region]):
        self.regions = _check_regions("an Intersection", regions)
        _check_solid("an Intersection", self.regions)
        if any(separated(a, b) for k, a in enumerate(self.regions) for b in self.regions[k + 1 :]):
            raise ValueError(self.empty_message)
        self._build()

    def _member(self, x: Tensor, tol: float) -> Tensor:
        return _all_contain(self.regions, x, tol)

    def _combine_convex(self, convex: list[list[np.ndarray]]) -> list[np.ndarray]:
        result = convex[0]
        for pieces in convex[1:]:
            result = intersection(result, pieces, self.tiny)
        return result

    def _fates(self) -> list[str]:
        fates = []
        for i, r in enumerate(self.regions):
            others = [o for j, o in enumerate(self.regions) if j != i]
            fates.append(
                "kept"
                if all(inside(r, o) for o in others)
                else "dropped"
                if any(inside(o, r) for o in others)
                else "clipped"
            )
        return fates

    def _isolated_part_kept(self, i: int) -> bool:
        return False

    def _closed_form_measure(self) -> float | None:
        for i, r in enumerate(self.regions):
            if all(inside(r, o) for j, o in enumerate(self.regions) if j != i):
                return r.measure
        return None

    def _smallest(self) -> Region:
        return min(self.regions, key=lambda r: r.measure)

    def _in_others(self, x: Tensor) -> Tensor:
        smallest = self._smallest()
        return _all_contain([r for r in self.regions if r is not smallest], x, 0.0)

    def _estimate_over(self) -> tuple[Region, Callable[[Tensor], Tensor]]:
        return self._smallest(), self._in_others

    def _rejection_map(self, measure: float) -> Region:
        return Restricted(self._smallest(), self._in_others, measure)


class Union(_CSG):
    """The points in any of ``regions`` (of one dimension), which may overlap; parts named ``region{i}.{name}``.

    A union of boundary regions (faces, segments, arcs, …) is their disjoint union instead: they
    must not overlap, the measure is the sum, the normal that of the part a point lies on, and
    ``pieces`` lists them (as today's boundaries of boxes are assembled). For solid pieces apart
    from each other ``pieces`` lists them too.
    """

    empty_message = "this Union is empty"

    def __init__(self, regions: Sequence[Region]):
        self.regions = _check_regions("a Union", regions)
        surfaces = [r.has_normal for r in self.regions]
        if any(surfaces) and not all(surfaces):
            raise ValueError("a Union needs either all solid regions or all boundary regions, not a mix")
        if all(surfaces):
            self._map = Pieces(self.regions)
            self.pieces = self._map.pieces
            self.dim, self.cube_dim, self.measure = self._map.dim, self._map.cube_dim, self._map.measure
            self.has_normal = True
            return
        self._build()
        if isinstance(self._map, Pieces):
            self.pieces = self._map.pieces

    def normal(self, x: Tensor) -> Tensor:
        return self._map.normal(x) if self.has_normal else super().normal(x)

    def where(self, predicate) -> Region:
        return self._map.where(predicate) if self.has_normal else super().where(predicate)

    @cached_property
    def boundary(self) -> Boundary:
        if self.has_normal:
            raise ValueError("a Union of boundary regions has no boundary region")
        return super().boundary

    def _member(self, x: Tensor, tol: float) -> Tensor:
        return _any_contains(self.regions, x, tol)

    def _combine_convex(self, convex: list[list[np.ndarray]]) -> list[np.ndarray]:
        result = convex[0]
        for pieces in convex[1:]:
            result = union(result, pieces, self.tiny)
        return result

    def _isolated_part_kept(self, i: int) -> bool:
        return True

    def _outermost(self) -> list[Region]:
        """The regions that lie inside no other (the rest add nothing)."""
        return [
            r for i, r in enumerate(self.regions) if not any(inside(r, o) for j, o in enumerate(self.regions) if j != i)
        ]

    def _apart(self) -> bool:
        outer = self._outermost()
        return all(separated(a, b) for k, a in enumerate(outer) for b in outer[k + 1 :])

    def _fates(self) -> list[str]:
        outer = self._outermost()
        fates = []
        for r in self.regions:
            if all(r is not o for o in outer):
                fates.append("dropped")
            else:
                fates.append("kept" if all(separated(r, o) for o in outer if o is not r) else "clipped")
        return fates

    def _closed_form_measure(self) -> float | None:
        return sum(r.measure for r in self._outermost()) if self._apart() else None

    def _estimate_over(self) -> tuple[Region, Callable[[Tensor], Tensor]]:
        mixture = Pieces(self.regions)
        return mixture, lambda x: 1.0 / _count(self.regions, x)

    def _rejection_map(self, measure: float) -> Region:
        if self._apart():
            return Pieces(self._outermost())
        return _Overlapping(self.regions, measure)


def _count(regions: Sequence[Region], x: Tensor) -> Tensor:
    """How many of ``regions`` hold each point (at least 1)."""
    count = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for r in regions:
        count += r.contains(x, 1e-9).to(x.dtype)
    return count.clamp_min(1.0)


class _Overlapping(Region):
    """Overlapping regions chosen ∝ their measures, weighted ``Σ|piece| / (|union| c(x))``: unbiased, no waste."""

    def __init__(self, regions: Sequence[Region], measure: float):
        self.regions, self.measure = list(regions), measure
        self._mixture = Pieces(self.regions)
        self.dim, self.cube_dim = self._mixture.dim, self._mixture.cube_dim

    @property
    def bounds(self) -> Tensor:
        return self._mixture.bounds

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        return self._mixture.contains(x, tol)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        x, w = self._mixture.from_unit_cube(u)
        return x, w * (self._mixture.measure / self.measure) / _count(self.regions, x)
