"""``--resume DIR --steps N``: a finished or interrupted run extended, the schedule going on at its rate."""

import pytest

import pdes
import pinn
from pinn import io
from pinn.cli import main

SETTINGS = dict(
    steps=30, batch=32, width=8, depth=1, eval_every=10, eval_points=64, replicates=2, lr_decay=0.5, lbfgs_steps=0
)


def test_a_finished_run_gets_more_adam_steps_at_the_same_decay_rate(tmp_path):
    problem = pdes.get("heat1d")
    first = pinn.solve(problem, out=tmp_path, progress=False, **SETTINGS)
    longer = pinn.solve(problem, out=tmp_path, progress=False, resume=True, steps=50)
    history = longer.history
    assert history["step"] == list(range(1, 51)) and history["loss"][:30] == first.history["loss"]
    gamma = 0.5 ** (1 / 30)
    assert history["lr"][30] == pytest.approx(history["lr"][29] * gamma, rel=1e-12)
    assert history["lr"][49] == pytest.approx(history["lr"][0] * gamma**49, rel=1e-9)
    (extension,) = history["extensions"]
    assert extension["step"] == 30 and extension["steps"] == [30, 50] and extension["lbfgs_steps"] == [0, 0]
    assert extension["report"] == first.report and extension["lr_decay_per_step"] == pytest.approx(gamma)
    assert [e["step"] for e in history["eval"]][-1] == 50
    run = io.load_run(tmp_path / "run.h5")
    assert run["complete"] and run["config"]["steps"] == 50 and run["report"] == longer.report
    assert "steps = 50" in (tmp_path / "config.toml").read_text()


def test_lbfgs_can_be_extended_but_adam_cannot_follow_it(tmp_path):
    problem = pdes.get("heat1d")
    pinn.solve(problem, out=tmp_path, progress=False, **dict(SETTINGS, lbfgs_steps=10))
    with pytest.raises(
        ValueError, match=r"has begun L-BFGS, so Adam steps cannot follow; extend it with --lbfgs-steps"
    ):
        pinn.solve(problem, out=tmp_path, progress=False, resume=True, steps=40)
    more = pinn.solve(problem, out=tmp_path, progress=False, resume=True, lbfgs_steps=20)
    assert more.history["extensions"][0]["lbfgs_steps"] == [10, 20] and more.history["phase"][-1] == "lbfgs"


@pytest.mark.parametrize(
    "extra,message",
    [
        ({}, r"is already complete; extend it with more steps than its 30 \(--steps N\)"),
        ({"steps": 20}, r"can only get more, not steps=20, lbfgs_steps=0"),
        ({"steps": 40, "width": 9}, r"width=9 differs from the resumed run's width=8"),
    ],
)
def test_what_cannot_extend_a_run_is_refused_and_the_run_file_is_unchanged(tmp_path, extra, message):
    problem = pdes.get("heat1d")
    pinn.solve(problem, out=tmp_path, progress=False, **SETTINGS)
    before = (tmp_path / "run.h5").read_bytes()
    with pytest.raises(ValueError, match=message):
        pinn.solve(problem, out=tmp_path, progress=False, resume=True, **extra)
    assert (tmp_path / "run.h5").read_bytes() == before


def test_the_command_line_extends_a_run(tmp_path, capsys):
    args = [
        "solve",
        "heat1d",
        "--steps",
        "20",
        "--batch",
        "32",
        "--width",
        "8",
        "--depth",
        "1",
        "--lbfgs-steps",
        "0",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    assert main(["solve", "heat1d", "--resume", str(tmp_path), "--steps", "30"]) == 0
    assert io.load_run(tmp_path / "run.h5")["history"]["step"][-1] == 30
