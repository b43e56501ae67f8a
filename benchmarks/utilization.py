"""Model FLOP utilization of a training step: achieved matmul FLOP/s over this machine's dense matmul FLOP/s.

The FLOPs of one step (the stacked jet pass of every term and its backward; for comparison
also nested autograd's) are counted by torch's profiler (``with_flops``: the matrix
products, which are nearly all of them); the step's time is the median of ``--steps``
steps on fixed batches (``speed_common.solver_step``), in CPU seconds of this process (on a GPU:
synchronized wall seconds). The peak is the best of
``--peak-repeats`` dense ``n × n`` float32 matmuls measured in the same process, with the
same threads. Utilization = (FLOPs / step time) / peak.

    nice -n 10 python benchmarks/utilization.py --record
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch
from recorder import record, span, status, table_rows
from speed_common import clock, markdown_table, solver_step
from torch.profiler import profile

import pdes
from pinn.plan import total_loss


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def dense_matmul_flops(n: int, repeats: int, device: str) -> float:
    """Best FLOP/s of ``n × n @ n × n`` in float32 on ``device``."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    best = min(seconds(lambda: a @ b, device) for _ in range(repeats))
    return 2 * n**3 / best


def seconds(call, device: str) -> float:
    """Seconds of ``call()`` (``speed_common.clock``: CPU seconds of this process, or synchronized wall seconds)."""
    now = clock(device)
    start = now()
    call()
    return now() - start


def step_flops(run, state, batches) -> float:
    """FLOPs of one loss evaluation and its backward, counted by the profiler."""
    with profile(with_flops=True) as prof:
        total_loss(run.problem, run.losses(batches)).backward()
    state.model.zero_grad(set_to_none=True)
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
    parser.add_argument("--device", default="cpu", help="cpu or cuda (timed in wall seconds between synchronizations)")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = dense_matmul_flops(args.peak_size, args.peak_repeats, args.device)
    print(f"dense float32 matmul {args.peak_size}^3: {peak / 1e9:.1f} GFLOP/s", flush=True)
    headers = ["problem", "engine", "width", "batch", "GFLOP/step", "s/step", "GFLOP/s", "utilization"]
    rows = []
    for name in args.problems.split(","):
        problem = pdes.get(name)
        for width in args.widths:
            for batch in args.batches:
                for engine in args.engines.split(","):
                    step, run, state, batches = solver_step(problem, batch, engine, width=width, depth=args.depth,
                                                            device=args.device)  # fmt: skip
                    flops = step_flops(run, state, batches)
                    step()
                    seconds_per_step = statistics.median(seconds(step, args.device) for _ in range(args.steps))
                    rows.append(
                        [name, engine, width, batch, flops / 1e9, seconds_per_step, flops / seconds_per_step / 1e9]
                    )
                    print(markdown_table(headers[:-1], rows[-1:]).splitlines()[-1], flush=True)
    peak = max(peak, dense_matmul_flops(args.peak_size, args.peak_repeats, args.device))
    rows = [row + [f"{row[-1] * 1e9 / peak:.1%}"] for row in rows]
    table = markdown_table(headers, rows)
    print(table)
    if args.record:
        device = args.device  # a GPU run gets its own section and target, not the CPU's
        note = (
            f"Peak: best dense float32 {args.peak_size}³ matmul in the same process (measured before and after the "
            f"table, the better kept): {peak / 1e9:.1f} GFLOP/s. Depth {args.depth}, tanh, float32."
        )
        rows = table_rows(table)

        def shares(engine: str, size: tuple[str, str] | None = None) -> list[float]:
            return [float(r["utilization"].rstrip("%")) for r in rows
                    if r["engine"] == engine and size in (None, (r["width"], r["batch"]))]  # fmt: skip

        if device == "cpu":
            note += " The GPU target (≥ 30% at batch 65536, width 256) needs a GPU; none here."
            targets = {"utilization_cpu": f"forward {span(shares('forward'))}%, autograd {span(shares('autograd'))}%"}
        else:
            gpu = shares("forward", ("256", "65536"))
            targets = {"utilization_gpu": (f"forward {min(gpu):.0f}%", status(min(gpu) >= 30))} if gpu else {}
        section = "utilization" + ("" if device == "cpu" else f"_{device}")
        record("utilization", section, "python " + " ".join(sys.argv), f"{note}\n\n{table}", targets,
               title="Utilization of a training step (benchmarks/utilization.py)")  # fmt: skip


if __name__ == "__main__":
    main()
