"""What is solved: a Problem is named coordinates, named fields and a list of Terms.

A Term is ``(name, region, residual, weight)``; its loss is the weighted mean of
``residual(f)²`` over ``region``. A residual is a function of a Fields view and
reads like the math::

    Term("pde", domain, lambda f: f.u_t - alpha * (f.u_xx + f.u_yy))
    Term("boundary", domain.boundary, lambda f: f.u)                       # Dirichlet
    Term("flux", domain.boundary, lambda f: f.u_x * f.n_x + f.u_y * f.n_y)  # Neumann
    Term("initial", domain.initial, lambda f: f.u - u0(f.x, f.y))          # initial
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from pdes.geometry import Region
from pdes.reference import Reference

Tensor = torch.Tensor

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


class Derivatives(Protocol):
    """What a derivative engine offers the Fields view.

    ``points`` is the batch ``(N, d)`` (or one point ``(d,)`` for engines mapped over
    points); ``derivative(k, wrt)`` is ``∂^{len(wrt)} out_k / ∂x_{wrt[0]} …`` at each point,
    shaped like ``points[..., 0]``, with ``wrt`` a sorted tuple of coordinate indices
    (``()`` gives the value itself), or a sum of second derivatives when ``wrt`` is a
    sorted tuple of index pairs: ``((0, 0), (1, 1))`` is ``∂²out_k/∂x_0² + ∂²out_k/∂x_1²``.
    """

    points: Tensor

    def derivative(self, field: int, wrt: tuple) -> Tensor: ...


class UnknownName(AttributeError):
    """A residual read a name that is neither a field, a derivative, a coordinate nor a normal."""


class Fields:
    """The fields of a problem at a batch of points, read by name.

    ``f.x`` is a coordinate, ``f.u`` a field, ``f.u_x``/``f.u_xy``/``f.u_tt`` its
    derivatives (any order up to 2, mixed in any order), ``f.n_x`` the x-component of the
    outward normal on a boundary, ``f.laplacian("u", "xy")`` the Laplacian ``u_xx + u_yy``.
    Every name read is recorded in ``reads``.
    """

    def __init__(
        self,
        coordinates: Sequence[str],
        fields: Sequence[str],
        engine: Derivatives,
        normals: Tensor | None = None,
    ):
        self._coordinates = tuple(coordinates)
        self._fields = tuple(fields)
        self._engine = engine
        self._normals = normals
        self.reads: set[str] = set()

    def __getattr__(self, name: str) -> Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._lookup(name)
        self.reads.add(name)
        return value

    def laplacian(self, field: str, over: str) -> Tensor:
        """``Σ_{c in over} ∂²field/∂c²``: ``laplacian("u", "xy")`` is ``u_xx + u_yy``.

        Read as one quantity, so an engine may compute the sum without its terms (the
        forward engine carries it as one channel); recorded in ``reads`` as ``u_xx+u_yy``.
        """
        if field not in self._fields:
            raise UnknownName(f"laplacian of '{field}': valid fields are {', '.join(self._fields)}")
        if not over or len(set(over)) != len(over) or any(c not in self._coordinates for c in over):
            raise UnknownName(
                f"laplacian over '{over}': give distinct coordinates among {', '.join(self._coordinates)}, e.g. 'xy'"
            )
        indices = sorted(self._coordinates.index(c) for c in over)
        value = self._engine.derivative(self._fields.index(field), tuple((i, i) for i in indices))
        self.reads.add("+".join(f"{field}_{self._coordinates[i] * 2}" for i in indices))
        return value

    def _lookup(self, name: str) -> Tensor:
        if name in self._coordinates:
            return self._engine.points[..., self._coordinates.index(name)]
        head, separator, suffix = name.partition("_")
        if head == "n" and suffix in self._coordinates and "n" not in self._fields:
            if self._normals is None:
                raise UnknownName(f"'{name}' is a normal, but this term's region is not a boundary")
            return self._normals[..., self._coordinates.index(suffix)]
        if head not in self._fields:
            raise UnknownName(self._unknown(name))
        if (separator and not suffix) or len(suffix) > 2 or any(c not in self._coordinates for c in suffix):
            raise UnknownName(self._unknown(name))
        wrt = tuple(sorted(self._coordinates.index(c) for c in suffix))
        return self._engine.derivative(self._fields.index(head), wrt)

    def _unknown(self, name: str) -> str:
        return (
            f"residual reads '{name}': valid names are fields ({', '.join(self._fields)}), "
            f"coordinates ({', '.join(self._coordinates)}), derivatives up to order 2 "
            f"such as {self._fields[0]}_{self._coordinates[0]} or "
            f"{self._fields[0]}_{self._coordinates[0] * 2}, and normals n_<coordinate> on boundaries"
        )


Residual = Callable[[Fields], Tensor]


@dataclass
class Term:
    """One integral of the loss: ``weight · mean over region of residual²``."""

    name: str
    region: Region
    residual: Residual
    weight: float = 1.0


@dataclass
class Problem:
    """A PDE problem: coordinates (single letters, time last), fields, terms, reference.

    ``domain`` is the whole space(-time) domain (for input scaling and evaluation);
    ``params`` are the values the problem was built with; ``defaults`` are solver
    settings (steps, batch, width…) measured to work well for it. An optional
    ``transform(points, raw) -> outputs`` maps the network's raw outputs ``(N, F)`` at
    ``points`` ``(N, d)`` to the fields, e.g. to impose Dirichlet data exactly
    (``pdes.transforms``); the solver applies it inside the model, so every derivative
    engine differentiates through it. A transform affine in the raw outputs may say so
    by deriving from ``pdes.transforms.AffineTransform``, as ``BoxDirichlet`` and
    ``ZeroDirichlet`` do; the forward engine then uses its derivatives instead of
    differentiating it.
    """

    name: str
    coordinates: tuple[str, ...]
    fields: tuple[str, ...]
    domain: Region
    terms: list[Term]
    reference: Reference | None = None
    params: dict[str, object] = field(default_factory=dict)
    defaults: Mapping[str, object] = field(default_factory=dict)
    transform: Callable[[Tensor, Tensor], Tensor] | None = None

    def __post_init__(self) -> None:
        self.coordinates = tuple(self.coordinates)
        self.fields = tuple(self.fields)
        for c in self.coordinates:
            if len(c) != 1 or not c.isalpha():
                raise ValueError(f"coordinate names are single letters, got '{c}'")
        if "n" in self.coordinates:
            raise ValueError("'n' is reserved for normals and cannot be a coordinate")
        for name in self.fields:
            if not _NAME.match(name):
                raise ValueError(f"field names are letters and digits without '_', got '{name}'")
        if len(set(self.coordinates + self.fields)) != len(self.coordinates) + len(self.fields):
            raise ValueError("coordinate and field names must all differ")
        if self.domain.dim != len(self.coordinates):
            raise ValueError(
                f"domain has dimension {self.domain.dim} but there are {len(self.coordinates)} coordinates"
            )
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names):
            raise ValueError(f"term names must be unique, got {names}")
        for term in self.terms:
            if term.region.dim != self.domain.dim:
                raise ValueError(f"term '{term.name}': region dimension {term.region.dim} != {self.domain.dim}")
            if not term.weight > 0:
                raise ValueError(f"term '{term.name}': weight must be positive, got {term.weight}")

    def fields_at(self, engine: Derivatives, region: Region) -> Fields:
        """The Fields view of ``engine``'s batch, with normals when ``region`` is a boundary."""
        return Fields(self.coordinates, self.fields, engine, _normals_or_none(region, engine.points))

    def split(self, points: Tensor) -> dict[str, Tensor]:
        """``{"x": points[:, 0], …}`` in coordinate order."""
        return {c: points[:, i] for i, c in enumerate(self.coordinates)}


def _normals_or_none(region: Region, points: Tensor) -> Tensor | None:
    try:
        return region.normal(points.detach())
    except ValueError:
        return None
