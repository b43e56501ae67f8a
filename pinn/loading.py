"""``pinn.load(DIR)``: a finished (or interrupted) run back as a Result."""

from __future__ import annotations

from pathlib import Path

from torch import nn

import pdes
from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.solver import Result
from pinn.state import build_model


def load(directory: str | Path, problem: Problem | None = None, model: nn.Module | None = None) -> Result:
    """The run in ``directory``; ``problem`` is needed only for problems not in the registry, and
    ``model`` (an instance of the same class) for a run of a user's network."""
    run = io.load_run(Path(directory) / "run.h5")
    if problem is None:
        if run["problem"] not in pdes.names():
            raise ValueError(
                f"the run in '{directory}' is of the problem '{run['problem']}', which is not registered; "
                "pass problem= (the Problem it was trained on)"
            )
        problem = pdes.get(run["problem"], **run["params"])
    elif problem.name != run["problem"] or io.recorded_params(problem.params) != run["params"]:
        raise ValueError(
            f"the run in '{directory}' is of {run['problem']} {run['params']}, "
            f"not {problem.name} {io.recorded_params(problem.params)}"
        )
    config = Config(**run["config"])
    network = build_model(problem, config, model)
    try:
        network.load_state_dict(run["model_state"])
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise ValueError(
            f"the run in '{directory}' does not fit this model ({first}); pass model= of its class"
        ) from None
    network.eval()
    return Result(problem, network, config, run["report"], run["history"], Path(directory))
