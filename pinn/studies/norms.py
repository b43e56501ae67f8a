"""The normalization study: final error and train/eval gap for each norm × batch size.

    pinn study norms heat2d --norms none,layer,batch --batch 8,64,1024 --steps 300 --out DIR

One solve per (norm, batch) pair in ``DIR/<norm>-b<batch>/`` (finished ones are skipped on a
rerun, see ``pinn.studies.grid``), all other settings shared. ``DIR`` is the study's own:
new, empty, or an earlier norm study of the same problem, recognised by ``DIR/study.json``
(its marker, written first; ``pinn.studies.grid.claim_directory``); a directory that holds
a solve run, a density study or other files is refused before anything is written. Results
(the files of every study, ``pinn.studies.grid``):

- ``DIR/study.h5``: one row per run; datasets ``norm``, ``batch``, ``status``,
  ``wall_time_s``, ``steps_per_s``, ``rel_l2/<field>``, ``max_abs/<field>``, ``gap_ratio``,
  ``loss_batch_statistics``, ``loss_running_statistics`` (NaN where not measured);
  attrs ``problem``, ``params``, ``settings`` (JSON).
- ``DIR/study.md``: tables norm × batch of the relative L2 error of each field, of the
  train/eval gap ratio and of the wall time.
- ``DIR/study_error.png``: the same errors, and the gap ratios of batch-coupled norms,
  against batch size.

The gap ratio is report.json's ``train_eval_gap.ratio``: the loss of fresh batches evaluated
with running statistics over the loss with the batch's own statistics (1 means no gap); it
is measured for batch-coupled norms only, since for the others both are the same number.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.nn import BATCH_COUPLED_NORMS, NORMS, check_choice
from pinn.studies.grid import (
    DIVERGED,
    SUMMARY,
    TABLE,
    GridRun,
    Outcome,
    Panel,
    claim_directory,
    markdown_table,
    number,
    output_files,
    plot_file,
    plot_panels,
    run_grid,
    write_columns,
)

NAN = float("nan")
KIND = "norms"
"""The study's kind in its marker ``study.json``."""

PLOTS = ("error",)
OUTPUTS = output_files(PLOTS)
"""The study's files in its output directory: study.json, study.h5, study.md, study_error.png."""


def run_name(norm: str, batch: int) -> str:
    """The directory of one run of the study."""
    return f"{norm}-b{batch}"


def norm_study(
    problem: Problem,
    norms: Sequence[str],
    batches: Sequence[int],
    out: str | Path,
    progress: bool = True,
    **settings: object,
) -> list[dict]:
    """Solve ``problem`` for every norm × batch, write study.h5, study.md and study_error.png in ``out``.

    ``settings`` are the other solver settings, shared by all runs. Returns one row per run
    (the columns of study.h5). Raises ``ValueError`` before anything is written for bad
    settings or an ``out`` that is not this study's (module docstring).
    """
    for norm in norms:
        check_choice("norm", norm, NORMS)
    if not norms or not batches:
        raise ValueError("the norm study needs at least one norm and one batch size")
    taken = sorted({"norm", "batch"} & set(settings))
    if taken:
        raise ValueError(f"the norm study sets '{taken[0]}' itself; give norms and batch sizes as lists instead")
    runs = [GridRun(run_name(n, b), {**settings, "norm": n, "batch": b}) for n in norms for b in batches]
    for run in runs:
        Config.build(problem.defaults, run.settings)
    out = claim_directory(out, KIND, problem)
    rows = [result_row(problem, outcome) for outcome in run_grid(problem, runs, out, progress)]
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    attrs = {"problem": problem.name, "params": problem.params, "settings": dict(settings)}
    write_columns(out / TABLE, columns, attrs)
    io.write_text(out / SUMMARY, study_markdown(problem, rows, norms, batches, settings))
    plot_panels(out / plot_file("error"), result_panels(problem, rows, norms))
    return rows


def result_row(problem: Problem, outcome: Outcome) -> dict:
    """The study.h5 row of one run (NaN for what a diverged run or a pointwise norm lacks)."""
    report = outcome.report or {}
    errors = report.get("errors", {})
    gap = report.get("train_eval_gap", {})
    row = {
        "norm": str(outcome.run.settings["norm"]),
        "batch": int(outcome.run.settings["batch"]),
        "status": outcome.status,
        "wall_time_s": number(report, "wall_time_s"),
        "steps_per_s": number(report, "steps_per_s"),
        "gap_ratio": number(gap, "ratio"),
        "loss_batch_statistics": number(gap.get("total", {}), "batch_statistics"),
        "loss_running_statistics": number(gap.get("total", {}), "running_statistics"),
    }
    for name in problem.fields:
        row[f"rel_l2/{name}"] = number(errors.get(name, {}), "rel_l2")
        row[f"max_abs/{name}"] = number(errors.get(name, {}), "max_abs")
    return row


def pivot(rows: Sequence[dict], norms: Sequence[str], batches: Sequence[int], key: str) -> list[list[object]]:
    """Table rows ``[norm, value at batch 1, …]`` of column ``key``; a diverged run reads ``diverged``."""
    cells = {(r["norm"], r["batch"]): (DIVERGED if r["status"] == DIVERGED else r[key]) for r in rows}
    return [[norm] + [cells[norm, b] for b in batches] for norm in norms]


def study_markdown(
    problem: Problem, rows: Sequence[dict], norms: Sequence[str], batches: Sequence[int], settings: dict
) -> str:
    """study.md: the study's settings and its tables norm × batch size."""
    headers = ["norm"] + [f"batch {b}" for b in batches]
    shared = ", ".join(f"{k}={v}" for k, v in settings.items()) or "the problem's defaults"
    parts = [f"# Normalization study: {problem.name} {problem.params}\n", f"Shared settings: {shared}.\n"]
    for name in problem.fields:
        parts += [
            f"\n## Relative L2 error of {name}\n\n",
            markdown_table(headers, pivot(rows, norms, batches, f"rel_l2/{name}")),
        ]
    coupled = [n for n in norms if n in BATCH_COUPLED_NORMS]
    if coupled:
        parts += [
            "\n## Train/eval gap: loss with running statistics / loss with batch statistics\n\n",
            markdown_table(headers, pivot(rows, coupled, batches, "gap_ratio")),
        ]
    parts += ["\n## Wall time (s)\n\n", markdown_table(headers, pivot(rows, norms, batches, "wall_time_s"))]
    return "".join(parts)


def result_panels(problem: Problem, rows: Sequence[dict], norms: Sequence[str]) -> list[Panel]:
    """Relative L2 error of each field against batch size, per norm; the gap ratio for batch-coupled norms."""

    def series(key: str, chosen: Sequence[str]) -> dict[str, tuple[list[float], list[float]]]:
        return {
            n: ([r["batch"] for r in rows if r["norm"] == n], [r[key] for r in rows if r["norm"] == n]) for n in chosen
        }

    panels = [
        Panel(
            f"{problem.name}: final error of {name}",
            "batch size (points per term)",
            "relative L2 error",
            series(f"rel_l2/{name}", norms),
        )
        for name in problem.fields
    ]
    coupled = [n for n in norms if n in BATCH_COUPLED_NORMS]
    if coupled:
        panels.append(
            Panel(
                "train/eval gap",
                "batch size (points per term)",
                "loss(running stats) / loss(batch stats)",
                series("gap_ratio", coupled),
            )
        )
    return panels
