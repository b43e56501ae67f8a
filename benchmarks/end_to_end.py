"""End-to-end speed of ``pinn solve``: forward against autograd engine, and the loop's cost around the step.

Each round runs the command line (a fresh ``pinn solve`` process per engine, alternating
forward and autograd) and reads ``steps_per_s`` from its report.json: Adam steps over the
seconds spent in them (drawing the batches, the step, the loop's own callbacks before the
step; evaluations, statistics and the final report not counted). In the same rounds this
benchmark times the isolated step at the same settings (``pinn.step.adam_step`` on one fixed
batch, the settings of ``Config.build(problem.defaults, …)`` as the command line builds
them, as many steps after one warm-up step), in a fresh process too, in wall seconds as the
report counts them. Reported: the median over rounds of the end-to-end ratio
forward/autograd, and of the ratio of the command line's forward steps/s to the isolated step's.

    OMP_NUM_THREADS=1 python benchmarks/end_to_end.py --rounds 3 --record
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from recorder import record, status
from speed_common import markdown_table

import pdes
from pinn.config import Config
from pinn.step import adam_step, setup

SETTINGS = {"shared_points": True, "sampler": "sobol", "width": 128, "batch": 4096}
"""The issue's command: ``pinn solve cavity --shared-points --sampler sobol --width 128 --batch 4096``."""


def flags(settings: dict) -> list[str]:
    out = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        out += [flag] if value is True else [flag, str(value)]
    return out


def cli_steps_per_s(problem: str, settings: dict, engine: str, threads: int) -> float:
    """``steps_per_s`` of one ``pinn solve`` process (one torch thread unless ``threads``)."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "run"
        command = [sys.executable, "-m", "pinn", "solve", problem, *flags(settings), "--engine", engine]
        command += ["--out", str(out), "--replicates", "2", "--eval-points", "1024"]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        subprocess.run(command, check=True, capture_output=True, env=env)
        return json.loads((out / "report.json").read_text())["steps_per_s"]


def isolated_steps_per_s(problem_name: str, settings: dict, steps: int) -> float:
    """Steps per wall second (as report.json counts them) of the solver's step on one fixed batch, after a warm-up."""
    problem = pdes.get(problem_name)
    config = Config.build(problem.defaults, {**settings, "engine": "forward", "device": "cpu"})
    run, state = setup(problem, config)
    batches = run.plan.draw(state.rules, state.generators, config.batch, run.device, state.dtype)
    adam_step(run, state, batches)
    start = time.perf_counter()
    for _ in range(steps):
        adam_step(run, state, batches)
    return steps / (time.perf_counter() - start)


def isolated_in_child(problem: str, steps: int, threads: int) -> float:
    """``isolated_steps_per_s`` in a fresh process, as the command line's run is one."""
    command = [sys.executable, __file__, "--problem", problem, "--steps", str(steps), "--isolated"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="cavity")
    parser.add_argument("--steps", type=int, default=100, help="Adam steps of each pinn solve")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    parser.add_argument("--isolated", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.isolated:
        print(isolated_steps_per_s(args.problem, SETTINGS, args.steps))
        return
    settings = {**SETTINGS, "steps": args.steps, "lbfgs_steps": 0}
    rows = []
    for round_ in range(1, args.rounds + 1):
        forward = cli_steps_per_s(args.problem, settings, "forward", args.threads)
        autograd = cli_steps_per_s(args.problem, settings, "autograd", args.threads)
        isolated = isolated_in_child(args.problem, args.steps, args.threads)
        rows.append([round_, forward, autograd, forward / autograd, isolated, forward / isolated])
        print(markdown_table(HEADERS, rows[-1:]).splitlines()[-1], flush=True)
    speedup = statistics.median(row[3] for row in rows)
    loop = statistics.median(row[5] for row in rows)
    table = markdown_table(HEADERS, rows)
    print(table)
    print(f"median forward/autograd {speedup:.2f}×, CLI forward / isolated step {loop:.3f}")
    if args.record:
        note = (
            f"`pinn solve {args.problem} {' '.join(flags(settings))}` with `--engine forward` and `--engine autograd`, "
            f"alternating, {args.rounds} rounds, one fresh process each; steps/s from report.json. The isolated "
            "step: `pinn.step.adam_step` on one fixed batch at the same settings and step count, wall seconds, in a "
            "fresh process. "
            f"Median end-to-end forward/autograd **{speedup:.2f}×**; "
            f"median CLI forward over isolated step **{loop:.3f}**."
        )
        targets = {
            "end_to_end_cavity": (f"{speedup:.2f}×", status(speedup >= 3)),
            "end_to_end_loop": (f"{loop:.3f}", status(loop >= 0.95)),
        }
        record("end_to_end", "end_to_end", "python " + " ".join(sys.argv), f"{note}\n\n{table}", targets,
               title="End to end: pinn solve cavity, forward vs autograd (benchmarks/end_to_end.py)")  # fmt: skip


HEADERS = ["round", "CLI forward steps/s", "CLI autograd steps/s", "forward/autograd", "isolated step/s",
           "CLI/isolated"]  # fmt: skip


if __name__ == "__main__":
    main()
