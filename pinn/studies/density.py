"""The collocation density study: what minibatches from a denser set of points buy at a fixed memory per step.

    pinn study density heat2d_varcoef --arms full-sobol,pool16,fresh-sobol --batch 256,1024,4096 \\
        --seeds 0,1,2 --steps 4000 --workers 2 --out DIR

A run is an *arm* (how the collocation points are chosen) at a batch size B (the points a step
evaluates, which sets its memory) and a seed. Every arm of a study takes the same Adam steps
(``steps``) with the same schedule; the arms (``parse_arm``):

- ``full-sobol``, ``full-uniform``: one fixed set of B points (scrambled Sobol' or uniform), every
  step on all of them: full-batch training, classic PINN practice;
- ``pool<k>`` (``pool<k>-uniform``): minibatches of B from a fixed pool of k·B Sobol' (uniform)
  points, served without replacement within an epoch (``samplers.pool.Pool``);
- ``fresh-sobol``, ``fresh-uniform``: B new points every step;
- ``rad``: RAD (``samplers.adaptive.RAD``), B points a step drawn by the residual from
  RAD_CANDIDATES·B Sobol' candidates redrawn every ``refresh_every`` steps;
- any arm with ``+lbfgs``: after its Adam steps, ``lbfgs_steps`` L-BFGS steps on one batch of B of
  the arm's own points (the set itself for ``full``, a minibatch of the pool, a fresh draw): the
  same memory as its Adam steps. For a pool or fresh arm that is one fixed B-subset, so L-BFGS
  turns it back into full-batch training on B points and gives up its density: it is the same
  memory, not a fair counterpart (heat_spot measured it). Arms without ``+lbfgs`` take no L-BFGS steps.

Each run solves in a child process started by a forkserver (a process that imported the package
once and never trained), ``workers`` of them at a time, each on the parent's number of torch
threads (one process per core, one thread each: ``--workers 2`` with ``OMP_NUM_THREADS=1`` on two
cores). The child first probes the training step, kept in ``DIR/<run>/probe.json``: its peak tensor
memory over building the model, optimizer and pools and WARMUP_STEPS steps (``pinn.studies.memory``:
torch's allocator, to the byte), and the speed of the next PROBE_STEPS steps; then it solves into
``DIR/<run>/`` (``pinn.studies.grid.run_grid``: finished runs are skipped, interrupted ones resumed)
and measures the network's error by the study's rule (``pinn.studies.errors``: on the FEM mesh's
Gauss rule for a finite element reference, on a fixed fine Sobol' set otherwise, with its standard
error) into ``DIR/<run>/errors.json``.

``DIR`` is the study's own: new, empty, or an earlier density study of the same problem,
recognised by ``DIR/study.json`` (``pinn.studies.grid.claim_directory``); a directory that holds a
solve run, a norm study or other files is refused before anything is written. The study's files
(``DIR/study.h5``, ``study.md``, the plots) are written by ``pinn.studies.density_report``.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import re
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import torch

import pdes
from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.loading import load
from pinn.report import interior_terms, strict_json
from pinn.step import adam_step, next_batches, setup
from pinn.studies.errors import error_rule, integrated_errors
from pinn.studies.grid import SKIPPED, GridRun, Outcome, claim_directory, finished_report, number, run_grid
from pinn.studies.memory import PeakMemory
from samplers.pool import FRESH

KIND = "density"
"""The study's kind in its marker ``study.json``."""

FAILED = "failed"
"""Status of a run whose process died (e.g. killed for memory); it is tried again on a rerun."""

WARMUP_STEPS = 2
PROBE_STEPS = 5
"""Training steps of the probe: warm-up steps whose memory is counted, then timed ones."""

RUNTIME_BATCH = 2
"""Batch of the probe's first, uncounted step (2: the least a batch-coupled norm takes)."""

PRELOAD = ("torch._dynamo",)
"""Modules the forkserver imports besides this one: torch.func (per-point gradients of the
statistics) imports torch._dynamo on first use, which takes seconds in every child otherwise."""

STUDY_SETS = ("sampler", "base_sampler", "pool", "batch", "candidates", "seed")
"""Solver settings the study sets itself for each run."""

RAD_CANDIDATES = 16
"""RAD's candidates per refresh, as a multiple of the batch."""

LBFGS_STEPS = 500
"""L-BFGS steps of the ``+lbfgs`` arms unless ``lbfgs_steps`` is given."""

ARMS = (
    "full-sobol",
    "full-uniform",
    "full-sobol+lbfgs",
    "pool4",
    "pool16",
    "pool64",
    "pool256",
    "pool64+lbfgs",
    "fresh-sobol",
    "fresh-uniform",
    "rad",
)
"""The default arms."""

ARM_FORMS = (
    "full-sobol, full-uniform, pool<k> or pool<k>-uniform (k ≥ 2), fresh-sobol, fresh-uniform, rad; +lbfgs after any"
)
ARM_PATTERN = re.compile(r"(full|fresh)-(sobol|uniform)|pool([0-9]+)(-sobol|-uniform)?|rad")


@dataclass(frozen=True)
class Arm:
    """How a run chooses its points (module docstring): ``kind`` full, pool, fresh or rad; the base rule;
    the pool's size as a multiple of the batch (pool arms); whether L-BFGS follows."""

    name: str
    kind: str
    base: str
    multiple: int = 1
    lbfgs: bool = False

    @property
    def family(self) -> str:
        """The line an arm belongs to in plots against density: its base rule (rad apart), with +lbfgs."""
        family = "rad" if self.kind == "rad" else self.base
        return family + ("+lbfgs" if self.lbfgs else "")

    def settings(self, batch: int, lbfgs_steps: int) -> dict[str, object]:
        """The solver settings of this arm at ``batch``."""
        steps = {"lbfgs_steps": lbfgs_steps if self.lbfgs else 0, "batch": batch}
        if self.kind == "rad":
            return {**steps, "sampler": "rad", "base_sampler": self.base, "candidates": RAD_CANDIDATES * batch}
        pool = {"full": batch, "pool": self.multiple * batch, "fresh": FRESH}[self.kind]
        return {**steps, "sampler": "pool", "base_sampler": self.base, "pool": pool}

    def distinct_points(self, batch: int, steps: int, refresh_every: int) -> int:
        """Distinct points the arm's Adam steps can see: the set or pool, steps × B fresh, RAD's candidate draws."""
        if self.kind == "fresh":
            return batch * steps
        if self.kind == "rad":
            return RAD_CANDIDATES * batch * (1 + max(steps - 1, 0) // refresh_every)
        return self.multiple * batch


def parse_arm(name: str) -> Arm:
    """The arm named ``name`` (module docstring); ValueError naming the valid forms otherwise."""
    text, lbfgs = (name[: -len("+lbfgs")], True) if name.endswith("+lbfgs") else (name, False)
    match = ARM_PATTERN.fullmatch(text)
    if match is None or (match.group(3) is not None and int(match.group(3)) < 2):
        raise ValueError(f"unknown arm '{name}'; valid: {ARM_FORMS}")
    if match.group(1) is not None:
        return Arm(name, match.group(1), match.group(2), lbfgs=lbfgs)
    if match.group(3) is not None:
        return Arm(name, "pool", (match.group(4) or "-sobol")[1:], int(match.group(3)), lbfgs)
    return Arm(name, "rad", "sobol", lbfgs=lbfgs)


@dataclass(frozen=True)
class Cell:
    """One run of the study: an arm at a batch size and a seed."""

    arm: Arm
    batch: int
    seed: int

    @property
    def name(self) -> str:
        return f"{self.arm.name}-b{self.batch}-s{self.seed}"

    def settings(self, lbfgs_steps: int) -> dict[str, object]:
        return {**self.arm.settings(self.batch, lbfgs_steps), "seed": self.seed}


def density_study(
    problem: Problem,
    arms: Sequence[str],
    batches: Sequence[int],
    out: str | Path,
    seeds: Sequence[int] = (0,),
    workers: int = 1,
    progress: bool = True,
    **settings: object,
) -> list[dict]:
    """Run every arm × batch × seed (module docstring), then write the study's files; returns the rows.

    Raises ``ValueError`` before anything is written for bad settings or an ``out`` that is
    not this study's.
    """
    from pinn.studies.density_report import write_results  # the report imports matplotlib when it plots

    cells = study_cells(arms, batches, seeds)
    check_settings(problem, settings, workers)
    lbfgs_steps = settings.pop("lbfgs_steps", None)
    lbfgs_steps = LBFGS_STEPS if lbfgs_steps is None else lbfgs_steps
    for cell in cells:
        Config.build(problem.defaults, {**settings, **cell.settings(lbfgs_steps)})
    out = claim_directory(out, KIND, problem)
    outcomes = run_cells(problem, cells, settings, lbfgs_steps, out, workers, progress)
    rows = [result_row(problem, cell, *outcomes[cell], out) for cell in cells]
    write_results(problem, rows, {**settings, "lbfgs_steps (+lbfgs arms)": lbfgs_steps}, out)
    return rows


def study_cells(arms: Sequence[str], batches: Sequence[int], seeds: Sequence[int]) -> list[Cell]:
    """Every arm × batch × seed, in that order; ValueError for an empty list, a repeat or a bad name."""
    for what, values in (("arm", arms), ("batch size", batches), ("seed", seeds)):
        if not values:
            raise ValueError(f"the density study needs at least one {what}")
        if len(set(values)) != len(values):
            raise ValueError(f"the density study's {what}s repeat: {', '.join(map(str, values))}")
    parsed = [parse_arm(a) for a in arms]
    for batch in batches:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch sizes must be positive integers, got {batch!r}")
    return [Cell(arm, batch, seed) for arm in parsed for batch in batches for seed in seeds]


def check_settings(problem: Problem, settings: dict, workers: int) -> None:
    """Raise for settings the study sets itself, a bad number of workers, or an unregistered problem."""
    taken = sorted(set(STUDY_SETS) & {k for k, v in settings.items() if v is not None})
    if taken:
        raise ValueError(f"the density study sets '{taken[0]}' itself; give arms, batches and seeds as lists")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive number of processes, got {workers!r}")
    if problem.name not in pdes.names():
        raise ValueError(
            f"the density study rebuilds the problem in child processes from the registry; "
            f"'{problem.name}' is not registered (registered: {', '.join(pdes.names())})"
        )


def run_cells(
    problem: Problem, cells: Sequence[Cell], settings: dict, lbfgs_steps: int, out: Path, workers: int, progress: bool
) -> dict[Cell, tuple[Outcome, dict]]:
    """Each cell's outcome and probe: read back when finished, else solved in a child process,
    ``workers`` at a time, the largest batches first (the longest runs, so that the others fill in)."""
    done, pending = {}, []
    for cell in cells:
        run = GridRun(cell.name, {**settings, **cell.settings(lbfgs_steps)})
        report = finished_report(out / cell.name, problem, Config.build(problem.defaults, run.settings))
        probe = read_json(out / cell.name / "probe.json")
        if report is not None and probe is not None:
            done[cell] = (Outcome(run, SKIPPED, report), probe)
        else:
            pending.append((cell, run))
    if progress:
        print(f"{len(done)} of {len(cells)} runs finished earlier; {len(pending)} to run", file=sys.stderr, flush=True)
    pending.sort(key=lambda item: -item[0].batch)
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__, *PRELOAD])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=1) as executor:
        futures = {
            executor.submit(solve_cell, problem.name, problem.params, run, out, torch.get_num_threads()): (cell, run)
            for cell, run in pending
        }
        for index, future in enumerate(as_completed(futures), 1):
            cell, run = futures[future]
            try:
                done[cell] = future.result()
            except BrokenProcessPool as error:
                done[cell] = (Outcome(run, FAILED, None, f"the run's process died: {error}"), {})
            if progress:
                print(f"run {index} of {len(pending)}: {cell.name} {done[cell][0].status}", file=sys.stderr, flush=True)
    return done


def solve_cell(problem_name: str, params: dict, run: GridRun, out: Path, threads: int) -> tuple[Outcome, dict]:
    """In the child (on the parent's number of torch threads): probe the training step once, solve, measure."""
    torch.set_num_threads(threads)
    problem = pdes.get(problem_name, **params)
    directory = io.ensure_writable_dir(out / run.name)
    probe = read_json(directory / "probe.json")
    if probe is None:
        probe = probe_training(problem, Config.build(problem.defaults, run.settings))
        io.write_json(directory / "probe.json", strict_json(probe, replicates=0))
    outcome = run_grid(problem, [run], out, progress=False)[0]
    if outcome.report is not None:
        study_errors(problem, directory)
    return outcome, probe


def study_errors(problem: Problem, directory: Path) -> dict:
    """The run's errors by the study's rule (``pinn.studies.errors``), kept in ``errors.json``."""
    path = directory / "errors.json"
    found = read_json(path)
    if found is not None:
        return found
    rule = error_rule(problem)
    result = load(directory, problem)
    errors = {"rule": rule.kind, "fields": integrated_errors(rule, result.predict)}
    io.write_json(path, strict_json(errors, replicates=0))
    return errors


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def probe_training(problem: Problem, config: Config) -> dict[str, float]:
    """Speed and peak memory of the run's Adam step (same model, rules and batch), in a fresh process.

    One step at a batch of RUNTIME_BATCH first loads what torch allocates once per process
    (kernels, autograd engine, cached constants), so that it does not count. Then
    ``train_memory_mb`` is the peak of tensor memory allocated above what was allocated before
    (``PeakMemory``: torch's allocator, on the CPU as on CUDA) while the model, its optimizer
    and the pools are built and WARMUP_STEPS steps are taken (the first makes Adam's state,
    the second is a step like every later one); ``steps_per_s`` is the speed of the next
    PROBE_STEPS steps, measured outside that count.
    """
    training_step(problem, dataclasses.replace(config, batch=RUNTIME_BATCH))()
    with PeakMemory(config.torch_device) as memory:
        step = training_step(problem, config)
        for _ in range(WARMUP_STEPS):
            step()
    synchronize(config.torch_device)
    start = time.perf_counter()
    for _ in range(PROBE_STEPS):
        step()
    synchronize(config.torch_device)
    elapsed = time.perf_counter() - start
    return {"steps_per_s": PROBE_STEPS / elapsed, "train_memory_mb": memory.mb}


def training_step(problem: Problem, config: Config) -> Callable[[], None]:
    """A new run as the solver makes it (``pinn.step.setup``); calling the result takes one Adam step."""
    run, state = setup(problem, config)
    return lambda: adam_step(run, state, next_batches(run, state))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def result_row(problem: Problem, cell: Cell, outcome: Outcome, probe: dict, out: Path) -> dict:
    """The study.h5 row of one run, its history under ``_history`` (NaN where a run has no report)."""
    report = outcome.report or {}
    config = report.get("config", {})
    steps = config.get("steps", 0)
    row = {
        "arm": cell.arm.name,
        "family": cell.arm.family,
        "batch": cell.batch,
        "seed": cell.seed,
        "status": outcome.status,
        "steps": steps,
        "lbfgs_steps": config.get("lbfgs_steps", 0),
        "distinct_points": cell.arm.distinct_points(cell.batch, steps, config.get("refresh_every", 1)),
    }
    measured = study_errors(problem, out / cell.name) if outcome.report is not None else {}
    row["error_rule"] = measured.get("rule", "")
    errors = measured.get("fields", {})
    for name in problem.fields:
        row[f"rel_l2/{name}"] = number(errors.get(name, {}), "rel_l2")
        row[f"rel_l2_se/{name}"] = number(errors.get(name, {}), "std_error")
    quadrature = report.get("quadrature", {})
    pool = cell.arm.settings(cell.batch, 0).get("pool", FRESH)
    for term in interior_terms(problem):
        stats = quadrature.get(term.name, {})
        for key in ("estimate", "std_error", "grad_var_trace", "grad_snr", "pool_loss", "fresh_loss", "pool_gap"):
            row[f"{key}/{term.name}"] = number(stats, key)
        row[f"batch_grad_var/{term.name}"] = minibatch_gradient_variance(
            number(stats, "grad_var_trace"), cell.batch, pool
        )
    row["train_memory_mb"] = number(probe, "train_memory_mb")
    row["run_peak_memory_mb"] = number(report, "peak_memory_mb")
    row["steps_per_s"] = number(report, "steps_per_s")
    row["wall_time_s"] = number(report, "wall_time_s")
    row["_history"] = read_history(out / cell.name) if outcome.report is not None else None
    return row


def minibatch_gradient_variance(trace: float, batch: int, pool: int | str) -> float:
    """``tr Cov(g) / B`` of a batch of B independent points, times ``1 − B/N`` for a pool of N.

    The factor is the finite-population correction: a pool serves its points without
    replacement, and for such a sample ``Var(mean) = (1 − B/N) S²/B`` with ``S²`` the pool's
    variance (divisor N − 1), which the sample variance ``tr Cov(g)`` estimates without bias.
    A batch of the whole pool has no noise at all.
    """
    variance = trace / batch
    return variance if pool == FRESH else variance * (1 - batch / pool)


def read_history(directory: Path) -> dict | None:
    """The run's history from its run file (None when it has none)."""
    try:
        return io.load_run(directory / "run.h5")["history"]
    except io.CorruptRunFile:
        return None
