"""Training end to end: the error falls, report.json keeps its schema, NaN stops the run."""

import json
import math
import warnings

import pytest
import torch
from trivial import trivial_errors

import pdes
import pinn
from pdes.geometry import Interval
from pdes.problem import Problem, Term
from pdes.reference import AnalyticReference
from pinn.config import Config

TINY = dict(steps=150, lbfgs_steps=20, batch=128, width=16, depth=2, eval_every=50, eval_points=512, replicates=4)


@pytest.mark.parametrize("constraints", ["exact", "soft"])
def test_short_training_beats_a_network_that_learned_nothing(tmp_path, constraints):
    problem = pdes.get("heat1d", constraints=constraints)
    result = pinn.solve(problem, out=tmp_path, progress=False, **TINY)
    assert result.report["errors"]["u"]["rel_l2"] < 0.5 * trivial_errors(problem, result.config)["u"]
    history = result.history
    assert history["loss"][-1] < history["loss"][0]
    assert [e["step"] for e in history["eval"]][:3] == [50, 100, 150]


def test_report_json_schema(tmp_path):
    result = pinn.solve(pdes.get("heat1d", constraints="soft"), out=tmp_path, progress=False, **TINY)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == json.loads(json.dumps(result.report))
    for key, kind in {
        "problem": str, "params": dict, "device": str, "dtype": str, "config": dict, "wall_time_s": float,
        "steps_per_s": float, "peak_memory_mb": float, "errors": dict, "reference": dict, "quadrature": dict,
    }.items():  # fmt: skip
        assert isinstance(report[key], kind), key
    assert report["problem"] == "heat1d" and report["params"] == {"alpha": 0.4, "constraints": "soft"}
    assert report["device"] == "cpu" and report["dtype"] == "float32"
    for key in ("steps", "lbfgs_steps", "batch", "sampler", "norm", "width", "depth", "seed"):
        assert key in report["config"], key
    assert set(report["errors"]) == {"u"} and set(report["errors"]["u"]) == {"rel_l2", "max_abs"}
    assert report["reference"]["kind"] == "analytic" and report["reference"]["points"] == 512
    assert set(report["quadrature"]) == {"pde", "boundary", "initial"}
    for stats in report["quadrature"].values():
        for key in ("sampler", "batch", "estimate", "std_error", "replicates", "grad_var_trace", "grad_snr"):
            assert key in stats, key
        assert stats["estimate"] >= 0 and stats["std_error"] >= 0 and stats["batch"] == 128


def test_same_seed_same_result_and_load_round_trip(tmp_path):
    settings = dict(TINY, steps=30, lbfgs_steps=0)
    a = pinn.solve(pdes.get("heat1d"), out=tmp_path / "a", progress=False, **settings)
    b = pinn.solve(pdes.get("heat1d"), progress=False, **settings)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)
    loaded = pinn.load(tmp_path / "a")
    points = torch.rand(50, 2)
    assert torch.equal(loaded.predict(points)["u"], a.predict(points)["u"])
    assert loaded.report["errors"] == a.report["errors"]


def nan_after(calls):
    """A Dirichlet residual that turns NaN after ``calls`` evaluations."""
    count = {"n": 0}

    def residual(f):
        count["n"] += 1
        return f.u * (float("nan") if count["n"] > calls else 1.0)

    return residual


def poisson1d(pde, boundary) -> Problem:
    """``−u'' = 1`` on (0, 1), ``u = 0`` at both ends (``u = x(1 − x)/2``), with the given residuals."""
    domain = Interval(0.0, 1.0)
    terms = [Term("pde", domain, pde), Term("boundary", domain.boundary, boundary)]
    return Problem(
        "poisson1d", ("x",), ("u",), domain, terms, AnalyticReference(("x",), lambda x: {"u": x * (1 - x) / 2})
    )


def test_nan_loss_stops_the_run_and_keeps_the_last_good_state(tmp_path):
    problem = poisson1d(lambda f: f.u_xx + 1.0, nan_after(10))
    with pytest.raises(pinn.Diverged, match=r"term 'boundary' became nan at step \d+ \(adam\)") as stopped:
        pinn.solve(problem, out=tmp_path, progress=False, **dict(TINY, steps=50))
    step = int(str(stopped.value).split(" at step ")[1].split()[0])
    assert 0 < step < 50
    run = pinn.io.load_run(tmp_path / "run.h5")
    assert not run["complete"]
    assert all(torch.isfinite(v).all() for v in run["model_state"].values())
    assert len(run["history"]["loss"]) == step and all(map(math.isfinite, run["history"]["loss"]))


def test_residual_naming_an_unknown_field_fails_with_its_name():
    domain = Interval(0.0, 1.0)
    problem = Problem("p", ("x",), ("u",), domain, [Term("pde", domain, lambda f: f.w_xx)])
    with pytest.raises(AttributeError, match="'w_xx'"):
        pinn.solve(problem, progress=False, **TINY)


def test_predict_checks_the_shape_of_points():
    result = pinn.solve(pdes.get("heat1d"), progress=False, **dict(TINY, steps=1, lbfgs_steps=0))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        result.predict(torch.rand(5, 3))


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"steps": -1}, "steps must be zero or more"),
        ({"batch": 0}, "batch must be a positive integer"),
        ({"width": 0}, "width must be a positive integer"),
        ({"depth": -2}, "depth must be a positive integer"),
        ({"sampler": "nope"}, "unknown sampler 'nope'; valid: uniform, .*sobol"),
        ({"activation": "relu"}, "unknown activation 'relu'; valid: tanh, sin, gelu"),
        ({"dtype": "float16"}, "unknown dtype"),
        ({"bogus": 1}, "unknown setting 'bogus'"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Config.build({}, settings)


@pytest.mark.parametrize("steps,expected", [(30, [20, 30]), (10, [10]), (40, [20, 40])])
def test_a_run_without_lbfgs_ends_its_history_with_its_final_errors(steps, expected):
    settings = dict(TINY, steps=steps, lbfgs_steps=0, eval_every=20)
    result = pinn.solve(pdes.get("heat1d"), progress=False, **settings)
    assert [e["step"] for e in result.history["eval"]] == expected
    assert result.history["eval"][-1]["errors"] == result.report["errors"]


def test_predicting_outside_the_domain_warns_once_with_the_count_and_the_first_point():
    result = pinn.solve(pdes.get("heat1d"), progress=False, **dict(TINY, steps=1, lbfgs_steps=0))
    inside = torch.tensor([[0.5, 0.5], [0.1, 0.9]], dtype=torch.float64)
    outside = torch.tensor([[0.5, 0.5], [2.0, 0.5], [0.5, -1.0]], dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result.predict(inside)
    with pytest.warns(UserWarning, match=r"^2 of 3 points lie outside the domain of heat1d \(first: \(2\.0, 0\.5\)\)"):
        result.predict(outside)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result.predict(outside)  # once per result
