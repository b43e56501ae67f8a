"""Boundary conditions of a problem description, one per named part of the domain's boundary.

Heat (``pdes.heat``), with n the outward normal and k the conductivity:

- ``Dirichlet(g)``: ``u = g``;
- ``Neumann(h)``: ``k ∂u/∂n = h`` (the heat flowing in is ``h``; ``Neumann()`` insulates);
- ``Robin(a, g)``: ``k ∂u/∂n + a u = g`` with ``a ≥ 0`` (a transfer coefficient: ``a (u_∞ − u)`` flows in for
  ``g = a u_∞``).

Flow (``pdes.navier_stokes``), velocity ``(u, v)``, kinematic pressure ``p``, viscosity ν:

- ``Velocity(g)``: ``(u, v) = g``;
- ``NoSlip()``: ``(u, v) = 0``;
- ``Outflow(pressure=p0)``: the do-nothing condition ``ν ∂u/∂n − p n = −p0 n``.

``g``, ``h`` and ``a`` are numbers or functions of the coordinates (``pdes.given``). The
``conditions`` of a description map a part name, or several joined by ``|`` (``"bottom|top"``), to
a condition; ``resolve`` checks that every part gets exactly one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pdes.geometry import Boundary, Region
from pdes.reference import described


@dataclass(frozen=True)
class Dirichlet:
    """``u = value``."""

    value: object = 0.0


@dataclass(frozen=True)
class Neumann:
    """``k ∂u/∂n = flux``."""

    flux: object = 0.0


@dataclass(frozen=True)
class Robin:
    """``k ∂u/∂n + coefficient · u = value``, ``coefficient ≥ 0``."""

    coefficient: object
    value: object = 0.0


@dataclass(frozen=True)
class Velocity:
    """``(u, v) = value``: a tuple of two numbers or a function returning two values."""

    value: object


@dataclass(frozen=True)
class NoSlip:
    """``(u, v) = 0``."""


@dataclass(frozen=True)
class Outflow:
    """``ν ∂u/∂n − p n = −pressure · n``: traction-free at ``pressure = 0``."""

    pressure: float = 0.0


HEAT = (Dirichlet, Neumann, Robin)
FLOW = (Velocity, NoSlip, Outflow)


@dataclass(frozen=True)
class Placed:
    """A condition on the parts ``parts`` of the boundary, as the description named them (``key``), on
    ``region`` (the union of those parts, in space or space-time)."""

    key: str
    parts: tuple[str, ...]
    condition: object
    region: Region


def resolve(boundary: Boundary, conditions: object, kinds: tuple[type, ...], equation: str) -> list[Placed]:
    """The conditions placed on ``boundary``'s parts; one line for a part that has none or two, an unknown part,
    or a condition of another equation."""
    if not isinstance(conditions, Mapping) or not conditions:
        raise ValueError(
            f"{equation}: conditions must be a dict of boundary parts to conditions, e.g. "
            f"{{'left': {kinds[0].__name__}(...)}}; this domain's parts: {', '.join(boundary.names)}"
        )
    owner: dict[str, str] = {}
    placed = []
    for key, condition in conditions.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{equation}: a condition's key must name boundary parts, got {key!r}")
        if not isinstance(condition, kinds):
            valid = ", ".join(k.__name__ for k in kinds)
            raise ValueError(f"{equation}: conditions['{key}'] must be one of {valid}, got {described(condition)}")
        parts = tuple(part.strip() for part in key.split("|"))
        for part in parts:
            if part not in boundary.names:
                raise ValueError(
                    f"{equation}: conditions['{key}'] names the part '{part}', which the domain's boundary does not "
                    f"have; its parts: {', '.join(boundary.names)}"
                )
            if part in owner:
                raise ValueError(
                    f"{equation}: the part '{part}' is given two conditions, by '{owner[part]}' and '{key}'"
                )
            owner[part] = key
        region = boundary[parts[0]]
        for part in parts[1:]:
            region = region | boundary[part]
        placed.append(Placed(key, parts, condition, region))
    missing = [name for name in boundary.names if name not in owner]
    if missing:
        raise ValueError(
            f"{equation}: the boundary part '{missing[0]}' has no condition; give each of "
            f"{', '.join(boundary.names)} one (e.g. {kinds[0].__name__}(...) or {kinds[1].__name__}())"
        )
    return placed
