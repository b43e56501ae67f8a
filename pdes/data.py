"""Observations as a region: a finite set of points with measured values, integrated by its empirical measure.

``Data(points, values)`` is a Region whose mean of ``f`` is ``(1/N) Σ_j f(x_j)`` over its ``N``
points, so a data term is one more integral of the loss::

    data = Data(points, {"u": measured_u}, noise=0.01)
    Term("data_u", data, lambda f: f.u - f.data("u"))    # or pdes.data_terms(data, ["u"])

The solver serves it by ``samplers.empirical.Empirical`` (epochs without replacement, or the whole
set when the batch holds it), and the report's quadrature statistics cover it like any term.
A residual reads the observed values at its batch as ``f.data(name)``; the values may be of
fields, of derivatives (a measured flux) or of anything a residual compares with.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from pdes.geometry import Region
from pdes.reference import described
from samplers.quadrature import Quadrature

Tensor = torch.Tensor

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Data(Region):
    """``N`` observation points ``(N, d)`` with values ``{name: (N,)}``; optional ``noise``: the standard
    deviation of each value's measurement error (one number for all, or ``{name: σ}``), kept for the report.

    Points and values must be finite floats of matching shapes; each refusal is one line.
    ``dropped`` counts observations the user asked to drop (``inside(domain, drop=True)``).
    """

    cube_dim = 1
    measure = 1.0

    def __init__(
        self,
        points: object,
        values: Mapping[str, object],
        noise: float | Mapping[str, float] | None = None,
        dropped: int = 0,
    ):
        self.points = _points(points)
        n, self.dim = self.points.shape
        self.values = _values(values, n)
        self.noise = _noise(noise, self.values)
        self.dropped = dropped

    def __len__(self) -> int:
        return self.points.shape[0]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def bounds(self) -> Tensor:
        return torch.stack([self.points.min(dim=0).values, self.points.max(dim=0).values])

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """The empirical measure as the image of ``[0, 1]``: ``u ↦ x_{⌊uN⌋}``, weight 1."""
        self._check_cube(u)
        rows = (u[:, 0] * len(self)).long().clamp(0, len(self) - 1)
        return self.points[rows], torch.ones(len(rows), dtype=torch.float64)

    def quadrature(self) -> Quadrature:
        """Every observation with weight ``1/N`` and its values: the mean over the data."""
        return Quadrature(self.points, torch.full((len(self),), 1.0 / len(self), dtype=torch.float64), self.values)

    def select(self, names: Sequence[str]) -> Data:
        """The same points with the values ``names`` only (each must be one of ``self.names``)."""
        for name in names:
            if name not in self.values:
                raise ValueError(f"the data have no values named '{name}'; they have {', '.join(self.names)}")
        noise = None if self.noise is None else {k: self.noise[k] for k in names}
        return Data(self.points, {k: self.values[k] for k in names}, noise, self.dropped)

    def inside(self, domain: Region, drop: bool = False) -> Data:
        """``self`` when every point lies in ``domain``; else, with ``drop``, the points inside (``dropped`` counts the
        rest), and without it a ValueError naming how many lie outside and the first of them."""
        if domain.dim != self.dim:
            raise ValueError(
                f"the observations have {self.dim} coordinates per point but the domain has dimension {domain.dim}"
            )
        try:
            inside = domain.contains(self.points)
        except NotImplementedError:
            return self
        outside = int((~inside).sum())
        if not outside:
            return self
        if not drop:
            first = tuple(round(float(v), 6) for v in self.points[~inside][0])
            raise ValueError(
                f"{outside} of {len(self)} observations lie outside the domain (first: {first}); "
                "remove them, or drop them on request (Data.inside(domain, drop=True), --data-outside drop)"
            )
        if outside == len(self):
            raise ValueError(f"all {len(self)} observations lie outside the domain; nothing would be left")
        values = {k: v[inside] for k, v in self.values.items()}
        return Data(self.points[inside], values, self.noise, self.dropped + outside)

    def summary(self) -> dict:
        """What the report says of the data: counts, value names, noise."""
        return {"observations": len(self), "dropped": self.dropped, "values": list(self.names), "noise": self.noise}


def data_terms(data: Data, names: Sequence[str] | None = None, weight: float = 1.0, prefix: str = "data") -> list:
    """One term ``f.<name> − f.data(name)`` per observed field ``name`` (all of the data's by default),
    named ``data_<name>``."""
    from pdes.problem import Term

    names = data.names if names is None else tuple(names)
    for name in names:
        if name not in data.values:
            raise ValueError(f"the data have no values named '{name}'; they have {', '.join(data.names)}")
    return [Term(f"{prefix}_{name}", data, _misfit(name), weight) for name in names]


def _misfit(name: str):
    def residual(f):
        return getattr(f, name) - f.data(name)

    residual.__qualname__ = f"misfit of {name}"
    return residual


def _points(points: object) -> Tensor:
    array = _float_array(points, "observation points")
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"observation points must have shape (N, d) with N, d >= 1, got shape {tuple(array.shape)}")
    _check_finite("observation points", array, "points")
    return torch.from_numpy(array)


def _values(values: object, n: int) -> dict[str, Tensor]:
    if not isinstance(values, Mapping) or not values:
        raise TypeError(f"observed values must be a non-empty dict {{name: (N,) array}}, got {described(values)}")
    checked = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"observed value names are letters, digits and '_', starting with a letter, got {name!r}")
        array = _float_array(value, f"observed values '{name}'")
        if array.shape != (n,):
            raise ValueError(f"observed values '{name}' must have shape ({n},), one per point, got {array.shape}")
        _check_finite(f"observed values '{name}'", array, "values")
        checked[name] = torch.from_numpy(array)
    return checked


def _noise(noise: object, values: Mapping[str, Tensor]) -> dict[str, float] | None:
    if noise is None:
        return None
    given = dict(noise) if isinstance(noise, Mapping) else dict.fromkeys(values, noise)
    for name, sigma in given.items():
        if name not in values:
            raise ValueError(f"noise is given for '{name}', which the data do not observe; they observe {list(values)}")
        if not isinstance(sigma, numbers.Real) or isinstance(sigma, bool) or not 0 <= sigma < math.inf:
            raise ValueError(f"the noise of '{name}' must be a finite standard deviation >= 0, got {sigma!r}")
    return {name: float(sigma) for name, sigma in given.items()}


def _float_array(value: object, what: str) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an array of numbers, got {described(value)}") from None
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{what} must be an array of numbers, got {described(value)}")
    return np.ascontiguousarray(array, dtype=np.float64)


def _check_finite(what: str, array: np.ndarray, unit: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.nonzero(bad.reshape(array.shape[0], -1).any(axis=1))[0]
        raise ValueError(f"{what} must be finite, but {len(rows)} of {array.shape[0]} are not (first: row {rows[0]})")
