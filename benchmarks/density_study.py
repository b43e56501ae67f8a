"""What minibatching from a denser set of points buys at a fixed memory: the density study of three problems.

``pinn.studies.density_study`` of

- ``heat2d_varcoef`` (FEM reference, errors on its mesh's Gauss rule) and ``heat_spot`` (a heat
  source of width 0.02 in the unit disk, analytic reference, errors on 65536 fixed Sobol' points):
  every arm (``ARMS``: full batch on Sobol' and uniform sets, full batch with L-BFGS, pools of 4, 16,
  64 and 256 batches, fresh Sobol' and uniform points, RAD) at batches 64, 256, 1024 and 4096, until
  converged from STEPS Adam steps up to MAX_STEPS (``until_converged``); then WALL_ARMS at equal wall
  time, WALL_S seconds of Adam steps each, at the same batches;
- ``cavity`` (smooth lid, Re = 100, FEM reference): full-sobol, pool16, pool256 and fresh-sobol at
  batches 64, 256 and 1024, for 2000 steps (a cavity step costs 3–5× a heat step);

three seeds per cell, the problem's other defaults, ``full-sobol+lbfgs`` then LBFGS_STEPS L-BFGS
steps on its set, REPLICATES draws for the quadrature statistics, two runs at a time (one per core,
one torch thread each). Runs go to ``OUT/<problem>/<run>`` (``OUT/<problem>-wall/`` at equal wall
time) and finished ones are skipped on a rerun; each study's files
(``pinn.studies.density_report.OUTPUTS``) are copied to ``benchmarks/results/density_study/<study>/``.

Beside them, the memory model: the peak tensor memory of a training step (``probe_training``, fresh
points) at batches MODEL_BATCHES for MLPs of MODEL_SHAPES on heat2d_varcoef and cavity, its slope per
point of the batch, and from it the largest full batch that fits in 24 and 80 GB, set beside the pool
a minibatched run of batch 4096 can hold in the same memory (a pool point costs its coordinates and
weight in float64 and its place in the permutation).

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/density_study.py --record
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import torch
from recorder import record
from speed_common import markdown_table

import pdes
from pinn.config import Config
from pinn.studies import density_study
from pinn.studies.density import ARMS, probe_training
from pinn.studies.density_report import OUTPUTS, best_against_full, by_cell, seed_spread, separation_power

RESULTS = Path(__file__).parent / "results" / "density_study"
STEPS = {"heat2d_varcoef": 3000, "heat_spot": 3000, "cavity": 2000}
MAX_STEPS = {"heat2d_varcoef": 6000, "heat_spot": 6000}
WALL_S = 15.0
WALL_ARMS = ["full-sobol", "pool64", "rad"]
BATCHES = {"heat2d_varcoef": [64, 256, 1024, 4096], "heat_spot": [64, 256, 1024, 4096], "cavity": [64, 256, 1024]}
CAVITY_ARMS = ["full-sobol", "pool16", "pool256", "fresh-sobol"]
SEEDS = [0, 1, 2]
REPLICATES = 8
LBFGS_STEPS = 500
WORKERS = 2
MODEL_SHAPES = ((32, 4), (64, 4), (128, 4), (64, 8))
MODEL_BATCHES = (1024, 4096)
MEMORIES_GB = (24, 80)


def arms(problem: str) -> list[str]:
    return CAVITY_ARMS if problem == "cavity" else list(ARMS)


def run_study(name: str, out: Path, wall: bool = False) -> tuple[list[dict], float]:
    """The study of ``name`` into ``out/<study>``, its files copied to results/; the rows and the wall time.
    ``wall``: WALL_ARMS at equal wall time (study ``<name>-wall``); otherwise every arm at equal steps."""
    problem = pdes.get(name)
    study = f"{name}-wall" if wall else name
    if wall:
        budget = {"wall_s": WALL_S}
    elif name in MAX_STEPS:
        budget = {"steps": STEPS[name], "until_converged": True, "max_steps": MAX_STEPS[name]}
    else:
        budget = {"steps": STEPS[name]}
    start = time.perf_counter()
    rows = density_study(
        problem,
        WALL_ARMS if wall else arms(name),
        BATCHES[name],
        out / study,
        seeds=SEEDS,
        workers=WORKERS,
        replicates=REPLICATES,
        lbfgs_steps=LBFGS_STEPS,
        **budget,
    )
    wall_time = time.perf_counter() - start
    target = RESULTS / study
    target.mkdir(parents=True, exist_ok=True)
    for file in OUTPUTS:
        shutil.copy(out / study / file, target / file)
    return rows, wall_time


def step_memory(name: str, width: int, depth: int, batch: int) -> float:
    """MiB of tensor memory of a training step of ``name`` with a width × depth MLP at ``batch`` fresh points
    (``probe_training``: torch's allocator, to the byte, whatever this process ran before)."""
    problem = pdes.get(name)
    settings = {"width": width, "depth": depth, "batch": batch, "sampler": "pool", "pool": "fresh", "lbfgs_steps": 0}
    return probe_training(problem, Config.build(problem.defaults, settings))["train_memory_mb"]


def memory_model() -> str:
    """The memory model's table (module docstring)."""
    table = []
    for name in ("heat2d_varcoef", "cavity"):
        dim = len(pdes.get(name).coordinates)
        pool_bytes = (dim + 1) * 8 + 8
        for width, depth in MODEL_SHAPES:
            low, high = (step_memory(name, width, depth, b) for b in MODEL_BATCHES)
            per_point = (high - low) / (MODEL_BATCHES[1] - MODEL_BATCHES[0]) * 2**20  # bytes
            fixed = low * 2**20 - per_point * MODEL_BATCHES[0]
            line = [name, f"{width}×{depth}", f"{per_point / 1024:.2f}"]
            for gb in MEMORIES_GB:
                budget = gb * 1e9
                full = (budget - fixed) / per_point
                pool = (budget - fixed - per_point * 4096) / pool_bytes
                line += [f"{full:.3g}", f"{pool:.3g}"]
            table.append(line)
    headers = ["problem", "MLP", "KiB per point of a step"]
    for gb in MEMORIES_GB:
        headers += [f"largest full batch in {gb} GB", f"pool beside batch 4096 in {gb} GB"]
    return markdown_table(headers, table)


def summary(name: str, rows: list[dict]) -> str:
    """Per field, schedule and batch: the full-batch arm against the best other arm, and fresh Sobol' points."""
    problem = pdes.get(name)
    table = []
    for field in problem.fields:
        cells = by_cell(rows, lambda r, f=field: r[f"rel_l2/{f}"])
        for batch in BATCHES[name]:
            found = best_against_full(cells, "full-sobol", batch)
            if found is None:
                continue
            full_error, best, best_error = found
            separated = "yes" if full_error.separates_from(best_error) else "no"
            steps = max(r["steps"] for r in rows if r["batch"] == batch)
            lbfgs = cells.get(("full-sobol+lbfgs", batch))
            table.append(
                [
                    field,
                    batch,
                    steps,
                    str(full_error),
                    f"{best}: {best_error}",
                    f"{full_error.mean / best_error.mean:.2g} ({separated})",
                    str(lbfgs) if lbfgs is not None else "—",
                ]
            )
    headers = ["field", "batch", "Adam steps", "full-sobol", "best other arm", "full / best (separate)"]
    headers += ["full-sobol+lbfgs"]
    powers = []
    for field in problem.fields:
        sd = seed_spread(rows, field)
        powers.append(f"{field}: sd of log10 error {sd:.2g}, power {separation_power(sd, len(SEEDS)):.2f}")
    return (
        markdown_table(headers, table)
        + f"\nSeeds' spread and the chance to see a 2× difference: {'; '.join(powers)}.\n"
    )


def wall_summary(name: str, rows: list[dict]) -> str:
    """Each arm × batch at equal wall time: error [range] and the steps taken."""
    problem = pdes.get(name)
    table = []
    for field in problem.fields:
        cells = by_cell(rows, lambda r, f=field: r[f"rel_l2/{f}"])
        steps = by_cell(rows, lambda r: float(r["steps"]))
        walls = by_cell(rows, lambda r: r["wall_time_s"])
        for arm in WALL_ARMS:
            line = [field, arm]
            for batch in BATCHES[name]:
                key = (arm, batch)
                line.append(f"{cells[key]} ({steps[key].mean:.0f} steps, {walls[key].mean:.0f} s)")
            table.append(line)
    return markdown_table(["field", "arm", *(f"batch {b}" for b in BATCHES[name])], table)


def noise_target(rows: list[dict]) -> str:
    """Fresh Sobol' against fresh uniform batches of 4096: the relative standard error of the loss (geometric means)."""
    noise = by_cell(rows, lambda r: r["std_error/pde"] / r["estimate/pde"])
    sobol, uniform = noise[("fresh-sobol", 4096)].mean, noise[("fresh-uniform", 4096)].mean
    return f"{uniform / sobol:.1f}× lower ({sobol:.2g} vs {uniform:.2g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(STEPS), help="comma-separated problems of STEPS")
    parser.add_argument("--out", type=Path, default=Path("runs/density_study"), help="directory of the runs")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = [n for n in args.problems.split(",") if n]
    unknown = sorted(set(names) - set(STEPS))
    if unknown:
        parser.error(f"unknown problem '{unknown[0]}'; valid: {', '.join(STEPS)}")
    sections, results = [], {}
    for name in names:
        rows, wall = run_study(name, args.out)
        results[name] = rows
        images = f"![{name}: error against distinct points](results/density_study/{name}/study_error.png)"
        budget = f"from {STEPS[name]} up to {MAX_STEPS[name]}" if name in MAX_STEPS else f"{STEPS[name]}"
        sections.append(
            f"#### {name}\n\n{len(rows)} runs ({wall / 60:.1f} min of wall in this call; finished runs are read back), "
            f"{budget} Adam steps. Every table, plot and history: `results/density_study/{name}/`.\n\n"
            f"{images}\n\n{summary(name, rows)}"
        )
        print((RESULTS / name / "study.md").read_text().split("\n## Every run")[0])
        if name in MAX_STEPS:
            rows, wall = run_study(name, args.out, wall=True)
            sections.append(
                f"#### {name} at equal wall time\n\n{len(rows)} runs of {', '.join(WALL_ARMS)}, {WALL_S:g} s of Adam "
                f"steps each ({wall / 60:.1f} min of wall in this call). `results/density_study/{name}-wall/`.\n\n"
                + wall_summary(name, rows)
            )
    sections.append(f"#### Memory model\n\n{memory_model()}")
    body = (
        "Arms at equal memory per step (the batch) and equal Adam steps, three seeds per cell; a cell is the "
        "geometric mean [min, max] over seeds, and two cells separate when their ranges are disjoint (chance "
        "0.10 for identical arms). Errors by `pinn.studies.errors` (FEM mesh Gauss rule, or 65536 fixed "
        "Sobol' points with the standard error in each study.md).\n\n" + "\n\n".join(sections)
    )
    targets = {}
    if "heat2d_varcoef" in results:
        targets["density_noise"] = noise_target(results["heat2d_varcoef"])
        body += f"\n\nRelative standard error of the loss at batch 4096, heat2d_varcoef: {targets['density_noise']}."
    if args.record:
        record("density_study", "density_study", "python " + " ".join(sys.argv), body, targets)
    else:
        print(body)


if __name__ == "__main__":
    main()
