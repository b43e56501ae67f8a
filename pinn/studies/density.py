"""The collocation density study: what minibatches from a denser set of points buy at a fixed memory per step.

    pinn study density heat2d_varcoef --arms full-sobol,pool16,fresh-sobol --batch 256,1024,4096 \\
        --seeds 0,1,2 --steps 3000 --until-converged --workers 2 --out DIR

A run is an *arm* (how the collocation points are chosen) at a batch size B (the points a step
evaluates, which sets its memory), a budget and a seed. Every arm at a batch size takes the same
Adam steps with the same schedule; the arms (``parse_arm``):

- ``full-sobol``, ``full-uniform``: one fixed set of B points (scrambled Sobol' or uniform), every
  step on all of them: full-batch training, classic PINN practice;
- ``pool<k>`` (``pool<k>-uniform``): minibatches of B from a fixed pool of k·B Sobol' (uniform)
  points, served without replacement within an epoch (``samplers.pool.Pool``);
- ``fresh-sobol``, ``fresh-uniform``: B new points every step;
- ``rad``: RAD (``samplers.adaptive.RAD``), B points a step drawn by the residual from
  RAD_CANDIDATES·B Sobol' candidates redrawn every ``refresh_every`` steps;
- ``full-sobol+lbfgs``, ``full-uniform+lbfgs``: the full-batch arm, then ``lbfgs_steps`` L-BFGS
  steps on its set, the same memory. L-BFGS needs one fixed loss, so a pool, fresh or RAD arm
  has no L-BFGS at its memory and density (L-BFGS on a fixed B-subset is full-batch training
  again): the comparison of arms is Adam against Adam, and L-BFGS after the full batch shows
  how far its fixed set can go.

The budget, for every arm at a batch size:

- ``steps`` Adam steps (the problem's default without it);
- with ``until_converged``, the first full-batch arm of ``arms`` is run first, with ``steps``,
  then twice as many, …, until its error has stopped falling (``CONVERGED``: at the end at least
  0.9 × its error at half the steps, geometric mean over seeds, every field, the solver's
  evaluations) or twice the budget would pass ``max_steps``; every arm at that batch then takes
  the budget found, and study.md shows each budget tried;
- with ``wall_s``, equal wall time instead: each run takes ``wall_s`` × the steps per second its
  probe measured (at least one), so that every arm and batch trains for about the same time;
  the wall times reached are in the run table.

Each run solves in a child process started by a forkserver (a process that imported the package
once and never trained), ``workers`` of them at a time, each on the parent's torch threads
divided among the workers (at least one: ``--workers 2`` on two cores gives one thread each). A
run whose process dies (e.g. killed for memory) is ``failed`` and the others go on. The child first
probes the training step, kept in ``DIR/<run>/probe.json``: its peak tensor memory over building
the model, optimizer and pools and WARMUP_STEPS steps (``pinn.studies.memory``: torch's allocator,
to the byte), and the speed of the next steps (at least PROBE_STEPS and PROBE_SECONDS); then it
solves into ``DIR/<run>/`` (``pinn.studies.grid.run_grid``: finished runs are skipped, interrupted
ones resumed, diverged ones read back as diverged) and measures the network's error by the
study's rule (``pinn.studies.errors``: on the FEM mesh's Gauss rule for a finite element reference,
on a fixed fine Sobol' set otherwise, with its standard error) into ``DIR/<run>/errors.json``.
A probe or error file is used again only for the settings or the report it was made from.

``DIR`` is the study's own: new, empty, or an earlier density study of the same problem,
recognised by ``DIR/study.json`` (``pinn.studies.grid.claim_directory``); a directory that holds a
solve run, a norm study or other files is refused before anything is written. The study's files
(``DIR/study.h5``, ``study.md``, the plots) are written by ``pinn.studies.density_report``.
A script that calls ``density_study`` must do so under ``if __name__ == "__main__":``, since
each child imports the script again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import multiprocessing
import multiprocessing.connection
import re
import sys
import time
from collections.abc import Callable, Sequence
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
from pinn.studies.grid import (
    DIVERGED,
    FINISHED,
    SKIPPED,
    GridRun,
    Outcome,
    claim_directory,
    finished_report,
    number,
    run_grid,
)
from pinn.studies.memory import PeakMemory
from samplers.pool import FRESH

KIND = "density"
"""The study's kind in its marker ``study.json``."""

FAILED = "failed"
"""Status of a run whose process died (e.g. killed for memory); it is tried again on a rerun."""

WARMUP_STEPS = 2
PROBE_STEPS = 5
PROBE_SECONDS = 0.5
"""Training steps of the probe: warm-up steps whose memory is counted, then timed ones (at least
PROBE_STEPS, and until PROBE_SECONDS have passed)."""

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

CONVERGED = 0.9
"""``until_converged`` stops doubling a batch's budget once the full-batch arm's error at the end is at
least CONVERGED × its error at half the steps: it fell by less than 10 % over the second half."""

MAX_DOUBLINGS = 3
"""``until_converged`` without ``max_steps`` goes up to 2**MAX_DOUBLINGS × ``steps``."""

ARMS = (
    "full-sobol",
    "full-uniform",
    "full-sobol+lbfgs",
    "pool4",
    "pool16",
    "pool64",
    "pool256",
    "fresh-sobol",
    "fresh-uniform",
    "rad",
)
"""The default arms."""

ARM_FORMS = (
    "full-sobol, full-uniform, pool<k> or pool<k>-uniform (k ≥ 2), fresh-sobol, fresh-uniform, rad; "
    "+lbfgs after full-sobol or full-uniform"
)
ARM_PATTERN = re.compile(r"(full|fresh)-(sobol|uniform)|pool([0-9]+)(-sobol|-uniform)?|rad")


@dataclass(frozen=True)
class Arm:
    """How a run chooses its points (module docstring): ``kind`` full, pool, fresh or rad; the base rule;
    the pool's size as a multiple of the batch (pool arms); whether L-BFGS follows (full arms)."""

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
        """Distinct points ``steps`` Adam steps can see: the set; the pool, or the steps × B it served when
        that is fewer; steps × B fresh; RAD's candidate draws."""
        if self.kind == "fresh":
            return batch * steps
        if self.kind == "rad":
            return RAD_CANDIDATES * batch * (1 + max(steps - 1, 0) // refresh_every)
        return min(self.multiple * batch, max(steps, 1) * batch)


def parse_arm(name: str) -> Arm:
    """The arm named ``name`` (module docstring), under its canonical name (``pool16-sobol`` is ``pool16``);
    ValueError naming the valid forms otherwise."""
    text, lbfgs = (name[: -len("+lbfgs")], True) if name.endswith("+lbfgs") else (name, False)
    match = ARM_PATTERN.fullmatch(text)
    if match is None or (match.group(3) is not None and int(match.group(3)) < 2):
        raise ValueError(f"unknown arm '{name}'; valid: {ARM_FORMS}")
    if match.group(1) is not None:
        kind, base, multiple = match.group(1), match.group(2), 1
    elif match.group(3) is not None:
        kind, base, multiple = "pool", (match.group(4) or "-sobol")[1:], int(match.group(3))
    else:
        kind, base, multiple = "rad", "sobol", 1
    if lbfgs and kind != "full":
        raise ValueError(
            f"arm '{name}': +lbfgs follows only a full-batch arm (full-sobol+lbfgs, full-uniform+lbfgs); L-BFGS "
            "needs one fixed set of points, and on a fixed B-subset a pool, fresh or RAD arm gives up its density"
        )
    canonical = {"full": f"full-{base}", "fresh": f"fresh-{base}", "rad": "rad"}.get(kind)
    canonical = canonical or f"pool{multiple}" + ("-uniform" if base == "uniform" else "")
    return Arm(canonical + ("+lbfgs" if lbfgs else ""), kind, base, multiple, lbfgs)


@dataclass(frozen=True)
class Cell:
    """One run of the study: an arm at a batch size and a seed, with ``steps`` Adam steps, or as many as
    its probe says fit in ``wall_s`` seconds."""

    arm: Arm
    batch: int
    seed: int
    steps: int | None = None
    wall_s: float | None = None

    @property
    def name(self) -> str:
        budget = f"t{self.wall_s:g}s" if self.wall_s is not None else f"n{self.steps}"
        return f"{self.arm.name}-b{self.batch}-{budget}-s{self.seed}"

    def settings(self, lbfgs_steps: int) -> dict[str, object]:
        """The run's solver settings without its budget."""
        return {**self.arm.settings(self.batch, lbfgs_steps), "seed": self.seed}


def density_study(
    problem: Problem,
    arms: Sequence[str],
    batches: Sequence[int],
    out: str | Path,
    seeds: Sequence[int] = (0,),
    workers: int = 1,
    progress: bool = True,
    until_converged: bool = False,
    max_steps: int | None = None,
    wall_s: float | None = None,
    **settings: object,
) -> list[dict]:
    """Run every arm × batch × seed (module docstring), then write the study's files; returns the rows.

    Raises ``ValueError`` before anything is written for bad settings or an ``out`` that is
    not this study's.
    """
    from pinn.studies.density_report import write_results  # the report imports matplotlib when it plots

    if multiprocessing.parent_process() is not None:
        raise RuntimeError(
            "density_study was called while a child process imported the calling script again; "
            'call it under `if __name__ == "__main__":`'
        )
    parsed = study_arms(arms, batches, seeds)
    check_settings(problem, settings, workers)
    lbfgs_steps = settings.pop("lbfgs_steps", None)
    lbfgs_steps = LBFGS_STEPS if lbfgs_steps is None else lbfgs_steps
    steps = Config.build(problem.defaults, {**settings, "lbfgs_steps": 0}).steps
    settings.pop("steps", None)
    reference = check_budget(parsed, steps, until_converged, max_steps, wall_s)
    for arm in parsed:
        for batch in batches:
            Config.build(problem.defaults, {**settings, "steps": steps, **arm.settings(batch, lbfgs_steps)})
    out = claim_directory(out, KIND, problem)

    def run(cells: Sequence[Cell]) -> dict[Cell, tuple[Outcome, dict]]:
        return run_cells(problem, cells, settings, lbfgs_steps, out, workers, progress)

    budgets, trials = {b: steps for b in batches}, []
    if until_converged:
        budgets, trials = converged_budgets(problem, reference, batches, seeds, steps, max_steps, run, out)
    cells = [
        Cell(arm, batch, seed, None if wall_s else budgets[batch], wall_s)
        for arm in parsed
        for batch in batches
        for seed in seeds
    ]
    outcomes = run(cells)
    rows = [result_row(problem, cell, *outcomes[cell], out) for cell in cells]
    budget = {"wall_s": wall_s} if wall_s else {"steps": steps}
    if until_converged:
        budget = {"until_converged from steps": steps, "max_steps": max_steps or steps * 2**MAX_DOUBLINGS}
    shown = {**settings, **budget, "lbfgs_steps (+lbfgs arms)": lbfgs_steps}
    write_results(problem, rows, shown, out, trials)
    return rows


def study_arms(arms: Sequence[str], batches: Sequence[int], seeds: Sequence[int]) -> list[Arm]:
    """The parsed arms; ValueError for an empty list, a repeat (also under another name) or a bad name or batch."""
    for what, values in (("arm", arms), ("batch size", batches), ("seed", seeds)):
        if not values:
            raise ValueError(f"the density study needs at least one {what}")
        if len(set(values)) != len(values):
            raise ValueError(f"the density study's {what}s repeat: {', '.join(map(str, values))}")
    parsed = [parse_arm(a) for a in arms]
    names = [a.name for a in parsed]
    if len(set(names)) != len(names):
        raise ValueError(f"the density study's arms repeat under other names: {', '.join(arms)} are {', '.join(names)}")
    for batch in batches:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch sizes must be positive integers, got {batch!r}")
    return parsed


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


def check_budget(
    arms: Sequence[Arm], steps: int, until_converged: bool, max_steps: int | None, wall_s: float | None
) -> Arm | None:
    """Raise for a budget that contradicts itself (module docstring); the full-batch arm ``until_converged``
    runs first (None without it)."""
    if wall_s is not None:
        if isinstance(wall_s, bool) or not isinstance(wall_s, (int, float)) or not math.isfinite(wall_s) or wall_s <= 0:
            raise ValueError(f"wall_s must be a positive number of seconds, got {wall_s!r}")
        if until_converged:
            raise ValueError("give either wall_s (equal wall time) or until_converged (equal steps), not both")
        lbfgs = [a.name for a in arms if a.lbfgs]
        if lbfgs:
            raise ValueError(f"arm '{lbfgs[0]}': a study at equal wall time runs Adam only; leave out the +lbfgs arms")
    if max_steps is not None:
        if not until_converged:
            raise ValueError("max_steps bounds until_converged; without it every run takes steps")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < steps:
            raise ValueError(f"max_steps must be an integer of at least steps ({steps}), got {max_steps!r}")
    if not until_converged:
        return None
    full = [a for a in arms if a.kind == "full" and not a.lbfgs]
    if not full:
        raise ValueError("until_converged runs the full-batch arm first; add full-sobol or full-uniform to the arms")
    return full[0]


def converged_budgets(
    problem: Problem,
    reference: Arm,
    batches: Sequence[int],
    seeds: Sequence[int],
    steps: int,
    max_steps: int | None,
    run: Callable[[Sequence[Cell]], dict],
    out: Path,
) -> tuple[dict[int, int], list[dict]]:
    """Per batch, the budget at which ``reference`` has converged (module docstring), and every budget tried:
    ``{"batch", "steps", "end_over_half", "converged", "seeds"}``."""
    from pinn.studies.density_report import end_over_half

    limit = max_steps if max_steps is not None else steps * 2**MAX_DOUBLINGS
    budgets, trials, open_batches = {b: steps for b in batches}, [], list(batches)
    while open_batches:
        cells = [Cell(reference, b, seed, budgets[b]) for b in open_batches for seed in seeds]
        outcomes = run(cells)
        for batch in list(open_batches):
            rows = [result_row(problem, c, *outcomes[c], out) for c in cells if c.batch == batch]
            ratio = min((end_over_half(rows, field) for field in problem.fields), default=float("nan"))
            converged = ratio >= CONVERGED
            trials.append(
                {"batch": batch, "steps": budgets[batch], "end_over_half": ratio, "converged": converged, "rows": rows}
            )
            if converged or budgets[batch] * 2 > limit:
                open_batches.remove(batch)
            else:
                budgets[batch] *= 2
    return budgets, trials


def run_cells(
    problem: Problem, cells: Sequence[Cell], settings: dict, lbfgs_steps: int, out: Path, workers: int, progress: bool
) -> dict[Cell, tuple[Outcome, dict]]:
    """Each cell's outcome and probe: read back when done, else solved in a child process, ``workers`` at a time,
    the largest batches first (the longest runs, so that the others fill in). A child that dies fails its own
    run only."""
    done, pending = {}, []
    for cell in cells:
        found = done_cell(problem, cell, settings, lbfgs_steps, out, SKIPPED)
        if found is not None:
            done[cell] = found
        else:
            pending.append(cell)
    if progress:
        print(f"{len(done)} of {len(cells)} runs done earlier; {len(pending)} to run", file=sys.stderr, flush=True)
    pending.sort(key=lambda cell: -cell.batch)
    context = process_context()
    threads = max(1, torch.get_num_threads() // workers)
    running: dict[int, tuple[multiprocessing.Process, Cell]] = {}
    finished = 0
    while pending or running:
        while pending and len(running) < workers:
            cell = pending.pop(0)
            args = (problem.name, problem.params, cell, settings, lbfgs_steps, out, threads)
            process = context.Process(target=solve_cell, args=args, name=cell.name)
            process.start()
            running[process.sentinel] = (process, cell)
        for sentinel in multiprocessing.connection.wait(list(running)):
            process, cell = running.pop(sentinel)
            process.join()
            found = done_cell(problem, cell, settings, lbfgs_steps, out, FINISHED)
            if found is None:
                run = GridRun(cell.name, {})
                found = (Outcome(run, FAILED, None, f"its process ended with exit code {process.exitcode}"), {})
            done[cell] = found
            finished += 1
            if progress:
                total = finished + len(pending) + len(running)
                print(f"run {finished} of {total}: {cell.name} {found[0].status}", file=sys.stderr, flush=True)
    return done


def process_context() -> multiprocessing.context.BaseContext:
    """A forkserver that imported this module (module docstring), or spawn where there is no forkserver."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__, *PRELOAD])
    return context


def cell_run(problem: Problem, cell: Cell, settings: dict, lbfgs_steps: int, probe: dict | None) -> GridRun | None:
    """The solve of ``cell``; None for a run at equal wall time whose probe is not made yet."""
    steps = cell.steps
    if cell.wall_s is not None:
        if probe is None:
            return None
        steps = wall_steps(probe, cell.wall_s)
    return GridRun(cell.name, {**settings, **cell.settings(lbfgs_steps), "steps": steps})


def wall_steps(probe: dict, wall_s: float) -> int:
    """Adam steps that take about ``wall_s`` seconds at the probe's speed (at least one)."""
    return max(1, round(wall_s * probe["steps_per_s"]))


def done_cell(
    problem: Problem, cell: Cell, settings: dict, lbfgs_steps: int, out: Path, status: str
) -> tuple[Outcome, dict] | None:
    """The cell's outcome and probe when its run has finished (as ``status``) or diverged; None otherwise."""
    directory = out / cell.name
    probe = read_probe(directory, probe_key(cell, settings, lbfgs_steps))
    run = cell_run(problem, cell, settings, lbfgs_steps, probe)
    if run is None or probe is None:
        return None
    config = Config.build(problem.defaults, run.settings)
    report = finished_report(directory, problem, config)
    if report is not None:
        return Outcome(run, status, report), probe
    report = read_json(directory / "report.json")
    recorded = json.loads(json.dumps(config.to_dict()))
    if report is not None and report.get("status") == DIVERGED and report.get("config") == recorded:
        return Outcome(run, DIVERGED, report), probe
    return None


def solve_cell(
    problem_name: str, params: dict, cell: Cell, settings: dict, lbfgs_steps: int, out: Path, threads: int
) -> None:
    """In the child, on ``threads`` torch threads: probe the training step once, solve, measure; all into files."""
    torch.set_num_threads(threads)
    problem = pdes.get(problem_name, **params)
    directory = io.ensure_writable_dir(out / cell.name)
    key = probe_key(cell, settings, lbfgs_steps)
    probe = read_probe(directory, key)
    if probe is None:
        config = Config.build(problem.defaults, {**settings, **cell.settings(lbfgs_steps)})
        probe = probe_training(problem, config)
        io.write_json(directory / "probe.json", strict_json({**probe, "key": key}, replicates=0))
    run = cell_run(problem, cell, settings, lbfgs_steps, probe)
    outcome = run_grid(problem, [run], out, progress=False)[0]
    if outcome.report is not None:
        study_errors(problem, directory)


def probe_key(cell: Cell, settings: dict, lbfgs_steps: int) -> dict:
    """What a probe depends on: the run's settings but its budget."""
    return json.loads(json.dumps({**settings, **cell.settings(lbfgs_steps)}, default=str))


def read_probe(directory: Path, key: dict) -> dict | None:
    """The probe in ``directory`` when it was made for ``key``."""
    found = read_json(directory / "probe.json")
    return found if found is not None and found.get("key") == key else None


def study_errors(problem: Problem, directory: Path) -> dict:
    """The run's errors by the study's rule (``pinn.studies.errors``), kept in ``errors.json`` with the
    digest of the report they were measured for."""
    path = directory / "errors.json"
    rule = error_rule(problem)
    key = {"rule": rule.kind, "report_sha256": hashlib.sha256((directory / "report.json").read_bytes()).hexdigest()}
    found = read_json(path)
    if found is not None and found.get("key") == key:
        return found
    result = load(directory, problem)
    errors = {"rule": rule.kind, "fields": integrated_errors(rule, result.predict), "key": key}
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
    steps (at least PROBE_STEPS, until PROBE_SECONDS have passed), measured outside that count.
    """
    training_step(problem, dataclasses.replace(config, batch=RUNTIME_BATCH))()
    with PeakMemory(config.torch_device) as memory:
        step = training_step(problem, config)
        for _ in range(WARMUP_STEPS):
            step()
    synchronize(config.torch_device)
    start, taken = time.perf_counter(), 0
    while taken < PROBE_STEPS or time.perf_counter() - start < PROBE_SECONDS:
        step()
        synchronize(config.torch_device)
        taken += 1
    elapsed = time.perf_counter() - start
    return {"steps_per_s": taken / elapsed, "train_memory_mb": memory.mb}


def training_step(problem: Problem, config: Config) -> Callable[[], None]:
    """A new run as the solver makes it (``pinn.step.setup``); calling the result takes one Adam step."""
    run, state = setup(problem, config)
    return lambda: adam_step(run, state, next_batches(run, state))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def result_row(problem: Problem, cell: Cell, outcome: Outcome, probe: dict, out: Path) -> dict:
    """The study.h5 row of one run, its history under ``_history`` (NaN where a run has no report). ``steps``
    are the Adam steps the run took (fewer than its budget when it diverged)."""
    report = outcome.report or {}
    config = report.get("config", {})
    steps = min(report.get("steps_done", 0), config.get("steps", 0))
    row = {
        "run": cell.name,
        "arm": cell.arm.name,
        "kind": cell.arm.kind,
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
