"""What is solved: regions, problems, residuals and their reference solutions.

``pdes.get(name, **params)`` builds a registered problem; ``pdes.names()`` lists them.
``pdes.get("path/file.py:factory", **params)`` (or ``"package.module:factory"``) builds a
user's own problem (``pdes.user``). ``pdes.heat(...)`` and ``pdes.navier_stokes(...)`` build a
problem from a physical description (domain, coefficients, conditions on named boundary parts:
``pdes.Dirichlet`` … ``pdes.Outflow``; quantities ``pdes.Force`` …) with its FEM reference.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

from pdes import cylinder, flow_problems, heat_plate, heat_problems, heat_spot, inverse, user
from pdes.conditions import Dirichlet, Neumann, NoSlip, Outflow, Robin, Velocity
from pdes.data import Data, data_terms
from pdes.flow import navier_stokes
from pdes.heat_equation import heat
from pdes.inverse import synthetic_data, with_data
from pdes.problem import Fields, Problem, Term, UnknownName
from pdes.quantities import Flux, Force, PointDifference, PointValue
from pdes.unknowns import Unknown, UnknownField, infer

__all__ = [
    "Data", "Dirichlet", "Fields", "Flux", "Force", "Neumann", "NoSlip", "Outflow", "PointDifference", "PointValue",
    "Problem", "Robin", "Term", "Unknown", "UnknownField", "UnknownName", "Velocity", "data_terms", "get", "heat",
    "infer", "names", "navier_stokes", "parameters", "register", "synthetic_data", "with_data",
]  # fmt: skip

_REGISTRY: dict[str, Callable[..., Problem]] = {}


def register(name: str, factory: Callable[..., Problem]) -> None:
    """Make ``pdes.get(name, **params)`` build ``factory(**params)``."""
    _REGISTRY[name] = factory


def names() -> list[str]:
    """The registered problem names, sorted."""
    return sorted(_REGISTRY)


def parameters(name: str) -> dict[str, object]:
    """The parameters of problem ``name`` and their default values."""
    factory = _factory(name)
    return {p.name: p.default for p in inspect.signature(factory).parameters.values()}


def get(name: str, **params: object) -> Problem:
    """Build the registered problem ``name``, or the user's problem ``file.py:factory`` /
    ``module:factory`` (``pdes.user.problem_from``), with keyword parameters ``params``; any problem also
    takes ``data={...}`` (observations from a file) and ``infer={name: initial}`` (``pdes.inverse.applied``)."""
    extras = {key: params.pop(key) for key in inverse.INVERSE_PARAMS if key in params}
    if user.is_source(name):
        problem = user.problem_from(name, params)
    else:
        problem = _registered(name, params)
    return inverse.applied(problem, **extras) if extras else problem


def _registered(name: str, params: dict[str, object]) -> Problem:
    valid = parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        listing = ", ".join(valid) or "none"
        raise ValueError(f"problem '{name}' has no parameter '{unknown[0]}'; its parameters: {listing}")
    for key, value in params.items():
        _check_parameter(name, key, value, valid[key])
    return _factory(name)(**params)


def _check_parameter(problem: str, key: str, value: object, default: object) -> None:
    """Refuse, in one line, a value of another kind than the parameter's default: a number for a
    number (finite, not a bool), text for text (or for a default of None)."""
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        kind = "a finite number"
    else:
        ok, kind = value is None or isinstance(value, str), "text"
    if not ok:
        raise ValueError(f"problem '{problem}': parameter {key} must be {kind}, got {value!r}")


def _factory(name: str) -> Callable[..., Problem]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown problem '{name}'; valid problems: {', '.join(names())}")
    return _REGISTRY[name]


register("heat1d", heat_problems.heat1d)
register("heat2d", heat_problems.heat2d)
register("heat2d_varcoef", heat_problems.heat2d_varcoef)
register("kovasznay", flow_problems.kovasznay)
register("cavity", flow_problems.cavity)
register("taylor_green", flow_problems.taylor_green)
register("cylinder", cylinder.cylinder)
register("heat_plate", heat_plate.heat_plate)
register("heat_spot", heat_spot.heat_spot)
register("kovasznay_inverse", inverse.kovasznay_inverse)
register("cavity_inverse", inverse.cavity_inverse)
register("heat2d_varcoef_inverse", inverse.heat2d_varcoef_inverse)
