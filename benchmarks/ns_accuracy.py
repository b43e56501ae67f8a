"""Accuracy and time of ``pinn solve`` with each Navier–Stokes problem's defaults (issue 6 targets).

    python benchmarks/ns_accuracy.py [--cases kovasznay,cavity_smooth,cavity_classic,taylor_green]
                                     [--record] [extra pinn solve options, e.g. --device cuda]

Targets: kovasznay u, v <= 1e-3 and p <= 1e-2 in <= 10 min; cavity Re=100 smooth lid u, v <= 1e-2
in <= 20 min, classic lid <= 5e-2; taylor_green u, v <= 5e-3. The table gives the errors, the
solve's wall time, the child process's CPU time (on a shared machine the wall time also counts
other processes; with one thread the CPU time is what a quiet core would take), the load
average when the run started, and the seconds into the run at which max(u, v error) first fell
to 1e-1 … 1e-3.
"""

import argparse
import sys

from ns_common import CASES, LEVELS, met, solve, time_to_levels
from recorder import record, status, table_rows


def row(case: str, result: dict) -> str:
    report = result["report"]
    errors = report["errors"]
    spec = CASES[case]
    reached = time_to_levels(result["history"])
    times = " / ".join("-" if reached[level] is None else f"{reached[level]:.0f}" for level in LEVELS)
    time_target = "-" if spec["time_s"] is None else f"{spec['time_s']}"
    return (
        f"| {case} | {errors['u']['rel_l2']:.2e} | {errors['v']['rel_l2']:.2e} | {errors['p']['rel_l2']:.2e} | "
        f"{'yes' if met(report, spec['targets']) else 'NO'} | {report['wall_time_s']:.0f} | {result['cpu_s']:.0f} | "
        f"{time_target} | {result['load']:.1f} | {report['device']} | {times} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args, extra = parser.parse_known_args()
    rows = [
        "| case | u rel L2 | v rel L2 | p rel L2 (up to const.) | targets met | solve wall s | CPU s | "
        "target s | load | device | s to u,v ≤ " + " / ".join(f"{level:g}" for level in LEVELS) + " |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in args.cases.split(","):
        rows.append(row(case, solve(case, extra)))
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    if args.record:
        command = "python benchmarks/ns_accuracy.py " + " ".join(sys.argv[1:])
        for r in table_rows(table):  # one section and one target per case
            one = "\n".join(rows[:2] + [line for line in rows[2:] if line.startswith(f"| {r['case']} |")])
            value = f"u {r['u rel L2']}, v {r['v rel L2']}, p {r['p rel L2 (up to const.)']} in {r['solve wall s']} s"
            in_time = r["target s"] == "-" or float(r["solve wall s"]) <= float(r["target s"])
            targets = {r["case"]: (value, status(r["targets met"] == "yes" and in_time))}
            on_cpu = r["device"] == "cpu"  # a GPU run gets its own section and leaves the CPU targets alone
            section = r["case"] if on_cpu else f"{r['case']}_{r['device']}"
            record("ns_accuracy", section, command, one, targets if on_cpu else None,
                   title=f"Navier–Stokes accuracy: {r['case']} (benchmarks/ns_accuracy.py)")  # fmt: skip


if __name__ == "__main__":
    main()
