"""Resuming: refusals when the run cannot be continued as asked, the stateful samplers resumed
exactly, and divergence during L-BFGS keeping the last finite parameters."""

import math

import pytest
import torch
from test_run_files import SETTINGS
from test_solver import poisson1d

import pdes
import pinn
from pinn import io
from pinn.callbacks import Callback


@pytest.fixture
def unfinished(tmp_path, interrupted_solve):
    """An unfinished heat1d run (cut at its step-40 checkpoint) in ``tmp_path / 'cut'``."""
    interrupted_solve(40, pdes.get("heat1d"), out=tmp_path / "cut", **SETTINGS)
    return tmp_path / "cut"


@pytest.mark.parametrize(
    "settings,message",
    [
        (dict(batch=32), "batch=32 differs from the resumed run's batch=64"),
        (dict(width=16), "width=16 differs from the resumed run's width=12"),
        (dict(lr=0.5), "lr=0.5 differs from the resumed run's lr="),
        (dict(seed=4), "seed=4 differs from the resumed run's seed=3"),
    ],
)
def test_resume_with_other_settings_is_refused_and_leaves_the_run_file_as_it_was(unfinished, settings, message):
    before = (unfinished / "run.h5").read_bytes()
    with pytest.raises(ValueError, match=message):
        pinn.solve(pdes.get("heat1d"), out=unfinished, progress=False, resume=True, **settings)
    assert (unfinished / "run.h5").read_bytes() == before


@pytest.mark.parametrize(
    "problem,message",
    [
        (lambda: pdes.get("heat2d"), r"holds a run of heat1d .* not heat2d"),
        (lambda: pdes.get("heat1d", alpha=0.5), r"holds a run of heat1d \{'alpha': 0.4.* not heat1d \{'alpha': 0.5"),
    ],
    ids=["other_problem", "other_params"],
)
def test_resume_of_another_problem_is_refused(unfinished, problem, message):
    with pytest.raises(ValueError, match=message):
        pinn.solve(problem(), out=unfinished, progress=False, resume=True)


def test_resume_needs_a_run_directory(tmp_path):
    with pytest.raises(ValueError, match="resume needs the directory"):
        pinn.solve(pdes.get("heat1d"), progress=False, resume=True)
    with pytest.raises(ValueError, match="run.h5"):
        pinn.solve(pdes.get("heat1d"), out=tmp_path / "nothing", progress=False, resume=True)


@pytest.mark.parametrize(
    "sampler,options",
    [("pool", dict(pool=128)), ("rar", dict(pool=64, refresh_every=7, candidates=256, rar_add=8))],
)
@pytest.mark.parametrize("stop_at", [40, 80], ids=["during_adam", "during_lbfgs"])
def test_stateful_samplers_resume_to_the_same_end(tmp_path, interrupted_solve, sampler, options, stop_at):
    """A pool's epoch order and RAR's grown pool are in the run file: the resumed run ends bit-identically."""
    problem = pdes.get("heat1d")
    settings = dict(SETTINGS, sampler=sampler, **options)
    whole = pinn.solve(problem, out=tmp_path / "whole", progress=False, **settings)
    interrupted_solve(stop_at, problem, out=tmp_path / "cut", **settings)
    resumed = pinn.solve(problem, out=tmp_path / "cut", progress=False, resume=True)
    assert resumed.history["loss"] == whole.history["loss"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    if sampler == "rar":
        assert whole.report["quadrature"]["pde"]["pool_size"] > 64
        assert resumed.report["quadrature"]["pde"]["pool_size"] == whole.report["quadrature"]["pde"]["pool_size"]


class PoisonSecondLbfgsChunk(Callback):
    """Armed at the start of the second L-BFGS chunk (keeping the parameters it began with), after
    which ``source()`` turns NaN at its sixth call: some L-BFGS iterations into the chunk."""

    def __init__(self):
        self.chunks, self.calls, self.began_with = 0, 0, None

    def on_step_begin(self, run, state, phase):
        if phase == "lbfgs":
            self.chunks += 1
            if self.chunks == 2:
                self.began_with = {k: v.clone() for k, v in state.model.state_dict().items()}

    def source(self) -> float:
        self.calls += self.began_with is not None
        return float("nan") if self.calls > 5 else 1.0

    def on_train_end(self, run, state):
        self.calls_in_training = self.calls


def test_nan_during_lbfgs_stops_the_run_and_keeps_the_parameters_of_the_last_finite_chunk(tmp_path):
    poison = PoisonSecondLbfgsChunk()
    problem = poisson1d(lambda f: f.u_xx + poison.source(), lambda f: f.u)
    settings = dict(SETTINGS, steps=10, lbfgs_steps=200, eval_every=1000)
    with pytest.raises(pinn.Diverged, match=r"term 'pde' became nan at step \d+ \(lbfgs\)"):
        pinn.solve(problem, out=tmp_path, progress=False, callbacks=[poison], **settings)
    assert poison.chunks == 2 and poison.calls_in_training == 6
    run = io.load_run(tmp_path / "run.h5")
    assert not run["complete"] and run["report"]["status"] == "diverged"
    assert set(run["model_state"]) == set(poison.began_with)
    for name, value in run["model_state"].items():
        assert torch.equal(value, poison.began_with[name]), name
    assert all(map(math.isfinite, run["history"]["loss"]))
