"""Quantities of interest: numbers computed from a solution, by the PINN and by the FEM reference alike.

- ``Force(part, component, scale)``: the force the fluid exerts on the body bounded by the
  boundary part ``part``, ``F = ∫_part (p n − ν(∇u + ∇uᵀ) n) ds`` with n the fluid domain's outward
  normal (``component`` "x" or "y"; ``scale`` e.g. ``2 / (Ū² D)`` for a drag coefficient);
- ``Flux(part, scale)``: ``∫_part k ∂u/∂n ds``, the heat flowing in through the part;
- ``PointValue(field, point)`` and ``PointDifference(field, a, b)``: ``field(a)`` and
  ``field(a) − field(b)`` (a pressure difference).

The FEM's force is the weak (reaction) form ``pdes.fem.quantities.force_on``: exact to its
discretization for a body bounded by the part alone (a cylinder); where the part shares end points
with another velocity part (a channel wall and its inflow), one cell of that part's traction enters.

In a problem with time each is taken at ``time`` (default: the final time). ``published`` is an
outside reference value (a benchmark's), reported beside the FEM's.

A builder binds each declared quantity to its physics (``bind_quantities``): the result,
``Bound``, has a ``region`` and an ``integrand`` (a function of the Fields view, like a residual)
from which the PINN value is ``scale · ∫ integrand`` (surface) or ``scale · Σ_i sign_i integrand(x_i)``
(points), and ``fem(solution)`` for the reference's value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from pdes.description import sobol_points
from pdes.geometry import Point, Product, Region
from pdes.reference import described

Tensor = torch.Tensor


class Quantity:
    """A quantity of interest (module docstring)."""

    scale: float = 1.0
    time: float | None = None
    published: float | None = None

    def bind(self, name: str, where, physics: Physics) -> Bound:
        raise NotImplementedError


@dataclass(frozen=True)
class Force(Quantity):
    """``scale · F_component`` on the body bounded by ``part`` (module docstring)."""

    part: str
    component: str = "x"
    scale: float = 1.0
    time: float | None = None
    published: float | None = None

    def bind(self, name: str, where, physics: Physics) -> Bound:
        if self.component not in ("x", "y"):
            raise ValueError(f"quantity '{name}': Force component must be 'x' or 'y', got {self.component!r}")
        parts = part_names(name, self.part, where)
        integrand = physics.force_integrand(name, self.component)
        fem = physics.fem_force(parts, self.component, at_time(name, self.time, where))
        bound = surface(name, self, where, parts, integrand, fem)
        if "p" in physics.up_to_constant and not closed(bound.region):
            raise ValueError(
                f"quantity '{name}': the force on '{self.part}', which does not close around a body, depends on the "
                "pressure's constant, which this flow leaves free (no Outflow part)"
            )
        return bound


@dataclass(frozen=True)
class Flux(Quantity):
    """``scale · ∫_part k ∂u/∂n ds`` (module docstring)."""

    part: str
    scale: float = 1.0
    time: float | None = None
    published: float | None = None

    def bind(self, name: str, where, physics: Physics) -> Bound:
        parts = part_names(name, self.part, where)
        integrand = physics.flux_integrand(name)
        return surface(name, self, where, parts, integrand, physics.fem_flux(parts, at_time(name, self.time, where)))


@dataclass(frozen=True)
class PointValue(Quantity):
    """``scale · field(point)``."""

    field: str
    point: tuple[float, ...]
    scale: float = 1.0
    time: float | None = None
    published: float | None = None

    def bind(self, name: str, where, physics: Physics) -> Bound:
        return points_bound(name, self, where, physics, self.field, [self.point], [1.0])


@dataclass(frozen=True)
class PointDifference(Quantity):
    """``scale · (field(a) − field(b))``."""

    field: str
    a: tuple[float, ...]
    b: tuple[float, ...]
    scale: float = 1.0
    time: float | None = None
    published: float | None = None

    def bind(self, name: str, where, physics: Physics) -> Bound:
        return points_bound(name, self, where, physics, self.field, [self.a, self.b], [1.0, -1.0])


class Physics:
    """What a builder gives its quantities: integrands of the Fields view and the FEM's values. A quantity the
    equation has no meaning for is refused in one line."""

    equation = "this problem"
    fields: tuple[str, ...] = ()
    up_to_constant: tuple[str, ...] = ()
    """Fields the problem fixes only up to a constant (a closed flow's pressure)."""

    def force_integrand(self, name: str, component: str) -> Callable:
        raise ValueError(f"quantity '{name}': Force is a quantity of flows, not of {self.equation}")

    def flux_integrand(self, name: str) -> Callable:
        raise ValueError(f"quantity '{name}': Flux is a quantity of heat problems, not of {self.equation}")

    def fem_force(self, parts: tuple[str, ...], component: str, time: float | None) -> Callable:
        raise NotImplementedError

    def fem_flux(self, parts: tuple[str, ...], time: float | None) -> Callable:
        raise NotImplementedError


@dataclass(frozen=True)
class Bound:
    """A quantity bound to a problem: PINN value ``scale · Σ_i c_i integrand(x_i)`` over ``region``'s rule
    (``points`` None: ``c_i = |region| w_i / N`` of a fixed rule on it) or over ``points`` with signs
    ``signs``; ``fem(solution)`` the reference's value before scaling (None where it has none)."""

    name: str
    quantity: Quantity
    region: Region
    integrand: Callable
    fem: Callable | None
    points: Tensor | None = None
    signs: tuple[float, ...] = ()

    @property
    def scale(self) -> float:
        return self.quantity.scale


def bind_quantities(quantities: Mapping[str, Quantity] | None, where, physics: Physics) -> dict[str, Bound]:
    """Each declared quantity bound to the problem (``Quantity.bind``), checked in one line."""
    if quantities is None:
        return {}
    if not isinstance(quantities, Mapping):
        raise TypeError(f"quantities must be a dict {{name: Force(...) | Flux(...) | …}}, got {described(quantities)}")
    bound = {}
    for name, quantity in quantities.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"a quantity's name must be non-empty text, got {name!r}")
        if not isinstance(quantity, Quantity):
            raise TypeError(
                f"quantity '{name}' must be a Force, Flux, PointValue or PointDifference, got {described(quantity)}"
            )
        check_scale(name, quantity.scale)
        bound[name] = quantity.bind(name, where, physics)
    return bound


def check_scale(name: str, scale: object) -> None:
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool) or not math.isfinite(scale) or scale == 0:
        raise ValueError(f"quantity '{name}': scale must be a finite non-zero number, got {described(scale)}")


def part_names(name: str, key: str, where) -> tuple[str, ...]:
    """The boundary parts ``key`` names (``"a|b"`` for several), each checked."""
    parts = tuple(part.strip() for part in key.split("|")) if isinstance(key, str) else ()
    valid = where.space.boundary.names
    for part in parts or (key,):
        if part not in valid:
            raise ValueError(
                f"quantity '{name}': unknown boundary part {part!r}; the domain's parts: {', '.join(valid)}"
            )
    return parts


def at_time(name: str, time: float | None, where) -> float | None:
    """The time a quantity is taken at: None when steady, else ``time`` (default the final time) in [t0, T]."""
    if where.time is None:
        if time is not None:
            raise ValueError(f"quantity '{name}': a steady problem has no time, got time={time!r}")
        return None
    t = where.time.t1 if time is None else time
    if not isinstance(t, numbers.Real) or isinstance(t, bool) or not where.time.t0 <= t <= where.time.t1:
        raise ValueError(f"quantity '{name}': time must lie in [{where.time.t0}, {where.time.t1}], got {t!r}")
    return float(t)


def surface(name: str, quantity: Quantity, where, parts: tuple[str, ...], integrand: Callable, fem) -> Bound:
    """The Bound of a surface integral over ``parts`` (at the quantity's time in a problem with time)."""
    region = where.space.boundary[parts[0]]
    for part in parts[1:]:
        region = region | where.space.boundary[part]
    t = at_time(name, quantity.time, where)
    if t is not None:
        region = Product(region, Point([t]))
    return Bound(name, quantity, region, integrand, fem)


def points_bound(
    name: str, quantity: Quantity, where, physics: Physics, field: str, points: list, signs: list[float]
) -> Bound:
    """The Bound of ``Σ_i sign_i field(point_i)``; points outside the domain or of the wrong length, and the value
    at a point of a field known only up to a constant, are refused."""
    fields, up_to_constant = physics.fields, physics.up_to_constant
    if field not in fields:
        raise ValueError(f"quantity '{name}': unknown field {field!r}; valid fields: {', '.join(fields)}")
    if field in up_to_constant and len(points) == 1:
        raise ValueError(
            f"quantity '{name}': {field} is fixed only up to a constant in this problem, so its value at a point "
            "means nothing; take a PointDifference"
        )
    t = at_time(name, quantity.time, where)
    rows = []
    for point in points:
        point = point.tolist() if hasattr(point, "tolist") else point  # a tensor or an array
        if not isinstance(point, tuple | list) or len(point) != where.dim:
            raise ValueError(f"quantity '{name}': a point needs {where.dim} coordinates, got {point!r}")
        rows.append([float(c) for c in point] + ([] if t is None else [t]))
    tensor = torch.tensor(rows, dtype=torch.float64)
    outside = ~where.domain.contains(tensor, 1e-9)
    if outside.any():
        raise ValueError(f"quantity '{name}': the point {points[int(outside.nonzero()[0, 0])]} lies outside the domain")

    def integrand(fields):
        return getattr(fields, field)

    def fem(solution):
        values = solution.evaluate(tensor.numpy())[field]
        return float(sum(s * v for s, v in zip(signs, values)))

    region = Point(tensor[0].tolist())
    return Bound(name, quantity, region, integrand, fem, tensor, tuple(signs))


def closed(region: Region) -> bool:
    """Whether the boundary ``region`` closes around a body: ``∮ n ds = 0`` (to 1e-3 of its length, by 4096
    scrambled Sobol' points)."""
    x, w = sobol_points(region, 4096)
    total = (w[:, None] * region.normal(x)).mean(dim=0) * region.measure
    return float(total.norm()) <= 1e-3 * region.measure
