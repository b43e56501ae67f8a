"""How many collocation points, how big a batch, at what cost: the density study of a problem on this machine.

``pinn.studies.density_study`` for pools of 1024, 8192 and 65536 points (powers of two keep
Sobol' pools balanced) and fresh points, batches of 256, 1024 and 4096 points and base rules
uniform and sobol; every run gets ``--budget-s`` seconds of Adam steps (no L-BFGS) and
``--replicates`` draws for its quadrature statistics, the other settings are the problem's
defaults. Runs go to ``OUT/<run>``; the study's files (``pinn.studies.density.OUTPUTS``:
study.json, study.h5, study.md and the plots study_error.png, study_noise.png,
study_cost.png) are copied to ``benchmarks/results/density_study/`` (the files of an earlier
run there are replaced: move them to a dated folder first, as ``2026-11-26-c898b84/``).
Finished runs are skipped on a rerun (delete ``OUT`` to measure again; an ``OUT`` that holds
anything but this study is refused). Torch runs on ``--threads`` CPU threads.

``--record`` records the run (benchmarks/recorder.py): a summary per batch size (steps, error,
memory, gradient SNR), the memory per point of the batch and of a pool, and the noise of fresh
Sobol' against fresh uniform batches (target ``density_noise``, at the largest batch).

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/density_study.py --record
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from recorder import record, span

import pdes
from pinn.report import interior_terms
from pinn.studies import density_study
from pinn.studies.density import OUTPUTS, WARMUP_STEPS
from pinn.studies.grid import SUMMARY, markdown_table, plot_file
from samplers.pool import FRESH

RESULTS = Path(__file__).parent / "results" / "density_study"
POOLS = (1024, 8192, 65536, "fresh")
BATCHES = (256, 1024, 4096)
RULES = ("uniform", "sobol")
PLOTS = (
    ("error", "error against pool size"),
    ("noise", "noise against batch"),
    ("cost", "memory and speed against batch"),
)


def finite(values) -> list[float]:
    return [float(v) for v in values if not math.isnan(float(v))]


def by_batch_table(rows: list[dict], field: str, term: str, budget_s: float) -> str:
    """Per batch size: steps, the error's median [min, max], training memory and gradient SNR over its runs."""
    table = []
    for batch in sorted({r["batch"] for r in rows}):
        runs = [r for r in rows if r["batch"] == batch]
        errors = finite(r[f"rel_l2/{field}"] for r in runs)
        error = f"{statistics.median(errors):.3g} [{min(errors):.3g}, {max(errors):.3g}]" if errors else "—"
        table.append(
            [
                batch,
                span([r["steps"] for r in runs]),
                error,
                span(finite(r["train_memory_mb"] for r in runs), 1),
                span(finite(r[f"grad_snr/{term}"] for r in runs), 2),
            ]
        )
    counts = [sum(r["batch"] == b for r in rows) for b in sorted({r["batch"] for r in rows})]
    headers = [
        "batch",
        f"Adam steps in {budget_s:g} s",
        f"rel L2 of {field}: median [min, max] over its {span(counts)} runs",
        "peak tensor memory of training (MiB)",
        f"grad SNR {term}",
    ]
    return markdown_table(headers, table)


def memory_figures(rows: list[dict]) -> tuple[float, list[float], int]:
    """KiB per point of the batch (least squares over fresh points), MiB the largest pool adds, its size."""
    fresh = [r for r in rows if r["pool"] == FRESH and not math.isnan(r["train_memory_mb"])]
    slope = np.polyfit([r["batch"] for r in fresh], [r["train_memory_mb"] for r in fresh], 1)[0] * 1024
    largest = max(int(r["pool"]) for r in rows if r["pool"] != FRESH)
    memory = {(r["sampler"], r["pool"], r["batch"]): r["train_memory_mb"] for r in rows}
    added = [
        memory[rule, str(largest), batch] - memory[rule, FRESH, batch]
        for rule, pool, batch in memory
        if pool == str(largest) and (rule, FRESH, batch) in memory
    ]
    return float(slope), finite(added), largest


def noise_figures(rows: list[dict], term: str) -> dict[int, tuple[float, float]]:
    """Per batch: the relative standard error of the loss with fresh sobol and with fresh uniform points."""

    def relative(rule: str, batch: int) -> float:
        (row,) = [r for r in rows if r["sampler"] == rule and r["pool"] == FRESH and r["batch"] == batch]
        return row[f"std_error/{term}"] / row[f"estimate/{term}"]

    fresh = {r["batch"] for r in rows if r["pool"] == FRESH}
    rules = {r["sampler"] for r in rows}
    if not {"sobol", "uniform"} <= rules:
        return {}
    return {b: (relative("sobol", b), relative("uniform", b)) for b in sorted(fresh)}


def record_run(problem, rows: list[dict], args: argparse.Namespace, wall_s: float) -> None:
    field, term = problem.fields[0], interior_terms(problem)[0].name
    slope, added, largest = memory_figures(rows)
    dim = len(problem.coordinates)
    noise = noise_figures(rows, term)
    failed = [f"{r['sampler']}-pool{r['pool']}-b{r['batch']}" for r in rows if r["status"] == "failed"]
    pools = ", ".join(str(p) for p in POOLS if p != FRESH)
    note = (
        f"{problem.name} {problem.params} with its defaults, errors against its reference. Grid: "
        f"{' or '.join(RULES)} × pool of {pools} points or fresh points × batch "
        f"{', '.join(map(str, BATCHES))} ({len(rows)} runs; a pool smaller than the batch is left out); every "
        f"run gets the Adam steps that fit {args.budget_s:g} s at the speed its probe measured (no L-BFGS), "
        f"{args.replicates} replicates for the quadrature statistics, one seed per cell. Memory is the peak of "
        f"tensor memory while the model, optimizer and pools are built and {WARMUP_STEPS} Adam steps are taken, "
        f"counted by torch's allocator (`pinn.studies.memory`). The study took {wall_s / 60:.1f} min of wall. Full "
        f"table, pool × batch error tables and every history: `results/density_study/` (study.md, study.h5)."
    )
    if failed:
        note += f" Failed runs (process died): {', '.join(failed)}."
    images = "\n".join(f"![{alt}](results/density_study/{plot_file(what)})" for what, alt in PLOTS)
    lines = [
        f"- Training memory grows by {slope:.1f} KiB per point of the batch (least squares over the fresh-point "
        f"runs); a pool of {largest} points adds {span(added, 2)} MiB over fresh points at the same batch and "
        f"rule (its storage, points, weights and permutation: {largest * (dim + 2) * 8 / 2**20:.2f} MiB)."
    ]
    if noise:
        lines.append(
            "- Relative standard error of the loss estimate, fresh sobol against fresh uniform points: "
            + "; ".join(f"batch {b}: {s:.2g} vs {u:.2g} ({u / s:.1f}×)" for b, (s, u) in noise.items())
            + "."
        )
    body = f"{note}\n\n{images}\n\n{by_batch_table(rows, field, term, args.budget_s)}\n" + "\n".join(lines)
    targets = {}
    if noise:
        sobol, uniform = noise[max(noise)]
        targets["density_noise"] = f"{uniform / sobol:.1f}× lower ({sobol:.2g} vs {uniform:.2g})"
    record("density_study", "density_study", "python " + " ".join(sys.argv), body, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="heat2d_varcoef", help="registered problem")
    parser.add_argument("--budget-s", type=float, default=15.0, help="seconds of Adam steps per run")
    parser.add_argument("--replicates", type=int, default=16, help="draws per quadrature statistic")
    parser.add_argument("--out", type=Path, default=Path("runs/density_study"), help="directory of the runs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    problem = pdes.get(args.problem)
    start = time.perf_counter()
    rows = density_study(
        problem, POOLS, BATCHES, RULES, args.out, budget_s=args.budget_s, lbfgs_steps=0, replicates=args.replicates
    )
    wall_s = time.perf_counter() - start
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        shutil.copy(args.out / name, RESULTS / name)
    print((RESULTS / SUMMARY).read_text())
    print(f"copied {', '.join(OUTPUTS)} to {RESULTS}")
    if args.record:
        record_run(problem, rows, args, wall_s)


if __name__ == "__main__":
    main()
