"""Run files: ``DIR/run.h5`` and ``DIR/report.json``, written atomically.

``run.h5`` layout (format ``pinn-run-2``), data only, never a pickle::

    attrs: format, then as JSON text: problem, source (a user's problem: where its factory is,
           ``pdes.user``; null for a registered one), params, config, reference, step, complete,
           state (the tree of the training state, ``pinn.tree``), checksums
    model/<name>       one dataset per state-dict tensor
    state/<k>          the arrays of the training state's tree (optimizer, schedule, rules, streams)
    history            JSON text of the per-step history
    report             JSON text of report.json (when the run has one)

``checksums`` maps every other attribute and every dataset to the SHA-256 of its content
(``pdes.reference_cache.checksum``, as the FEM cache uses): a file that does not match is
refused. Reading a run file creates only arrays, numbers and text, so a file from anyone
can be opened safely. Files of the old format ``pinn-run-1`` held a pickle; they are
refused, and ``convert_run`` (``pinn convert-run DIR --trust``) rewrites a trusted one.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np
import torch

from pdes.files import atomic_write  # the project's one atomic writer, used here and by pinn.vtk, pinn.studies
from pdes.reference_cache import checksum
from pinn import tree
from pinn.state import batches_state, first_of_each

FORMAT = "pinn-run-2"
PICKLE_FORMAT = "pinn-run-1"
"""The format before ``pinn-run-2``: its training state was a pickle."""

JSON_ATTRIBUTES = ("problem", "source", "params", "config", "reference", "step", "complete", "state")


class CorruptRunFile(ValueError):
    """A run file that cannot be read whole."""


def recorded_params(params: Mapping) -> dict:
    """A problem's parameters as run files and report.json hold them: JSON values, anything else by its ``repr``."""
    return json.loads(json.dumps(dict(params), default=repr))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, atomically."""
    atomic_write(Path(path), lambda tmp: tmp.write_text(text))


def write_json(path: Path, data: Mapping) -> None:
    """Write ``data`` as indented strict JSON (no NaN or infinity: ``pinn.report.strict_json``), atomically."""
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and check that files can be written in it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(f"output directory '{path}' is not writable: {error.strerror}") from None
    return path


def save_run(
    path: Path,
    *,
    problem: str,
    params: Mapping,
    config: Mapping,
    reference: Mapping,
    model_state: Mapping[str, torch.Tensor],
    training_state: Mapping,
    history: list,
    step: int,
    complete: bool,
    report: Mapping | None = None,
    source: str | None = None,
) -> None:
    """Write a run file atomically (see the module docstring for its layout)."""
    state_text, state_arrays = tree.split(dict(training_state))
    attributes = {
        "problem": json.dumps(problem),
        "source": json.dumps(source),
        "params": json.dumps(recorded_params(params)),
        "config": json.dumps(config),
        "reference": json.dumps(reference),
        "step": json.dumps(int(step)),
        "complete": json.dumps(bool(complete)),
        "state": state_text,
    }
    arrays = {f"model/{name}": tensor.detach().cpu().numpy() for name, tensor in model_state.items()}
    arrays.update({f"state/{k}": a for k, a in enumerate(state_arrays)})
    arrays["history"] = text_array(json.dumps(history))
    if report is not None:
        arrays["report"] = text_array(json.dumps(report))

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h5:
            h5.attrs["format"] = FORMAT
            h5.attrs.update(attributes)
            h5.attrs["checksums"] = json.dumps(checksums(arrays, attributes))
            for name, a in arrays.items():
                h5.create_dataset(name, data=a)

    atomic_write(Path(path), write)


def text_array(text: str) -> np.ndarray:
    """``text`` as a dataset holds it: its UTF-8 bytes."""
    return np.frombuffer(text.encode(), dtype=np.uint8)


def array_text(a: np.ndarray) -> str:
    return np.asarray(a, dtype=np.uint8).tobytes().decode()


def checksums(arrays: Mapping[str, np.ndarray], attributes: Mapping[str, str]) -> dict[str, str]:
    """The SHA-256 of every dataset and every attribute, by name."""
    sums = {name: checksum({name: a}, {}) for name, a in arrays.items()}
    sums.update({f"attrs/{name}": checksum({}, {name: text}) for name, text in attributes.items()})
    return sums


def load_run(path: Path) -> dict:
    """Read a whole run file, or raise CorruptRunFile in one line; nothing in the file is ever executed."""
    path = Path(path)
    if not path.is_file():
        raise CorruptRunFile(f"no run file at '{path}'")
    try:
        attributes, arrays = read_contents(path)
    except CorruptRunFile:
        raise
    except Exception as error:  # h5py raises OSError/KeyError/ValueError/TypeError on damaged files
        raise CorruptRunFile(f"run file '{path}' is corrupt or truncated: {type(error).__name__}: {error}") from None
    try:
        return run_contents(attributes, arrays)
    except Exception as error:  # a file whose checksums match but whose content does not parse
        raise CorruptRunFile(f"run file '{path}' holds malformed data: {type(error).__name__}: {error}") from None


def read_contents(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The text attributes and the arrays of a run file, checked against its checksums."""
    with h5py.File(path, "r") as h5:
        version = h5.attrs.get("format")
        if version == PICKLE_FORMAT:
            raise CorruptRunFile(
                f"'{path}' is a run file of the old format {PICKLE_FORMAT}, whose training state is a pickle "
                "that could run code when read; if you trust its source, convert it: "
                f"pinn convert-run {path.parent} --trust"
            )
        if not isinstance(version, str) or version != FORMAT:
            shown = repr(version[:40]) if isinstance(version, str) else "None" if version is None else "not text"
            raise CorruptRunFile(f"'{path}' is not a run file (format {shown})")
        stored = h5.attrs["checksums"]
        attributes = {name: h5.attrs[name] for name in JSON_ATTRIBUTES}
        arrays: dict[str, np.ndarray] = {}
        h5.visititems(lambda name, item: arrays.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None)
    if not isinstance(stored, str) or not all(isinstance(text, str) for text in attributes.values()):
        raise CorruptRunFile(f"run file '{path}' has attributes that are not text: it was altered")
    expected = json.loads(stored)
    found = checksums(arrays, attributes)
    if expected != found:
        changed = sorted(name for name in set(expected) | set(found) if expected.get(name) != found.get(name))
        raise CorruptRunFile(
            f"run file '{path}' fails its checksum at '{changed[0]}': it was changed or damaged after it was written"
        )
    return attributes, arrays


def run_contents(attributes: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> dict:
    """The run dictionary (problem, params, config, reference, step, complete, model_state,
    training_state, history, report) of a file's checked contents."""
    run = {name: json.loads(attributes[name]) for name in JSON_ATTRIBUTES if name != "state"}
    state_arrays = [arrays[f"state/{k}"] for k in range(sum(name.startswith("state/") for name in arrays))]
    run["training_state"] = tree.join(attributes["state"], state_arrays)
    run["model_state"] = {
        name.removeprefix("model/"): torch.from_numpy(np.array(a))
        for name, a in arrays.items()
        if name.startswith("model/")
    }
    run["history"] = json.loads(array_text(arrays["history"]))
    run["report"] = json.loads(array_text(arrays["report"])) if "report" in arrays else None
    if not isinstance(run["step"], int) or not isinstance(run["complete"], bool):
        raise ValueError(f"step {run['step']!r} or complete {run['complete']!r} has the wrong type")
    return run


def convert_run(directory: Path, trust: bool = False) -> Path:
    """Rewrite the old-format (pickle) run file ``directory/run.h5`` in the current format.

    Unpickling runs whatever code the file holds, so this needs ``trust=True``: convert only
    files from a source you trust. The old file is kept as ``run.h5.pinn-run-1``; returns the path.
    """
    path = Path(directory) / "run.h5"
    kept = path.with_name(f"run.h5.{PICKLE_FORMAT}")
    if not trust:
        raise ValueError(
            "converting unpickles the old file, which runs any code it holds; "
            "pass trust=True (--trust) only for a file from a source you trust"
        )
    if kept.exists():
        raise ValueError(f"'{kept}' exists already; move it away to convert again")
    if not path.is_file():
        raise CorruptRunFile(f"no run file at '{path}'")
    with h5py.File(path, "r") as h5:
        if h5.attrs.get("format") != PICKLE_FORMAT:
            raise ValueError(f"'{path}' is not of the old format {PICKLE_FORMAT}; nothing to convert")
        old = {key: h5.attrs[key] for key in ("problem", "params", "config", "reference", "step", "complete")}
        model_state = {name: torch.from_numpy(np.asarray(data)) for name, data in h5["model"].items()}
        blob = np.asarray(h5["optimizer"]).tobytes()
        history = json.loads(h5["history"][()])
        report = json.loads(h5["report"][()]) if "report" in h5 else None
    training_state = torch.load(io.BytesIO(blob), weights_only=False)  # trusted: see the docstring
    shutil.copy2(path, kept)
    save_run(
        path,
        problem=str(old["problem"]),
        params=json.loads(old["params"]),
        config=json.loads(old["config"]),
        reference=json.loads(old["reference"]),
        model_state=model_state,
        training_state=converted_state(training_state),
        history=history,
        step=int(old["step"]),
        complete=bool(old["complete"]),
        report=report,
    )
    return path


def converted_state(state: dict) -> dict:
    """A ``pinn-run-1`` training state (rules and batches as objects) as the tree ``TrainState.state_dict`` gives."""

    def rank(part: dict) -> dict:
        batches = part["lbfgs_batches"]
        return {
            **part,
            "rules": {name: rule.state_dict() for name, rule in first_of_each(part["rules"]).items()},
            "lbfgs_batches": None if batches is None else batches_state(batches),
        }

    return {**rank(state), "other_ranks": [rank(part) for part in state.get("other_ranks", [])]}
