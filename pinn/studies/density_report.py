"""The density study's files: study.h5, study.md and the plots, from one row per run (``pinn.studies.density``).

Every figure over seeds is the geometric mean of the runs of an arm at a batch size, with the
range ``[min, max]`` of its seeds as its interval; a run that diverged or failed is left out of
its cell, and a cell that lacks a seed says so ("2 of 3 seeds") and neither separates nor reaches
an error. Two complete cells *separate* when their ranges are disjoint; for two cells of n seeds
each drawn from the same distribution that happens with probability ``2·n!²/(2n)!`` (0.1 at
n = 3), and the study states its power to see a 2× difference (``separation_power``: the chance
that the ranges separate when one cell's errors are twice the other's, with the seeds' spread
measured in the study) and the chance that the best of its arms separates from the full batch
when no arm differs (``selection_false_positive``: picking the best first makes that likelier).

Files, in the study's directory:

- ``study.h5`` (attribute ``format``: DENSITY_FORMAT): one row per run (``run``, ``arm``,
  ``kind``, ``family``, ``batch``, ``seed``, ``status``, ``steps`` (taken), ``lbfgs_steps``,
  ``distinct_points``, ``rel_l2/<field>`` and ``rel_l2_se/<field>`` by the study's error rule, per
  interior term ``estimate``, ``std_error``, ``grad_var_trace``, ``batch_grad_var``, ``grad_snr``,
  ``pool_loss``, ``fresh_loss``, ``pool_gap``, then ``train_memory_mb``, ``run_peak_memory_mb``,
  ``steps_per_s``, ``wall_time_s``) and every history (``history/<run>/step``, ``loss``,
  ``terms/<term>``, ``eval_step``, ``eval_wall_s``, ``rel_l2/<field>``, ``json``);
- ``study.md``: the tables (error at equal steps or equal wall time, minibatching against full
  batch, convergence of the full-batch arm at each budget tried, the generalization gap, the points
  needed for an error, power, and every run);
- plots: ``study_error.png`` (error against distinct points at each batch, a line per family of arms,
  with the seeds' range), ``study_gap.png`` (loss on fresh points over loss on the training points,
  against distinct points), ``study_memory.png`` (error against memory per step, a line per arm),
  ``study_curves.png`` (error during training against steps and against wall time),
  ``study_noise.png`` and ``study_cost.png`` (noise, memory and speed against batch).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pdes.problem import Problem
from pinn import io
from pinn.report import interior_terms
from pinn.studies.grid import (
    DIVERGED,
    SUMMARY,
    TABLE,
    Panel,
    markdown_table,
    number,
    output_files,
    plot_file,
    plot_panels,
    write_columns,
)

NAN = float("nan")

PLOTS = ("error", "gap", "memory", "curves", "noise", "cost")
OUTPUTS = output_files(PLOTS)
"""The study's files in its output directory: study.json, study.h5, study.md and study_<plot>.png."""

THRESHOLDS = (1e-2, 1e-3)
"""Errors the "points needed" table asks for."""

POWER_TRIALS = 20000
POWER_SEED = 20261202
"""Monte Carlo trials (fixed seed) of ``separation_power``."""

DENSITY_FORMAT = "pinn-density-2"
"""The layout of study.h5 (2: budgets in run names, ``run`` and ``kind`` columns, diverged runs apart)."""

LEFT_OUT = (DIVERGED, "failed")
"""Statuses of runs left out of their cell."""

RULES = {
    "fem mesh": "the FEM mesh's Gauss rule (no sampling noise)",
    "sobol": "a fixed scrambled Sobol' set (its standard error in the run table)",
}
"""How each kind of error rule (``pinn.studies.errors``) is described."""


@dataclass(frozen=True)
class Spread:
    """A cell's figure over its seeds: geometric mean, min, max, how many finite values and of how many runs."""

    mean: float
    low: float
    high: float
    count: int
    runs: int

    @property
    def complete(self) -> bool:
        """Every run of the cell has a value."""
        return 0 < self.count == self.runs

    def __str__(self) -> str:
        if self.count == 0:
            return "—"
        missing = "" if self.complete else f" ({self.count} of {self.runs} seeds)"
        return f"{self.mean:.3g} [{self.low:.3g}, {self.high:.3g}]{missing}"

    def separates_from(self, other: Spread) -> bool:
        """Both cells complete and their ranges disjoint."""
        return self.complete and other.complete and (self.high < other.low or other.high < self.low)


def spread(values: Sequence[float]) -> Spread:
    """Geometric mean and range of the positive finite ``values`` (NaN and a count of 0 when there are none)."""
    kept = [v for v in values if math.isfinite(v) and v > 0]
    if not kept:
        return Spread(NAN, NAN, NAN, 0, len(values))
    return Spread(float(np.exp(np.mean(np.log(kept)))), min(kept), max(kept), len(kept), len(values))


def by_cell(rows: Sequence[dict], value: Callable[[dict], float]) -> dict[tuple[str, int], Spread]:
    """``{(arm, batch): Spread of value(row) over the cell's seeds}``, runs of LEFT_OUT statuses counted as missing."""
    cells: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        cells.setdefault((r["arm"], r["batch"]), []).append(NAN if r["status"] in LEFT_OUT else value(r))
    return {key: spread(values) for key, values in cells.items()}


def seed_spread(rows: Sequence[dict], field: str) -> float:
    """The pooled standard deviation of log10 of the error between seeds of the same cell (NaN without repeats)."""
    groups: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        v = r[f"rel_l2/{field}"]
        if r["status"] not in LEFT_OUT and math.isfinite(v) and v > 0:
            groups.setdefault((r["arm"], r["batch"]), []).append(math.log10(v))
    squares = sum(float(np.sum((np.array(g) - np.mean(g)) ** 2)) for g in groups.values())
    freedom = sum(len(g) - 1 for g in groups.values())
    return math.sqrt(squares / freedom) if freedom > 0 else NAN


def separation_power(sd: float, seeds: int, ratio: float = 2.0) -> float:
    """The chance that two cells of ``seeds`` runs, log10-normal with spread ``sd``, one ``ratio`` × the other,
    have disjoint ranges (POWER_TRIALS Monte Carlo trials, fixed seed); NaN where ``sd`` is."""
    if not math.isfinite(sd) or seeds < 1:
        return NAN
    generator = np.random.default_rng(POWER_SEED)
    a = generator.normal(0.0, sd, (POWER_TRIALS, seeds))
    b = generator.normal(math.log10(ratio), sd, (POWER_TRIALS, seeds))
    return float(np.mean((a.max(1) < b.min(1)) | (b.max(1) < a.min(1))))


def selection_false_positive(sd: float, seeds: int, arms: int) -> float:
    """The chance that, of ``arms`` cells identical to the full batch's (``seeds`` runs each, log10-normal with
    spread ``sd``), the one of lowest geometric mean separates from it (POWER_TRIALS trials, fixed seed)."""
    if not math.isfinite(sd) or seeds < 1 or arms < 1:
        return NAN
    generator = np.random.default_rng(POWER_SEED)
    full = generator.normal(0.0, sd, (POWER_TRIALS, seeds))
    others = generator.normal(0.0, sd, (POWER_TRIALS, arms, seeds))
    best = others[np.arange(POWER_TRIALS), others.mean(2).argmin(1)]
    return float(np.mean((full.max(1) < best.min(1)) | (best.max(1) < full.min(1))))


def arms_of(rows: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(r["arm"] for r in rows))


def batches_of(rows: Sequence[dict]) -> list[int]:
    return sorted({r["batch"] for r in rows})


def full_arm(rows: Sequence[dict]) -> str | None:
    """The full-batch arm the others are compared with: the study's first full arm without L-BFGS."""
    return next((r["arm"] for r in rows if r["kind"] == "full" and not r["arm"].endswith("+lbfgs")), None)


def write_results(problem: Problem, rows: list[dict], settings: dict, out: Path, trials: Sequence[dict] = ()) -> None:
    """study.h5, study.md and the plots (module docstring); ``trials`` are the budgets ``until_converged`` tried
    (``pinn.studies.density.converged_budgets``)."""
    columns = {key: [row[key] for row in rows] for key in rows[0] if key != "_history"}
    for row in rows:
        if row["_history"] is not None:
            columns.update(history_columns(row["run"], row["_history"]))
    attrs = {"format": DENSITY_FORMAT, "problem": problem.name, "params": problem.params, "settings": settings}
    write_columns(out / TABLE, columns, attrs)
    io.write_text(out / SUMMARY, study_markdown(problem, rows, settings, trials))
    plot_panels(out / plot_file("error"), error_panels(problem, rows), columns=len(batches_of(rows)))
    plot_panels(out / plot_file("gap"), gap_panels(problem, rows))
    plot_panels(out / plot_file("memory"), memory_panels(problem, rows))
    plot_panels(out / plot_file("curves"), curve_panels(problem, rows), columns=len(batches_of(rows)))
    plot_panels(out / plot_file("noise"), noise_panels(problem, rows))
    plot_panels(out / plot_file("cost"), cost_panels(rows))


def history_columns(name: str, history: dict) -> dict[str, list]:
    """study.h5 datasets ``history/<name>/…`` of one run's history."""
    prefix = f"history/{name}"
    columns = {
        f"{prefix}/step": list(history["step"]),
        f"{prefix}/loss": list(history["loss"]),
        f"{prefix}/eval_step": [e["step"] for e in history["eval"]],
        f"{prefix}/eval_wall_s": [e["wall_s"] for e in history["eval"]],
        f"{prefix}/json": [json.dumps(history)],
    }
    for term, values in history["terms"].items():
        columns[f"{prefix}/terms/{term}"] = list(values)
    for field in sorted({f for e in history["eval"] for f in e["errors"]}):
        columns[f"{prefix}/rel_l2/{field}"] = [number(e["errors"].get(field, {}), "rel_l2") for e in history["eval"]]
    return columns


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 or NaN."""
    return numerator / denominator if denominator != 0 and not math.isnan(denominator) else NAN


def gap(row: dict, term: str) -> float:
    """The loss on fresh points over the loss on the run's own points (NaN for runs without a fixed set)."""
    return ratio(row[f"fresh_loss/{term}"], row[f"pool_loss/{term}"])


def study_markdown(problem: Problem, rows: list[dict], settings: dict, trials: Sequence[dict] = ()) -> str:
    """study.md (module docstring)."""
    seeds = sorted({r["seed"] for r in rows})
    shared = ", ".join(f"{k}={v}" for k, v in settings.items())
    rules = {r["error_rule"] for r in rows if r["error_rule"]}
    rule = " and ".join(RULES.get(kind, kind) for kind in sorted(rules)) or "no rule (no run finished)"
    parts = [
        f"# Collocation density study: {problem.name} {problem.params}\n\n",
        f"Shared settings: {shared}; {len(seeds)} seeds ({', '.join(map(str, seeds))}) per cell. Errors are relative "
        f"L2 errors against the reference integrated by {rule}; a cell is the geometric mean [min, max] over its "
        "seeds, and two cells separate when their ranges are disjoint. Memory is the peak of tensor memory in "
        "training (model, optimizer state, pools and a step, counted by torch's allocator).\n",
    ]
    wall_s = settings.get("wall_s")
    equal = f"equal wall time ({wall_s:g} s of Adam steps each)" if wall_s else "equal steps"
    for field in problem.fields:
        parts += [f"\n## Relative L2 error of {field} at {equal}\n\n", error_table(rows, field)]
        if wall_s:
            parts += [best_batches(rows, field)]
    parts += [f"\n## Minibatching against full batch, {equal} and memory\n\n", versus_full(problem, rows)]
    parts += ["\n## Convergence of the full-batch arm\n\n", convergence_table(problem, rows, trials)]
    terms = [t.name for t in interior_terms(problem)]
    for term in terms:
        parts += [
            f"\n## Generalization gap: loss of {term} on fresh points over its loss on the training points\n\n",
            cell_table(rows, by_cell(rows, lambda r, t=term: gap(r, t))),
        ]
    parts += ["\n## Points needed\n\n", points_needed(problem, rows)]
    parts += ["\n## Power\n\n", power_text(problem, rows)]
    parts += ["\n## Every run\n\n", run_table(problem, rows, terms)]
    return "".join(parts)


def cell_table(rows: Sequence[dict], cells: dict[tuple[str, int], Spread]) -> str:
    """Arms down, batch sizes across, each cell's Spread."""
    batches = batches_of(rows)
    table = [[arm] + [str(cells.get((arm, b), spread([]))) for b in batches] for arm in arms_of(rows)]
    return markdown_table(["arm"] + [f"batch {b}" for b in batches], table)


def error_table(rows: Sequence[dict], field: str) -> str:
    return cell_table(rows, by_cell(rows, lambda r: r[f"rel_l2/{field}"]))


def best_against_full(cells: dict[tuple[str, int], Spread], full: str, batch: int) -> tuple[Spread, str, Spread] | None:
    """The full-batch arm ``full`` at ``batch`` and the best other Adam-only arm there (lowest geometric mean
    of a complete cell); None when either is missing."""
    others = [
        (s.mean, arm)
        for (arm, b), s in cells.items()
        if b == batch and arm != full and not arm.endswith("+lbfgs") and s.complete
    ]
    if (full, batch) not in cells or not cells[(full, batch)].count or not others:
        return None
    best = min(others)[1]
    return cells[(full, batch)], best, cells[(best, batch)]


def versus_full(problem: Problem, rows: Sequence[dict]) -> str:
    """Per field and batch: the full-batch arm, the best other arm (Adam against Adam), their ratio, whether they
    separate, and the full batch with L-BFGS where the study has it."""
    full = full_arm(rows)
    table = []
    for field in problem.fields:
        cells = by_cell(rows, lambda r, f=field: r[f"rel_l2/{f}"])
        for batch in batches_of(rows):
            found = best_against_full(cells, full, batch)
            if found is None:
                continue
            full_error, best, best_error = found
            separate = "yes" if full_error.separates_from(best_error) else "no"
            lbfgs = cells.get((f"{full}+lbfgs", batch), spread([]))
            table.append(
                [field, batch, str(full_error), best, str(best_error), ratio(full_error.mean, best_error.mean)]
                + [separate, str(lbfgs)]
            )
    headers = ["field", "batch", f"{full}", "best other arm", "its error", "full / best", "separate"]
    headers += [f"{full}+lbfgs"]
    if not table:
        return "No full-batch cell to compare with.\n"
    note = (
        "Every arm here takes Adam steps only, the same for all; L-BFGS needs one fixed loss, so only the full "
        "batch has it at its memory, in the last column.\n\n"
    )
    return note + markdown_table(headers, table)


def history_errors(row: dict, field: str) -> tuple[list[int], list[float], list[float]]:
    """The run's evaluations: steps, wall seconds and the error of ``field`` (the solver's evaluation points)."""
    history = row["_history"] or {"eval": []}
    entries = [e for e in history["eval"] if field in e["errors"]]
    return (
        [e["step"] for e in entries],
        [e["wall_s"] for e in entries],
        [number(e["errors"][field], "rel_l2") for e in entries],
    )


def error_at(row: dict, field: str, step: int) -> float:
    """The error of ``field`` at the run's last evaluation at or before ``step`` (NaN when there is none)."""
    steps, _, errors = history_errors(row, field)
    before = [e for s, e in zip(steps, errors) if s <= step]
    return before[-1] if before else NAN


def end_over_half(rows: Sequence[dict], field: str) -> float:
    """The geometric mean over ``rows`` (runs of one cell) of the error of ``field`` at the end of their Adam steps
    over that at half of them (the solver's evaluations); NaN when no run has both."""
    runs = [r for r in rows if r["status"] not in LEFT_OUT and r["_history"] is not None]
    half = spread([error_at(r, field, r["steps"] // 2) for r in runs])
    end = spread([error_at(r, field, r["steps"]) for r in runs])
    return ratio(end.mean, half.mean) if half.complete and end.complete else NAN


def convergence_table(problem: Problem, rows: Sequence[dict], trials: Sequence[dict] = ()) -> str:
    """The full-batch arm's error at half, three quarters and all of its Adam steps, and end / half: at every
    budget ``until_converged`` tried, or at the study's budget."""
    full = full_arm(rows)
    if trials:
        cells = [(t["rows"], t["converged"]) for t in trials]
    else:
        cells = [([r for r in rows if r["arm"] == full and r["batch"] == b], None) for b in batches_of(rows)]
    table = []
    for field in problem.fields:
        for runs, converged in cells:
            runs = [r for r in runs if r["_history"] is not None]
            if not runs:
                continue
            kept = [r for r in runs if r["status"] not in LEFT_OUT]
            at = [spread([error_at(r, field, int(r["steps"] * f)) for r in kept]) for f in (0.5, 0.75, 1.0)]
            steps = max(r["steps"] for r in runs)
            line = [field, runs[0]["batch"], steps, *map(str, at), end_over_half(runs, field)]
            table.append(line + ([] if converged is None else ["yes" if converged else "no"]))
    headers = ["field", "batch", "Adam steps", "error at ½ of the steps", "at ¾", "at the end", "end / half"]
    headers += ["converged"] if trials else []
    note = (
        f"{full}: errors of the solver's evaluations during training (its fixed Sobol' evaluation points), geometric "
        "mean [min, max] over seeds. An end / half ratio near 1 means the error had stopped falling"
        + (" (converged: at least 0.9, every field)" if trials else "")
        + ".\n\n"
    )
    return note + markdown_table(headers, table) if table else "No full-batch runs with a history.\n"


def best_batches(rows: Sequence[dict], field: str) -> str:
    """The batch of lowest error per arm (equal wall time: which batch size is best in the same time)."""
    cells = by_cell(rows, lambda r: r[f"rel_l2/{field}"])
    best = []
    for arm in arms_of(rows):
        candidates = [(s.mean, b) for (a, b), s in cells.items() if a == arm and s.count]
        if candidates:
            best.append(f"{arm}: batch {min(candidates)[1]}")
    return f"\nBest batch of each arm for {field} in the same wall time: {'; '.join(best)}.\n"


def points_needed(problem: Problem, rows: Sequence[dict]) -> str:
    """Per field and error: the fewest distinct points, and the smallest batch, of cells whose every seed reached it."""
    table = []
    for field in problem.fields:
        cells = by_cell(rows, lambda r, f=field: r[f"rel_l2/{f}"])
        distinct = by_cell(rows, lambda r: float(r["distinct_points"]))
        for threshold in THRESHOLDS:
            met = [(arm, b) for (arm, b), s in cells.items() if s.complete and s.high <= threshold]
            if not met:
                table.append([field, threshold, "not reached", "—", "not reached", "—"])
                continue
            fewest = min(met, key=lambda key: (distinct[key].high, key[1]))
            smallest = min(met, key=lambda key: (key[1], distinct[key].high))
            table.append(
                [
                    field,
                    threshold,
                    f"{distinct[fewest].high:.0f}",
                    f"{fewest[0]}, batch {fewest[1]}",
                    smallest[1],
                    f"{smallest[0]} ({distinct[smallest].high:.0f} points)",
                ]
            )
    headers = ["field", "error", "fewest distinct points", "by", "smallest batch", "by"]
    return "A cell reaches an error when every seed's error is at most it.\n\n" + markdown_table(headers, table)


def power_text(problem: Problem, rows: Sequence[dict]) -> str:
    seeds = len({r["seed"] for r in rows})
    others = len([a for a in arms_of(rows) if a != full_arm(rows) and not a.endswith("+lbfgs")])
    lines = []
    for field in problem.fields:
        sd = seed_spread(rows, field)
        lines.append(
            f"- {field}: the seeds' pooled standard deviation of log10 error is {sd:.3g} ({10**sd:.3g}× in error); "
            f"with {seeds} seeds a cell's range separates from one with twice its error with probability "
            f"{separation_power(sd, seeds):.2f}, and from an identical one with probability "
            f"{separation_power(sd, seeds, 1.0):.2f}; the best of {others} arms no different from the full batch "
            f"separates from it with probability {selection_false_positive(sd, seeds, others):.2f}."
        )
    return "\n".join(lines) + "\n"


def run_table(problem: Problem, rows: Sequence[dict], terms: Sequence[str]) -> str:
    headers = ["arm", "batch", "seed", "status", "steps", "L-BFGS", "distinct points"]
    headers += [f"rel L2 {f}" for f in problem.fields] + [f"± {f}" for f in problem.fields]
    for t in terms:
        headers += [f"fresh/train loss {t}", f"rel std error {t}", f"grad SNR {t}"]
    headers += ["memory (MiB)", "steps/s", "wall (s)"]
    table = []
    for r in rows:
        line = [r["arm"], r["batch"], r["seed"], r["status"], r["steps"], r["lbfgs_steps"], r["distinct_points"]]
        line += [r[f"rel_l2/{f}"] for f in problem.fields] + [r[f"rel_l2_se/{f}"] for f in problem.fields]
        for t in terms:
            line += [gap(r, t), ratio(r[f"std_error/{t}"], r[f"estimate/{t}"]), r[f"grad_snr/{t}"]]
        line += [r["train_memory_mb"], r["steps_per_s"], r["wall_time_s"]]
        table.append(line)
    return markdown_table(headers, table)


def family_lines(
    rows: Sequence[dict], batch: int, value: Callable[[dict], float], x: Callable[[dict], float]
) -> tuple[dict, dict]:
    """Series and spreads of the cells at ``batch``, one line per family of arms, in order of ``x``."""
    series, spreads = {}, {}
    at_batch = [r for r in rows if r["batch"] == batch]
    cells = by_cell(at_batch, value)
    xs = by_cell(at_batch, x)
    for family in dict.fromkeys(r["family"] for r in at_batch):
        arms = sorted({r["arm"] for r in at_batch if r["family"] == family}, key=lambda a: xs[(a, batch)].high)
        points = [(xs[(a, batch)].high, cells[(a, batch)]) for a in arms]
        series[family] = ([p for p, _ in points], [s.mean for _, s in points])
        spreads[family] = ([s.low for _, s in points], [s.high for _, s in points])
    return series, spreads


def error_panels(problem: Problem, rows: Sequence[dict]) -> list[Panel]:
    """(i) Error against distinct points at each batch, a line per family, the seeds' range as bars."""
    panels = []
    for field in problem.fields:
        for batch in batches_of(rows):
            series, spreads = family_lines(
                rows, batch, lambda r, f=field: r[f"rel_l2/{f}"], lambda r: float(r["distinct_points"])
            )
            panels.append(
                Panel(
                    f"{problem.name}: {field}, batch {batch}",
                    "distinct collocation points",
                    f"relative L2 error of {field}",
                    series,
                    spreads,
                )
            )
    return panels


def gap_panels(problem: Problem, rows: Sequence[dict]) -> list[Panel]:
    """(ii) Loss on fresh points over loss on the training points against distinct points, per interior term."""
    panels = []
    for term in (t.name for t in interior_terms(problem)):
        series, spreads = {}, {}
        for batch in batches_of(rows):
            lines, bars = family_lines(rows, batch, lambda r, t=term: gap(r, t), lambda r: float(r["distinct_points"]))
            for family, line in lines.items():
                series[f"batch {batch}, {family}"] = line
                spreads[f"batch {batch}, {family}"] = bars[family]
        panels.append(
            Panel(
                f"{term}: generalization gap",
                "distinct collocation points",
                "fresh loss / training loss",
                series,
                spreads,
            )
        )
    return panels


def memory_panels(problem: Problem, rows: Sequence[dict]) -> list[Panel]:
    """(iii) Error against the memory of a training step, one line per arm (its batch sizes)."""
    panels = []
    memory = by_cell(rows, lambda r: r["train_memory_mb"])
    for field in problem.fields:
        errors = by_cell(rows, lambda r, f=field: r[f"rel_l2/{f}"])
        series, spreads = {}, {}
        for arm in arms_of(rows):
            keys = [(arm, b) for b in batches_of(rows) if (arm, b) in errors]
            series[arm] = ([memory[k].mean for k in keys], [errors[k].mean for k in keys])
            spreads[arm] = ([errors[k].low for k in keys], [errors[k].high for k in keys])
        panels.append(
            Panel(
                f"{problem.name}: {field} against memory",
                "peak tensor memory of training (MiB)",
                f"relative L2 error of {field}",
                series,
                spreads,
            )
        )
    return panels


def curve_panels(problem: Problem, rows: Sequence[dict]) -> list[Panel]:
    """Error of the first field during training, per batch: against steps, then against wall time (mean of seeds)."""
    field = problem.fields[0]
    panels = []
    for axis, label in ((0, "Adam steps"), (1, "wall time (s)")):
        for batch in batches_of(rows):
            series = {}
            for arm in arms_of(rows):
                runs = [
                    history_errors(r, field) for r in rows if r["arm"] == arm and r["batch"] == batch and r["_history"]
                ]
                if not runs:
                    continue
                length = min(len(run[0]) for run in runs)
                xs = [float(np.mean([run[axis][i] for run in runs])) for i in range(length)]
                ys = [spread([run[2][i] for run in runs]).mean for i in range(length)]
                series[arm] = (xs, ys)
            panels.append(
                Panel(f"{field}, batch {batch}", label, f"relative L2 error of {field} (evaluation points)", series)
            )
    return panels


def noise_panels(problem: Problem, rows: Sequence[dict]) -> list[Panel]:
    """Relative standard error and minibatch gradient variance of each interior term against batch, per arm."""
    panels = []
    for t in (term.name for term in interior_terms(problem)):
        stderr = by_cell(rows, lambda r, t=t: ratio(r[f"std_error/{t}"], r[f"estimate/{t}"]))
        variance = by_cell(rows, lambda r, t=t: r[f"batch_grad_var/{t}"])
        panels += [
            Panel(f"{t}: noise of the loss estimate", "batch size", "std error / estimate", per_arm(rows, stderr)),
            Panel(
                f"{t}: minibatch gradient variance",
                "batch size",
                "tr Cov(g) / batch (pools: × (1 − B/N))",
                per_arm(rows, variance),
            ),
        ]
    return panels


def cost_panels(rows: Sequence[dict]) -> list[Panel]:
    """Peak tensor memory of training and steps per second against batch, per arm."""
    memory = per_arm(rows, by_cell(rows, lambda r: r["train_memory_mb"]))
    speed = per_arm(rows, by_cell(rows, lambda r: r["steps_per_s"]))
    return [
        Panel("memory of training (model, optimizer, pools, a step)", "batch size", "peak tensor memory (MiB)", memory),
        Panel("speed", "batch size", "Adam steps per second", speed),
    ]


def per_arm(rows: Sequence[dict], cells: dict[tuple[str, int], Spread]) -> dict[str, tuple[list, list]]:
    """A line per arm: its cells' geometric means against batch."""
    lines = {}
    for arm in arms_of(rows):
        batches = [b for b in batches_of(rows) if (arm, b) in cells]
        lines[arm] = (batches, [cells[(arm, b)].mean for b in batches])
    return lines
