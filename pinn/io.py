"""Run files: ``DIR/run.h5`` and ``DIR/report.json``, written atomically.

``run.h5`` layout::

    attrs: format, problem, params (JSON), config (JSON), reference (JSON), step, complete
    model/<name>       one dataset per state-dict tensor
    optimizer          torch-serialized optimizer and generator states (uint8 blob)
    history            JSON text of the per-step history
    report             JSON text of report.json (when the run has one)
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np
import torch

from pdes.files import atomic_write  # the project's one atomic writer, used here and by pinn.vtk, pinn.studies

FORMAT = "pinn-run-1"


class CorruptRunFile(ValueError):
    """A run file that cannot be read whole."""


def recorded_params(params: Mapping) -> dict:
    """A problem's parameters as run files and report.json hold them: JSON values, anything else by its ``repr``."""
    return json.loads(json.dumps(dict(params), default=repr))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, atomically."""
    atomic_write(Path(path), lambda tmp: tmp.write_text(text))


def write_json(path: Path, data: Mapping) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


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
) -> None:
    """Write a run file atomically (see the module docstring for its layout)."""

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h5:
            h5.attrs.update(
                format=FORMAT,
                problem=problem,
                params=json.dumps(recorded_params(params)),
                config=json.dumps(config),
                reference=json.dumps(reference),
                step=step,
                complete=complete,
            )
            group = h5.create_group("model")
            for name, tensor in model_state.items():
                group[name] = tensor.detach().cpu().numpy()
            buffer = io.BytesIO()
            torch.save(dict(training_state), buffer)
            h5["optimizer"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
            h5["history"] = json.dumps(history)
            if report is not None:
                h5["report"] = json.dumps(report)

    atomic_write(Path(path), write)


def load_run(path: Path) -> dict:
    """Read a whole run file, or raise CorruptRunFile in one line."""
    path = Path(path)
    if not path.is_file():
        raise CorruptRunFile(f"no run file at '{path}'")
    try:
        with h5py.File(path, "r") as h5:
            if h5.attrs.get("format") != FORMAT:
                raise CorruptRunFile(f"'{path}' is not a run file (format {h5.attrs.get('format')!r})")
            run = {key: h5.attrs[key] for key in ("problem", "step", "complete")}
            for key in ("params", "config", "reference"):
                run[key] = json.loads(h5.attrs[key])
            run["model_state"] = {name: torch.from_numpy(np.asarray(data)) for name, data in h5["model"].items()}
            blob = np.asarray(h5["optimizer"]).tobytes()
            run["training_state"] = torch.load(io.BytesIO(blob), weights_only=False)
            run["history"] = json.loads(h5["history"][()])
            run["report"] = json.loads(h5["report"][()]) if "report" in h5 else None
    except CorruptRunFile:
        raise
    except Exception as error:  # h5py raises OSError/KeyError/ValueError on damaged files
        raise CorruptRunFile(f"run file '{path}' is corrupt or truncated: {type(error).__name__}: {error}") from None
    run["step"] = int(run["step"])
    run["complete"] = bool(run["complete"])
    return run
