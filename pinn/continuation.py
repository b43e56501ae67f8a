"""Continuation in a problem parameter (e.g. the Reynolds number): each solve starts from the last.

    results = continuation("cavity", "re", [100, 400, 1000], params={"lid": "smooth"}, out="runs/cavity")

solves ``pdes.get("cavity", lid="smooth", re=100)`` from the initialization, then re=400 from
the re=100 parameters, then re=1000 from those (``pinn.solve(..., warm_start=…)``); every
solve uses the same settings. From the command line, one step is
``pinn solve cavity --param re=400 --warm-start runs/cavity/re=100``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pdes
from pinn.solver import Result, solve


def continuation(
    name: str,
    param: str,
    values: Sequence[object],
    params: Mapping[str, object] | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    **settings: object,
) -> list[Result]:
    """The results of solving problem ``name`` at ``param = v`` for each of ``values`` in order.

    Each solve after the first is warm-started from the previous one's parameters. With
    ``out``, the run at value ``v`` is written to ``out/<param>=<v>``.
    """
    if not values:
        raise ValueError("continuation needs at least one parameter value")
    results: list[Result] = []
    for value in values:
        problem = pdes.get(name, **{**(params or {}), param: value})
        warm_start = results[-1].model.state_dict() if results else None
        run_out = Path(out) / f"{param}={value}" if out is not None else None
        results.append(solve(problem, out=run_out, progress=progress, warm_start=warm_start, **settings))
    return results
