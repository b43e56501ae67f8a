"""Peak memory of a training step against batch size (both engines), and against pool size at a fixed batch.

Each measurement runs in a fresh child process (``pinn.studies.density.probe_training``): the
peak of tensor memory counted by torch's allocator (``pinn.studies.memory.PeakMemory``: on
the CPU torch's profiler with ``profile_memory``, which records every allocation and release
of torch's CPU allocator; ``torch.cuda.max_memory_allocated`` on a GPU), above what was
allocated before, while the model, its optimizer and the samplers' pools are built and
``WARMUP_STEPS`` Adam steps are taken (one uncounted step at batch 2 first loads what torch
allocates once per process). It counts tensors only (parameters, gradients, optimizer state,
pools, saved activations, every op's temporaries), not the resident set: memory the C
allocator kept from earlier work, Python objects and libraries do not count, and a setting
measured twice gives the same figure to the byte. Steps/s is the speed of the next
``PROBE_STEPS`` steps, outside that count.

The pool rows use the ``pool`` rule: ``size`` points drawn once by ``uniform`` and served as
minibatches of ``--pool-batch`` every step (``fresh``: no pool, a new uniform draw each step).
Beside them is the pool's own storage, the tensors of its state after one draw (points and
weights, float64, and the epoch's permutation, int64: 40 bytes a point in 3 coordinates),
and the step's memory, the peak less that storage: the memory target (``memory_pool``) is
that a pool adds no more than its own storage to the peak, at every pool size.

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
from pinn.studies.density import PROBE_STEPS, WARMUP_STEPS

TOLERANCE_MB = 2**-10
"""Slack of the pool target: 1 KiB, for the rounding of MiB; the count itself is exact to the byte."""


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def pool_sizes(text: str) -> list[int | str]:
    return [v if v == "fresh" else int(v) for v in text.split(",")]


def child(settings: dict) -> None:
    """Print the probe of one setting and its rules' storage as JSON (runs in the child process)."""
    import torch

    from pinn.studies.density import probe_training

    torch.set_num_threads(settings.pop("threads"))
    problem = pdes.get(settings.pop("problem"))
    config = Config(device="cpu", **settings)
    probe = probe_training(problem, config)
    print(json.dumps({**probe, "rules_storage_mb": rules_storage_mb(problem, config)}))


def rules_storage_mb(problem, config: Config) -> float:
    """MiB of the tensors the run's rules hold after one draw (a pool: its points, weights and permutation)."""
    import torch

    from pinn.state import first_of_each
    from pinn.step import next_batches, setup

    run, state = setup(problem, config)
    next_batches(run, state)

    def nbytes(value) -> int:
        if isinstance(value, torch.Tensor):
            return value.numel() * value.element_size()
        if isinstance(value, dict):
            return sum(nbytes(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return sum(nbytes(v) for v in value)
        return 0

    return sum(nbytes(rule.state_dict()) for rule in first_of_each(state.rules).values()) / 2**20


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
            print(markdown_table(["problem", "engine", "batch", "MiB", "steps/s"], batch_rows[-1:]).splitlines()[-1])
    pool_rows = []
    for size in args.pools:
        probe = measure({**shared, "problem": args.pool_problem, "batch": args.pool_batch, "sampler": "pool",
                         "pool": size})  # fmt: skip
        storage = probe["rules_storage_mb"]
        peak = probe["train_memory_mb"]
        pool_rows.append([args.pool_problem, args.pool_batch, size, storage, peak, peak - storage])
        headers = ["problem", "batch", "pool", "pool MiB", "MiB", "step MiB"]
        print(markdown_table(headers, pool_rows[-1:]).splitlines()[-1])
    by_batch = markdown_table(["problem", "engine", "batch", "peak MiB", "steps/s"], batch_rows)
    by_pool = markdown_table(
        ["problem", "batch", "pool", "pool storage MiB", "peak MiB", "peak − pool storage MiB"], pool_rows
    )
    print(by_batch, by_pool, sep="\n\n")
    if args.record:
        note = (
            f"Peak tensor memory counted by torch's allocator (`pinn.studies.memory.PeakMemory`: the profiler "
            f"with profile_memory on the CPU), above what was allocated before, while the model, its optimizer "
            f"and the pools are built and {WARMUP_STEPS} Adam steps are taken, in a fresh process; steps/s over "
            f"the next {PROBE_STEPS} steps. Width {args.width}, depth {args.depth}, tanh, float32, CPU. The pool "
            f"table uses the default engine (auto); pool storage is the tensors of the pool rule's state after "
            f"one draw (points and weights, float64, and the epoch's permutation, int64)."
        )
        targets = {}
        fresh = [row for row in pool_rows if row[2] == "fresh"]
        pooled = [row for row in pool_rows if row[2] != "fresh"]
        if fresh and pooled:  # a pool adds no more than its own storage to the peak, at every size
            base = fresh[0][4]
            added = [row[4] - base for row in pooled]
            met = all(extra <= row[3] + TOLERANCE_MB for extra, row in zip(added, pooled))
            value = (
                f"pools {' / '.join(str(row[2]) for row in pooled)} add "
                f"{' / '.join(f'{extra:.2f}' for extra in added)} MiB to fresh points' peak of {base:.1f} MiB; "
                f"their storage {' / '.join(f'{row[3]:.2f}' for row in pooled)} MiB"
            )
            targets["memory_pool"] = (value, status(met))
        record("memory", "memory", "python " + " ".join(sys.argv), f"{note}\n\n{by_batch}\n\n{by_pool}", targets,
               title="Peak memory against batch and pool size (benchmarks/memory.py)")  # fmt: skip


if __name__ == "__main__":
    main()
