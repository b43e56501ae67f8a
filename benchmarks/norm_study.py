"""Which normalization for heat2d? The norm × batch-size study, and the accuracy of layer/rms at defaults.

``study``: ``pinn.studies.norm_study`` on heat2d for every norm × batch 8, 64, 1024 with
``--steps`` Adam steps and no L-BFGS (so every run sees only minibatches of its size), all
other settings heat2d's defaults. Runs go to ``OUT/study/<norm>-b<batch>``; the study's files
(``pinn.studies.norms.OUTPUTS``: study.json, study.h5, study.md, study_error.png) are copied
to ``benchmarks/results/norm_study/``.

The files of an earlier run there are replaced: move them to a dated folder first, as
``2026-11-26-09529fa/``.

``accuracy``: heat2d with its default settings (Adam + L-BFGS) for norm none, layer and rms
in ``OUT/accuracy/<norm>``; prints the relative L2 error of u, the wall time (report.json) and
the CPU time of this process during each solve, and their ratios to ``none``. On a shared
machine the CPU time is the fairer comparison (``—`` for runs skipped as finished).

Finished runs are skipped on a rerun (delete ``OUT`` to measure again). Torch runs on
``--threads`` CPU threads. ``--record`` records the run (benchmarks/recorder.py): ``study`` its
error tables (section ``norm_study``), ``accuracy`` its table and the target ``norms_accuracy``
(layer and rms reach ≤ 2e-3 within 1.5× of none's CPU time; section ``norm_accuracy``, only
when every run was solved now, so that its CPU time is known).

    nice -n 10 python benchmarks/norm_study.py study --steps 500 --record
    nice -n 10 python benchmarks/norm_study.py accuracy --record
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from pathlib import Path

import torch
from recorder import record, status

import pdes
from pinn.nn import BATCH_COUPLED_NORMS, NORMS
from pinn.studies import norm_study
from pinn.studies.grid import FINISHED, SUMMARY, GridRun, markdown_table, plot_file, run_grid
from pinn.studies.norms import OUTPUTS, pivot

RESULTS = Path(__file__).parent / "results" / "norm_study"
BATCHES = (8, 64, 1024)
ACCURACY_NORMS = ("none", "layer", "rms")
ACCURACY_LEVEL, TIME_RATIO = 2e-3, 1.5
"""The norms_accuracy target: layer and rms reach this rel L2 of u within this ratio of none's CPU time."""


def command() -> str:
    return "python " + " ".join(sys.argv)


def study(out: Path, steps: int, record_run: bool) -> None:
    problem = pdes.get("heat2d")
    start = time.perf_counter()
    rows = norm_study(problem, NORMS, BATCHES, out / "study", steps=steps, lbfgs_steps=0)
    wall_s = time.perf_counter() - start
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        shutil.copy(out / "study" / name, RESULTS / name)
    print((RESULTS / SUMMARY).read_text())
    print(f"copied {', '.join(OUTPUTS)} to {RESULTS}")
    if not record_run:
        return
    headers = ["norm"] + [f"batch {b}" for b in BATCHES]
    coupled = [n for n in NORMS if n in BATCH_COUPLED_NORMS]
    note = (
        f"{problem.name} {problem.params} with its defaults otherwise, {steps} Adam steps per run and no L-BFGS "
        f"(each run sees only minibatches of its size); {len(rows)} runs, {wall_s / 60:.1f} min of wall time "
        f"(runs finished earlier are read back, not timed). Tables, wall times and raw rows: "
        f"`results/norm_study/study.md`, `study.h5`."
    )
    body = (
        f"{note}\n\n![error and train/eval gap against batch size](results/norm_study/{plot_file('error')})\n\n"
        f"Relative L2 error of u after {steps} Adam steps:\n\n"
        + markdown_table(headers, pivot(rows, NORMS, BATCHES, "rel_l2/u"))
    )
    if coupled:
        body += "\nTrain/eval gap (loss with running statistics / loss with batch statistics):\n\n" + markdown_table(
            headers, pivot(rows, coupled, BATCHES, "gap_ratio")
        )
    record("norm_study", "norm_study", command(), body)


def accuracy(out: Path, record_run: bool) -> None:
    problem = pdes.get("heat2d")
    rows = []
    for norm in ACCURACY_NORMS:
        start = time.process_time()
        (outcome,) = run_grid(problem, [GridRun(norm, {"norm": norm})], out / "accuracy")
        cpu = time.process_time() - start if outcome.status == FINISHED else float("nan")
        rows.append([norm, outcome.report["errors"]["u"]["rel_l2"], outcome.report["wall_time_s"], cpu])
    wall, cpu = rows[0][2], rows[0][3]
    table = [row + [row[2] / wall, row[3] / cpu] for row in rows]
    headers = ["norm", "rel L2 of u", "wall time (s)", "CPU time (s)", "wall / none", "CPU / none"]
    print(markdown_table(headers, table))
    if not record_run:
        return
    if any(math.isnan(row[3]) for row in rows):
        print("not recorded: some runs were finished earlier, so their CPU time is unknown (delete OUT/accuracy)")
        return
    others = {row[0]: row for row in table[1:]}
    value = (
        ", ".join(f"{norm} {row[1]:.3g}" for norm, row in others.items())
        + "; CPU time "
        + " and ".join(f"{row[5]:.3g}×" for row in others.values())
        + " of none's"
    )
    met = all(row[1] <= ACCURACY_LEVEL and row[5] <= TIME_RATIO for row in others.values())
    note = (
        f"{problem.name} {problem.params} with its full defaults (Adam then L-BFGS), one norm after the other; "
        "CPU time is this process's during each solve."
    )
    body = f"{note}\n\n{markdown_table(headers, table)}"
    record("norm_study", "norm_accuracy", command(), body, {"norms_accuracy": (value, status(met))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("study", "accuracy"))
    parser.add_argument("--steps", type=int, default=500, help="Adam steps per study run")
    parser.add_argument("--out", type=Path, default=Path("runs/norm_study"), help="directory of the runs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.part == "study":
        study(args.out, args.steps, args.record)
    else:
        accuracy(args.out, args.record)


if __name__ == "__main__":
    main()
