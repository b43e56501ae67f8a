"""Run files: round trip, exact resume, corrupt files refused in one line, atomic writes."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import pdes
import pinn
from pinn import io
from pinn.cli import main

SETTINGS = dict(
    steps=60, lbfgs_steps=40, batch=64, width=12, depth=2, eval_every=20, eval_points=256, replicates=3, seed=3
)


def test_run_file_round_trip(tmp_path):
    result = pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **SETTINGS)
    run = io.load_run(tmp_path / "run.h5")
    assert run["complete"] and run["problem"] == "heat1d" and run["params"] == {"alpha": 0.4, "constraints": "exact"}
    assert run["config"] == result.config.to_dict()
    assert run["report"] == result.report
    assert run["history"]["loss"] == result.history["loss"]
    for name, value in result.model.state_dict().items():
        assert torch.equal(run["model_state"][name], value)
    assert set(run["training_state"]) >= {"adam", "schedule", "lbfgs", "generators", "rules"}


@pytest.mark.parametrize("stop_at", [40, 80], ids=["during_adam", "during_lbfgs"])
def test_resume_equals_an_uninterrupted_run(tmp_path, interrupted_solve, stop_at):
    problem = pdes.get("heat1d")
    whole = pinn.solve(problem, out=tmp_path / "whole", progress=False, **SETTINGS)

    interrupted_solve(stop_at, problem, out=tmp_path / "cut", **SETTINGS)
    assert not io.load_run(tmp_path / "cut" / "run.h5")["complete"]

    resumed = pinn.solve(problem, out=tmp_path / "cut", progress=False, resume=True)
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    assert resumed.history["loss"] == whole.history["loss"]
    assert resumed.report["errors"] == whole.report["errors"]


def test_an_existing_run_is_not_overwritten(tmp_path):
    pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **dict(SETTINGS, steps=5, lbfgs_steps=0))
    with pytest.raises(ValueError, match="already holds a run"):
        pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **dict(SETTINGS, steps=5, lbfgs_steps=0))
    with pytest.raises(ValueError, match="already complete"):
        pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, resume=True)


def test_truncated_run_file_is_reported_in_one_line(tmp_path, capsys):
    pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **dict(SETTINGS, steps=5, lbfgs_steps=0))
    path = tmp_path / "run.h5"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(io.CorruptRunFile, match="corrupt or truncated"):
        io.load_run(path)
    assert main(["solve", "heat1d", "--resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt or truncated" in err


def test_killed_process_leaves_a_readable_run_file(tmp_path):
    """SIGKILL at an arbitrary moment while checkpoints are written: the file left is complete."""
    args = ["solve", "heat1d", "--steps", "100000", "--batch", "32", "--width", "8", "--depth", "1", "--out"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pinn.cli import main; main(sys.argv[1:])", *args, str(tmp_path)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    path = tmp_path / "run.h5"
    deadline = time.time() + 120
    while not path.exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    run = io.load_run(path)
    assert not run["complete"] and run["step"] >= 250
