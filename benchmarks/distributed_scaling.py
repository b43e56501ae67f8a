"""Weak scaling of training on several CPU processes: Adam steps/s at a fixed batch per process.

    OMP_NUM_THREADS=1 python benchmarks/distributed_scaling.py [--processes 1,2] [--batch 1024]
                                      [--steps 100] [--repeats 3] [--record] [solve options]

Each count N runs ``torchrun --nproc_per_node=N -m pinn solve heat2d --param constraints=soft``
(N = 1: plain ``python -m pinn solve``, no process group) with one thread per process, and
reads report.json's ``steps_per_s`` (Adam steps per second of rank 0, which waits for every
rank at each gradient all-reduce). The counts are run in turn ``repeats`` times, and the
best and the median rate of each are reported (on a shared machine the best is the least
disturbed). Weak-scaling efficiency is ``best steps/s(N) / best steps/s(1)``: 1 means N times
the points per second. With --record the table replaces its section of benchmarks/RESULTS.md
(benchmarks/recorder.py).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from recorder import record, table_rows

PROBLEM = ["heat2d", "--param", "constraints=soft"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(processes: int, batch: int, steps: int, extra: list[str]) -> dict:
    """report.json of one solve on ``processes`` CPU processes with ``batch`` points per term per process."""
    with tempfile.TemporaryDirectory() as out:
        if processes == 1:
            launcher = [sys.executable, "-m", "pinn"]
        else:
            launcher = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}"]
            launcher += [f"--master_port={free_port()}", "-m", "pinn"]
        options = ["--batch", str(batch), "--steps", str(steps), "--lbfgs-steps", "0", "--device", "cpu"]
        command = [*launcher, "solve", *PROBLEM, *options, "--out", out, *extra]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
        return json.loads(Path(out, "report.json").read_text())


def table(runs: dict[int, list[dict]], batch: int) -> str:
    """One row per process count: best and median steps/s, points/s and efficiency of the best, errors."""
    lines = [
        "| processes | batch per process | global batch | best steps/s | median steps/s | best points/s "
        "| weak-scaling efficiency | rel. L2 (u) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = max(r["steps_per_s"] for r in next(iter(runs.values())))
    for n, reports in runs.items():
        rates = sorted(r["steps_per_s"] for r in reports)
        best, median = rates[-1], rates[len(rates) // 2]
        points = best * n * batch * len(reports[0]["quadrature"])
        errors = ", ".join(f"{r['errors']['u']['rel_l2']:.4e}" for r in reports)
        lines.append(
            f"| {n} | {batch} | {n * batch} | {best:.2f} | {median:.2f} | {points:.0f} | {best / base:.2f} | {errors} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts (the first is the base)")
    parser.add_argument("--batch", type=int, default=1024, help="points per term per process")
    parser.add_argument("--steps", type=int, default=100, help="Adam steps")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each process count, in turn")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args, extra = parser.parse_known_args()
    counts = [int(n) for n in args.processes.split(",")]
    runs: dict[int, list[dict]] = {n: [] for n in counts}
    for _ in range(args.repeats):
        for n in counts:
            runs[n].append(run(n, args.batch, args.steps, extra))
    text = table(runs, args.batch)
    print(text)
    if args.record:
        command = f"python benchmarks/distributed_scaling.py {' '.join(sys.argv[1:])}"
        note = f"heat2d (soft constraints), one thread per process, {args.steps} Adam steps, {args.repeats} repeats."
        rows = table_rows(text)
        targets = {}
        if len(rows) > 1:
            targets["distributed_cpu"] = (
                ", ".join(f"efficiency {r['weak-scaling efficiency']} at {r['processes']} processes" for r in rows[1:]),
                "no level set",
            )
        record("distributed_scaling", "distributed_scaling", command, f"{note}\n\n{text}", targets,
               title="Training on several processes (benchmarks/distributed_scaling.py)")  # fmt: skip


if __name__ == "__main__":
    main()
