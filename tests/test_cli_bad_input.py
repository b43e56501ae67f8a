"""Bad command lines through the real ``pinn`` command: exit code 2, one line, no traceback, no file changed."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

import pdes
import pinn
from pinn.cli import main


def command() -> list[str]:
    """The installed ``pinn`` script, or ``python -m pinn`` where it is not on the PATH."""
    script = shutil.which("pinn")
    return [script] if script else [sys.executable, "-m", "pinn"]


def snapshot(root) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def heat1d_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "heat1d"
    pinn.solve(pdes.get("heat1d"), out=out, progress=False, steps=5, batch=16, width=8, depth=1, lbfgs_steps=0)
    return out


CASES = {
    "nan parameter": (["solve", "heat2d", "--param", "alpha=nan", "--out", "{new}"], "alpha must be a finite number"),
    "text for a number": (["reference", "cavity", "--param", "re=abc"], "re must be a finite number, got 'abc'"),
    "warm start of another problem": (
        ["solve", "heat2d", "--warm-start", "{run}", "--steps", "2", "--out", "{new}"],
        "the warm start does not fit",
    ),
    "negative seed": (["solve", "heat2d", "--seed", "-1", "--out", "{new}"], "seed must be an integer from 0"),
    "resume with another width": (
        ["solve", "heat1d", "--resume", "{run}", "--steps", "9", "--width", "9"],
        "width=9 differs",
    ),
    "resume into another out": (["solve", "heat1d", "--resume", "{run}", "--out", "{new}"], "give the same directory"),
    "unknown problem": (["solve", "heat9d", "--out", "{new}"], "unknown problem 'heat9d'"),
    "export of no run": (["export-vtk", "{new}"], "no run file at"),
    "convert a current run file": (["convert-run", "{run}", "--trust"], "is not of the old format"),
    "unknown flag": (["solve", "heat1d", "--stpes", "3"], "unrecognized arguments: --stpes"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_command_line_fails_in_one_line_and_changes_nothing(name, heat1d_run, tmp_path, capsys):
    argv, message = CASES[name]
    new, before = tmp_path / "new", snapshot(heat1d_run.parent)
    assert main([a.format(run=heat1d_run, new=new) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pinn: error: ") and message in err
    assert not new.exists() and snapshot(heat1d_run.parent) == before


def test_the_installed_command_fails_the_same_way(heat1d_run, tmp_path):
    """Two of the cases through the real ``pinn`` executable, side by side: exit code 2, stderr one line."""
    new, before = tmp_path / "new", snapshot(heat1d_run.parent)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    names = ["nan parameter", "warm start of another problem"]
    children = {}
    for name in names:
        args = [a.format(run=heat1d_run, new=new) for a in CASES[name][0]]
        children[name] = subprocess.Popen([*command(), *args], stderr=subprocess.PIPE, env=env, text=True)
    for name, child in children.items():
        _, err = child.communicate(timeout=300)
        assert child.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, (name, err)
        assert err.startswith("pinn: error: ") and CASES[name][1] in err, (name, err)
    assert not new.exists() and snapshot(heat1d_run.parent) == before
