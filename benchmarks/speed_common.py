"""Shared by the speed benchmarks (engine_speed, peer_deepxde, utilization, memory).

A training step here is the solver's own Adam step (``pinn.step.adam_step``: the step plan's
losses with the chosen derivative engine, backward, fused Adam), made by ``pinn.step.setup``
as ``pinn solve`` makes it, on batches drawn once. Timings alternate the contestants round by
round in one process, so that a machine shared with other work slows them alike; ratios are
medians of the per-round ratios. Times are the CPU seconds of this process on the CPU
(``time.process_time``; one torch thread by default: on a shared machine wall time would
also count the time other jobs held the core), and wall seconds between synchronizations on
a GPU.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

import torch
from recorder import machine  # noqa: F401  (re-exported: the one machine line of every benchmark)

from pdes.problem import Problem
from pinn.config import Config
from pinn.state import TrainState
from pinn.step import Run, adam_step, setup
from samplers.quadrature import Quadrature


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """A markdown table; floats with 3 significant digits."""

    def cell(value: object) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def solver_step(
    problem: Problem, batch: int, engine: str = "auto", seed: int = 0, **settings: object
) -> tuple[Callable[[], None], Run, TrainState, dict[str, Quadrature]]:
    """The solver's Adam step on one fixed Sobol' batch of ``batch`` points per group of terms.

    ``settings`` are Config fields (width, depth, shared_points, device, compile, …; tanh, no
    norm, float32 on the CPU unless given). Every contestant made with the same ``seed`` starts
    from the same parameters and gets the same batches. Returns the step, its run, its state
    and the batches.
    """
    config = Config(**{"device": "cpu", **settings, "engine": engine, "seed": seed, "sampler": "sobol"})
    run, state = setup(problem, config)
    generator = torch.Generator().manual_seed(seed)
    batches = run.plan.draw(state.rules, generator, batch, run.device, state.dtype)
    return (lambda: adam_step(run, state, batches)), run, state, batches


def clock(device: str) -> Callable[[], float]:
    """CPU seconds of this process on the CPU; on CUDA, wall seconds after the device finished its work."""
    if torch.device(device).type != "cuda":
        return time.process_time

    def synchronized() -> float:
        torch.cuda.synchronize()
        return time.perf_counter()

    return synchronized


def alternate(
    steps: Mapping[str, Callable[[], None]], rounds: int, min_seconds: float, device: str = "cpu"
) -> dict[str, list[float]]:
    """Seconds per call of each function (``clock``), one value per round; the functions take turns within a round.

    Each function is called once to warm up and size its rounds: it then runs as many calls
    per round as fill ``min_seconds`` (at least one).
    """
    now = clock(device)
    calls = {}
    for name, step in steps.items():
        start = now()
        step()
        calls[name] = max(1, round(min_seconds / (now() - start)))
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = now()
            for _ in range(calls[name]):
                step()
            seconds[name].append((now() - start) / calls[name])
    return seconds


def median_ratio(slow: list[float], fast: list[float]) -> float:
    """The median over rounds of ``slow / fast``."""
    return statistics.median(s / f for s, f in zip(slow, fast))
