"""Accuracy and wall time of ``pinn solve heat1d`` and ``pinn solve heat2d`` with their defaults.

    python benchmarks/heat_accuracy.py [--problems heat1d,heat2d] [--record]

Targets (foundation issue, 2-core CPU): heat1d rel L2 <= 1e-3 in <= 90 s,
heat2d rel L2 <= 2e-3 in <= 180 s. With --record each problem's row replaces its section of
benchmarks/RESULTS.md (benchmarks/recorder.py).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recorder import record, status, table_rows

TARGETS = {"heat1d": (1e-3, 90.0), "heat2d": (2e-3, 180.0)}


def run(problem: str, extra: list[str]) -> dict:
    """One ``pinn solve`` in a child process, as a user runs it; returns report.json and the outer wall time."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        command = [sys.executable, "-m", "pinn", "solve", problem, "--out", out, *extra]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        report = json.loads(Path(out, "report.json").read_text())
    return {"report": report, "process_wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="heat1d,heat2d")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args, extra = parser.parse_known_args()
    rows = [
        "| problem | rel L2 (u) | target | solve wall s | process wall s | target s | steps/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for problem in args.problems.split(","):
        result = run(problem, extra)
        report = result["report"]
        error = report["errors"]["u"]["rel_l2"]
        target_error, target_time = TARGETS.get(problem, (float("nan"), float("nan")))
        rows.append(
            f"| {problem} | {error:.2e} | {target_error:.0e} | {report['wall_time_s']:.1f} | "
            f"{result['process_wall_s']:.1f} | {target_time:.0f} | {report['steps_per_s']:.1f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    if args.record:
        command = "python benchmarks/heat_accuracy.py " + " ".join(sys.argv[1:])
        for r in table_rows(table):  # one section and one target per problem
            met = float(r["rel L2 (u)"]) <= float(r["target"]) and float(r["process wall s"]) <= float(r["target s"])
            value = f"{r['rel L2 (u)']} in {r['process wall s']} s (process wall)"
            one = "\n".join(rows[:2] + [line for line in rows[2:] if line.startswith(f"| {r['problem']} |")])
            targets = {r["problem"]: (value, status(met))} if r["problem"] in TARGETS else None
            record("heat_accuracy", r["problem"], command, one, targets,
                   title=f"Heat accuracy: {r['problem']} (benchmarks/heat_accuracy.py)")  # fmt: skip


if __name__ == "__main__":
    main()
