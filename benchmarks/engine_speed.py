"""Steps per second of the forward (jet) engine against nested autograd, on the heat2d and cavity residuals.

For each problem (its default: exact constraints by output transform), width, and batch
(points per term), a tanh MLP of ``--depth`` hidden layers takes Adam steps on one fixed
Sobol' batch per term (``speed_common.solver_step``: the solver's own step); the engines alternate round by
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
from recorder import record, status, table_rows
from speed_common import alternate, markdown_table, median_ratio, solver_step

import pdes
from pinn.plan import residual


def integers(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def compiled_step(problem, batch: int, settings: dict):
    """The solver's step with ``compile`` (forward engine, term losses through torch.compile); the first call
    compiles (timed)."""
    step, *_ = solver_step(problem, batch, "forward", compile=True, **settings)
    start = time.perf_counter()
    step()
    return step, time.perf_counter() - start


def term_step(problem, batch: int, term, engine: str, settings: dict):
    """One loss evaluation and backward of ``term`` alone (no optimizer step), at the solver's batch."""
    _, _, state, batches = solver_step(problem, batch, engine, **settings)
    q, model = batches[term.name], state.model

    def step() -> None:
        model.zero_grad(set_to_none=True)
        q.mean(residual(model, problem, term, q.points, engine) ** 2).backward()

    return step


def measure(problem_name: str, width: int, batch: int, args: argparse.Namespace) -> list[list[object]]:
    """The table's rows for one problem, width and batch: one for the step, or one per term (``--per-term``)."""
    problem = pdes.get(problem_name)
    settings = {"width": width, "depth": args.depth, "shared_points": args.shared_points, "device": args.device}
    if args.per_term:
        contests = {t.name: {e: term_step(problem, batch, t, e, settings) for e in args.engines} for t in problem.terms}
    else:
        contests = {"step": {engine: solver_step(problem, batch, engine, **settings)[0] for engine in args.engines}}
    rows = []
    for what, steps in contests.items():
        if args.compile:
            steps["compiled"], compile_s = compiled_step(problem, batch, settings)
        seconds = alternate(steps, args.rounds, args.min_seconds, args.device)
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
    parser.add_argument("--device", default="cpu", help="cpu or cuda (timed in wall seconds between synchronizations)")
    parser.add_argument("--compile", action="store_true", help="also time the forward engine under torch.compile")
    parser.add_argument("--per-term", action="store_true", help="time each term's loss and backward alone")
    parser.add_argument("--shared-points", action="store_true", help="terms on one region share one batch")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
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
        kinds = {"_compile": args.compile, "_per_term": args.per_term, "": args.shared_points, "_per_equation": True}
        kind = next(k for k, chosen in kinds.items() if chosen)
        device = args.device  # a GPU run gets its own section and target, not the CPU's
        section = "engine_speed" + kind + ("" if device == "cpu" else f"_{device}")
        target, size = ("engine_cavity", ("128", "4096")) if device == "cpu" else ("engine_gpu", ("256", "65536"))
        targets = {}
        for r in table_rows(table) if kind == "" else []:
            if r["problem"] == "cavity" and (r["width"], r["batch"]) == size and "forward speed-up" in r:
                speedup = float(r["forward speed-up"])
                targets[target] = (f"{speedup:.2f}×", status(speedup >= 3))
        record("engine_speed", section, "python " + " ".join(sys.argv), f"{note}\n\n{table}", targets,
               title="Derivative engines: forward (jets) vs nested autograd (benchmarks/engine_speed.py)")  # fmt: skip


if __name__ == "__main__":
    main()
