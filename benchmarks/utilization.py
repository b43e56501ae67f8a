"""Model FLOP utilization of a training step: achieved matmul FLOP/s over this machine's dense matmul FLOP/s.

The FLOPs of one step (the stacked jet pass of every term and its backward; for comparison
also nested autograd's) are counted by torch's profiler (``with_flops``: the matrix
products, which are nearly all of them); the step's time is the median of ``--steps``
steps on fixed batches (``speed_common.training_step``), in CPU seconds of this process. The peak is the best of
``--peak-repeats`` dense ``n × n`` float32 matmuls measured in the same process, with the
same threads. Utilization = (FLOPs / step time) / peak.

    nice -n 10 python benchmarks/utilization.py --record
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from speed_common import fixed_batches, markdown_table, model_for, record, training_step
from torch.profiler import profile

import pdes
from pinn.batch_statistics import step_losses
from pinn.loss import total_loss


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def dense_matmul_flops(n: int, repeats: int) -> float:
    """Best FLOP/s of ``n × n @ n × n`` in float32."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best


def _seconds(call) -> float:
    """CPU seconds of ``call()`` (this process; the machine may be shared)."""
    start = time.process_time()
    call()
    return time.process_time() - start


def step_flops(problem, model, batches, engine: str) -> float:
    """FLOPs of one loss evaluation and its backward, counted by the profiler."""
    with profile(with_flops=True) as prof:
        total_loss(problem, step_losses(model, problem, batches, engine=engine)).backward()
    model.zero_grad(set_to_none=True)
    return float(sum(event.flops for event in prof.key_averages() if event.flops))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="heat2d,cavity")
    parser.add_argument("--widths", type=integers, default=[128, 256])
    parser.add_argument("--batches", type=integers, default=[4096, 16384])
    parser.add_argument("--engines", default="forward,autograd")
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--peak-size", type=int, default=2048)
    parser.add_argument("--peak-repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = dense_matmul_flops(args.peak_size, args.peak_repeats)
    print(f"dense float32 matmul {args.peak_size}^3: {peak / 1e9:.1f} GFLOP/s", flush=True)
    headers = ["problem", "engine", "width", "batch", "GFLOP/step", "s/step", "GFLOP/s", "utilization"]
    rows = []
    for name in args.problems.split(","):
        problem = pdes.get(name)
        for width in args.widths:
            model = model_for(problem, width, args.depth)
            for batch in args.batches:
                batches = fixed_batches(problem, batch, torch.float32)
                for engine in args.engines.split(","):
                    flops = step_flops(problem, model, batches, engine)
                    step = training_step(problem, model, batches, engine)
                    step()
                    seconds = statistics.median(_seconds(step) for _ in range(args.steps))
                    rows.append([name, engine, width, batch, flops / 1e9, seconds, flops / seconds / 1e9])
                    print(markdown_table(headers[:-1], rows[-1:]).splitlines()[-1], flush=True)
    peak = max(peak, dense_matmul_flops(args.peak_size, args.peak_repeats))
    rows = [row + [f"{row[-1] * 1e9 / peak:.1%}"] for row in rows]
    table = markdown_table(headers, rows)
    print(table)
    if args.record:
        note = (
            f"Peak: best dense float32 {args.peak_size}³ matmul in the same process (measured before and after the "
            f"table, the better kept): {peak / 1e9:.1f} GFLOP/s. Depth {args.depth}, tanh, float32. The GPU target "
            "(≥ 30% at batch 65536, width 256) needs a GPU; none here."
        )
        record("Utilization of a training step (benchmarks/utilization.py)", "python " + " ".join(sys.argv),
               f"{note}\n\n{table}")  # fmt: skip


if __name__ == "__main__":
    main()
