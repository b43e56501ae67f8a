"""Given data of a problem description: a number, or a function of the coordinates written with torch.

A datum (a conductivity, a source, boundary or initial data, a velocity) is given once and used
twice: by the PINN residuals on torch tensors and by the finite element reference on numpy
arrays. A function takes the space coordinates in order (``lambda x, y: …``) or, in a problem
with time, optionally ``t`` after them (``lambda x, y, t: …``), and returns a tensor of their
shape (or a number); a vector datum returns a tuple of such values (``lambda x, y: (u, v)``).
The FEM calls the same function on ``torch.from_numpy`` views of its quadrature points, so a
user writes every datum once, in torch.

A function that cannot be called so, returns the wrong number of components, or gives a value
that is not finite at the points it is checked on, is refused in one line naming the datum.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import torch

from pdes.reference import described

Tensor = torch.Tensor


class Given:
    """The datum ``name``: a number (or a tuple of ``components`` numbers), or a function of the coordinates.

    ``space`` is the number of space coordinates and ``time`` whether the problem has a time
    coordinate (last). ``takes_time`` says whether the function reads ``t``.
    """

    def __init__(self, name: str, value: object, space: int, time: bool, components: int = 1):
        self.name, self.space, self.time, self.components = name, space, time, components
        self.value = value
        if callable(value):
            self.takes_time = _takes_time(name, value, space, time)
            self.constant = None
        else:
            self.takes_time = False
            self.constant = _constant(name, value, components)

    @property
    def is_constant(self) -> bool:
        return self.constant is not None

    def __call__(self, *coordinates: Tensor) -> Tensor | tuple[Tensor, ...]:
        """The datum at torch coordinates (space, then ``t`` where the problem has time), broadcast to their
        shape; a tuple of ``components`` tensors for a vector datum."""
        shape_of = coordinates[0]
        if self.constant is not None:
            values = tuple(torch.full_like(shape_of, c) for c in self.constant)
        else:
            used = coordinates[: self.space + (1 if self.takes_time else 0)]
            values = self._components(self.value(*used), shape_of)
        return values[0] if self.components == 1 else values

    def numpy(self, *coordinates: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        """The datum at numpy coordinates (the FEM's quadrature points), through the torch function."""
        tensors = [torch.from_numpy(np.ascontiguousarray(c, dtype=np.float64)) for c in coordinates]
        with torch.no_grad():
            values = self(*tensors)
        if self.components == 1:
            return values.detach().numpy()
        return tuple(v.detach().numpy() for v in values)

    def gradient(self, *coordinates: Tensor) -> tuple[Tensor, ...]:
        """``(∂g/∂x, ∂g/∂y, …)`` over the space coordinates of a scalar datum, by ``torch.func.grad`` (so it
        also runs under ``vmap``); zeros for a constant."""
        space = coordinates[: self.space]
        if self.constant is not None:
            return tuple(torch.zeros_like(c) for c in space)
        rest = coordinates[self.space :]

        def total(*xs: Tensor) -> Tensor:
            return self(*xs, *rest).sum()

        return torch.func.grad(total, argnums=tuple(range(self.space)))(*(c.detach() for c in space))

    def check(self, points: Tensor, sign: str | None = None) -> None:
        """Refuse, in one line, a function that fails, or is not finite (or not of ``sign``: "positive",
        "non-negative"), at ``points`` ``(N, d)`` of the region it is given on."""
        try:
            values = self(*points.unbind(dim=1))
        except Exception as error:  # a user's function: any failure is reported in one line
            raise ValueError(
                f"{self.name}: the function{_signature(self.value)} failed on torch tensors of the coordinates "
                f"({type(error).__name__}: {error}); {self.expected}"
            ) from None
        for k, v in enumerate(values if isinstance(values, tuple) else (values,)):
            bad = ~torch.isfinite(v)
            if bad.any():
                where = points[bad.nonzero()[0, 0]].tolist()
                raise ValueError(f"{self.name}: not finite at {_point(where)}{_component(k, self.components)}")
            wrong = (v <= 0) if sign == "positive" else (v < 0) if sign == "non-negative" else None
            if wrong is not None and bool(wrong.any()):
                i = int(v.argmin())
                raise ValueError(
                    f"{self.name} must be {sign}, but is {float(v[i]):.6g} at {_point(points[i].tolist())}"
                )

    def fingerprint(self, points: Tensor) -> str:
        """SHA-256 of the datum's float64 values at ``points`` (what a cached reference computed from it depends on)."""
        values = self(*points.to(torch.float64).unbind(dim=1))
        stacked = torch.stack(values if isinstance(values, tuple) else (values,))
        return hashlib.sha256(stacked.detach().numpy().tobytes()).hexdigest()

    def describe(self) -> object:
        """What report.json records: the number(s), or ``"function"``."""
        if self.constant is None:
            return "function"
        return self.constant[0] if self.components == 1 else list(self.constant)

    @property
    def expected(self) -> str:
        args = ", ".join("xyz"[: self.space]) + (", t" if self.time else "")
        returns = "a tensor of their shape" if self.components == 1 else f"a tuple of {self.components} such tensors"
        return f"give a number or a function ({args}) of torch tensors returning {returns}"

    def _components(self, value: object, like: Tensor) -> tuple[Tensor, ...]:
        parts = value if isinstance(value, tuple | list) else (value,)
        if len(parts) != self.components:
            raise ValueError(
                f"{self.name}: the function returned {len(parts)} value(s), expected {self.components}; {self.expected}"
            )
        return tuple(_broadcast(self.name, p, like) for p in parts)


def _broadcast(name: str, value: object, like: Tensor) -> Tensor:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return torch.full_like(like, float(value))
    if not isinstance(value, Tensor) or not value.is_floating_point():
        raise ValueError(f"{name}: the function must return floating-point tensors or numbers, got {described(value)}")
    return value.to(like.dtype).expand_as(like) if value.shape != like.shape else value


def _constant(name: str, value: object, components: int) -> tuple[float, ...]:
    """``value`` as ``components`` floats: numbers, a tuple or list of them, or a numpy array or tensor of them."""
    if isinstance(value, Tensor | np.ndarray):  # an array or tensor of numbers
        value = np.asarray(value.detach() if isinstance(value, Tensor) else value, dtype=float).ravel().tolist()
        value = value[0] if components == 1 and len(value) == 1 else value
    values = value if isinstance(value, tuple | list) else (value,)
    ok = len(values) == components and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
    if not ok:
        kind = "a finite number" if components == 1 else f"a tuple of {components} finite numbers"
        shown = repr(value) if isinstance(value, tuple | list) else described(value)
        raise ValueError(f"{name} must be {kind} or a function of the coordinates, got {shown[:80]}")
    return tuple(float(v) for v in values)


def _takes_time(name: str, function: Callable, space: int, time: bool) -> bool:
    """Whether ``function`` takes ``t`` after the ``space`` coordinates; a signature that fits neither is refused."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # no signature (some builtins): assume the full list
        return time
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return time
    required = [
        p for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    space_names = ", ".join("xyz"[:space])
    if len(required) == space:
        return False
    if time and len(required) == space + 1:
        return True
    valid = f"({space_names})" + (f" or ({space_names}, t)" if time else "")
    raise ValueError(f"{name}: the function takes {len(required)} argument(s); it must take {valid}")


def _signature(function: object) -> str:
    try:
        return str(inspect.signature(function))
    except (TypeError, ValueError):
        return ""


def _point(coordinates: Sequence[float]) -> str:
    return "(" + ", ".join(f"{c:.6g}" for c in coordinates) + ")"


def _component(k: int, components: int) -> str:
    return f" (component {k})" if components > 1 else ""
