"""Trusted reference solutions that every run's error is measured against.

``AnalyticReference`` evaluates a closed form; ``FEMReference`` computes a finite element
solution (``pdes.fem``, imported only when a solution is needed) and caches it in HDF5
(``pdes.reference_cache``): mesh, values, times, parameters, resolution, solver settings,
package versions and a checksum, written atomically, checked on every load and recomputed
when unusable.
"""

from __future__ import annotations

import importlib
import inspect
import json
import numbers
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import torch

from pdes.reference_cache import (
    CacheWarning,
    UnusableCacheFile,
    cache_directory,
    cache_key,
    load_solution,
    plain,
    store_solution,
)

Tensor = torch.Tensor


class Reference:
    """A reference solution: ``evaluate(points) -> {field: (N,) tensor}``.

    ``kind`` is ``"analytic"`` or ``"fem"``; fields named in ``up_to_constant`` are
    fixed only up to an additive constant (e.g. pressure) and compared after
    removing their mean difference.
    """

    kind: str
    fields: tuple[str, ...]
    up_to_constant: tuple[str, ...] = ()

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    def metadata(self) -> dict:
        """What report.json and run files record about this reference."""
        return {"kind": self.kind, "up_to_constant": list(self.up_to_constant)}


class AnalyticReference(Reference):
    """A closed-form solution ``solution(x=…, t=…) -> {"u": …}`` of named coordinates.

    ``solution`` is called with the coordinates by name (``lambda x, t: {"u": …}`` for
    coordinates ``("x", "t")``) and returns a dict of its fields, each an ``(N,)`` tensor or a
    constant broadcast to the points (a tensor of shape ``()`` or ``(1,)``). A solution that
    cannot take the coordinates, or returns anything but a dict, is refused at construction.
    """

    kind = "analytic"

    def __init__(
        self,
        coordinates: Sequence[str],
        solution: Callable[..., dict[str, Tensor]],
        up_to_constant: Sequence[str] = (),
    ):
        self.coordinates = tuple(coordinates)
        self.solution = solution
        self.up_to_constant = tuple(up_to_constant)
        check_takes_coordinates(solution, self.coordinates)
        probe = solution(**{c: torch.zeros(1, dtype=torch.float64) for c in self.coordinates})
        if not isinstance(probe, Mapping):
            raise TypeError(
                "AnalyticReference: the solution must return a dict of fields such as {'u': …}, "
                f"got {described(probe)}"
            )
        self.fields = tuple(probe)

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        values = self.solution(**{c: points[:, i] for i, c in enumerate(self.coordinates)})
        return {name: broadcast(v, points.shape[0]) for name, v in values.items()}


def check_takes_coordinates(solution: Callable, coordinates: tuple[str, ...]) -> None:
    """Refuse, in one line, a ``solution`` that cannot be called with ``coordinates`` by name."""
    if not callable(solution):
        raise TypeError(f"AnalyticReference: the solution must be a function, got {described(solution)}")
    try:
        signature = inspect.signature(solution)
    except (TypeError, ValueError):  # no signature to check (some builtins): the probe call tells
        return
    try:
        signature.bind(**dict.fromkeys(coordinates))
    except TypeError as error:
        names = ", ".join(coordinates)
        raise TypeError(
            f"AnalyticReference: the solution{signature} must take the coordinates by name, as "
            f"solution({names}) -> {{field: tensor}} ({error})"
        ) from None


def broadcast(value: object, n: int) -> object:
    """``value`` expanded to ``(n,)`` if it is a constant tensor (shape ``()`` or ``(1,)``), else as it is."""
    if isinstance(value, Tensor) and value.ndim <= 1 and value.numel() == 1:
        return value.expand(n)
    return value


def described(value: object) -> str:
    """``value`` in a few words for an error message: a tensor by dtype and shape, text and numbers as
    they are (with their type), anything else by its type (``a function``)."""
    if isinstance(value, Tensor):
        return f"a tensor of dtype {str(value.dtype).removeprefix('torch.')} and shape {tuple(value.shape)}"
    if value is None or isinstance(value, str | numbers.Number):
        text = repr(value)
        return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind}"


class ReferenceFailed(RuntimeError):
    """The reference of a described problem could not be computed (the mesher or the FEM solver failed); the
    message says why, in one line. The solver then trains without it and its report says so."""


class NoReference(Reference):
    """No reference, and why: a problem the FEM cannot take still trains, and its report says so (``reason``)."""

    kind = "none"
    fields: tuple[str, ...] = ()

    def __init__(self, reason: str):
        self.reason = reason

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        return {}

    def metadata(self) -> dict:
        return {"kind": "none", "reason": self.reason}


class CachedFEMReference(Reference):
    """A finite element solution computed on first use and cached in HDF5 (``pdes.reference_cache``).

    Subclasses give ``problem``, ``coordinates``, ``fields``, ``key`` (what determines the
    solution), ``cache_attributes()`` (text recorded in the file) and ``compute()`` (the
    ``pdes.fem.solution.FEMSolution``). The file is ``cache_directory()/<problem>-<key>.h5``; one
    that cannot be read or fails its checksum is reported by a CacheWarning and recomputed.
    """

    kind = "fem"
    problem: str
    coordinates: tuple[str, ...]
    key: str
    source = "not loaded"
    load_time_s = 0.0
    _solution = None

    def compute(self):
        raise NotImplementedError

    def cache_attributes(self) -> dict[str, str]:
        raise NotImplementedError

    @property
    def path(self) -> Path:
        """``cache_directory()/<problem>-<key>.h5``, the problem's name made a plain file name."""
        return cache_directory() / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', self.problem).lstrip('.')}-{self.key}.h5"

    def solution(self):
        """The ``FEMSolution``: from memory, else from the cache file, else computed (and cached)."""
        if self._solution is None:
            start = time.perf_counter()
            self._solution = self._load()
            if self._solution is None:
                solution = self.compute()
                if tuple(solution.fields) != self.fields:
                    raise ValueError(
                        f"the reference solver of {self.problem} returned fields {solution.fields}, "
                        f"expected {self.fields}"
                    )
                self._solution = solution
                self.source = "computed"
                self._save(solution)
            else:
                self.source = "cache"
            self.load_time_s = time.perf_counter() - start
        return self._solution

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        if points.ndim != 2 or points.shape[1] != len(self.coordinates):
            raise ValueError(
                f"points must have shape (N, {len(self.coordinates)}) for coordinates {self.coordinates}, "
                f"got {tuple(points.shape)}"
            )
        values = self.solution().evaluate(points.detach().cpu().to(torch.float64).numpy())
        return {name: torch.as_tensor(values[name]).to(points.device, points.dtype) for name in self.fields}

    def metadata(self) -> dict:
        meta = {**super().metadata(), "problem": self.problem, "key": self.key}
        if self._solution is not None:
            meta["dofs"] = self._solution.dofs()
            meta["gauge"] = self._solution.info.get("gauge")
        return meta

    def summary(self) -> dict:
        """Metadata plus time steps, solve time, where the solution came from and the cache path."""
        solution = self.solution()
        return {
            **self.metadata(),
            "time_steps": None if solution.times is None else len(solution.times) - 1,
            "solve_time_s": solution.info.get("wall_time_s"),
            "source": self.source,
            "load_time_s": self.load_time_s,
            "path": str(self.path),
        }

    def _save(self, solution) -> None:
        attributes = {"key": self.key, "problem": self.problem, "coordinates": json.dumps(self.coordinates)}
        try:
            store_solution(self.path, solution, {**attributes, **self.cache_attributes()})
        except OSError as error:
            warnings.warn(f"could not write the reference cache file {self.path}: {error}", CacheWarning, stacklevel=3)

    def _load(self):
        path = self.path
        if not path.exists():
            return None
        try:
            return load_solution(path, self.key)
        except UnusableCacheFile as error:
            warnings.warn(f"reference cache file {path} is unusable ({error}); recomputing", CacheWarning, stacklevel=3)
            return None


class FEMReference(CachedFEMReference):
    """A finite element solution of a registered problem, by ``solver``, computed on first use and cached.

    ``solver`` is ``"module:function"``; it is called as
    ``function(**params, resolution=resolution, **settings)`` and returns a
    ``pdes.fem.solution.FEMSolution`` with the fields ``fields`` on coordinates
    ``coordinates`` (``(x, y)`` steady, ``(x, y, t)`` unsteady).

    The cache ``key`` hashes the problem, the solver, its complete arguments (defaults included), the
    source code of the solver's module, of ``pdes.fem`` and of ``pdes.closed_forms``, and the
    scikit-fem version, so an edited solver never reuses a stale file.
    """

    def __init__(
        self,
        problem: str,
        solver: str,
        coordinates: Sequence[str],
        fields: Sequence[str],
        resolution: int,
        params: Mapping[str, object] | None = None,
        settings: Mapping[str, object] | None = None,
        up_to_constant: Sequence[str] = (),
    ):
        if ":" not in solver:
            raise ValueError(f"solver must be 'module:function', got '{solver}'")
        if int(resolution) != resolution or resolution < 1:
            raise ValueError(f"resolution must be a positive integer, got {resolution}")
        self.problem = problem
        self.solver = solver
        self.coordinates = tuple(coordinates)
        self.fields = tuple(fields)
        self.resolution = int(resolution)
        self.params = dict(params or {})
        self.settings = dict(settings or {})
        plain({**self.params, **self.settings})
        self.up_to_constant = tuple(up_to_constant)

    def with_resolution(self, resolution: int) -> FEMReference:
        """The same reference at another resolution."""
        return FEMReference(
            self.problem,
            self.solver,
            self.coordinates,
            self.fields,
            resolution,
            self.params,
            self.settings,
            self.up_to_constant,
        )

    def solver_function(self) -> Callable[..., object]:
        module, _, name = self.solver.partition(":")
        return getattr(importlib.import_module(module), name)

    def all_settings(self) -> dict[str, object]:
        """The solver's keyword arguments other than params and resolution, defaults filled in."""
        signature = inspect.signature(self.solver_function())
        try:
            bound = signature.bind(**self.params, resolution=self.resolution, **self.settings)
        except TypeError as error:
            raise ValueError(f"reference solver {self.solver}: {error}") from None
        bound.apply_defaults()
        return {k: v for k, v in bound.arguments.items() if k not in self.params and k != "resolution"}

    @cached_property
    def key(self) -> str:
        """24 hex digits of the SHA-256 of everything that determines the solution."""
        identity = {
            "problem": self.problem,
            "solver": self.solver,
            "params": plain(self.params, numbers_as_floats=True),
            "resolution": self.resolution,
            "settings": plain(self.all_settings(), numbers_as_floats=True),
        }
        return cache_key(identity, self.solver.partition(":")[0])

    def metadata(self) -> dict:
        return {
            **super().metadata(),
            "solver": self.solver,
            "params": plain(self.params),
            "resolution": self.resolution,
            "settings": plain(self.all_settings()),
        }

    def compute(self):
        return self.solver_function()(**self.params, resolution=self.resolution, **self.settings)

    def cache_attributes(self) -> dict[str, str]:
        return {
            "solver": self.solver,
            "params": json.dumps(plain(self.params)),
            "resolution": str(self.resolution),
            "settings": json.dumps(plain(self.all_settings())),
        }
