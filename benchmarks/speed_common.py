"""Shared by the speed benchmarks (engine_speed, peer_deepxde, utilization, memory).

A training step here is what ``pinn.solver.Run`` does in an Adam step, on batches drawn
once: ``step_losses`` with the chosen derivative engine, ``total_loss``, backward, fused Adam.
Timings alternate the contestants round by round in one process, so that a machine shared
with other work slows them alike; ratios are medians of the per-round ratios. Times are the
CPU seconds of this process (``time.process_time``; one torch thread by default): on a shared
machine wall time would also count the time other jobs held the core.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from pdes.problem import Problem
from pinn.batch_statistics import step_losses
from pinn.config import Config
from pinn.loss import sharing_groups, total_loss
from pinn.solver import build_model, term_rules
from samplers.quadrature import Quadrature

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    """One line: CPU, cores, torch and its threads, load average, date."""
    cpu = platform.processor() or platform.machine()
    model = Path("/proc/cpuinfo")
    if model.is_file():
        names = [
            line.split(":", 1)[1].strip() for line in model.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{datetime.date.today()}, {cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"with {torch.get_num_threads()} thread(s), load average {load}"
    )


def record(title: str, command: str, body: str) -> None:
    """Append a section to benchmarks/RESULTS.md."""
    with open(RESULTS, "a") as results:
        results.write(f"\n## {title}\n\nMachine: {machine()}.\nCommand:\n\n    {command}\n\n{body}\n")


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """A markdown table; floats with 3 significant digits."""

    def cell(value: object) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fixed_batches(
    problem: Problem, batch: int, dtype: torch.dtype, seed: int = 0, shared: bool = False
) -> dict[str, Quadrature]:
    """One Sobol' quadrature of ``batch`` points per term, or with ``shared`` per region (the solver's
    ``--shared-points``: the terms on one region share its quadrature and one derivative pass)."""
    generator = torch.Generator().manual_seed(seed)
    rules = term_rules(problem, Config(sampler="sobol", shared_points=shared))
    batches = {}
    for group in sharing_groups(problem.terms, rules):
        q = rules[group[0].name].draw(group[0].region, batch, generator).to("cpu", dtype)
        batches.update(dict.fromkeys((t.name for t in group), q))
    return batches


def training_step(
    problem: Problem, model: torch.nn.Module, batches: Mapping[str, Quadrature], engine: str
) -> Callable[[], None]:
    """One Adam step of ``model`` on ``batches`` with the derivative ``engine`` (module docstring)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)

    def step() -> None:
        loss = total_loss(problem, step_losses(model, problem, batches, engine=engine))
        optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=list(model.parameters()))
        optimizer.step()

    return step


def model_for(problem: Problem, width: int, depth: int, dtype: str = "float32", seed: int = 0) -> torch.nn.Module:
    """The solver's backbone (tanh, no norm) for ``problem`` on the CPU."""
    return build_model(problem, Config(width=width, depth=depth, dtype=dtype, device="cpu", seed=seed))


def alternate(steps: Mapping[str, Callable[[], None]], rounds: int, min_seconds: float) -> dict[str, list[float]]:
    """CPU seconds per call of each function, one value per round; the functions take turns within a round.

    Each function is called once to warm up and size its rounds: it then runs as many calls
    per round as fill ``min_seconds`` (at least one).
    """
    calls = {}
    for name, step in steps.items():
        start = time.process_time()
        step()
        calls[name] = max(1, round(min_seconds / (time.process_time() - start)))
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.process_time()
            for _ in range(calls[name]):
                step()
            seconds[name].append((time.process_time() - start) / calls[name])
    return seconds


def median_ratio(slow: list[float], fast: list[float]) -> float:
    """The median over rounds of ``slow / fast``."""
    return statistics.median(s / f for s, f in zip(slow, fast))
