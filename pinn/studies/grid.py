"""A study's machinery: a grid of solves of one problem, their results as HDF5, markdown and plots.

Each run of the grid solves in its own directory ``out/<name>/`` (report.json, run.h5), one
after the other in this process. A run is *finished* when its run.h5 is marked complete: a
rerun of the study reads its report back (report.json, else the copy in run.h5) instead of
solving again, after checking it was made with the same settings. A run.h5 that is not
complete (an interrupted run, or one that diverged) is resumed from its last checkpoint.
A run that diverges is recorded with status ``diverged`` and the grid goes on.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.solver import Diverged, solve

FINISHED, SKIPPED, DIVERGED = "finished", "skipped", "diverged"
"""Outcome statuses: solved now, read back from an earlier finished run, stopped on a non-finite loss."""


@dataclass(frozen=True)
class GridRun:
    """One solve of a study: its directory name under the study's output and its solver settings."""

    name: str
    settings: Mapping[str, object]


@dataclass
class Outcome:
    """What became of a GridRun: its status and report.json (None when it diverged)."""

    run: GridRun
    status: str
    report: dict | None = None
    message: str = ""


def run_grid(problem: Problem, runs: Sequence[GridRun], out: Path, progress: bool = True) -> list[Outcome]:
    """Solve every run of the grid that is not finished yet, in order; every setting is validated first."""
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names of a study must be unique, got {names}")
    configs = [Config.build(problem.defaults, run.settings) for run in runs]
    out = io.ensure_writable_dir(Path(out))
    outcomes = []
    for run, config in tqdm(list(zip(runs, configs)), desc="study", disable=not progress, file=sys.stderr):
        directory = out / run.name
        report = finished_report(directory, problem, config)
        if report is not None:
            outcomes.append(Outcome(run, SKIPPED, report))
            continue
        resume = (directory / "run.h5").is_file()
        try:
            result = solve(problem, out=directory, progress=progress, resume=resume, **run.settings)
            outcomes.append(Outcome(run, FINISHED, result.report))
        except Diverged as error:
            outcomes.append(Outcome(run, DIVERGED, None, str(error)))
    return outcomes


def finished_report(directory: Path, problem: Problem, config: Config) -> dict | None:
    """The report of a finished run in ``directory``, or None if it holds no complete run.

    Raises ``ValueError`` when the finished run was made with other parameters or settings,
    or its run file is damaged.
    """
    if not (directory / "run.h5").is_file():
        return None
    run = io.load_run(directory / "run.h5")
    if not run["complete"]:
        return None
    report_path = directory / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else run["report"]
    was = {"params": report["params"], **report["config"]}
    now = {"params": json.loads(json.dumps(problem.params)), **config.to_dict()}
    for name, value in was.items():
        if name in now and now[name] != value:
            raise ValueError(
                f"finished run '{directory}' was made with {name}={value}, not {now[name]}; "
                "remove it or use another output directory"
            )
    return report


def write_columns(path: Path, columns: Mapping[str, Sequence], attrs: Mapping[str, object]) -> None:
    """An HDF5 file, written atomically, with one dataset per column and JSON-encoded ``attrs``.

    String columns become variable-length UTF-8 datasets; a column name with ``/`` makes groups.
    """

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h5:
            for key, value in attrs.items():
                h5.attrs[key] = json.dumps(value)
            for name, values in columns.items():
                if values and isinstance(values[0], str):
                    h5.create_dataset(name, data=list(values), dtype=h5py.string_dtype())
                else:
                    h5[name] = np.asarray(values)

    io.atomic_write(Path(path), write)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; floats to 3 significant digits, NaN as ``—``."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "—" if math.isnan(value) else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@dataclass
class Panel:
    """One subplot: ``series`` maps a label to ``(x, y)`` values, drawn as lines with markers on log axes."""

    title: str
    xlabel: str
    ylabel: str
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]]


def plot_panels(path: Path, panels: Sequence[Panel]) -> None:
    """A PNG of ``panels`` side by side (matplotlib's Agg canvas, no display), written atomically.

    Points with a NaN or non-positive value are left out of their line.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # slow to import; only plots need it
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5 * len(panels), 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    for axes, panel in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for label, (x, y) in panel.series.items():
            kept = [(a, b) for a, b in zip(x, y) if b > 0 and math.isfinite(b)]
            if kept:
                axes.plot(*zip(*kept), marker="o", label=label)
        axes.set(xscale="log", yscale="log", title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
        axes.grid(True, which="both", alpha=0.3)
        if axes.lines:
            axes.legend(fontsize="small")
    io.atomic_write(Path(path), lambda tmp: figure.savefig(tmp, format="png", dpi=120))
