"""Which normalization for heat2d? The norm × batch-size study, and the accuracy of layer/rms at defaults.

``study``: ``pinn.studies.norm_study`` on heat2d for every norm × batch 8, 64, 1024 with
``--steps`` Adam steps and no L-BFGS (so every run sees only minibatches of its size), all
other settings heat2d's defaults. Runs go to ``OUT/study/<norm>-b<batch>``; the study's files
(``pinn.studies.norms.OUTPUTS``: study.json, study.h5, study.md, study_error.png) are copied
to ``benchmarks/results/norm_study/``.

``accuracy``: heat2d with its default settings (Adam + L-BFGS) for norm none, layer and rms
in ``OUT/accuracy/<norm>``; prints the relative L2 error of u, the wall time (report.json) and
the CPU time of this process during each solve, and their ratios to ``none``. On a shared
machine the CPU time is the fairer comparison (``—`` for runs skipped as finished).

Finished runs are skipped on a rerun (delete ``OUT`` to measure again). Torch runs on
``--threads`` CPU threads.

    nice -n 10 python benchmarks/norm_study.py study --steps 500
    nice -n 10 python benchmarks/norm_study.py accuracy
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import torch

import pdes
from pinn.nn import NORMS
from pinn.studies import norm_study
from pinn.studies.grid import FINISHED, SUMMARY, GridRun, markdown_table, run_grid
from pinn.studies.norms import OUTPUTS

RESULTS = Path(__file__).parent / "results" / "norm_study"
BATCHES = (8, 64, 1024)
ACCURACY_NORMS = ("none", "layer", "rms")


def study(out: Path, steps: int) -> None:
    problem = pdes.get("heat2d")
    norm_study(problem, NORMS, BATCHES, out / "study", steps=steps, lbfgs_steps=0)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        shutil.copy(out / "study" / name, RESULTS / name)
    print((RESULTS / SUMMARY).read_text())
    print(f"copied {', '.join(OUTPUTS)} to {RESULTS}")


def accuracy(out: Path) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("study", "accuracy"))
    parser.add_argument("--steps", type=int, default=500, help="Adam steps per study run")
    parser.add_argument("--out", type=Path, default=Path("runs/norm_study"), help="directory of the runs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.part == "study":
        study(args.out, args.steps)
    else:
        accuracy(args.out)


if __name__ == "__main__":
    main()
