"""The collocation density study: error, quadrature noise and cost per pool size × batch size × rule.

    pinn study density heat2d --pool 1000,10000,100000,fresh --batch 256,1024,4096 \\
        --sampler uniform,sobol --budget-s 20 --out DIR

Every combination trains with the ``pool`` rule: ``pool`` points drawn once by the base rule
(``sampler``) and served as minibatches of ``batch`` points, or (``fresh``) a new draw of the
base rule every step. Combinations whose pool is smaller than the batch are left out. Each run
takes ``steps`` Adam steps or, with ``budget_s``, as many as fit in that many seconds at the
speed the probe measured (evaluations and statistics come on top). L-BFGS is off unless set:
it trains on one fixed batch, which would blur the comparison of densities.

Each combination runs in a child process started by a forkserver (a process that imported the
package once and never trained), so that every run starts with a clean heap and no OpenMP
threads; the problem is rebuilt there from the registry, and torch gets the parent's number
of threads. The child first probes the training step, kept in ``DIR/<run>/probe.json``: its
peak tensor memory over building the model, optimizer and pools and WARMUP_STEPS steps
(``pinn.studies.memory``: the peak of torch's allocator above what was allocated before,
counted by the profiler on the CPU and by the CUDA allocator on a GPU, to the byte), and the
speed of the next PROBE_STEPS steps; then it solves with ``pinn.studies.grid.run_grid`` into
``DIR/<run>/`` (finished runs are skipped, interrupted ones resumed). The memory column
(``train_memory_mb``) is therefore that of training: the model and its optimizer state, the
pools and a step's activations; the solve's own ``peak_memory_mb`` (the process's peak
resident set on the CPU, which also holds evaluation, the end-of-run statistics and the
interpreter) is kept as ``run_peak_memory_mb``.

``DIR`` is the study's own: new, empty, or an earlier density study of the same problem,
recognised by ``DIR/study.json`` (its marker, written first;
``pinn.studies.grid.claim_directory``); a directory that holds a solve run, a norm study or
other files is refused before anything is written.

Results (the files of every study, ``pinn.studies.grid``):

- ``DIR/study.h5``: one row per combination, datasets ``sampler``, ``pool``, ``batch``,
  ``status``, ``steps``, ``distinct_points`` (the pool size, or steps × batch for fresh points,
  whichever is smaller), ``rel_l2/<field>``, ``max_abs/<field>``, per term ``estimate/<term>``,
  ``std_error/<term>``, ``grad_var_trace/<term>``, ``batch_grad_var/<term>`` (the variance of
  the minibatch gradient, ``minibatch_gradient_variance``),
  ``grad_snr/<term>``, ``pool_loss/<term>``, ``fresh_loss/<term>``, ``pool_gap/<term>`` (NaN for
  fresh points), ``train_memory_mb``, ``run_peak_memory_mb``, ``steps_per_s``, ``wall_time_s``;
  and per run ``history/<run>/step``, ``loss``, ``terms/<term>``, ``eval_step``,
  ``rel_l2/<field>`` and ``json`` (the whole history);
- ``DIR/study.md``: the table, and the error as pool × batch for each rule;
- ``DIR/study_error.png`` (error against distinct points, a line per batch, a panel per rule),
  ``study_noise.png`` (relative standard error of each interior term's loss and its
  minibatch gradient variance against batch) and ``study_cost.png`` (memory and steps/s
  against batch).
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import torch

import pdes
import samplers
from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.report import interior_terms, strict_json
from pinn.step import adam_step, next_batches, setup
from pinn.studies.grid import (
    SKIPPED,
    SUMMARY,
    TABLE,
    GridRun,
    Outcome,
    Panel,
    claim_directory,
    finished_report,
    markdown_table,
    number,
    output_files,
    plot_file,
    plot_panels,
    run_grid,
    write_columns,
)
from pinn.studies.memory import PeakMemory
from samplers.pool import FRESH, pool_size

NAN = float("nan")
KIND = "density"
"""The study's kind in its marker ``study.json``."""

PLOTS = ("error", "noise", "cost")
OUTPUTS = output_files(PLOTS)
"""The study's files in its output directory: study.json, study.h5, study.md and study_<plot>.png."""

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

STUDY_SETS = ("sampler", "base_sampler", "pool", "batch")
"""Solver settings the study sets itself for each combination."""


@dataclass(frozen=True)
class Combination:
    """One point of the grid: the base rule, the pool size (or ``fresh``) and the batch size."""

    sampler: str
    pool: int | str
    batch: int

    @property
    def name(self) -> str:
        return f"{self.sampler}-pool{self.pool}-b{self.batch}"

    def settings(self) -> dict[str, object]:
        return {"sampler": "pool", "base_sampler": self.sampler, "pool": self.pool, "batch": self.batch}


def density_study(
    problem: Problem,
    pools: Sequence[int | str],
    batches: Sequence[int],
    rules: Sequence[str],
    out: str | Path,
    budget_s: float | None = None,
    progress: bool = True,
    **settings: object,
) -> list[dict]:
    """Run every combination (module docstring), write study.h5, study.md and the plots; returns the rows.

    Raises ``ValueError`` before anything is written for bad settings or an ``out`` that is
    not this study's (module docstring).
    """
    combinations, left_out = grid(pools, batches, rules)
    check_settings(problem, settings, budget_s)
    settings = {"lbfgs_steps": 0, **settings}
    for combination in combinations:
        Config.build(problem.defaults, {**settings, **combination.settings()})
    out = claim_directory(out, KIND, problem)
    rows = []
    for index, combination in enumerate(combinations, 1):
        if progress:
            print(f"run {index} of {len(combinations)}: {combination.name}", file=sys.stderr, flush=True)
        outcome, probe = run_combination(problem, combination, settings, budget_s, out, progress)
        rows.append(result_row(problem, combination, outcome, probe, out))
    write_results(problem, rows, combinations, left_out, settings, budget_s, out)
    return rows


def grid(
    pools: Sequence[int | str], batches: Sequence[int], rules: Sequence[str]
) -> tuple[list[Combination], list[Combination]]:
    """The combinations to run (rule, then pool, then batch) and those left out because pool < batch."""
    if not pools or not batches or not rules:
        raise ValueError("the density study needs at least one pool size, one batch size and one sampler")
    for pool in pools:
        pool_size(pool)
    for rule in rules:
        samplers.get("pool", base=rule)
    everything = [Combination(s, p, b) for s in rules for p in pools for b in batches]
    kept = [c for c in everything if c.pool == FRESH or c.pool >= c.batch]
    if not kept:
        raise ValueError(f"every pool ({', '.join(map(str, pools))}) is smaller than every batch; nothing to run")
    return kept, [c for c in everything if c not in kept]


def check_settings(problem: Problem, settings: dict, budget_s: float | None) -> None:
    """Raise for settings the study sets itself, for steps together with a budget, or an unregistered problem."""
    taken = sorted(set(STUDY_SETS) & {k for k, v in settings.items() if v is not None})
    if taken:
        raise ValueError(f"the density study sets '{taken[0]}' itself; give pools, batches and samplers as lists")
    if budget_s is not None:
        if settings.get("steps") is not None:
            raise ValueError("give either steps or a time budget, not both")
        if not budget_s > 0:
            raise ValueError(f"the time budget must be positive seconds, got {budget_s}")
    if problem.name not in pdes.names():
        raise ValueError(
            f"the density study rebuilds the problem in child processes from the registry; "
            f"'{problem.name}' is not registered (registered: {', '.join(pdes.names())})"
        )


def run_combination(
    problem: Problem, combination: Combination, settings: dict, budget_s: float | None, out: Path, progress: bool
) -> tuple[Outcome, dict]:
    """The combination's outcome and probe: read back when finished, else solved in a child process."""
    directory = out / combination.name
    probe = read_probe(directory)
    run_settings = {**settings, **combination.settings()}
    if probe is not None:
        run = GridRun(combination.name, with_budget(run_settings, probe, budget_s))
        report = finished_report(directory, problem, Config.build(problem.defaults, run.settings))
        if report is not None:
            if progress:
                print(f"  finished earlier: {combination.name}", file=sys.stderr, flush=True)
            return Outcome(run, SKIPPED, report), probe
    run = GridRun(combination.name, run_settings)
    task = (problem.name, problem.params, run, out, budget_s, progress, torch.get_num_threads())
    try:
        return in_child_process(solve_combination, *task)
    except BrokenProcessPool as error:
        return Outcome(run, FAILED, None, f"the run's process died: {error}"), {}


def in_child_process(function, *args):
    """``function(*args)`` in a fresh child of a forkserver (spawned where there is none).

    As with any spawned process, the child imports the parent's ``__main__`` module again: a
    script that runs a study needs the ``if __name__ == "__main__":`` guard.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__, *PRELOAD])
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
        return executor.submit(function, *args).result()


def solve_combination(
    problem_name: str, params: dict, run: GridRun, out: Path, budget_s: float | None, progress: bool, threads: int
) -> tuple[Outcome, dict]:
    """In the child (on the parent's number of torch threads): probe the training step once, then solve."""
    torch.set_num_threads(threads)
    problem = pdes.get(problem_name, **params)
    directory = io.ensure_writable_dir(out / run.name)
    probe = read_probe(directory)
    if probe is None:
        probe = probe_training(problem, Config.build(problem.defaults, run.settings))
        io.write_json(directory / "probe.json", strict_json(probe, replicates=0))
    run = GridRun(run.name, with_budget(run.settings, probe, budget_s))
    return run_grid(problem, [run], out, progress)[0], probe


def read_probe(directory: Path) -> dict | None:
    path = directory / "probe.json"
    return json.loads(path.read_text()) if path.is_file() else None


def with_budget(settings: dict, probe: dict, budget_s: float | None) -> dict:
    """``settings`` with the Adam steps that fit ``budget_s`` at the probed speed (unchanged without a budget)."""
    if budget_s is None:
        return settings
    return {**settings, "steps": max(1, int(budget_s * probe["steps_per_s"]))}


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


def result_row(problem: Problem, combination: Combination, outcome: Outcome, probe: dict, out: Path) -> dict:
    """The study.h5 row of one combination, its history under ``_history`` (NaN where a run has no report)."""
    report = outcome.report or {}
    steps = report.get("config", {}).get("steps", 0)
    distinct = (
        combination.batch * steps if combination.pool == FRESH else min(combination.pool, combination.batch * steps)
    )
    row = {
        "sampler": combination.sampler,
        "pool": str(combination.pool),
        "batch": combination.batch,
        "status": outcome.status,
        "steps": steps,
        "distinct_points": distinct,
    }
    errors = report.get("errors", {})
    for name in problem.fields:
        row[f"rel_l2/{name}"] = number(errors.get(name, {}), "rel_l2")
        row[f"max_abs/{name}"] = number(errors.get(name, {}), "max_abs")
    quadrature = report.get("quadrature", {})
    for term in problem.terms:
        stats = quadrature.get(term.name, {})
        for key in ("estimate", "std_error", "grad_var_trace", "grad_snr", "pool_loss", "fresh_loss", "pool_gap"):
            row[f"{key}/{term.name}"] = number(stats, key)
        row[f"batch_grad_var/{term.name}"] = minibatch_gradient_variance(
            number(stats, "grad_var_trace"), combination.batch, combination.pool
        )
    row["train_memory_mb"] = number(probe, "train_memory_mb")
    row["run_peak_memory_mb"] = number(report, "peak_memory_mb")
    row["steps_per_s"] = number(report, "steps_per_s")
    row["wall_time_s"] = number(report, "wall_time_s")
    row["_history"] = read_history(out / combination.name) if outcome.report is not None else None
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


def history_columns(name: str, history: dict) -> dict[str, list]:
    """study.h5 datasets ``history/<name>/…`` of one run's history."""
    prefix = f"history/{name}"
    columns = {
        f"{prefix}/step": list(history["step"]),
        f"{prefix}/loss": list(history["loss"]),
        f"{prefix}/eval_step": [e["step"] for e in history["eval"]],
        f"{prefix}/json": [json.dumps(history)],
    }
    for term, values in history["terms"].items():
        columns[f"{prefix}/terms/{term}"] = list(values)
    fields = sorted({f for e in history["eval"] for f in e["errors"]})
    for field in fields:
        columns[f"{prefix}/rel_l2/{field}"] = [number(e["errors"].get(field, {}), "rel_l2") for e in history["eval"]]
    return columns


def write_results(
    problem: Problem,
    rows: list[dict],
    combinations: Sequence[Combination],
    left_out: Sequence[Combination],
    settings: dict,
    budget_s: float | None,
    out: Path,
) -> None:
    """study.h5, study.md and the three plots (module docstring)."""
    columns = {key: [row[key] for row in rows] for key in rows[0] if key != "_history"}
    for combination, row in zip(combinations, rows):
        if row["_history"] is not None:
            columns.update(history_columns(combination.name, row["_history"]))
    attrs = {"problem": problem.name, "params": problem.params, "settings": settings, "budget_s": budget_s}
    write_columns(out / TABLE, columns, attrs)
    io.write_text(out / SUMMARY, study_markdown(problem, rows, left_out, settings, budget_s))
    plot_panels(out / plot_file("error"), error_panels(problem, rows))
    plot_panels(out / plot_file("noise"), noise_panels(problem, rows))
    plot_panels(out / plot_file("cost"), cost_panels(rows))


def study_markdown(
    problem: Problem, rows: list[dict], left_out: Sequence[Combination], settings: dict, budget_s: float | None
) -> str:
    """study.md: settings, the table of every combination, and the error as pool × batch per rule."""
    terms = [t.name for t in interior_terms(problem)]
    headers = ["sampler", "pool", "batch", "status", "steps"]
    headers += [f"rel L2 {f}" for f in problem.fields]
    for t in terms:
        headers += [f"fresh/pool loss {t}", f"rel std error {t}", f"batch grad var {t}", f"grad SNR {t}"]
    headers += ["memory (MiB)", "steps/s", "wall (s)"]
    table = []
    for r in rows:
        line = [r["sampler"], r["pool"], r["batch"], r["status"], r["steps"]]
        line += [r[f"rel_l2/{f}"] for f in problem.fields]
        for t in terms:
            line += [
                ratio(r[f"fresh_loss/{t}"], r[f"pool_loss/{t}"]),
                ratio(r[f"std_error/{t}"], r[f"estimate/{t}"]),
                r[f"batch_grad_var/{t}"],
                r[f"grad_snr/{t}"],
            ]
        line += [r["train_memory_mb"], r["steps_per_s"], r["wall_time_s"]]
        table.append(line)
    shared = ", ".join(f"{k}={v}" for k, v in settings.items())
    length = f"a budget of {budget_s:g} s of Adam steps per run" if budget_s is not None else "fixed steps"
    parts = [
        f"# Collocation density study: {problem.name} {problem.params}\n\n",
        f"Shared settings: {shared}; {length}. Memory is the peak of tensor memory in training (model, "
        "optimizer state, pools and a step, counted by torch's allocator), "
        "fresh/pool loss the loss on fresh points over the loss on the pool, rel std error the "
        "replicate standard deviation of the loss estimate over the estimate, batch grad var "
        "tr Cov(per-point gradient) / batch (times 1 − batch/pool for pools).\n\n",
        markdown_table(headers, table),
    ]
    if left_out:
        parts.append(f"\nLeft out (pool smaller than batch): {', '.join(c.name for c in left_out)}.\n")
    pools = list(dict.fromkeys(r["pool"] for r in rows))
    batch_sizes = sorted({r["batch"] for r in rows})
    for rule in dict.fromkeys(r["sampler"] for r in rows):
        for f in problem.fields:
            cells = {(r["pool"], r["batch"]): r[f"rel_l2/{f}"] for r in rows if r["sampler"] == rule}
            pivot = [[p] + [cells.get((p, b), NAN) for b in batch_sizes] for p in pools]
            parts += [
                f"\n## Relative L2 error of {f}, {rule} pools\n\n",
                markdown_table(["pool"] + [f"batch {b}" for b in batch_sizes], pivot),
            ]
    return "".join(parts)


def series(rows: list[dict], key, x: str, y) -> dict[str, tuple[list[float], list[float]]]:
    """Lines labelled ``key(row)``, points ``(row[x], y(row))`` in row order."""
    lines: dict[str, tuple[list[float], list[float]]] = {}
    for r in rows:
        xs, ys = lines.setdefault(key(r), ([], []))
        xs.append(r[x])
        ys.append(y(r))
    return lines


def error_panels(problem: Problem, rows: list[dict]) -> list[Panel]:
    """Final error of each field against the distinct points seen, a line per batch, a panel per rule."""
    return [
        Panel(
            f"{problem.name}: {f}, {rule} pools (fresh: steps × batch)",
            "distinct collocation points (pool size)",
            f"relative L2 error of {f}",
            series(
                [r for r in rows if r["sampler"] == rule],
                lambda r: f"batch {r['batch']}",
                "distinct_points",
                lambda r, f=f: r[f"rel_l2/{f}"],
            ),
        )
        for f in problem.fields
        for rule in dict.fromkeys(r["sampler"] for r in rows)
    ]


def noise_panels(problem: Problem, rows: list[dict]) -> list[Panel]:
    """Relative standard error and minibatch gradient variance of each interior term against batch.

    A pool of exactly one batch is served whole at every step: its standard error is zero up
    to round-off and is left out of the plot.
    """
    random = [r for r in rows if r["pool"] != str(r["batch"])]
    panels = []
    for t in (term.name for term in interior_terms(problem)):
        panels += [
            Panel(
                f"{t}: noise of the loss estimate",
                "batch size",
                "std error / estimate",
                series(random, rule_and_pool, "batch", lambda r, t=t: ratio(r[f"std_error/{t}"], r[f"estimate/{t}"])),
            ),
            Panel(
                f"{t}: minibatch gradient variance",
                "batch size",
                "tr Cov(g) / batch (pools: × (1 − B/N))",
                series(rows, rule_and_pool, "batch", lambda r, t=t: r[f"batch_grad_var/{t}"]),
            ),
        ]
    return panels


def cost_panels(rows: list[dict]) -> list[Panel]:
    """Peak tensor memory of training and steps per second against batch."""
    memory = series(rows, rule_and_pool, "batch", lambda r: r["train_memory_mb"])
    speed = series(rows, rule_and_pool, "batch", lambda r: r["steps_per_s"])
    return [
        Panel("memory of training (model, optimizer, pools, a step)", "batch size", "peak tensor memory (MiB)", memory),
        Panel("speed", "batch size", "Adam steps per second", speed),
    ]


def rule_and_pool(row: dict) -> str:
    """The line label of a row in plots against batch."""
    return f"{row['sampler']}, pool {row['pool']}"


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 or NaN."""
    return numerator / denominator if denominator != 0 and not math.isnan(denominator) else NAN
