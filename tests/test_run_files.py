"""Run files: round trip, exact resume, corrupt files refused in one line, atomic writes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
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
    assert run["complete"] is True and type(run["step"]) is int
    assert run["problem"] == "heat1d" and run["params"] == {"alpha": 0.4, "constraints": "exact"}
    assert run["config"] == result.config.to_dict()
    assert run["reference"] == {k: v for k, v in result.report["reference"].items() if k != "points"}
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
    with pytest.raises(io.CorruptRunFile, match=r"run file '.*run.h5' is corrupt or truncated: [A-Z]\w*Error: "):
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


def test_a_missing_or_foreign_file_is_refused_in_one_line(tmp_path):
    with pytest.raises(io.CorruptRunFile, match=r"^no run file at '.*nothing.h5'$"):
        io.load_run(tmp_path / "nothing.h5")
    for name, attrs in (("other.h5", {"format": "other-1"}), ("bare.h5", {})):
        with h5py.File(tmp_path / name, "w") as h5:
            h5.attrs.update(attrs)
        expected = repr(attrs.get("format"))
        with pytest.raises(io.CorruptRunFile, match=rf"^'.*{name}' is not a run file \(format {expected}\)$"):
            io.load_run(tmp_path / name)


def test_problem_parameters_json_cannot_hold_are_recorded_by_their_repr():
    class Source:
        def __repr__(self):
            return "Source(width=0.02)"

    assert io.recorded_params({"source": Source(), "alpha": 0.4}) == {"source": "Source(width=0.02)", "alpha": 0.4}


def test_json_files_are_indented_by_two_spaces_and_end_with_a_newline(tmp_path):
    io.write_json(tmp_path / "report.json", {"errors": {"u": 1.5}})
    assert (tmp_path / "report.json").read_text() == '{\n  "errors": {\n    "u": 1.5\n  }\n}\n'


def test_an_output_directory_is_made_with_its_parents_and_checked_for_writing(tmp_path):
    assert io.ensure_writable_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"^output directory '.*file/run' is not writable: Not a directory$"):
        io.ensure_writable_dir(tmp_path / "file" / "run")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where nobody can create files")
def test_an_existing_directory_where_no_file_can_be_created_is_refused():
    with pytest.raises(ValueError, match="output directory '/proc' is not writable"):
        io.ensure_writable_dir(Path("/proc"))
