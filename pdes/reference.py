"""Trusted reference solutions that every run's error is measured against.

``AnalyticReference`` evaluates a closed form; ``FEMReference`` computes a finite element
solution (``pdes.fem``, imported only when a solution is needed) and caches it in HDF5:
mesh, values, times, parameters, resolution, solver settings, package versions and a
checksum, written atomically, checked on every load and recomputed when unusable.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np
import torch

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
    """A closed-form solution ``solution(x=…, t=…) -> {"u": …}`` of named coordinates."""

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
        probe = solution(**{c: torch.zeros(1, dtype=torch.float64) for c in self.coordinates})
        self.fields = tuple(probe)

    def evaluate(self, points: Tensor) -> dict[str, Tensor]:
        values = self.solution(**{c: points[:, i] for i, c in enumerate(self.coordinates)})
        return {name: v.expand(points.shape[0]) for name, v in values.items()}


class CacheWarning(UserWarning):
    """A cached reference file was unusable (corrupt, truncated, or another reference's) or could not be written."""


class UnusableCacheFile(Exception):
    """Raised internally when a cache file cannot be trusted; the message says why."""


CACHE_FORMAT = "pinn-fem-reference-1"


def cache_directory() -> Path:
    """``$PINN_CACHE`` if set, else ``$XDG_CACHE_HOME/pinn``, else ``~/.cache/pinn``."""
    if os.environ.get("PINN_CACHE"):
        return Path(os.environ["PINN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinn"


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, then rename it onto ``path`` (mode 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def checksum(arrays: Mapping[str, np.ndarray], attributes: Mapping[str, str]) -> str:
    """SHA-256 over the attributes (as sorted JSON) and each array's name, dtype, shape and bytes."""
    digest = hashlib.sha256(json.dumps(dict(attributes), sort_keys=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray], attributes: Mapping[str, str]) -> None:
    """Write ``arrays`` as HDF5 datasets and ``attributes`` (text) atomically, plus their ``checksum``."""

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            for name, a in arrays.items():
                f.create_dataset(name, data=a)
            for name, value in attributes.items():
                f.attrs[name] = value
            f.attrs["checksum"] = checksum(arrays, attributes)

    write_atomically(path, write)


def load_arrays(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(arrays, attributes)`` of a file written by ``save_arrays``; UnusableCacheFile if unreadable or altered."""
    try:
        with h5py.File(path, "r") as f:
            arrays: dict[str, np.ndarray] = {}
            f.visititems(lambda name, item: arrays.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None)
            attributes = {name: str(value) for name, value in f.attrs.items()}
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise UnusableCacheFile(f"unreadable: {error}") from None
    stored = attributes.pop("checksum", None)
    if stored != checksum(arrays, attributes):
        raise UnusableCacheFile("checksum mismatch")
    return arrays, attributes


class FEMReference(Reference):
    """A finite element solution computed by ``solver`` on first use and cached in HDF5.

    ``solver`` is ``"module:function"``; it is called as
    ``function(**params, resolution=resolution, **settings)`` and returns a
    ``pdes.fem.solution.FEMSolution`` with the fields ``fields`` on coordinates
    ``coordinates`` (``(x, y)`` steady, ``(x, y, t)`` unsteady).

    The cache file is ``cache_directory()/<problem>-<key>.h5``; ``key`` hashes the problem,
    the solver, its complete arguments (defaults included), the source code of the solver's
    module and of ``pdes.fem``, and the scikit-fem version, so an edited solver never
    reuses a stale file. A file that cannot be read or fails its checksum is reported by
    a CacheWarning and recomputed.
    """

    kind = "fem"

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
        _plain({**self.params, **self.settings})
        self.up_to_constant = tuple(up_to_constant)
        self.source = "not loaded"
        self.load_time_s = 0.0
        self._solution = None

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
            "format": CACHE_FORMAT,
            "problem": self.problem,
            "solver": self.solver,
            "params": _plain(self.params, numbers_as_floats=True),
            "resolution": self.resolution,
            "settings": _plain(self.all_settings(), numbers_as_floats=True),
            "code": _code_digest(self.solver.partition(":")[0]),
            "scikit-fem": _version("scikit-fem"),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]

    @property
    def path(self) -> Path:
        return cache_directory() / f"{self.problem}-{self.key}.h5"

    def solution(self):
        """The ``FEMSolution``: from memory, else from the cache file, else computed (and cached)."""
        if self._solution is None:
            start = time.perf_counter()
            self._solution = self._load()
            if self._solution is None:
                self._solution = self._compute()
                self.source = "computed"
                self._save(self._solution)
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
        meta = {
            **super().metadata(),
            "problem": self.problem,
            "solver": self.solver,
            "params": _plain(self.params),
            "resolution": self.resolution,
            "settings": _plain(self.all_settings()),
            "key": self.key,
        }
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

    def _compute(self):
        solution = self.solver_function()(**self.params, resolution=self.resolution, **self.settings)
        if tuple(solution.fields) != self.fields:
            raise ValueError(
                f"reference solver {self.solver} returned fields {solution.fields}, expected {self.fields}"
            )
        return solution

    def _save(self, solution) -> None:
        attributes = {
            "format": CACHE_FORMAT,
            "key": self.key,
            "problem": self.problem,
            "solver": self.solver,
            "params": json.dumps(_plain(self.params)),
            "resolution": str(self.resolution),
            "settings": json.dumps(_plain(self.all_settings())),
            "coordinates": json.dumps(self.coordinates),
            "versions": json.dumps({name: _version(name) for name in VERSIONED_PACKAGES}),
            "description": json.dumps(solution.description()),
        }
        try:
            save_arrays(self.path, solution.arrays(), attributes)
        except OSError as error:
            warnings.warn(f"could not write the reference cache file {self.path}: {error}", CacheWarning, stacklevel=3)

    def _load(self):
        from pdes.fem.solution import FEMSolution  # scikit-fem loads only when a solution is needed

        path = self.path
        if not path.exists():
            return None
        try:
            arrays, attributes = load_arrays(path)
            if attributes.get("key") != self.key:
                raise UnusableCacheFile("it holds another reference")
            return FEMSolution.from_stored(arrays, json.loads(attributes["description"]))
        except (UnusableCacheFile, KeyError, ValueError) as error:
            warnings.warn(f"reference cache file {path} is unusable ({error}); recomputing", CacheWarning, stacklevel=3)
            return None


VERSIONED_PACKAGES = ("pinn", "scikit-fem", "numpy", "scipy", "h5py", "torch")
"""Packages whose versions a cache file records."""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _plain(value: object, numbers_as_floats: bool = False) -> object:
    """``value`` as JSON-able dicts, lists, numbers, strings, booleans and None; ValueError otherwise.

    With ``numbers_as_floats`` integers become floats, so that ``re=100`` and ``re=100.0``
    give the same cache key.
    """
    if isinstance(value, Mapping):
        return {str(k): _plain(v, numbers_as_floats) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, numbers_as_floats) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) if numbers_as_floats else int(value)
    if isinstance(value, float | str | bool) or value is None:
        return value
    raise ValueError(f"reference parameters must be numbers, strings or lists of them, got {value!r}")


def _code_digest(module: str) -> str:
    """SHA-256 of the source of ``module`` and of every module of ``pdes.fem``."""
    spec = importlib.util.find_spec(module)
    fem = Path(__file__).parent / "fem"
    files = sorted({Path(spec.origin), *fem.glob("*.py")})
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
