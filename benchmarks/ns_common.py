"""Shared by the Navier–Stokes benchmarks: the cases, one ``pinn solve`` in a child process, timings.

A case is a registered problem with parameters and its acceptance targets (issue 6): relative
L2 error per field and the wall time allowed on the 2-core CPU.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pinn import io

CASES = {
    "kovasznay": {"problem": "kovasznay", "params": {}, "targets": {"u": 1e-3, "v": 1e-3, "p": 1e-2}, "time_s": 600},
    "cavity_smooth": {
        "problem": "cavity",
        "params": {"lid": "smooth"},
        "targets": {"u": 1e-2, "v": 1e-2},
        "time_s": 1200,
    },
    "cavity_classic": {
        "problem": "cavity",
        "params": {"lid": "classic"},
        "targets": {"u": 5e-2, "v": 5e-2},
        "time_s": 1200,
    },
    "taylor_green": {"problem": "taylor_green", "params": {}, "targets": {"u": 5e-3, "v": 5e-3}, "time_s": None},
}
LEVELS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3)
"""Error levels whose first crossing (max over u, v of the relative L2 error) is timed."""


def solve(case: str, options: list[str]) -> dict:
    """``pinn solve`` of ``case`` with extra ``options`` in a child process.

    Returns the report, the history, the child's wall and CPU seconds, and the load average
    when it started (the machine is shared: wall time counts the other processes' share).
    """
    spec = CASES[case]
    params = [item for k, v in spec["params"].items() for item in ("--param", f"{k}={v}")]
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "pinn", "solve", spec["problem"], *params, *options, "--out", out]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads(Path(out, "report.json").read_text())
        history = io.load_run(Path(out, "run.h5"))["history"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"report": report, "history": history, "process_wall_s": wall, "cpu_s": cpu, "load": load}


def time_to_levels(history: dict, fields: tuple[str, ...] = ("u", "v")) -> dict[float, float | None]:
    """Seconds into the run when ``max(rel L2 of fields)`` first fell to each of LEVELS (None: never)."""
    reached: dict[float, float | None] = dict.fromkeys(LEVELS)
    for entry in history["eval"]:
        error = max(entry["errors"][f]["rel_l2"] for f in fields)
        for level in LEVELS:
            if reached[level] is None and error <= level:
                reached[level] = entry.get("wall_s")
    return reached


def met(report: dict, targets: dict[str, float]) -> bool:
    return all(report["errors"][f]["rel_l2"] <= level for f, level in targets.items())
