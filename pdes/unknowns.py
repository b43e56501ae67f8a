"""What an inverse problem infers: unknown coefficients (numbers) and unknown fields (functions).

A Problem declares them in ``unknowns``; a residual reads them like anything else::

    Problem(..., coefficients={"alpha": 0.1})               # known: f.alpha is 0.1
    Problem(..., unknowns=[Unknown("nu", initial=0.1, positive=True)])   # f.nu trains
    Problem(..., unknowns=[UnknownField("k", positive=True, over="xy")]) # f.k, f.k_x train

An ``Unknown`` is one trainable number; ``positive`` trains its logarithm, ``bounds=(lo, hi)``
a logistic map onto the open interval. An ``UnknownField`` is one more output of the network
(``network="shared"``) or of a small network of its own over the coordinates ``over``
(``network="separate"``), ``positive`` through a softplus. ``true`` (a number, or a function of
the coordinates for a field) is what the report compares the inferred one with.
``infer(problem, name, initial)`` turns a known coefficient into an unknown.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass

from pdes.reference import described

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
NETWORKS = ("shared", "separate")


@dataclass(frozen=True)
class Unknown:
    """A trainable coefficient (module docstring); ``lr`` its own Adam learning rate (None: the run's)."""

    name: str
    initial: float
    positive: bool = False
    bounds: tuple[float, float] | None = None
    true: float | None = None
    lr: float | None = None

    def __post_init__(self) -> None:
        check_unknown_name(self.name)
        what = f"unknown '{self.name}'"
        _check_number(f"{what}: initial", self.initial)
        if self.true is not None:
            _check_number(f"{what}: true", self.true)
        if self.lr is not None:
            _check_number(f"{what}: lr", self.lr)
            if self.lr <= 0:
                raise ValueError(f"{what}: lr must be positive, got {self.lr}")
        if self.positive and self.initial <= 0:
            raise ValueError(f"{what} is positive, so its initial value must be > 0, got {self.initial}")
        if self.bounds is not None:
            if not isinstance(self.bounds, tuple | list) or len(self.bounds) != 2:
                raise TypeError(f"{what}: bounds must be a pair (lo, hi), got {described(self.bounds)}")
            lo, hi = self.bounds
            _check_number(f"{what}: bounds", lo)
            _check_number(f"{what}: bounds", hi)
            if not lo < self.initial < hi:
                raise ValueError(
                    f"{what}: bounds ({lo}, {hi}) must contain its initial value {self.initial} strictly inside"
                )
            if self.positive and lo < 0:
                raise ValueError(f"{what} is positive, so its lower bound must be >= 0, got {lo}")


@dataclass(frozen=True)
class UnknownField:
    """A trainable field (module docstring): ``network`` "shared" or "separate"; ``over`` the coordinates a
    separate network takes (e.g. ``"xy"`` for a conductivity that does not vary in time; None: all of them);
    ``width``/``depth`` its size."""

    name: str
    positive: bool = False
    network: str = "shared"
    over: str | None = None
    true: Callable | None = None
    width: int = 32
    depth: int = 3

    def __post_init__(self) -> None:
        check_unknown_name(self.name)
        what = f"unknown field '{self.name}'"
        if self.network not in NETWORKS:
            raise ValueError(f"{what}: network must be one of {', '.join(NETWORKS)}, got {self.network!r}")
        if self.over is not None and self.network != "separate":
            raise ValueError(f"{what}: over= names the inputs of a separate network; give network='separate' too")
        if self.true is not None and not callable(self.true):
            raise TypeError(f"{what}: true must be a function of the coordinates, got {described(self.true)}")
        for name in ("width", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{what}: {name} must be a positive integer, got {value!r}")

    def inputs(self, coordinates: tuple[str, ...]) -> tuple[int, ...]:
        """The indices of the coordinates the field depends on."""
        over = "".join(coordinates) if self.over is None else self.over
        for c in over:
            if c not in coordinates:
                raise ValueError(
                    f"unknown field '{self.name}': over='{self.over}' names '{c}', not a coordinate of "
                    f"{', '.join(coordinates)}"
                )
        if len(set(over)) != len(over):
            raise ValueError(f"unknown field '{self.name}': over='{self.over}' repeats a coordinate")
        return tuple(sorted(coordinates.index(c) for c in over))


def check_unknown_name(name: object) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"an unknown's name is letters and digits, starting with a letter, got {name!r}")


def _check_number(what: str, value: object) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {described(value)}")


def infer(problem, name: str, initial: float | None = None, true: float | None = None):
    """``problem`` with its known coefficient ``name`` made an ``Unknown`` starting at ``initial``.

    A positive coefficient stays positive. Without ``initial`` the guess is 1.0 (a guess that knows
    nothing of the value). ``true`` is the value to compare with, when known (the coefficient's
    value in the problem is only its default, not a measured truth, so it is not taken).
    """
    if name not in problem.coefficients:
        known = ", ".join(problem.coefficients) or "none"
        declared = ", ".join(u.name for u in problem.unknowns)
        also = f"; it already infers {declared}" if declared else ""
        raise ValueError(
            f"problem '{problem.name}' has no coefficient '{name}' to infer; its coefficients: {known}{also}"
        )
    value = problem.coefficients[name]
    initial = 1.0 if initial is None else initial
    if isinstance(initial, bool) or not isinstance(initial, numbers.Real):
        raise ValueError(f"the initial guess of '{name}' must be a number, got {described(initial)}")
    unknown = Unknown(name, initial=initial, positive=value > 0, true=true)
    coefficients = {k: v for k, v in problem.coefficients.items() if k != name}
    return dataclasses.replace(problem, coefficients=coefficients, unknowns=[*problem.unknowns, unknown])
