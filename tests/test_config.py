"""Settings declared once: a flag per Config field, and the TOML file of a run's settings."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pinn.cli import build_parser, main, solver_settings
from pinn.config import SETTING_TYPES, Config, choices_of, read_toml

TINY = {"steps": 2, "lbfgs_steps": 0, "batch": 16, "width": 8, "depth": 1, "eval_points": 64, "replicates": 2}
TINY_FLAGS = [text for name, value in TINY.items() for text in ("--" + name.replace("_", "-"), str(value))]


def other_value(field: dataclasses.Field) -> tuple[object, list[str]]:
    """A value of ``field`` other than its default, and the flag words that give it."""
    flag = "--" + field.name.replace("_", "-")
    kinds, choices = SETTING_TYPES[field.name], choices_of(field)
    if kinds == (bool,):
        return True, [flag]
    if choices is not None:
        value = next(c for c in choices if c != field.default)
    elif kinds == (int, str):
        value = 2048
    elif kinds == (str,):
        value = "sobol"
    else:
        value = kinds[0](field.default) + kinds[0](3)
    return value, [flag, str(value)]


@pytest.mark.parametrize("field", dataclasses.fields(Config), ids=lambda f: f.name)
def test_every_field_has_a_flag_of_its_name(field):
    value, words = other_value(field)
    args = build_parser().parse_args(["solve", "heat1d", *words])
    assert solver_settings(args) == {field.name: value}
    if SETTING_TYPES[field.name] == (bool,):
        args = build_parser().parse_args(["solve", "heat1d", "--no-" + field.name.replace("_", "-")])
        assert solver_settings(args) == {field.name: False}


def test_help_comes_from_the_fields(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["solve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--lr-decay LR_DECAY the learning rate decays exponentially" in text
    assert "--norm {none,layer,rms,batch,group,weight,rwf}" in text and "--pool N|fresh" in text
    assert "--config FILE" in text


def test_eval_every_and_lr_decay_reach_the_config(tmp_path):
    assert main(["solve", "heat1d", *TINY_FLAGS, "--eval-every", "7", "--lr-decay", "0.5", "--out", str(tmp_path)]) == 0
    config = json.loads((tmp_path / "report.json").read_text())["config"]
    assert config["eval_every"] == 7 and config["lr_decay"] == 0.5


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_toml_round_trip(tmp_path):
    config = Config(
        steps=7, lr=0.1 + 0.2, lr_decay=1 / 3, fourier_scale=1e-7, sampler="pool", pool=1024, batch=16, seed=12
    )
    params = {"alpha": 0.1 + 0.7, "re": 100, "lid": 'a "quoted" \\ ünï\tcode', "flag": True, "odd key": 1.0}
    settings, read_params = read_toml(write(tmp_path / "config.toml", config.to_toml(params)))
    assert Config.build({}, settings) == config and read_params == params
    assert {type(v) for v in settings.values()} <= {int, float, str, bool}
    fresh = Config()
    settings, read_params = read_toml(write(tmp_path / "fresh.toml", fresh.to_toml({"constraints": None})))
    assert Config.build({}, settings) == fresh and settings["pool"] == "fresh" and read_params == {}
    assert "[params]" not in Config().to_toml()


def test_solve_with_a_run_config_gives_the_same_config(tmp_path):
    config = Config(**TINY, lr=0.003, eval_every=1, seed=5, sampler="halton")
    params = {"alpha": 0.25, "constraints": "exact"}
    path = write(tmp_path / "config.toml", config.to_toml(params))
    assert main(["solve", "heat1d", "--config", str(path), "--out", str(tmp_path / "run")]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["config"] == config.to_dict() and report["params"] == params


def test_flags_override_the_file(tmp_path):
    path = write(tmp_path / "run.toml", "steps = 3\nlr = 1  # an integer is a number\n[params]\nalpha = 0.2\n")
    args = [*TINY_FLAGS, "--param", "alpha=0.3", "--out", str(tmp_path / "run")]
    assert main(["solve", "heat1d", "--config", str(path), *args]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["config"]["steps"] == 2 and report["config"]["lr"] == 1.0 and report["params"]["alpha"] == 0.3


def test_int_is_a_number_but_bool_is_not_an_int(tmp_path):
    settings, _ = read_toml(write(tmp_path / "run.toml", "lr = 1\nfourier_scale = 2\nsteps = 3\n"))
    assert settings == {"lr": 1.0, "fourier_scale": 2.0, "steps": 3} and type(settings["lr"]) is float


@pytest.mark.parametrize(
    "text,message",
    [
        ("stepz = 3", "unknown setting 'stepz'; valid settings: activation, backbone, balance_every, base_sampler"),
        ("[solver]\nsteps = 3", "unknown setting 'solver'; valid settings: activation"),
        ('steps = "ten"', "setting 'steps' must be an integer, got \"ten\""),
        ("steps = 1.5", "setting 'steps' must be an integer, got 1.5"),
        ("steps = true", "setting 'steps' must be an integer, got true"),
        ('lr = "x"', "setting 'lr' must be a number, got \"x\""),
        ("shared_points = 1", "setting 'shared_points' must be true or false, got 1"),
        ("pool = 1.5", "setting 'pool' must be an integer or a string, got 1.5"),
        ("norm = [1, 2]", "setting 'norm' must be a string, got [1, 2]"),
        ("params = 3", "params must be a table [params] of problem parameters, got 3"),
        ("steps = ", "is not valid TOML: "),
        ('norm = "nope"', "unknown norm 'nope'; valid: none, layer, rms, batch, group, weight, rwf"),
    ],
)
def test_bad_config_file_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = write(tmp_path / "run.toml", text + "\n")
    assert main(["solve", "heat1d", "--config", str(path), *TINY_FLAGS, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pinn: error: ") and message in err
    assert not (tmp_path / "run").exists()


def test_missing_config_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["solve", "heat1d", "--config", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot read config file {tmp_path / 'none.toml'}: No such file" in err


def test_config_imports_no_engine():
    """pinn.config (without the package's own __init__, which imports the solver) needs no derivative stack."""
    code = (
        "import sys, types; package = types.ModuleType('pinn'); package.__path__ = ['pinn']; "
        "sys.modules['pinn'] = package; import pinn.config; "
        "print(sorted(m for m in sys.modules if m.startswith('pinn.')))"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert done.stdout.split() == ["['pinn.choices',", "'pinn.config']"]
