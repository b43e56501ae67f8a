"""``--compile``: compiled term losses train exactly like the eager forward engine.

The graph capture (dynamo) and the compiled backward (AOTAutograd) run here with the
``aot_eager`` backend; inductor's C++ code generation takes minutes on a small CPU and is
exercised by ``benchmarks/engine_speed.py --compile`` instead.
"""

import dataclasses
import shutil
from functools import partial

import pytest
import torch

import pdes
from pinn.compiled import COMPILERS
from pinn.config import Config
from pinn.plan import StepPlan
from pinn.step import setup, train

HAS_COMPILER = any(shutil.which(name) for name in COMPILERS)
SETTINGS = dict(steps=3, lbfgs_steps=2, batch=16, width=8, depth=2, norm="batch", dtype="float64", device="cpu")


def trained_losses(name: str, backend: str | None) -> list[float]:
    """The loss history of the public loop, the term losses compiled by ``backend`` (None: eager forward engine)."""
    run, state = setup(pdes.get(name), Config(engine="forward", **SETTINGS))
    if backend is not None:
        plan = StepPlan(run.problem, state.model, "forward", compile=backend)
        run = dataclasses.replace(run, plan=plan, losses=partial(plan.losses, state.model))
    train(run, state, [])
    return state.history["loss"]


@pytest.mark.parametrize("name", ["heat1d", "kovasznay"])  # their transforms' Taylors stay eager
def test_compiled_losses_train_exactly_like_the_eager_forward_engine(name):
    compiled, eager = trained_losses(name, "aot_eager"), trained_losses(name, None)
    assert len(compiled) == 4  # 3 Adam steps and one L-BFGS step
    torch.testing.assert_close(torch.tensor(compiled), torch.tensor(eager), rtol=1e-10, atol=0)


def test_compile_runs_every_group_on_the_forward_engine():
    """``auto`` would give the continuity equation (first derivatives only) to autograd; compiled, it is forward."""
    cavity = pdes.get("cavity")
    run, state = setup(cavity, Config(engine="auto", **SETTINGS))
    batches = run.plan.draw(state.rules, state.generators, 16, run.device, state.dtype)
    run.plan.losses(state.model, batches)
    assert {g.owner.name: g.engine for g in run.plan.groups}["continuity"] == "autograd"
    plan = StepPlan(cavity, state.model, "auto", compile="aot_eager")
    plan.losses(state.model, batches)
    assert {g.engine for g in plan.groups} == {"forward"}


@pytest.mark.skipif(not HAS_COMPILER, reason="Config(compile=True) requires a C++ compiler")
def test_a_compiled_config_makes_a_compiling_plan():
    run, _ = setup(pdes.get("heat1d"), Config(compile=True, **SETTINGS))
    assert run.plan.engine == "forward" and run.plan.compile == "inductor"


def test_compile_is_refused_with_the_autograd_engine_or_without_a_compiler(monkeypatch):
    with pytest.raises(ValueError, match="needs the forward engine"):
        Config(compile=True, engine="autograd")
    monkeypatch.setenv("CXX", "no-such-compiler")
    with pytest.raises(ValueError, match="needs a C\\+\\+ compiler"):
        Config(compile=True)
