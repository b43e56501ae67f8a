"""The public step: the plan evaluates each residual once per step, the state round-trips, the loop resumes."""

import copy
import dataclasses

import pytest
import torch

import pdes
from pdes.problem import Problem, Term
from pinn.config import Config
from pinn.plan import StepPlan
from pinn.step import adam_step, lbfgs_step, next_batches, setup
from samplers.quadrature import Quadrature

SMALL = dict(batch=32, width=8, depth=2, dtype="float64", device="cpu", steps=10, lbfgs_steps=0)


def counting(problem: Problem) -> tuple[Problem, dict[str, int]]:
    """``problem`` with every residual counting its calls."""
    calls = dict.fromkeys((t.name for t in problem.terms), 0)

    def counted(term):
        def residual(f):
            calls[term.name] += 1
            return term.residual(f)

        return Term(term.name, term.region, residual, term.weight)

    terms = [counted(t) for t in problem.terms]
    counted_problem = dataclasses.replace(problem, terms=terms)
    return counted_problem, calls


@pytest.mark.parametrize("engine", ["auto", "forward", "autograd"])
@pytest.mark.parametrize("shared", [True, False])
def test_each_residual_runs_once_per_step_after_the_first(engine, shared):
    problem, calls = counting(pdes.get("cavity"))
    run, state = setup(problem, Config(engine=engine, shared_points=shared, **SMALL))
    adam_step(run, state, next_batches(run, state))
    assert set(calls.values()) == {2}  # the first step records what each residual reads, then evaluates it
    for _ in range(3):
        adam_step(run, state, next_batches(run, state))
    assert set(calls.values()) == {5}


def test_a_residual_that_reads_something_new_is_recorded_again():
    """The plan records reads once; a residual that later reads another derivative is recorded again
    and evaluated right, on the forward engine as on autograd."""
    base = pdes.get("heat1d", constraints="soft")
    late = {"on": False}

    def pde(f):
        r = f.u_t - 0.4 * f.u_xx
        return r + f.u_x if late["on"] else r

    problem = Problem("late", base.coordinates, base.fields, base.domain, [Term("pde", base.domain, pde)])
    model = setup(problem, Config(**SMALL))[1].model
    points = torch.rand(16, 2, dtype=torch.float64)
    batches = {"pde": Quadrature(points, torch.full((16,), 1 / 16.0))}
    forward = StepPlan(problem, model, "forward")
    forward.losses(model, batches)
    late["on"] = True
    new = forward.losses(model, batches)["pde"]
    assert (0, (0,)) in forward.groups[0].reads
    torch.testing.assert_close(new, StepPlan(problem, model, "autograd").losses(model, batches)["pde"])


def test_the_state_dict_continues_a_run_exactly():
    problem = pdes.get("heat1d")
    config = Config(**{**SMALL, "lbfgs_steps": 4, "sampler": "rad", "refresh_every": 2, "candidates": 64})
    run, state = setup(problem, config)
    for _ in range(3):
        adam_step(run, state, next_batches(run, state))
    saved = copy.deepcopy((state.model.state_dict(), state.state_dict(wall_time=1.0), state.step))
    other_run, other = setup(problem, config)
    other.model.load_state_dict(saved[0])
    other.load_state_dict(saved[1])
    other.step = saved[2]
    for r, s in ((run, state), (other_run, other)):
        for _ in range(3):
            adam_step(r, s, next_batches(r, s))
        lbfgs_step(r, s, r.plan.draw(s.rules, s.generators["<lbfgs>"], 32, r.device, s.dtype), 4)
    for key, value in state.model.state_dict().items():
        torch.testing.assert_close(other.model.state_dict()[key], value, rtol=0, atol=0)
    assert other.wall_before == 1.0 and other.step == state.step


def test_a_state_dict_of_two_processes_is_refused_on_one():
    run, state = setup(pdes.get("heat1d"), Config(**SMALL))
    saved = state.state_dict(wall_time=0.0, other_ranks=[state.rank_state()])
    with pytest.raises(ValueError, match="trained on 2 processes; resume it on as many, not 1"):
        state.load_state_dict(saved)


def test_a_point_region_is_drawn_as_one_point():
    """The cavity's pressure gauge: one point of weight 1, whatever the batch (copies would add nothing)."""
    run, state = setup(pdes.get("cavity"), Config(**SMALL))
    batches = next_batches(run, state)
    assert batches["gauge"].points.shape == (1, 2) and batches["gauge"].weights.tolist() == [1.0]
    assert batches["continuity"].points.shape == (32, 2)
