"""``pinn.load(DIR)``: a finished (or interrupted) run back as a Result."""

from __future__ import annotations

from pathlib import Path

import pdes
from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.solver import Result, build_model


def load(directory: str | Path, problem: Problem | None = None) -> Result:
    """The run in ``directory``; ``problem`` is needed only for problems not in the registry."""
    run = io.load_run(Path(directory) / "run.h5")
    if problem is None:
        problem = pdes.get(run["problem"], **run["params"])
    config = Config(**run["config"])
    model = build_model(problem, config)
    model.load_state_dict(run["model_state"])
    model.eval()
    return Result(problem, model, config, run["report"], run["history"], Path(directory))
