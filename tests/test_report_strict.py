"""report.json is strict JSON: undefined numbers are null with a reason; zero references and diverged runs say so."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

import pdes
import pinn
from pdes.geometry import Interval
from pdes.problem import Problem, Term
from pdes.reference import AnalyticReference
from pinn.report import SINGLE_REPLICATE_NOTE, ZERO_REFERENCE_NOTE, field_errors, strict_json

TINY = dict(steps=20, batch=32, width=8, depth=1, eval_every=10, eval_points=64, replicates=2)


def strict_load(path):
    """``json.load`` that fails on NaN and infinities, as strict JSON parsers do."""
    return json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"{name} in {path}"))


def test_non_finite_numbers_become_null_with_a_reason():
    report = {"errors": {"u": {"rel_l2": math.nan, "max_abs": 1.0}}, "list": [math.inf, 2.0], "notes": {"a": "b"}}
    cleaned = strict_json(report, replicates=3)
    assert cleaned["errors"]["u"] == {"rel_l2": None, "max_abs": 1.0} and cleaned["list"] == [None, 2.0]
    assert cleaned["notes"] == {
        "a": "b",
        "errors.u.rel_l2": "not a finite number (nan)",
        "list.0": "not a finite number (inf)",
    }
    assert strict_json({"x": 1.0}, replicates=3) == {"x": 1.0}


def test_a_single_replicate_reports_std_error_null_as_undefined(tmp_path):
    result = pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **dict(TINY, replicates=1))
    report = strict_load(tmp_path / "report.json")
    assert report == result.report and report["status"] == "complete"
    for term, stats in report["quadrature"].items():
        assert stats["std_error"] is None and report["notes"][f"quadrature.{term}.std_error"] == SINGLE_REPLICATE_NOTE
        assert stats["estimate"] > 0


def test_a_zero_reference_gives_the_absolute_rms_error_with_a_note(tmp_path):
    domain = Interval(0.0, 1.0)
    terms = [Term("pde", domain, lambda f: f.u_xx), Term("boundary", domain.boundary, lambda f: f.u)]
    zero = AnalyticReference(("x",), lambda x: {"u": 0 * x})
    problem = Problem("zero", ("x",), ("u",), domain, terms, reference=zero)
    pinn.solve(problem, out=tmp_path, progress=False, **TINY)
    error = strict_load(tmp_path / "report.json")["errors"]["u"]
    assert error["note"] == ZERO_REFERENCE_NOTE and 0 < error["rel_l2"] <= error["max_abs"]
    prediction = {"u": torch.tensor([2.0, -2.0, 2.0, 2.0])}
    direct = field_errors(prediction, {"u": torch.zeros(4, dtype=torch.float64)})
    assert direct["u"] == {"rel_l2": pytest.approx(2.0), "max_abs": 2.0, "note": ZERO_REFERENCE_NOTE}
    assert "note" not in field_errors(prediction, {"u": torch.ones(4, dtype=torch.float64)})["u"]


def test_an_exploding_run_is_stopped_as_diverged_and_still_reports(tmp_path):
    """lr 1e10: the loss grows far beyond its first value; the run stops at once and keeps the initial parameters."""
    with pytest.raises(
        pinn.Diverged, match=r"^loss grew to .* times its first .* at step 1 \(adam\); the last"
    ) as stop:
        pinn.solve(pdes.get("heat1d"), out=tmp_path, progress=False, **dict(TINY, lr=1e10))
    report = strict_load(tmp_path / "report.json")
    assert report["status"] == "diverged" and report["steps_done"] == 1 and stop.value.result.report == report
    assert report["errors"]["u"]["rel_l2"] < 10
    run = pinn.io.load_run(tmp_path / "run.h5")
    assert not run["complete"] and run["report"] == report and len(run["history"]["loss"]) == 1


def test_the_command_line_reports_divergence_in_one_line_with_exit_code_1(tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "pinn", "solve", "heat1d", "--lr", "1e10", "--steps", "20", "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    lines = [line for line in done.stderr.splitlines() if line.startswith("pinn:")]
    assert done.returncode == 1 and "Traceback" not in done.stderr and len(lines) == 1
    assert lines[0].startswith("pinn: stopped: loss grew") and lines[0].endswith(f"{out}/report.json")
    assert strict_load(out / "report.json")["status"] == "diverged"
