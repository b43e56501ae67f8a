"""``pinn data`` and ``pinn solve --data … --infer …``: observations from a file, a coefficient inferred, the run
resumed from its run file alone, and bad input refused in one line with exit code 2."""

import json

import pytest

from pinn.cli import main

SHORT = ["--steps", "30", "--lbfgs-steps", "0", "--batch", "32", "--width", "8", "--depth", "2", "--eval-every", "10"]


@pytest.fixture
def observations(tmp_path):
    path = tmp_path / "obs.h5"
    assert main(["data", "heat1d", "--points", "30", "--noise", "0.01", "--seed", "2", "--out", str(path)]) == 0
    return path


def test_pinn_data_then_solve_with_data_infers_the_coefficient(tmp_path, observations, capsys):
    out = tmp_path / "run"
    command = ["solve", "heat1d", "--data", str(observations), "--infer", "alpha=0.2", "--out", str(out), *SHORT]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "inferred alpha = " in printed and "from 0.2" in printed and "true" not in printed
    report = json.loads((out / "report.json").read_text())
    alpha = report["unknowns"]["alpha"]
    assert alpha["initial"] == 0.2 and alpha["true"] is None and alpha["value"] != 0.2
    assert report["data"]["data_u"]["observations"] == 30
    assert report["params"]["infer"] == {"alpha": 0.2} and report["params"]["data"]["file"] == str(observations)
    again = tmp_path / "again"  # its config.toml reruns it: the data and the inferred coefficient included
    assert main(["solve", "heat1d", "--config", str(out / "config.toml"), "--out", str(again)]) == 0
    rerun = json.loads((again / "report.json").read_text())
    assert rerun["unknowns"]["alpha"]["history"] == alpha["history"] and rerun["params"] == report["params"]
    assert main(["solve", "--resume", str(out), "--steps", "40"]) == 0  # the run file alone rebuilds the problem
    resumed = json.loads((out / "report.json").read_text())
    assert resumed["steps_done"] == 40 and resumed["unknowns"]["alpha"]["history"][:3] == alpha["history"][:3]


def test_a_changed_data_file_is_refused_on_resume(tmp_path, observations, capsys):
    out = tmp_path / "run"
    assert main(["solve", "heat1d", "--data", str(observations), "--infer", "alpha", "--out", str(out), *SHORT]) == 0
    other = tmp_path / "other.h5"
    assert main(["data", "heat1d", "--points", "30", "--seed", "3", "--out", str(other)]) == 0
    observations.write_bytes(other.read_bytes())
    capsys.readouterr()
    assert main(["solve", "--resume", str(out), "--steps", "40"]) == 2
    assert "changed since the run was trained on it" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--infer", "beta"], "has no coefficient 'beta' to infer; its coefficients: alpha"),
        (["--infer", "alpha=fast"], "the initial guess must be a number"),
        (["--infer", "alpha,alpha=2"], "--infer names 'alpha' twice"),
        (["--data", "missing.h5"], "missing.h5"),
        (["--data-field", "u"], "give --data"),
        (["--data", "{obs}", "--data-field", "w"], "observed field 'w' is not a field of problem 'heat1d'"),
    ],
    ids=["unknown_coefficient", "bad_guess", "twice", "missing_file", "field_without_data", "unknown_field"],
)
def test_bad_inverse_input_exits_2_with_one_line(tmp_path, observations, capsys, extra, message):
    extra = [item.replace("{obs}", str(observations)) for item in extra]
    assert main(["solve", "heat1d", *extra, "--out", str(tmp_path / "run"), *SHORT]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "run").exists()


def test_observations_outside_the_domain_are_refused_or_dropped(tmp_path, capsys):
    import torch

    from pdes.data import Data
    from pdes.data_files import write_data

    points = torch.tensor([[0.5, 0.5], [1.5, 0.5], [0.25, 0.2]], dtype=torch.float64)
    path = tmp_path / "obs.h5"
    write_data(Data(points, {"u": torch.zeros(3, dtype=torch.float64)}), path, ("x", "t"))
    base = ["solve", "heat1d", "--data", str(path), *SHORT]
    assert main([*base, "--out", str(tmp_path / "a")]) == 2
    assert "1 of 3 observations lie outside the domain (first: (1.5, 0.5))" in capsys.readouterr().err
    assert main([*base, "--data-outside", "drop", "--out", str(tmp_path / "b")]) == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["data"]["data_u"]["dropped"] == 1 and report["data"]["data_u"]["observations"] == 2


def test_pinn_data_never_overwrites_a_file(tmp_path, observations, capsys):
    before = observations.read_bytes()
    assert main(["data", "heat1d", "--points", "5", "--out", str(observations)]) == 2
    assert "never replaces a file: choose another --out" in capsys.readouterr().err
    assert observations.read_bytes() == before


def test_pinn_data_refuses_bad_counts_in_one_line(tmp_path, capsys):
    assert main(["data", "heat1d", "--points", "0", "--out", str(tmp_path / "o.h5")]) == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err
    assert main(["data", "heat1d", "--points", "5", "--fields", "w", "--out", str(tmp_path / "o.h5")]) == 2
    assert "not 'w'" in capsys.readouterr().err


def test_the_vtk_export_of_a_run_reads_back_as_observations(tmp_path, capsys):
    """``pinn export-vtk`` writes a .vts (pyvista reads it, meshio does not): a user's field file as observations."""
    first = tmp_path / "first"
    assert main(["solve", "kovasznay", "--out", str(first), *SHORT]) == 0
    assert main(["export-vtk", str(first), "--resolution", "12"]) == 0
    (fields,) = (first / "vtk").glob("fields.vts")
    out = tmp_path / "second"
    command = ["solve", "kovasznay", "--data", str(fields), "--data-field", "u,v", "--infer", "nu=0.1"]
    assert main([*command, "--out", str(out), *SHORT]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["data_u"]["observations"] == 144 and set(report["data"]) == {"data_u", "data_v"}
