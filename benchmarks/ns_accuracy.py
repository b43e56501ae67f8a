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

from ns_common import CASES, LEVELS, met, record, solve, time_to_levels


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
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
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
        record("Navier–Stokes accuracy with the defaults", command, table)


if __name__ == "__main__":
    main()
