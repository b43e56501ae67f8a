"""Problem parameters and settings of the wrong kind: one line, exit code 2, no folder left behind."""

import pytest

import pdes
from pinn.cli import main
from pinn.config import Config


@pytest.mark.parametrize(
    "argv,message",
    [
        (["solve", "heat2d", "--param", "alpha=nan"], "parameter alpha must be a finite number, got 'nan'"),
        (["solve", "heat2d", "--param", "alpha=inf"], "parameter alpha must be a finite number, got 'inf'"),
        (["solve", "heat2d", "--param", "alpha=abc"], "parameter alpha must be a finite number, got 'abc'"),
        (["solve", "heat2d", "--param", "constraints=3"], "parameter constraints must be text, got 3"),
        (["reference", "cavity", "--param", "re=abc"], "parameter re must be a finite number, got 'abc'"),
        (["solve", "heat2d", "--seed", "-1"], "seed must be an integer from 0 to 2**63 - 1, got -1"),
        (["solve", "heat2d", "--lr", "inf"], "need a finite lr > 0"),
        (["solve", "heat2d", "--fourier-scale", "inf"], "fourier_scale must be positive and finite"),
    ],
)
def test_bad_values_are_one_line_errors_and_leave_no_folder(argv, message, capsys, tmp_path):
    out = tmp_path / "run"
    assert main([*argv, *(["--out", str(out)] if argv[0] == "solve" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pinn: error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_a_number_where_text_is_expected_and_a_bool_for_a_number_are_refused():
    with pytest.raises(ValueError, match="parameter lid must be text"):
        pdes.get("cavity", lid=1.0)
    with pytest.raises(ValueError, match="parameter re must be a finite number, got True"):
        pdes.get("cavity", re=True)
    assert pdes.get("cavity", re=200).params["re"] == 200  # an int for a float default is a number


def test_config_refuses_a_seed_out_of_range():
    with pytest.raises(ValueError, match="seed must be an integer from 0"):
        Config(seed=2**63)


def test_a_warm_start_of_another_network_is_one_line_and_leaves_no_folder(tmp_path, capsys):
    tiny = ["--steps", "2", "--lbfgs-steps", "0", "--batch", "16", "--width", "8", "--depth", "1",
            "--eval-points", "64", "--replicates", "2"]  # fmt: skip
    assert main(["solve", "heat1d", *tiny, "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    out = tmp_path / "two"
    assert main(["solve", "heat2d", *tiny, "--warm-start", str(tmp_path / "one"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the warm start does not fit this problem's network" in err and err.count("\n") == 1
    assert not out.exists()
