"""The learning-rate warm-up: linear ramp, then the decay to lr · lr_decay at the last Adam step; resume."""

import pytest
from test_run_files import SETTINGS

import pdes
import pinn
from pinn.config import Config


def test_the_learning_rate_ramps_up_then_decays_to_its_end(tmp_path):
    settings = dict(SETTINGS, lbfgs_steps=0, warmup_steps=10, lr=1e-2, lr_decay=0.1)
    result = pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **settings)
    lr = result.history["lr"]
    assert len(lr) == 60
    assert lr[:10] == pytest.approx([1e-2 * (k + 1) / 10 for k in range(10)])
    assert lr[10] == pytest.approx(1e-2) and lr[-1] == pytest.approx(1e-2 * 0.1 ** (49 / 50))
    assert all(a > b for a, b in zip(lr[10:], lr[11:]))


def test_without_warmup_the_schedule_is_the_exponential_decay(tmp_path):
    result = pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **dict(SETTINGS, lbfgs_steps=0, lr_decay=0.1))
    lr = result.history["lr"]
    assert lr[0] == pytest.approx(result.config.lr)
    assert lr[-1] == pytest.approx(result.config.lr * 0.1 ** (59 / 60))


def test_a_warmed_up_run_resumes_bit_identically_and_refuses_more_adam_steps(tmp_path, interrupted_solve):
    problem = pdes.get("heat1d")
    settings = dict(SETTINGS, warmup_steps=15)
    whole = pinn.solve(problem, out=tmp_path / "whole", progress=False, **settings)
    interrupted_solve(10, problem, out=tmp_path / "cut", **settings)
    resumed = pinn.solve(problem, out=tmp_path / "cut", progress=False, resume=True)
    assert resumed.history["loss"] == whole.history["loss"] and resumed.history["lr"] == whole.history["lr"]
    adam_only = pinn.solve(problem, out=tmp_path / "adam", progress=False, **dict(settings, lbfgs_steps=0))
    with pytest.raises(ValueError, match="cannot take more Adam steps"):
        pinn.solve(problem, out=adam_only.out, progress=False, resume=True, steps=80)


@pytest.mark.parametrize("warmup", [-1, 60, 61])
def test_a_warmup_outside_the_adam_steps_is_refused(warmup):
    with pytest.raises(ValueError, match=f"warmup_steps must be from 0 to steps - 1 \\(59\\), got {warmup}"):
        Config(steps=60, warmup_steps=warmup)
