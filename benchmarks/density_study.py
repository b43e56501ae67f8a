"""How many collocation points, how big a batch, at what cost: the density study of a problem on this machine.

``pinn.studies.density_study`` for pools of 1024, 8192 and 65536 points (powers of two keep
Sobol' pools balanced) and fresh points, batches of 256, 1024 and 4096 points and base rules
uniform and sobol; every run gets ``--budget-s`` seconds of Adam steps (no L-BFGS) and
``--replicates`` draws for its quadrature statistics, the other settings are the problem's
defaults. Runs go to ``OUT/<run>``; the study's files (``pinn.studies.density.OUTPUTS``:
study.json, study.h5, study.md and the plots study_error.png, study_noise.png,
study_cost.png) are copied to ``benchmarks/results/density_study/``. Finished runs are
skipped on a rerun (delete ``OUT`` to measure again; an ``OUT`` that holds anything but this
study is refused). Torch runs on ``--threads`` CPU threads.

    nice -n 10 python benchmarks/density_study.py --problem heat2d_varcoef --budget-s 15
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

import pdes
from pinn.studies import density_study
from pinn.studies.density import OUTPUTS
from pinn.studies.grid import SUMMARY

RESULTS = Path(__file__).parent / "results" / "density_study"
POOLS = (1024, 8192, 65536, "fresh")
BATCHES = (256, 1024, 4096)
RULES = ("uniform", "sobol")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="heat2d_varcoef", help="registered problem")
    parser.add_argument("--budget-s", type=float, default=15.0, help="seconds of Adam steps per run")
    parser.add_argument("--replicates", type=int, default=16, help="draws per quadrature statistic")
    parser.add_argument("--out", type=Path, default=Path("runs/density_study"), help="directory of the runs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    problem = pdes.get(args.problem)
    density_study(
        problem, POOLS, BATCHES, RULES, args.out, budget_s=args.budget_s, lbfgs_steps=0, replicates=args.replicates
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        shutil.copy(args.out / name, RESULTS / name)
    print((RESULTS / SUMMARY).read_text())
    print(f"copied {', '.join(OUTPUTS)} to {RESULTS}")


if __name__ == "__main__":
    main()
