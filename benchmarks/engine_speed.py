"""Steps per second of the forward (jet) engine against nested autograd, on the heat2d and cavity residuals.

For each problem (its default: exact constraints by output transform), width, and batch
(points per term), a tanh MLP of ``--depth`` hidden layers takes Adam steps on one fixed
Sobol' batch per term (``speed_common.training_step``); the engines alternate round by
round in this process: ``forward`` and ``autograd`` on every term, and ``auto`` (forward on the
terms that read second derivatives, autograd on the others, as the solver runs by default).
A contestant's ``speed-up`` is the median over rounds of autograd's seconds per step over its
own. With ``--compile`` one more contestant is the forward engine's loss through
``torch.compile`` (compilation happens in its warm-up step and is reported). With
``--per-term`` each term's loss and backward are timed alone (term ``step``: the whole step).
With ``--shared-points`` the terms on one region share one batch (the solver's option of that
name), so every engine evaluates the momentum and continuity equations at the same points and
computes a derivative they share once.

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
from pinn.loss import residual, total_loss


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def compiled_step(problem, model, batches):
    """``training_step`` of the forward engine with the loss compiled; the first call compiles (timed)."""
    losses = compiled_step_losses()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)

    def step() -> None:
        loss = total_loss(problem, losses(model, problem, batches, engine="forward"))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    start = time.perf_counter()
    step()
    return step, time.perf_counter() - start


def term_step(problem, model, batches, term, engine: str):
    """One loss evaluation and backward of ``term`` alone (no optimizer step)."""
    q = batches[term.name]

    def step() -> None:
        model.zero_grad(set_to_none=True)
        q.mean(residual(model, problem, term, q.points, engine) ** 2).backward()

    return step


def measure(problem_name: str, width: int, batch: int, args: argparse.Namespace) -> list[list[object]]:
    """The table's rows for one problem, width and batch: one for the step, or one per term (``--per-term``)."""
    problem = pdes.get(problem_name)
    model = model_for(problem, width, args.depth)
    batches = fixed_batches(problem, batch, torch.float32, shared=args.shared_points)
    if args.per_term:
        contests = {t.name: {e: term_step(problem, model, batches, t, e) for e in args.engines} for t in problem.terms}
    else:
        contests = {"step": {engine: training_step(problem, model, batches, engine) for engine in args.engines}}
    rows = []
    for what, steps in contests.items():
        if args.compile:
            steps["compiled"], compile_s = compiled_step(problem, model, batches)
        seconds = alternate(steps, args.rounds, args.min_seconds)
        row: list[object] = [problem_name, what, width, batch]
        row += [1 / min(seconds[name]) for name in steps]
        row += [median_ratio(seconds["autograd"], seconds[name]) for name in steps if name != "autograd"]
        rows.append(row + ([compile_s] if args.compile else []))
    return rows


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
    parser.add_argument("--per-term", action="store_true", help="time each term's loss and backward alone")
    parser.add_argument("--shared-points", action="store_true", help="terms on one region share one batch")
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if "autograd" not in args.engines:
        parser.error("--engines must include autograd, the reference")
    names = args.engines + (["compiled"] if args.compile else [])
    if args.compile and args.per_term:
        parser.error("--compile times whole steps; leave out --per-term")
    headers = ["problem", "term", "width", "batch"] + [f"{name} steps/s" for name in names]
    headers += [f"{name} speed-up" for name in names if name != "autograd"] + (["compile s"] if args.compile else [])
    rows = []
    start = time.perf_counter()
    for name in args.problems.split(","):
        for width in args.widths:
            for batch in args.batches:
                new = measure(name, width, batch, args)
                rows += new
                print("\n".join(markdown_table(headers, new).splitlines()[2:]), flush=True)
    table = markdown_table(headers, rows)
    print(table)
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.record:
        timed = "each term's loss and backward alone" if args.per_term else "Adam steps"
        batches = "region (shared by its terms)" if args.shared_points else "term"
        note = (
            f"Depth {args.depth}, tanh, float32, one fixed Sobol' batch of the given size per {batches}, {timed}; "
            f"steps/s is the best "
            f"round, speed-up the median over {args.rounds} rounds of autograd's time over the contestant's."
        )
        record("Derivative engines: forward (jets) vs nested autograd (benchmarks/engine_speed.py)",
               "python " + " ".join(sys.argv), f"{note}\n\n{table}")  # fmt: skip


if __name__ == "__main__":
    main()
