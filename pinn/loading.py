"""``pinn.load(DIR)``: a finished (or interrupted) run back as a Result."""

from __future__ import annotations

from pathlib import Path

from torch import nn

import pdes
import pdes.user
from pdes.problem import Problem
from pinn import io
from pinn.config import Config
from pinn.solver import Result
from pinn.state import build_model


def problem_of_run(run: dict, directory: str | Path, source: str | None = None) -> Problem:
    """The problem a run file names, built with its parameters: ``source`` when the caller names it
    (a registered name or ``file.py:factory``, run because the caller asked), else a registered
    one, or a user's whose recorded source (``pdes.user``) this user has run before, unchanged
    since; anything else is refused with the way to pass it."""
    if source is not None:
        return pdes.get(source, **run["params"])
    source = run["source"]
    if source is None and run["problem"] in pdes.names():
        return pdes.get(run["problem"], **run["params"])
    if source is None:
        raise ValueError(
            f"the run in '{directory}' is of the problem '{run['problem']}', which is not registered; "
            "pass problem= (the Problem it was trained on)"
        )
    if not pdes.user.trusted(source):
        raise ValueError(
            f"the run in '{directory}' is of the problem from '{source}', which you have not run here "
            "(or which changed since): running it runs its code; pass it yourself if you trust it "
            f"(pinn.load(DIR, source='{source}'); on the command line --problem {source}, or to resume "
            f"pinn solve {source} --resume DIR)"
        )
    return pdes.get(source, **run["params"])


def load(
    directory: str | Path, problem: Problem | None = None, model: nn.Module | None = None, source: str | None = None
) -> Result:
    """The run in ``directory``; ``problem`` (or ``source``, where its factory is, ``pdes.user``) is needed
    only for problems not in the registry whose source this user has not run, and ``model`` (an
    instance of the same class) for a run of a user's network."""
    run = io.load_run(Path(directory) / "run.h5")
    problem = problem if problem is not None else problem_of_run(run, directory, source)
    if problem.name != run["problem"] or io.recorded_params(problem.params) != run["params"]:
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
