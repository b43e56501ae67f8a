"""Regions of space and space-time, each with a measure-preserving map from the unit cube.

Every region has

- ``dim``: the number of coordinates of its points;
- ``cube_dim``: the number of unit-cube coordinates its map consumes;
- ``measure``: its length, area or volume (faces of a boundary by their own measure,
  a point by 1), and ``measure_error``: 0 where the measure is exact, else the standard
  error of its estimate;
- ``bounds``: a ``(2, dim)`` float64 tensor, lower then upper corner of a bounding box;
- ``contains(x, tol)``: a boolean ``(N,)`` tensor (``tol < 0``: at least ``−tol`` inside);
- ``from_unit_cube(u) -> (x, w)``: for ``u`` uniform on ``[0, 1]^cube_dim``,
  ``E[w f(x)]`` is the mean of ``f`` over the region. Exact maps give ``w = 1``;
  rejection gives ``w = 0`` outside and ``|sampled| / |region|`` inside.

Boundaries are regions too (``has_normal``) and also have ``normal(x)``, the outward unit
normal. ``region.boundary`` is a ``Boundary``: named parts, each a region with a normal —
``boundary["inlet"]``, ``boundary.names``, ``a | b`` (a Boundary named ``"a|b"``),
``boundary.where(predicate)``. Default names: a ``Box``'s ``left``, ``right`` (axis 0),
``bottom``, ``top`` (axis 1), ``back``, ``front`` (axis 2); a ``Ball``'s ``sphere`` (2D:
``circle``); a ``Polygon``'s ``edge0``, ``edge1``, …; a ``Difference`` its base's and ``hole0``, ….

Regions: ``Box``, ``Interval``, ``Rectangle``, ``Ball``, ``Disk``, ``Polygon``, ``Triangles``,
``Point``; boundary pieces ``Face``, ``Sphere``, ``Segment``, ``Arc``; CSG ``Union``,
``Intersection``, ``Difference`` (``pdes.geometry.csg``: which are exact and which use rejection);
``Product`` and ``SpaceTime(space, TimeInterval(t0, T))``, with ``.boundary`` (the lateral
boundary ``∂Ω × [t0, T]``, named as ``∂Ω``'s parts) and ``.initial`` (the slice ``Ω × {t0}``).
"""

from pdes.geometry.csg import Difference, Intersection, Union
from pdes.geometry.planar import Arc, Polygon, Segment, Triangles
from pdes.geometry.region import Boundary, Flipped, Pieces, Region, Restricted
from pdes.geometry.shapes import (
    Ball,
    Box,
    Disk,
    Face,
    Interval,
    Point,
    Product,
    Rectangle,
    SpaceTime,
    Sphere,
    TimeInterval,
)

__all__ = [
    "Arc", "Ball", "Boundary", "Box", "Difference", "Disk", "Face", "Flipped", "Intersection", "Interval", "Pieces",
    "Point", "Polygon", "Product", "Rectangle", "Region", "Restricted", "Segment", "SpaceTime", "Sphere",
    "TimeInterval", "Triangles", "Union",
]  # fmt: skip
