"""Steps per second of the forward (jet) engine against nested autograd, on the heat2d and cavity residuals.

For each problem (its default: exact constraints by output transform), width, and batch
(points per term), a tanh MLP of ``--depth`` hidden layers takes Adam steps on one fixed
Sobol' batch per term (``speed_common.training_step``); the engines alternate round by
round in this process: ``forward`` and ``autograd`` on every term, and ``auto`` (forward on the
terms that read second derivatives, autograd on the others, as the solver runs by default).
A contestant's ``speed-up`` is the median over rounds of autograd's seconds per step over its
own. With ``--compile`` one more contestant is the forward engine's loss through
``torch.compile`` (compilation happens in its warm-up step and is reported).

    nice -n 10 python benchmarks/engine_speed.py                      # the full grid
    nice -n 10 python benchmarks/engine_speed.py --widths 128 --batches 4096 --problems cavity --record
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from speed_common import alternate, fixed_batches, markdown_table, median_ratio, model_for, record, training_step

import pdes
from pinn.compiled import compiled_step_losses
from pinn.loss import total_loss


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def compiled_step(problem, model, batches):
    """``training_step`` of the forward engine with the loss compiled; the first call compiles (timed)."""
    losses = compiled_step_losses()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        loss = total_loss(problem, losses(model, problem, batches, engine="forward"))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    start = time.perf_counter()
    step()
    return step, time.perf_counter() - start


def measure(problem_name: str, width: int, batch: int, args: argparse.Namespace) -> list[object]:
    problem = pdes.get(problem_name)
    model = model_for(problem, width, args.depth)
    batches = fixed_batches(problem, batch, torch.float32)
    steps = {engine: training_step(problem, model, batches, engine) for engine in args.engines}
    if args.compile:
        steps["compiled"], compile_s = compiled_step(problem, model, batches)
    seconds = alternate(steps, args.rounds, args.min_seconds)
    row: list[object] = [problem_name, width, batch]
    row += [1 / min(seconds[name]) for name in steps]
    row += [median_ratio(seconds["autograd"], seconds[name]) for name in steps if name != "autograd"]
    return row + ([compile_s] if args.compile else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="heat2d,cavity")
    parser.add_argument("--widths", type=integers, default=[64, 128, 256])
    parser.add_argument("--batches", type=integers, default=[1024, 4096, 16384])
    parser.add_argument("--engines", type=lambda text: text.split(","), default=["forward", "autograd", "auto"])
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=1.0, help="length of each contestant's turn in a round")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--compile", action="store_true", help="also time the forward engine under torch.compile")
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if "autograd" not in args.engines:
        parser.error("--engines must include autograd, the reference")
    names = args.engines + (["compiled"] if args.compile else [])
    headers = ["problem", "width", "batch"] + [f"{name} steps/s" for name in names]
    headers += [f"{name} speed-up" for name in names if name != "autograd"] + (["compile s"] if args.compile else [])
    rows = []
    start = time.perf_counter()
    for name in args.problems.split(","):
        for width in args.widths:
            for batch in args.batches:
                rows.append(measure(name, width, batch, args))
                print(markdown_table(headers, rows[-1:]).splitlines()[-1], flush=True)
    table = markdown_table(headers, rows)
    print(table)
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.record:
        note = (
            f"Depth {args.depth}, tanh, float32, one fixed Sobol' batch per term, Adam steps; steps/s is the best "
            f"round, speed-up the median over {args.rounds} rounds of autograd's time over the contestant's."
        )
        record("Derivative engines: forward (jets) vs nested autograd (benchmarks/engine_speed.py)",
               "python " + " ".join(sys.argv), f"{note}\n\n{table}")  # fmt: skip


if __name__ == "__main__":
    main()
