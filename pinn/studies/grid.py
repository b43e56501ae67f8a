"""A study's machinery: a grid of solves of one problem, their results as HDF5, markdown and plots.

A study owns its output directory ``out/``. Every study writes the same files there:

- ``out/study.json``, the marker, written first: ``{"format": "pinn-study-1", "kind": …,
  "problem": …, "params": …}``, the kind of study (``norms``, ``density``) and the problem
  it solves;
- ``out/study.h5`` (one row per run, the study's settings in its attrs), ``out/study.md``
  (its tables) and plots ``out/study_<what>.png`` (``study_error.png`` in every study);
- ``out/<name>/`` for each run of the grid (report.json, run.h5).

A study recognises its own directory by the marker (``claim_directory``): it writes into a
directory that does not exist, is empty, or holds a marker of the same kind and problem; it
refuses, with a ``ValueError`` and before writing anything, one that holds a solve run
(``run.h5`` or ``report.json`` at its top, even beside a marker), a study of another kind or
problem, or anything else.

The runs solve one after the other in this process (the density study: each in a child
process). A run is *finished* when its run.h5 is marked complete: a rerun of the study reads
its report back (report.json, else the copy in run.h5) instead of solving again, after
checking it was made with the same settings. A run.h5 that is not complete (an interrupted
run, or one that diverged) is resumed from its last checkpoint. A run that diverges is
recorded with status ``diverged`` and the grid goes on.
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

MARKER, TABLE, SUMMARY = "study.json", "study.h5", "study.md"
"""A study's files in its output directory: the marker, the rows as HDF5, the tables as markdown."""

STUDY_FORMAT = "pinn-study-1"
"""The ``format`` of a study's marker."""

RUN_FILES = ("run.h5", "report.json")
"""The files of a solve run (``pinn solve --out``): a study never writes into a directory that holds one."""


def number(values: Mapping, key: str) -> float:
    """``values[key]`` as a float for a table: NaN where it is missing or null (report.json's
    ``null`` for a number that is not finite or not defined)."""
    value = values.get(key)
    return math.nan if value is None else float(value)


def plot_file(what: str) -> str:
    """The name of a study's plot of ``what``: ``study_<what>.png``."""
    return f"study_{what}.png"


def output_files(plots: Sequence[str]) -> tuple[str, ...]:
    """The files a study with ``plots`` writes in its output directory, besides the runs' directories."""
    return (MARKER, TABLE, SUMMARY, *map(plot_file, plots))


def claim_directory(out: str | Path, kind: str, problem: Problem) -> Path:
    """``out``, made the directory of a ``kind`` study of ``problem``: its marker written if it had none.

    Raises ``ValueError``, and leaves ``out`` as it was, when ``out`` holds a solve run, a
    study of another kind or problem, or other files (module docstring).
    """
    out = Path(out)
    marker = {
        "format": STUDY_FORMAT,
        "kind": kind,
        "problem": problem.name,
        "params": io.recorded_params(problem.params),
    }
    held = [name for name in RUN_FILES if (out / name).exists()]
    if held:
        raise ValueError(f"'{out}' holds a solve run ({held[0]}); give the {kind} study its own directory")
    found = read_marker(out)
    if found is not None:
        if found.get("kind") != kind:
            raise ValueError(
                f"'{out}' holds a {found.get('kind')} study, not a {kind} study; "
                f"give the {kind} study its own directory"
            )
        if (found.get("problem"), found.get("params")) != (marker["problem"], marker["params"]):
            raise ValueError(
                f"'{out}' holds a {kind} study of {found.get('problem')} {found.get('params')}, not of "
                f"{marker['problem']} {marker['params']}; give this study its own directory"
            )
        return io.ensure_writable_dir(out)
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(
            f"'{out}' holds files but no {MARKER}: it is not a {kind} study; give the study a new directory"
        )
    io.write_json(io.ensure_writable_dir(out) / MARKER, marker)
    return out


def read_marker(out: Path) -> dict | None:
    """The marker of the study in ``out`` (None when it has none); ``ValueError`` for a damaged one."""
    path = out / MARKER
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        found = None
    if not isinstance(found, dict) or found.get("format") != STUDY_FORMAT:
        raise ValueError(f"'{path}' is not a study's marker; give the study another directory")
    return found


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
            report = error.result.report if error.result is not None else None  # status "diverged"
            outcomes.append(Outcome(run, DIVERGED, report, str(error)))
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
    """One subplot: ``series`` maps a label to ``(x, y)`` values, drawn as lines with markers on log axes;
    ``spread`` (optional) maps a label to the ``(low, high)`` of each of its points, drawn as error bars."""

    title: str
    xlabel: str
    ylabel: str
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]]
    spread: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None


def plot_panels(path: Path, panels: Sequence[Panel], columns: int | None = None) -> None:
    """A PNG of ``panels``, ``columns`` to a row (all side by side by default; matplotlib's Agg canvas,
    no display), written atomically.

    Points with a NaN or non-positive value are left out of their line. The x axis is
    labelled at its major ticks only, ``log_ticks`` (matplotlib's default labels the minor
    ticks too when fewer than two decades are in view, and side by side their labels
    collide); the y axis keeps matplotlib's labels, stacked vertically.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # slow to import; only plots need it
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    columns = columns or len(panels)
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(5.5 * columns, 4.2 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(rows, columns, squeeze=False).flatten()
    for axes in grid[len(panels) :]:
        axes.set_visible(False)
    for axes, panel in zip(grid, panels):
        xs = []
        for label, (x, y) in panel.series.items():
            low, high = (panel.spread or {}).get(label, (y, y))
            kept = [
                (a, b, lo, hi)
                for a, b, lo, hi in zip(x, y, low, high)
                if b > 0 and math.isfinite(b) and a > 0 and math.isfinite(a)
            ]
            if kept:
                a, b, lo, hi = (list(v) for v in zip(*kept))
                bars = [[max(v - w, 0.0) for v, w in zip(b, lo)], [max(w - v, 0.0) for v, w in zip(b, hi)]]
                axes.errorbar(
                    a,
                    b,
                    yerr=bars if panel.spread and label in panel.spread else None,
                    marker="o",
                    capsize=3,
                    label=label,
                )
                xs += a
        axes.set(xscale="log", yscale="log", title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
        ticks = log_ticks(xs)
        if ticks is not None:
            axes.xaxis.set_major_locator(FixedLocator(ticks))
            axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.grid(True, which="both", alpha=0.3)
        if axes.lines:
            axes.legend(fontsize="small")
    io.atomic_write(Path(path), lambda tmp: figure.savefig(tmp, format="png", dpi=120))


MAX_TICKS = 8
"""At most this many labelled x ticks per panel."""


def log_ticks(values: Sequence[float]) -> list[float] | None:
    """The labelled ticks of a log x axis with ``values`` drawn; None: label its powers of ten.

    The values themselves (batch sizes, pool sizes) when there are at most MAX_TICKS distinct
    ones, each at least 1/MAX_TICKS of the axis' decades from the next (then their labels do
    not overlap); else the powers of ten if at least two lie in their range; else (many
    values within about a decade) the values thinned to that spacing. None without values.
    """
    distinct = sorted(set(values))
    if not distinct:
        return None
    gap = max(math.log10(distinct[-1] / distinct[0]), 1.0) / MAX_TICKS
    apart = all(math.log10(b / a) >= gap for a, b in zip(distinct, distinct[1:]))
    if len(distinct) <= MAX_TICKS and apart:
        return distinct
    if math.floor(math.log10(distinct[-1])) - math.ceil(math.log10(distinct[0])) >= 1:
        return None
    kept = [distinct[0]]
    for value in distinct[1:]:
        if math.log10(value / kept[-1]) >= gap:
            kept.append(value)
    return kept
