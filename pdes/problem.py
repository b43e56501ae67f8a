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

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from pdes.data import Data
from pdes.geometry import Region
from pdes.quantities import Bound
from pdes.reference import Reference, described
from pdes.unknowns import Unknown, UnknownField, check_unknown_name

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
    outward normal on a boundary, ``f.laplacian("u", "xy")`` the Laplacian ``u_xx + u_yy``,
    ``f.nu`` a coefficient of the problem (a known number, or an unknown that trains:
    ``pdes.unknowns``), ``f.data("u")`` the observed values at the points of a data term
    (``pdes.data.Data``). Every name read is recorded in ``reads``.
    """

    def __init__(
        self,
        coordinates: Sequence[str],
        fields: Sequence[str],
        engine: Derivatives,
        normals: Tensor | None = None,
        observations: Mapping[str, Tensor] | None = None,
        coefficients: Mapping[str, float | Tensor] | None = None,
    ):
        self._coordinates = tuple(coordinates)
        self._fields = tuple(fields)
        self._engine = engine
        self._normals = normals
        self._observations = observations
        self._coefficients = coefficients or {}
        self.reads: set[str] = set()

    def __getattr__(self, name: str) -> Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._lookup(name)
        self.reads.add(name)
        return value

    def data(self, name: str) -> Tensor:
        """The observed values ``name`` at this batch's points: ``(N,)``, for terms on a ``pdes.data.Data`` region."""
        if self._observations is None:
            raise UnknownName(f"f.data('{name}') reads observations, but this term's region is not a pdes Data region")
        if name not in self._observations:
            raise UnknownName(f"f.data('{name}'): the observations hold {', '.join(self._observations)}, not '{name}'")
        self.reads.add(f"data:{name}")
        return self._observations[name]

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
        if len(indices) == 1:  # one coordinate: the second derivative itself, u_xx
            return getattr(self, f"{field}_{over * 2}")
        value = self._engine.derivative(self._fields.index(field), tuple((i, i) for i in indices))
        self.reads.add("+".join(f"{field}_{self._coordinates[i] * 2}" for i in indices))
        return value

    def _lookup(self, name: str) -> Tensor:
        if name in self._coefficients:
            return self._coefficients[name]
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
            f"{self._fields[0]}_{self._coordinates[0] * 2}, normals n_<coordinate> on boundaries"
            + (f", coefficients ({', '.join(self._coefficients)})" if self._coefficients else "")
        )


Residual = Callable[[Fields], Tensor]


@dataclass
class Term:
    """One integral of the loss: ``weight · mean over region of residual²``.

    ``name`` is non-empty text, ``region`` a ``pdes.geometry.Region``, ``residual`` a function
    of a Fields view returning one value per point, ``weight`` a positive finite number;
    anything else is refused in one line.
    """

    name: str
    region: Region
    residual: Residual
    weight: float = 1.0

    def __post_init__(self) -> None:
        check_term_name(self.name)
        if not isinstance(self.region, Region):
            raise TypeError(
                f"term '{self.name}': region must be a pdes.geometry Region (e.g. domain, domain.boundary, "
                f"domain.initial), got {described(self.region)}"
            )
        if not callable(self.residual):
            raise TypeError(
                f"term '{self.name}': residual must be a function of the fields, e.g. lambda f: f.u_xx + 1, "
                f"got {described(self.residual)}"
            )
        check_weight(self.name, self.weight)


def check_term_name(name: object) -> None:
    """Refuse a term name that is not non-empty text."""
    if not isinstance(name, str):
        raise TypeError(f"a term's name must be text such as 'pde' or 'boundary', got {described(name)}")
    if not name:
        raise ValueError("a term's name must be non-empty text such as 'pde' or 'boundary', got ''")


def check_weight(term: str, weight: object) -> None:
    """Refuse a term weight that is not a positive finite number (a bool is not a number)."""
    message = f"term '{term}': weight must be a positive finite number, got {described(weight)}"
    if not isinstance(weight, numbers.Real) or isinstance(weight, bool):
        raise TypeError(message)
    if not 0 < weight < math.inf:
        raise ValueError(message)


def check_residual(term: Term, r: object, n: int) -> Tensor:
    """``r`` if it is what ``term``'s residual must return at ``n`` points: a float tensor of shape ``(n,)``.

    Anything else (a number, a bool or integer tensor, a value reduced over the points) raises
    one line naming the term: TypeError for the kind, ValueError for the shape.
    """
    expected = f"term '{term.name}': the residual must return one floating-point value per point, shape (N,)"
    if not isinstance(r, Tensor) or not r.is_floating_point():
        raise TypeError(f"{expected}, got {described(r)}")
    if r.shape != (n,):
        reduced = " (do not reduce it with .mean() or .sum(): the loss squares and averages it)" if r.ndim == 0 else ""
        raise ValueError(f"{expected}, got shape {tuple(r.shape)} for N = {n} points{reduced}")
    return r


def check_positive(problem: str, name: str, value: object, meaning: str = "") -> None:
    """Refuse a parameter of problem ``problem`` that is not a positive finite number, in one line."""
    what = f" ({meaning})" if meaning else ""
    message = f"problem '{problem}': parameter {name} must be positive and finite, got {value!r}{what}"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(message)
    if not 0 < value < math.inf:
        raise ValueError(message)


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
    differentiating it. ``source`` is where a user's problem came from (``pdes.user``: set by
    ``pdes.get("file.py:factory")``), None for a registered one.
    ``coefficients`` are known numbers the residuals read by name (``f.nu``), ``unknowns`` what an
    inverse problem infers (``pdes.unknowns``), ``quantities`` the bound quantities of interest
    (``pdes.quantities.Bound``, made by the builders ``pdes.heat`` and ``pdes.navier_stokes``) that
    report.json's ``quantities`` gives.

    Arguments of the wrong kind (names, a domain that is no Region, terms that are no list of
    Terms on regions of the domain's dimension, a reference of other coordinates or fields) are
    refused at construction, each in one line that says what is valid.
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
    source: str | None = None
    coefficients: dict[str, float] = field(default_factory=dict)
    unknowns: list[Unknown | UnknownField] = field(default_factory=list)
    quantities: dict[str, Bound] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, names in (("coordinates", self.coordinates), ("fields", self.fields)):
            if isinstance(names, str):
                raise TypeError(f"{what} must be a tuple of names such as ('x', 't') or ('u', 'v'), got {names!r}")
        self.coordinates = tuple(self.coordinates)
        self.fields = tuple(self.fields)
        check_names(self.coordinates, self.fields)
        self.coefficients, self.unknowns = check_coefficients(self.coefficients), check_unknowns(self.unknowns)
        extra = tuple(u.name for u in self.unknowns if isinstance(u, UnknownField) and u.name not in self.fields)
        self.fields = self.fields + extra
        check_distinct_names(self)
        if not isinstance(self.domain, Region):
            raise TypeError(f"domain must be a pdes.geometry Region such as Box(...), got {described(self.domain)}")
        if self.domain.dim != len(self.coordinates):
            raise ValueError(
                f"the domain has dimension {self.domain.dim} but the coordinates {self.coordinates} name "
                f"{len(self.coordinates)} axes; give one coordinate name per axis of the domain"
            )
        check_terms(self.terms, self.domain)
        check_observations_inside(self.terms, self.domain)
        check_reference(self.reference, self.coordinates, self.fields)
        check_quantities(self.quantities)
        if self.transform is not None and not callable(self.transform):
            raise TypeError(
                f"transform must be a function (points, raw) -> outputs or None, got {described(self.transform)}"
            )

    def check_reference_values(self, values: object, n: int) -> None:
        """Refuse, in one line, reference ``values`` at ``n`` points that are not finite floats ``(n,)`` per field.

        The fields must be fields of the problem; ``values`` None (no reference) passes.
        """
        if values is None:
            return
        if not isinstance(values, Mapping):
            raise TypeError(f"the reference must evaluate to a dict {{field: (N,) tensor}}, got {described(values)}")
        for name, value in values.items():
            check_reference_field(name, self.fields)
            check_reference_value(name, value, n)

    def fields_at(self, engine: Derivatives, region: Region) -> Fields:
        """The Fields view of ``engine``'s batch, with normals when ``region`` is a boundary, and the known
        coefficients."""
        return self.view(engine, _normals_or_none(region, engine.points))

    def view(
        self,
        engine: Derivatives,
        normals: Tensor | None = None,
        observations: Mapping[str, Tensor] | None = None,
        unknowns: Mapping[str, Tensor] | None = None,
    ) -> Fields:
        """The Fields view a residual reads: ``engine``'s derivatives, the ``normals`` of a boundary batch, the
        ``observations`` of a data batch, the known coefficients and the current values of the unknown ones."""
        coefficients = {**self.coefficients, **(unknowns or {})}
        return Fields(self.coordinates, self.fields, engine, normals, observations, coefficients)

    @property
    def unknown_coefficients(self) -> list[Unknown]:
        """The declared unknowns that are numbers (``pdes.unknowns.Unknown``)."""
        return [u for u in self.unknowns if isinstance(u, Unknown)]

    @property
    def unknown_fields(self) -> list[UnknownField]:
        """The declared unknowns that are fields (``pdes.unknowns.UnknownField``)."""
        return [u for u in self.unknowns if isinstance(u, UnknownField)]

    def split(self, points: Tensor) -> dict[str, Tensor]:
        """``{"x": points[:, 0], …}`` in coordinate order."""
        return {c: points[:, i] for i, c in enumerate(self.coordinates)}


def check_names(coordinates: tuple, fields: tuple) -> None:
    """Refuse coordinates that are not distinct single letters (not 'n') and fields that are not names, or none."""
    if not coordinates:
        raise ValueError("a problem needs at least one coordinate, e.g. coordinates=('x', 't')")
    if not fields:
        raise ValueError("a problem needs at least one field, e.g. fields=('u',)")
    for c in coordinates:
        if not isinstance(c, str) or len(c) != 1 or not c.isalpha():
            raise ValueError(f"coordinate names are single letters, got {c!r}")
    if "n" in coordinates:
        raise ValueError("'n' is reserved for normals and cannot be a coordinate")
    for name in fields:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"field names are letters and digits without '_', got {name!r}")
    if len(set(coordinates + fields)) != len(coordinates) + len(fields):
        raise ValueError("coordinate and field names must all differ")


def check_coefficients(coefficients: object) -> dict[str, float]:
    """Refuse coefficients that are not a dict of names to finite numbers."""
    if not isinstance(coefficients, Mapping):
        raise TypeError(
            f"coefficients must be a dict {{name: number}}, e.g. {{'nu': 0.01}}, got {described(coefficients)}"
        )
    for name, value in coefficients.items():
        check_unknown_name(name)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"coefficient '{name}' must be a finite number, got {described(value)}")
    return {name: float(value) for name, value in coefficients.items()}


def check_unknowns(unknowns: object) -> list:
    """Refuse unknowns that are not a list of ``pdes.Unknown`` / ``pdes.UnknownField``."""
    if not isinstance(unknowns, list | tuple) or not all(isinstance(u, Unknown | UnknownField) for u in unknowns):
        given = (
            unknowns
            if not isinstance(unknowns, list | tuple)
            else next(u for u in unknowns if not isinstance(u, Unknown | UnknownField))
        )
        raise TypeError(f"unknowns must be a list of pdes.Unknown or pdes.UnknownField, got {described(given)}")
    return list(unknowns)


def check_distinct_names(problem: Problem) -> None:
    """Refuse a coefficient or unknown whose name is another's, a coordinate's or a field's, or a Fields method's."""
    reserved = ("data", "laplacian", "reads")
    for name in problem.fields:
        if name in reserved:
            raise ValueError(f"field '{name}' has the name of a method of the Fields view; give it another name")
    taken = {c: "a coordinate" for c in problem.coordinates}
    taken.update({f: "a field" for f in problem.fields})
    taken.update(dict.fromkeys(reserved, "a name of the Fields view"))
    for name in problem.coefficients:
        if name in taken:
            raise ValueError(f"coefficient '{name}' has the name of {taken[name]}; give it another name")
        taken[name] = "a coefficient"
    for unknown in problem.unknowns:
        if isinstance(unknown, UnknownField):
            if unknown.name in problem.coordinates or unknown.name in reserved:
                raise ValueError(f"unknown field '{unknown.name}' has the name of a coordinate or of a Fields method")
            if problem.fields.count(unknown.name) > 1:
                raise ValueError(f"unknown field '{unknown.name}' is declared twice")
            unknown.inputs(problem.coordinates)
            continue
        if unknown.name in taken:
            raise ValueError(f"unknown '{unknown.name}' has the name of {taken[unknown.name]}; give it another name")
        taken[unknown.name] = "another unknown"


def check_quantities(quantities: object) -> None:
    """Refuse quantities that are not bound ones (``pdes.quantities.Bound``, as the builders ``pdes.heat`` and
    ``pdes.navier_stokes`` make them)."""
    if not isinstance(quantities, Mapping) or not all(isinstance(q, Bound) for q in quantities.values()):
        raise TypeError(
            "quantities are declared to a builder, e.g. pdes.navier_stokes(..., quantities={'drag': pdes.Force(...)}); "
            f"a Problem takes the bound ones it makes, got {described(quantities)}"
        )


def check_observations_inside(terms: Sequence[Term], domain: Region) -> None:
    """Refuse observations (``pdes.data.Data`` regions) with points outside ``domain``, naming how many."""
    for term in terms:
        if isinstance(term.region, Data):
            try:
                term.region.inside(domain)
            except ValueError as error:
                raise ValueError(f"term '{term.name}': {error}") from None


def check_terms(terms: object, domain: Region) -> None:
    """Refuse terms that are not a list of Terms with distinct names on regions of the domain's dimension."""
    if not isinstance(terms, list | tuple) or not all(isinstance(t, Term) for t in terms):
        given = terms if not isinstance(terms, list | tuple) else next(t for t in terms if not isinstance(t, Term))
        raise TypeError(f"terms must be a list of Term(name, region, residual), got {described(given)}")
    names = [t.name for t in terms]
    repeated = [name for name in names if names.count(name) > 1]
    if repeated:
        raise ValueError(f"term names must be unique, but '{repeated[0]}' names {names.count(repeated[0])} terms")
    for term in terms:
        if term.region.dim != domain.dim:
            raise ValueError(
                f"term '{term.name}': its region has dimension {term.region.dim}, but the domain has dimension "
                f"{domain.dim}; a term's region must have the domain's dimension"
            )


def check_reference(reference: object, coordinates: tuple, fields: tuple) -> None:
    """Refuse a reference that is not a Reference, takes other coordinates or names fields the problem lacks."""
    if reference is None:
        return
    if not isinstance(reference, Reference):
        raise TypeError(
            "reference must be a pdes.reference.Reference such as AnalyticReference(coordinates, solution), "
            f"or None, got {described(reference)}"
        )
    taken = tuple(getattr(reference, "coordinates", coordinates))
    if taken != coordinates:
        raise ValueError(
            f"the reference takes the coordinates {taken}, but the problem's are {coordinates}; "
            "give the reference the problem's coordinates, in the same order"
        )
    for name in (*getattr(reference, "fields", ()), *reference.up_to_constant):
        check_reference_field(name, fields)


def check_reference_field(name: str, fields: tuple) -> None:
    """Refuse a field of the reference that is not one of the problem's ``fields``."""
    if name not in fields:
        raise ValueError(
            f"the reference gives field {name!r}, which is not a field of the problem; "
            f"valid fields: {', '.join(fields)}"
        )


def check_reference_value(name: str, value: object, n: int) -> None:
    """Refuse a reference field's ``value`` at ``n`` points that is not a finite float tensor of shape ``(n,)``."""
    expected = f"a floating-point tensor of shape ({n},), one value per evaluation point"
    if not isinstance(value, Tensor) or not value.is_floating_point():
        raise TypeError(f"reference field '{name}' must be {expected}, got {described(value)}")
    if value.shape != (n,):
        raise ValueError(f"reference field '{name}' must be {expected}, got shape {tuple(value.shape)}")
    bad = int((~torch.isfinite(value)).sum())
    if bad:
        raise ValueError(f"reference field '{name}' must be finite, but is not at {bad} of {n} points")


def _normals_or_none(region: Region, points: Tensor) -> Tensor | None:
    try:
        return region.normal(points.detach())
    except ValueError:
        return None
