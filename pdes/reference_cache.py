"""The HDF5 cache of finite element references (``pdes.reference.FEMReference``).

A cache file ``cache_directory()/<problem>-<key>.h5`` holds a solution's arrays (mesh,
values, times) as datasets and, as text attributes, the cache format, the key, the
problem, solver, parameters, resolution and solver settings, the coordinates, the
package versions, the solution's description and a checksum over all of them. It is
written atomically (``pdes.files.atomic_write``) and checked on every load: a file that
cannot be read, fails its checksum or holds another reference raises UnusableCacheFile.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np

from pdes.files import atomic_write

CACHE_FORMAT = "pinn-fem-reference-1"
VERSIONED_PACKAGES = ("pinn", "scikit-fem", "numpy", "scipy", "h5py", "torch")
"""Packages whose versions a cache file records."""


class CacheWarning(UserWarning):
    """A cached reference file was unusable (corrupt, truncated, or another reference's) or could not be written."""


class UnusableCacheFile(Exception):
    """Raised internally when a cache file cannot be trusted; the message says why."""


def cache_directory() -> Path:
    """``$PINN_CACHE`` if set, else ``$XDG_CACHE_HOME/pinn``, else ``~/.cache/pinn``."""
    if os.environ.get("PINN_CACHE"):
        return Path(os.environ["PINN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinn"


def cache_key(identity: Mapping[str, object], module: str) -> str:
    """24 hex digits of the SHA-256 of what determines a solution.

    That is ``identity`` (JSON-able: problem, solver, arguments), the cache format, the
    source code of the solver's ``module`` and of the modules it builds on
    (``code_digest``), and the scikit-fem version.
    """
    full = {
        "format": CACHE_FORMAT,
        **identity,
        "code": code_digest(module),
        "scikit-fem": package_version("scikit-fem"),
    }
    return hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()[:24]


def store_solution(path: Path, solution, attributes: Mapping[str, str]) -> None:
    """Cache the ``FEMSolution`` ``solution`` at ``path`` with ``attributes`` (text), the format and versions."""
    save_arrays(
        path,
        solution.arrays(),
        {
            "format": CACHE_FORMAT,
            **attributes,
            "versions": json.dumps({name: package_version(name) for name in VERSIONED_PACKAGES}),
            "description": json.dumps(solution.description()),
        },
    )


def load_solution(path: Path, key: str):
    """The ``FEMSolution`` cached at ``path`` under ``key``; UnusableCacheFile if it cannot be trusted."""
    from pdes.fem.solution import FEMSolution  # scikit-fem loads only when a solution is needed

    try:
        arrays, attributes = load_arrays(path)
        if attributes.get("key") != key:
            raise UnusableCacheFile("it holds another reference")
        return FEMSolution.from_stored(arrays, json.loads(attributes["description"]))
    except (KeyError, ValueError) as error:  # a description that does not describe the arrays
        raise UnusableCacheFile(str(error)) from None


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

    atomic_write(path, write)


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


def plain(value: object, numbers_as_floats: bool = False) -> object:
    """``value`` as JSON-able dicts, lists, numbers, strings, booleans and None; ValueError otherwise.

    With ``numbers_as_floats`` integers become floats, so that ``re=100`` and ``re=100.0``
    give the same cache key.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v, numbers_as_floats) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, numbers_as_floats) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) if numbers_as_floats else int(value)
    if isinstance(value, float | str | bool) or value is None:
        return value
    raise ValueError(f"reference parameters must be numbers, strings or lists of them, got {value!r}")


def package_version(package: str) -> str:
    """The installed version of ``package``, or ``"not installed"``."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def code_digest(module: str) -> str:
    """SHA-256 of the source of ``module``, of every module of ``pdes.fem`` and of ``pdes.closed_forms``.

    ``pdes.closed_forms`` holds boundary data and exact solutions the FEM solvers read.
    """
    spec = importlib.util.find_spec(module)
    pdes = Path(__file__).parent
    files = sorted({Path(spec.origin), *(pdes / "fem").glob("*.py"), pdes / "closed_forms.py"})
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
