"""A user's own problem named by where its factory is: ``path/to/file.py:factory`` or ``package.module:factory``.

    problem = pdes.get("my_l_shape.py:problem", corner=0.5)   # what ``pinn solve my_l_shape.py:problem`` runs

The factory is called with the parameters and must return a ``pdes.Problem``; the problem's
``source`` then records the absolute form of the name (a file by its absolute path), which run
files keep.

Naming a source runs its code, so a source read from a run file (which may come from anyone) is
used only when this user has run that very source before: ``trust`` records the source and the
SHA-256 of its file in ``<cache>/trusted_sources.json`` whenever a user names it (``pdes.get``),
and ``trusted`` checks a recorded one against that list and the file as it is now. Anything
else is refused in one line that says how to pass the problem instead.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

from pdes.files import atomic_write
from pdes.problem import Problem
from pdes.reference_cache import cache_directory

TRUSTED_FILE = "trusted_sources.json"


def is_source(name: str) -> bool:
    """Whether ``name`` names a factory (``file.py:f`` or ``module:f``) rather than a registered problem."""
    return ":" in name


def absolute(source: str) -> str:
    """``source`` with a file given by its absolute path (a module name stays as it is)."""
    where, factory = split(source)
    return f"{Path(where).resolve()}:{factory}" if where.endswith(".py") else source


def split(source: str) -> tuple[str, str]:
    """``("path/file.py" or "package.module", "factory")``; a malformed name raises ValueError."""
    where, _, factory = source.rpartition(":")
    if not where or not factory.isidentifier():
        raise ValueError(f"a problem source is FILE.py:FUNCTION or MODULE:FUNCTION, got '{source}'")
    return where, factory


def factory_of(source: str) -> Callable[..., Problem]:
    """The function ``source`` names (importing its file or module), or ValueError in one line."""
    where, name = split(source)
    module = module_of(where)
    function = getattr(module, name, None)
    if not callable(function):
        defined = sorted(
            n for n, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module.__name__
        )
        raise ValueError(f"'{where}' has no function '{name}'; its functions: {', '.join(defined) or 'none'}")
    return function


def module_of(where: str):
    """The module of a source's file (imported under a private name) or of its module name."""
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"no problem file '{where}'")
        spec = importlib.util.spec_from_file_location(f"pinn_user_problem_{digest(path)[:12]}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # so that dataclasses and pickling inside the file find it
        run_module(lambda: spec.loader.exec_module(module), where)
        return module
    return run_module(lambda: importlib.import_module(where), where)


def run_module(load: Callable, where: str):
    try:
        return load()
    except ModuleNotFoundError as error:
        raise ValueError(f"cannot import '{where}': {error}") from None
    except Exception as error:  # the user's file failed: say where, in one line
        raise ValueError(f"'{where}' failed while loading: {type(error).__name__}: {error}") from None


def problem_from(source: str, params: dict[str, object]) -> Problem:
    """``factory(**params)`` of ``source``, checked to be a Problem, with its ``source`` recorded;
    the source becomes trusted (module docstring)."""
    factory = factory_of(source)
    try:
        inspect.signature(factory).bind(**params)
    except TypeError as error:
        raise ValueError(f"'{source}' does not take these parameters ({error})") from None
    try:
        problem = factory(**params)
    except TypeError as error:  # a description of the wrong kind (a domain that is no Region …): one line
        raise ValueError(f"'{source}': {error}") from None
    if not isinstance(problem, Problem):
        raise ValueError(f"'{source}' must return a pdes.Problem, got {type(problem).__name__}")
    problem.params = {**problem.params, **params}  # what rebuilds it: a run file replays them to the factory
    problem.source = absolute(source)
    trust(problem.source)
    return problem


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fingerprint(source: str) -> str:
    """The SHA-256 of a source's file, or of the module's file for a module name ('' if it has none)."""
    where, _ = split(source)
    if where.endswith(".py"):
        return digest(Path(where)) if Path(where).is_file() else ""
    spec = importlib.util.find_spec(where)
    return digest(Path(spec.origin)) if spec is not None and spec.origin and Path(spec.origin).is_file() else ""


def trusted_sources() -> dict[str, str]:
    path = cache_directory() / TRUSTED_FILE
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def trust(source: str) -> None:
    """Record ``source`` (absolute) with the fingerprint of its file as this user's own (the list is
    rewritten only when that changes it)."""
    known = trusted_sources()
    sources = {**known, source: fingerprint(source)}
    if sources == known:
        return
    path = cache_directory() / TRUSTED_FILE
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(sources, indent=2, sort_keys=True) + "\n"))


def trusted(source: str) -> bool:
    """Whether this user named ``source`` before and its file is unchanged since."""
    known = trusted_sources().get(source)
    return known is not None and known == fingerprint(source)
