"""The pinn command: list, solve, and one-line errors with exit code 2 on bad input."""

import json
import subprocess
import sys

import pytest

from pinn.cli import main

FAST = ["--steps", "20", "--lbfgs-steps", "0", "--batch", "64", "--width", "8", "--depth", "1"]


def test_list_names_the_problems(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "heat1d" in out and "heat2d" in out and "alpha=0.4" in out


def test_solve_writes_report_and_run_file(tmp_path, capsys):
    assert main(["solve", "heat1d", "--param", "alpha=0.3", "--out", str(tmp_path), *FAST]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["params"] == {"alpha": 0.3, "constraints": "exact"} and report["config"]["steps"] == 20
    assert (tmp_path / "run.h5").is_file()
    assert "rel_l2" in capsys.readouterr().out


def test_speed_options_reach_the_config(tmp_path):
    args = ["--shared-points", "--engine", "forward", "--param", "boundary_weight=3"]
    assert main(["solve", "cavity", "--param", "lid=classic", *args, "--out", str(tmp_path), *FAST]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["config"]["shared_points"] is True and report["config"]["engine"] == "forward"
    assert report["params"]["boundary_weight"] == 3


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["solve", "heat3d"],
            "unknown problem 'heat3d'; valid problems: cavity, cavity_inverse, cylinder, heat1d, heat2d",
        ),
        (["solve", "heat1d", "--sampler", "nope"], "unknown sampler 'nope'; valid: "),
        (["solve", "heat1d", "--activation", "relu"], "unknown activation 'relu'; valid: tanh, sin, gelu"),
        (["solve", "heat1d", "--steps", "-5"], "steps must be zero or more, got -5"),
        (["solve", "heat1d", "--batch", "0"], "batch must be a positive integer, got 0"),
        (["solve", "heat1d", "--width", "0"], "width must be a positive integer, got 0"),
        (["solve", "heat1d", "--depth", "0"], "depth must be a positive integer, got 0"),
        (["solve", "heat1d", "--param", "beta=2"], "no parameter 'beta'; its parameters: alpha, constraints"),
        (["solve", "heat1d", "--param", "alpha"], "--param expects key=value"),
        (["solve", "heat1d", "--steps", "many"], "invalid int value: 'many'"),
        (["solve", "heat1d", "--device", "tpu"], "unknown device 'tpu'; valid: auto, cpu, cuda"),
        (["solve", "heat1d", "--engine", "jax"], "unknown engine 'jax'; valid: auto, forward, autograd"),
        (["solve", "heat1d", "--pool", "many"], "--pool expects a number of points or 'fresh', got 'many'"),
        (["solve", "heat1d", "--eval-every", "0"], "eval_every must be a positive integer, got 0"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pinn: error: ")
    assert message in err


def test_unwritable_out_directory(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["solve", "heat1d", "--out", str(blocker / "run"), *FAST]) == 2
    assert "is not writable" in capsys.readouterr().err


def test_console_entry_point_has_no_traceback():
    done = subprocess.run([sys.executable, "-m", "pinn", "solve", "nope"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "pinn: error: unknown problem 'nope'; valid problems: cavity, cavity_inverse, cylinder, heat1d"
    )
    assert done.stderr.count("\n") == 1


def test_pinn_help_lists_every_command_without_importing_torch():
    """``pinn --help`` builds no command's options and imports neither torch nor matplotlib: it answers in
    a fraction of a second (0.2 s measured) instead of the seconds torch takes to import."""
    code = (
        "import sys\nfrom pinn.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as exit:\n    assert exit.code == 0\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'pyvista', 'pdes', 'samplers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "[]"
    for command in ("list", "solve", "study", "export-vtk", "plot", "reference", "convert-run"):
        assert command in done.stdout
