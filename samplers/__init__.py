"""How points are drawn: quadrature rules returning points and weights.

``samplers.get(name)`` returns a rule; ``rule.draw(region, n, generator)`` a Quadrature.
"""

from __future__ import annotations

from samplers.quadrature import Quadrature, Rule
from samplers.sobol import Sobol
from samplers.uniform import Uniform

__all__ = ["Quadrature", "Rule", "get", "names"]

_RULES: dict[str, type[Rule]] = {"uniform": Uniform, "sobol": Sobol}


def names() -> list[str]:
    """The registered rule names."""
    return list(_RULES)


def get(name: str, **options: object) -> Rule:
    """The quadrature rule registered as ``name``."""
    if name not in _RULES:
        raise ValueError(f"unknown sampler '{name}'; valid samplers: {', '.join(_RULES)}")
    return _RULES[name](**options)
