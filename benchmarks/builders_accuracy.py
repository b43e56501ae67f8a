"""Accuracy of the builders' registered problems with their defaults: heat_plate and cylinder against their FEM
references and (cylinder) the published Schäfer–Turek 2D-1 values.

    python benchmarks/builders_accuracy.py [--cases heat_plate,cylinder] [--seeds 0] [--set key=value ...] [--record]

Every solve runs in this process on one torch thread (``pinn.solve(pdes.get(name), seed=s, progress=False,
**overrides)``); CPU s is this process's CPU time (``time.process_time``) during the solve. Per case, a
markdown table: seed, steps done, CPU s, the rel L2 error of every field, and for each quantity the
PINN's value, the FEM reference's and the published one (where the problem states it) with the
relative errors (report.json's ``quantities``). Targets (issue acceptance), each for the worst seed:

- ``heat_plate``: heat_plate with its defaults, PINN rel L2(u) ≤ 1e-2 against its FEM reference;
- ``cylinder_pinn``: cylinder with its defaults, u, v rel L2 ≤ 1e-2; drag, Δp within 2 %, lift within
  10 % of the published values.

``--set key=value`` (repeatable) overrides a solver setting (the value read as a Python literal where it is
one: ``--set steps=500 --set sampler=rad``), ``--param key=value`` a problem parameter (``pdes.get(name,
key=value)``, e.g. ``--param boundary_weight=10``); a run with either is not the defaults' run, and ``--record``
refuses it. With ``--record`` each case replaces its section (``builders_heat_plate``,
``builders_cylinder``) of benchmarks/RESULTS.md and its target row (benchmarks/recorder.py).
"""

from __future__ import annotations

import argparse
import ast
import sys
import time

import torch
from recorder import record, span, status

import pdes
import pinn

CASES = {
    # case: (section, target id, what the target says)
    "heat_plate": (
        "builders_heat_plate",
        "heat_plate",
        "heat_plate with its defaults: PINN rel L2(u) ≤ 1e-2 against its FEM reference",
    ),
    "cylinder": (
        "builders_cylinder",
        "cylinder_pinn",
        "cylinder with its defaults: u, v rel L2 ≤ 1e-2; drag, Δp within 2 %, lift within 10 % of the published values",
    ),
}
FIELD_TARGETS = {"heat_plate": {"u": 1e-2}, "cylinder": {"u": 1e-2, "v": 1e-2}}
"""Per case, field → the largest rel L2 the target allows."""
PUBLISHED_TARGETS = {"cylinder": {"drag": 0.02, "dp": 0.02, "lift": 0.10}}
"""Per case, quantity → the largest relative error against the published value the target allows."""


def parse_set(items: list[str]) -> dict[str, object]:
    """``["steps=500", "sampler=rad"]`` → ``{"steps": 500, "sampler": "rad"}`` (literals where they parse)."""
    settings = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set takes key=value, got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        settings[key.strip().replace("-", "_")] = value
    return settings


def solve(case: str, seed: int, settings: dict, params: dict) -> dict:
    """One solve of the registered problem ``case`` (``params`` for pdes.get): its report and the CPU seconds."""
    problem = pdes.get(case, **params)
    start = time.process_time()
    report = pinn.solve(problem, seed=seed, progress=False, **settings).report
    return {"report": report, "cpu_s": time.process_time() - start}


def number(value: float | None, form: str = ".4g") -> str:
    return "—" if value is None else format(value, form)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def case_table(case: str, runs: list[tuple[int, dict]]) -> list[str]:
    """The markdown table of ``case``: one row per seed."""
    first = runs[0][1]["report"]
    fields = list(first["errors"])
    quantities = list(first.get("quantities", {}))
    header = ["seed", "steps (Adam + L-BFGS)", "CPU s"] + [f"rel L2 {f}" for f in fields]
    published = [q for q in quantities if first["quantities"][q].get("published") is not None]
    for q in quantities:
        header += [f"{q} PINN", f"{q} FEM (PINN err)"]
        header += [f"{q} published (PINN err, FEM err)"] if q in published else []
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for seed, run in runs:
        report = run["report"]
        config = report["config"]
        steps = f"{report['steps_done']} ({config['steps']} + {config['lbfgs_steps']})"
        cells = [str(seed), steps, f"{run['cpu_s']:.0f}"]
        cells += [f"{report['errors'][f]['rel_l2']:.2e}" for f in fields]
        for q in quantities:
            e = report["quantities"][q]
            cells.append(number(e["value"]))
            cells.append(f"{number(e['reference'])} ({percent(e['rel_error'])})")
            if q in published:
                cells.append(
                    f"{number(e['published'])} ({percent(e['published_rel_error'])}, "
                    f"{percent(e.get('reference_published_rel_error'))})"
                )
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def verdict(case: str, runs: list[tuple[int, dict]]) -> tuple[bool, str]:
    """Whether every seed meets the case's target, and the worst values in words."""
    parts, met = [], True
    for field, limit in FIELD_TARGETS.get(case, {}).items():
        errors = [run["report"]["errors"][field]["rel_l2"] for _, run in runs]
        met = met and max(errors) <= limit
        parts.append(f"{field} {max(errors):.2e}")
    for name, limit in PUBLISHED_TARGETS.get(case, {}).items():
        errors = [run["report"]["quantities"][name]["published_rel_error"] for _, run in runs]
        worst = max(float("inf") if e is None else e for e in errors)
        met = met and worst <= limit
        parts.append(f"{name} {100 * worst:.2f} %")
    cpu = [run["cpu_s"] for _, run in runs]
    return met, f"worst of seeds {span([s for s, _ in runs])}: {', '.join(parts)} in {span(cpu)} CPU s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a solver setting override")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a problem parameter (pdes.get), e.g. boundary_weight=10 for cylinder",
    )
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    cases = args.cases.split(",")
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {', '.join(unknown)}; valid: {', '.join(CASES)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    settings, params = parse_set(args.set), parse_set(args.param)
    if args.record and (settings or params):
        parser.error("--record records the defaults' run: drop --set and --param")
    torch.set_num_threads(1)
    command = "python benchmarks/builders_accuracy.py " + " ".join(sys.argv[1:])
    for case in cases:
        section, target_id, says = CASES[case]
        runs = []
        for seed in seeds:
            runs.append((seed, solve(case, seed, settings, params)))
            print(f"{case} seed {seed} done, {runs[-1][1]['cpu_s']:.0f} CPU s", flush=True)
        rows = case_table(case, runs)
        met, value = verdict(case, runs)
        given = ", ".join(f"{k}={v}" for k, v in {**params, **settings}.items())
        problem = pdes.get(case, **params)
        note = (
            f"{case} ({', '.join(f'{k}={v}' for k, v in problem.params.items())}) with its defaults"
            f"{f' but {given}' if given else ''} "
            f"({', '.join(f'{k}={v}' for k, v in problem.defaults.items())}); one torch thread, CPU s this process's "
            "during the solve. Quantities: the PINN's value, the FEM reference's with the PINN's relative error "
            "against it, and where the problem states one the published value with the PINN's and the FEM's relative "
            "errors against it."
        )
        line = f"- `{target_id}` ({says}): {value}: {status(met)}."
        body = f"{note}\n\n" + "\n".join(rows) + f"\n\n{line}"
        print(f"\n### {case}\n\n{body}\n\nCommand: {command}\n", flush=True)
        if args.record:
            title = f"Builders' problems with their defaults: {case} (benchmarks/builders_accuracy.py)"
            record("builders_accuracy", section, command, body, {target_id: (value, status(met))}, title=title)


if __name__ == "__main__":
    main()
