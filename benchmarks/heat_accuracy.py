"""Accuracy and wall time of ``pinn solve heat1d`` and ``pinn solve heat2d`` with their defaults.

    python benchmarks/heat_accuracy.py [--problems heat1d,heat2d] [--record]

Targets (foundation issue, 2-core CPU): heat1d rel L2 <= 1e-3 in <= 90 s,
heat2d rel L2 <= 2e-3 in <= 180 s. With --record the table is appended to
benchmarks/RESULTS.md.
"""

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

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
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
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
        header = (
            f"\n### Heat accuracy ({datetime.date.today()}, {platform.processor() or platform.machine()}, "
            f"{torch.get_num_threads()} threads, torch {torch.__version__})\n\n`{command}`\n\n"
        )
        with open(Path(__file__).parent / "RESULTS.md", "a") as results:
            results.write(header + table + "\n")


if __name__ == "__main__":
    main()
