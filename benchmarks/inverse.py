"""Inverse problems: the registered ones against their known answers, and the viscosity's error against noise and N.

    python benchmarks/inverse.py [--cases kovasznay,cavity,heat,noise] [--seeds 0,1,2] [--noise-steps A,L] [--record]

Every solve runs in this process on one torch thread, with the problem's own defaults
(``pdes.inverse.INVERSE_DEFAULTS``); seed ``s`` is both the solver's seed and the seed of the
synthetic observations (``data_seed``). CPU s is this process's CPU time during the solve.

``inverse_problems`` (cases kovasznay, cavity, heat): per problem and seed the inferred value over the
true one and its relative error (for heat2d_varcoef_inverse the conductivity field's relative L2 error),
the fields' relative L2 errors against the reference, the RMS of each data residual against the noise's
standard deviation σ, and the CPU time. Targets, each for the worst of the seeds:

- ``inverse_kovasznay_nu``: kovasznay_inverse, ν within 1 % (100 samples of u, v, 1 % noise);
- ``inverse_cavity_re``: cavity_inverse, Re within 2 % (200 samples, 1 % noise);
- ``inverse_heat_kappa``: heat2d_varcoef_inverse, conductivity rel L2 ≤ 5 % (400 samples, 1 % noise).

``inverse_noise`` (case noise): kovasznay_inverse's ν relative error against the noise level (0, 0.01,
0.05 at 100 points) and against the number of observations (25, 100, 400 at 1 % noise), each for every
seed: a table of the mean and the min–max over the seeds, and a plot of both
(``benchmarks/results/inverse/inverse_noise.png``). No pass mark. Runs shared between the cases (100
points at 1 % noise) are solved once.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from recorder import RESULTS_DIR, record, span, status

import pdes
import pinn

CASES = ("kovasznay", "cavity", "heat", "noise")
PROBLEMS = {
    # case: (problem, unknown, target, target id, what the target says)
    "kovasznay": ("kovasznay_inverse", "nu", 0.01, "inverse_kovasznay_nu", "ν within 1 %"),
    "cavity": ("cavity_inverse", "re", 0.02, "inverse_cavity_re", "Re within 2 %"),
    "heat": ("heat2d_varcoef_inverse", "k", 0.05, "inverse_heat_kappa", "conductivity rel L2 ≤ 5 %"),
}
NOISE_LEVELS = (0.0, 0.01, 0.05)
NOISE_POINTS = 100
COUNTS = (25, 100, 400)
COUNT_NOISE = 0.01
PLOT = RESULTS_DIR / "inverse" / "inverse_noise.png"

_solved: dict[tuple, dict] = {}


def solve(problem: str, seed: int, settings: dict | None = None, **params) -> dict:
    """One solve of ``problem`` (``params`` for pdes.get) with its defaults, or ``settings`` over them: the report
    and the CPU seconds."""
    settings = settings or {}
    inverse = pdes.get(problem, data_seed=seed, **params)
    key = (problem, seed, tuple(sorted(inverse.params.items())), tuple(sorted(settings.items())))
    if key not in _solved:
        start = time.process_time()
        report = pinn.solve(inverse, seed=seed, progress=False, **settings).report
        _solved[key] = {"report": report, "cpu_s": time.process_time() - start}
    return _solved[key]


def error_of(case: str, report: dict) -> float:
    """The case's measure: the unknown coefficient's relative error, or the unknown field's relative L2 error."""
    _, unknown, *_ = PROBLEMS[case]
    entry = report["unknowns"][unknown]
    return entry["rel_error"] if entry["kind"] == "coefficient" else entry["rel_l2"]


def inferred(case: str, report: dict) -> str:
    """``value / true`` for a coefficient, ``field`` for an unknown field."""
    _, unknown, *_ = PROBLEMS[case]
    entry = report["unknowns"][unknown]
    if entry["kind"] != "coefficient":
        return f"{unknown}(x, y) field"
    return f"{unknown} = {entry['value']:.5g} / {entry['true']:.5g}"


def data_fit(report: dict) -> str:
    """``name rms / σ`` for each data term: the residual's RMS over the observations against the noise."""
    cells = []
    for term, entry in report["data"].items():
        name = term.removeprefix("data_")
        sigma = entry["noise"].get(name, 0.0)
        cells.append(f"{name} {entry['residual_rms']:.2e} / {sigma:.2e}")
    return ", ".join(cells)


def problems_section(cases: list[str], seeds: list[int]) -> tuple[str, dict, list[str]]:
    """The ``inverse_problems`` body, its targets and the printed lines."""
    rows = [
        "| problem | seed | inferred / true | rel error (field: rel L2) | fields' rel L2 | data residual RMS / σ | "
        "CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    worst_lines, targets = [], {}
    for case in cases:
        problem, _, target, target_id, says = PROBLEMS[case]
        errors = []
        for seed in seeds:
            run = solve(problem, seed)
            report = run["report"]
            errors.append(error_of(case, report))
            fields = ", ".join(f"{name} {e['rel_l2']:.2e}" for name, e in report["errors"].items())
            rows.append(
                f"| {problem} | {seed} | {inferred(case, report)} | {errors[-1]:.2e} | {fields} | "
                f"{data_fit(report)} | {run['cpu_s']:.0f} |"
            )
            print(rows[-1], flush=True)
        worst = max(errors)
        worst_seed = seeds[errors.index(worst)]
        met = worst <= target
        worst_lines.append(
            f"- {problem}: worst seed {worst_seed}, {worst:.2e} against the target {target:.0e} "
            f"({says}): {status(met)}."
        )
        targets[target_id] = (f"worst of seeds {span(seeds)}: {worst:.2e} (seed {worst_seed})", status(met))
    note = (
        "Each problem with its defaults (`pdes.inverse.INVERSE_DEFAULTS`), seed s the solver's and the "
        "observations' (`data_seed`); one torch thread, CPU s this process's during the solve. Fields' rel L2 "
        "against the reference as report.json gives them (k: the inferred conductivity against the true one); "
        "data residual RMS over the observations against the noise's σ."
    )
    body = f"{note}\n\n" + "\n".join(rows) + "\n\n" + "\n".join(worst_lines)
    return body, targets, worst_lines


def noise_section(seeds: list[int], settings: dict) -> str:
    """The ``inverse_noise`` body (and the plot it links); ``settings`` over the problem's defaults."""
    by_noise = {level: [noise_error(NOISE_POINTS, level, s, settings) for s in seeds] for level in NOISE_LEVELS}
    by_count = {n: [noise_error(n, COUNT_NOISE, s, settings) for s in seeds] for n in COUNTS}
    rows = [
        "| observations | noise | ν rel error, mean | min–max over seeds | per seed |",
        "|---|---|---|---|---|",
    ]
    for points, level, errors in [(NOISE_POINTS, k, v) for k, v in by_noise.items()] + [
        (k, COUNT_NOISE, v) for k, v in by_count.items()
    ]:
        rows.append(
            f"| {points} | {level:g} | {mean(errors):.2e} | {min(errors):.2e}–{max(errors):.2e} | "
            f"{', '.join(f'{e:.2e}' for e in errors)} |"
        )
    plot(by_noise, by_count, seeds)
    link = PLOT.relative_to(RESULTS_DIR.parent)
    given = ", ".join(f"{k}={v}" for k, v in settings.items())
    note = (
        f"kovasznay_inverse with its defaults{f' but {given}' if given else ''}, seeds {span(seeds)} (solver and "
        "observations): ν's relative error "
        f"against the noise level at {NOISE_POINTS} observations, and against the number of observations at "
        f"{COUNT_NOISE:g} noise (the row {NOISE_POINTS} / {COUNT_NOISE:g} is the same runs in both). No pass mark."
    )
    return f"{note}\n\n![ν error against noise and observations]({link})\n\n" + "\n".join(rows)


def noise_error(points: int, level: float, seed: int, settings: dict) -> float:
    """kovasznay_inverse's ν relative error from ``points`` observations with ``level`` noise, for ``seed``."""
    run = solve("kovasznay_inverse", seed, settings, points=points, noise=level)
    error = error_of("kovasznay", run["report"])
    print(f"kovasznay_inverse, {points} points, noise {level:g}, seed {seed}: {error:.2e}, {run['cpu_s']:.0f} CPU s")
    return error


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def plot(by_noise: dict, by_count: dict, seeds: list[int]) -> None:
    """Two panels, error against noise and against N: a point per seed and the mean, log y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    panels = [
        (axes[0], by_noise, "noise (relative σ)", f"{NOISE_POINTS} observations"),
        (axes[1], by_count, "observations N", f"{COUNT_NOISE:g} noise"),
    ]
    for ax, series, xlabel, title in panels:
        xs = list(series)
        positions = list(range(len(xs)))
        for i, seed in enumerate(seeds):
            values = [max(series[x][i], 1e-12) for x in xs]
            ax.plot(positions, values, "o", alpha=0.6, label=f"seed {seed}")
        ax.plot(positions, [mean(series[x]) for x in xs], "k-s", label="mean")
        ax.set_xticks(positions, [f"{x:g}" for x in xs])
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ν relative error")
        ax.set_title(f"kovasznay_inverse, {title}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=120)
    plt.close(fig)
    print(f"wrote {PLOT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    parser.add_argument(
        "--noise-steps", metavar="ADAM,LBFGS", help="the noise case's steps instead of the defaults, e.g. 1000,2000"
    )
    args = parser.parse_args()
    cases = args.cases.split(",")
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {', '.join(unknown)}; valid: {', '.join(CASES)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(1)
    command = "python benchmarks/inverse.py " + " ".join(sys.argv[1:])
    start = time.process_time()
    problems = [case for case in cases if case in PROBLEMS]
    if problems:
        body, targets, lines = problems_section(problems, seeds)
        print("\n".join(lines))
        if args.record:
            record("inverse", "inverse_problems", command, body, targets,
                   title="Inverse problems against their known answers (benchmarks/inverse.py)")  # fmt: skip
    if "noise" in cases:
        settings = {}
        if args.noise_steps:
            adam, lbfgs = (int(n) for n in args.noise_steps.split(","))
            settings = {"steps": adam, "lbfgs_steps": lbfgs}
        body = noise_section(seeds, settings)
        print(body)
        if args.record:
            title = "Inverse problems: ν's error against noise and observations (benchmarks/inverse.py)"
            record("inverse", "inverse_noise", command, body, title=title)
    total = time.process_time() - start
    print(f"total CPU time {total:.0f} s ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
