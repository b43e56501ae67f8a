"""How points are drawn: quadrature rules returning points and weights, and their variance.

``samplers.get(name, **options)`` returns a rule; ``rule.draw(region, n, generator)`` a
Quadrature. Stateful rules (``pool``, ``rad``, ``rar``) hold the points of one region:
make one rule per term. Their ``base`` option names the rule they draw from.
"""

from __future__ import annotations

import inspect

from samplers.adaptive import RAD, RAR
from samplers.gauss import Gauss
from samplers.halton import Halton
from samplers.lhs import LatinHypercube
from samplers.pool import Pool
from samplers.quadrature import Quadrature, Rule
from samplers.sobol import Sobol
from samplers.stratified import Stratified
from samplers.uniform import Uniform

__all__ = ["Quadrature", "Rule", "get", "names", "options"]

_RULES: dict[str, type[Rule]] = {
    "uniform": Uniform,
    "stratified": Stratified,
    "lhs": LatinHypercube,
    "sobol": Sobol,
    "halton": Halton,
    "gauss": Gauss,
    "pool": Pool,
    "rad": RAD,
    "rar": RAR,
}

_STATEFUL = ("pool", "rad", "rar")


def names() -> list[str]:
    """The registered rule names."""
    return list(_RULES)


def options(name: str) -> tuple[str, ...]:
    """The keyword options that rule ``name`` takes."""
    return tuple(inspect.signature(_rule_class(name)).parameters)


def get(name: str, **settings: object) -> Rule:
    """A new rule registered as ``name``; a string ``base`` option is itself looked up (stateless rules only)."""
    valid = options(name)
    unknown = sorted(set(settings) - set(valid))
    if unknown:
        raise ValueError(f"sampler '{name}' has no option '{unknown[0]}'; its options: {', '.join(valid) or 'none'}")
    base = settings.get("base")
    if isinstance(base, str):
        if base in _STATEFUL:
            stateless = ", ".join(n for n in _RULES if n not in _STATEFUL)
            raise ValueError(f"the base rule of '{name}' must be stateless ({stateless}), got '{base}'")
        settings["base"] = get(base)
    return _rule_class(name)(**settings)


def _rule_class(name: str) -> type[Rule]:
    if name not in _RULES:
        raise ValueError(f"unknown sampler '{name}'; valid samplers: {', '.join(_RULES)}")
    return _RULES[name]
