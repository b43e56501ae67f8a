"""Weak scaling of training on several CPU processes: Adam steps/s at a fixed batch per process.

    OMP_NUM_THREADS=1 python benchmarks/distributed_scaling.py [--processes 1,2] [--batch 1024]
                                                               [--steps 200] [--record] [solve options]

Each count N runs ``torchrun --nproc_per_node=N -m pinn solve heat2d --param constraints=soft``
(N = 1: plain ``python -m pinn solve``, no process group) with one thread per process, and
reads report.json's ``steps_per_s`` (Adam steps per second of rank 0, which waits for every
rank at each gradient all-reduce). Weak-scaling efficiency is ``steps/s(N) / steps/s(1)``:
1 means N times the points per second. With --record the table is appended to
benchmarks/RESULTS.md.
"""

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

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


def table(rows: list[dict], batch: int) -> str:
    lines = [
        "| processes | batch per process | global batch | steps/s | points/s | weak-scaling efficiency | rel. L2 (u) |",
        "|---|---|---|---|---|---|---|",
    ]
    base = rows[0]["steps_per_s"]
    for row in rows:
        n, rate = row["processes"], row["steps_per_s"]
        points = rate * n * batch * len(row["quadrature"])
        lines.append(
            f"| {n} | {batch} | {n * batch} | {rate:.2f} | {points:.0f} | {rate / base:.2f} | "
            f"{row['errors']['u']['rel_l2']:.3e} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts (the first is the base)")
    parser.add_argument("--batch", type=int, default=1024, help="points per term per process")
    parser.add_argument("--steps", type=int, default=200, help="Adam steps")
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args, extra = parser.parse_known_args()
    rows = [run(int(n), args.batch, args.steps, extra) for n in args.processes.split(",")]
    text = table(rows, args.batch)
    print(text)
    if args.record:
        when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        header = (
            f"\n\nWeak scaling, {when}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, one thread per process, {args.steps} Adam steps "
            f"(`python benchmarks/distributed_scaling.py {' '.join(sys.argv[1:])}`):\n\n"
        )
        with open(Path(__file__).with_name("RESULTS.md"), "a") as results:
            results.write(header + text + "\n")


if __name__ == "__main__":
    main()
