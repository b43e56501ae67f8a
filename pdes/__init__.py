"""What is solved: regions, problems, residuals and their reference solutions.

``pdes.get(name, **params)`` builds a registered problem; ``pdes.names()`` lists them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from pdes import heat, navier_stokes
from pdes.problem import Fields, Problem, Term, UnknownName

__all__ = ["Fields", "Problem", "Term", "UnknownName", "get", "names", "parameters", "register"]

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
    """Build the registered problem ``name`` with keyword parameters ``params``."""
    valid = parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        listing = ", ".join(valid) or "none"
        raise ValueError(f"problem '{name}' has no parameter '{unknown[0]}'; its parameters: {listing}")
    return _factory(name)(**params)


def _factory(name: str) -> Callable[..., Problem]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown problem '{name}'; valid problems: {', '.join(names())}")
    return _REGISTRY[name]


register("heat1d", heat.heat1d)
register("heat2d", heat.heat2d)
register("heat2d_varcoef", heat.heat2d_varcoef)
register("kovasznay", navier_stokes.kovasznay)
register("cavity", navier_stokes.cavity)
register("taylor_green", navier_stokes.taylor_green)
