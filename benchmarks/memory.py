"""Peak memory of a training step against batch size (both engines), and against pool size at a fixed batch.

Each measurement runs in a fresh child process (``pinn.studies.density.probe_training``):
the peak rise of the resident set (CPU; ``torch.cuda.max_memory_allocated`` on a GPU)
while the model and the samplers' pools are built and 7 Adam steps are taken. The pool
rows use the ``pool`` rule: ``size`` points drawn once by ``uniform`` and served as fresh
minibatches of ``--pool-batch`` every step (``fresh``: no pool, a new uniform draw each
step); the pool's own storage (points and weights, float64) is listed beside.

    nice -n 10 python benchmarks/memory.py --record
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from recorder import record, status
from speed_common import markdown_table

import pdes
from pinn.config import Config


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def pool_sizes(text: str) -> list[int | str]:
    return [v if v == "fresh" else int(v) for v in text.split(",")]


def child(settings: dict) -> None:
    """Print the probe of one setting as JSON (runs in the child process)."""
    import torch

    from pinn.studies.density import probe_training

    torch.set_num_threads(settings.pop("threads"))
    problem = pdes.get(settings.pop("problem"))
    print(json.dumps(probe_training(problem, Config(device="cpu", **settings))))


def measure(settings: dict) -> dict:
    """The probe of ``settings`` in a fresh process."""
    env = {**os.environ, "OMP_NUM_THREADS": str(settings["threads"])}
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(settings)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="cavity")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--batches", type=integers, default=[1024, 4096, 16384])
    parser.add_argument("--engines", default="forward,autograd")
    parser.add_argument("--pool-problem", default="heat2d")
    parser.add_argument("--pool-batch", type=int, default=4096)
    parser.add_argument("--pools", type=pool_sizes, default=["fresh", 16384, 131072, 1048576])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    shared = {"width": args.width, "depth": args.depth, "threads": args.threads, "lbfgs_steps": 0, "steps": 1}
    batch_rows = []
    for batch in args.batches:
        for engine in args.engines.split(","):
            probe = measure({**shared, "problem": args.problem, "batch": batch, "engine": engine})
            batch_rows.append([args.problem, engine, batch, probe["train_memory_mb"], probe["steps_per_s"]])
            print(markdown_table(["problem", "engine", "batch", "MB", "steps/s"], batch_rows[-1:]).splitlines()[-1])
    pool_rows = []
    dim = len(pdes.get(args.pool_problem).coordinates)
    for size in args.pools:
        probe = measure({**shared, "problem": args.pool_problem, "batch": args.pool_batch, "sampler": "pool",
                         "pool": size})  # fmt: skip
        storage = 0.0 if size == "fresh" else size * (dim + 1) * 8 / 2**20
        pool_rows.append([args.pool_problem, args.pool_batch, size, storage, probe["train_memory_mb"]])
        print(markdown_table(["problem", "batch", "pool", "pool MB", "MB"], pool_rows[-1:]).splitlines()[-1])
    by_batch = markdown_table(["problem", "engine", "batch", "peak MB", "steps/s"], batch_rows)
    by_pool = markdown_table(["problem", "batch", "pool", "pool storage MB", "peak MB"], pool_rows)
    print(by_batch, by_pool, sep="\n\n")
    if args.record:
        note = (
            f"Peak rise of the resident set of a fresh process over model building and 7 Adam steps (CPU); "
            f"width {args.width}, depth {args.depth}, tanh, float32. The pool table uses the default engine (auto)."
        )
        peaks = {row[2]: row[4] for row in pool_rows}
        targets = {}
        if "fresh" in peaks and len(peaks) > 1:  # independent: the largest pool adds less than its own storage
            largest = max((row for row in pool_rows if row[2] != "fresh"), key=lambda row: row[2])
            value = " / ".join(f"{mb:.0f}" for mb in peaks.values()) + f" MB (pools {', '.join(map(str, peaks))})"
            targets["memory_pool"] = (value, status(largest[4] - peaks["fresh"] < largest[3]))
        record("memory", "memory", "python " + " ".join(sys.argv), f"{note}\n\n{by_batch}\n\n{by_pool}", targets,
               title="Peak memory against batch and pool size (benchmarks/memory.py)")  # fmt: skip


if __name__ == "__main__":
    main()
