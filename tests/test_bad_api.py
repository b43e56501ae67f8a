"""Bad input through the Python API: one line that says what is wrong and what is valid, raised before
training and before the output folder exists; the physical parameters through the command line too."""

import math
import os
import subprocess
import sys

import pytest
import torch

import pdes
import pinn
from pdes import Problem, Term
from pdes.geometry import Box, Interval, SpaceTime, TimeInterval
from pdes.reference import AnalyticReference, Reference

LINE = Interval(0.0, 1.0)
SQUARE_IN_TIME = SpaceTime(Box([0.0, 0.0], [1.0, 1.0]), TimeInterval(0.0, 1.0))


def poisson(u_xx_plus=lambda f: f.u_xx + 1.0) -> Term:
    """The Term ``pde`` of ``−u'' = 1`` on (0, 1), or another residual on the same region."""
    return Term("pde", LINE, u_xx_plus)


def line_problem(**changes) -> Problem:
    """A user's 1D problem ``u'' + 1 = 0`` with an analytic reference, with ``changes`` to its arguments."""
    arguments = dict(
        name="mine",
        coordinates=("x",),
        fields=("u",),
        domain=LINE,
        terms=[poisson()],
        reference=AnalyticReference(("x",), lambda x: {"u": x * (1 - x) / 2}),
    )
    return Problem(**{**arguments, **changes})


class Evaluates(Reference):
    """A user's own reference whose ``evaluate`` is ``function(points)``."""

    kind = "analytic"
    fields = ("u",)

    def __init__(self, function):
        self.function = function

    def evaluate(self, points):
        return self.function(points)


def solve(problem: Problem, out, **settings) -> None:
    """The new user's call."""
    pinn.solve(problem, out=out, **{"steps": 5, "batch": 16, "progress": False, **settings})


CASES = {
    "no terms": (lambda out: solve(line_problem(terms=[]), out), ValueError, "one or more Term"),
    "residual reduced by mean": (
        lambda out: solve(line_problem(terms=[poisson(lambda f: (f.u_xx + 1.0).mean())]), out),
        ValueError,
        "one floating-point value per point, shape (N,)",
    ),
    "residual a number": (
        lambda out: solve(line_problem(terms=[poisson(lambda f: 0.0)]), out),
        TypeError,
        "one floating-point value per point, shape (N,)",
    ),
    "residual a bool tensor": (
        lambda out: solve(line_problem(terms=[poisson(lambda f: f.u > 0)]), out),
        TypeError,
        "one floating-point value per point, shape (N,)",
    ),
    "residual reads an unknown field": (
        lambda out: solve(line_problem(terms=[poisson(lambda f: f.w_xx)]), out),
        AttributeError,
        "valid names are fields (u)",
    ),
    "reference gives another field": (
        lambda out: solve(line_problem(reference=Evaluates(lambda p: {"w": p[:, 0]})), out),
        ValueError,
        "valid fields: u",
    ),
    "reference of shape (N, 1)": (
        lambda out: solve(line_problem(reference=Evaluates(lambda p: {"u": p[:, :1]})), out),
        ValueError,
        "one value per evaluation point",
    ),
    "reference not finite": (
        lambda out: solve(line_problem(reference=Evaluates(lambda p: {"u": 1 / (p[:, 0] * 0)})), out),
        ValueError,
        "must be finite",
    ),
    "reference of other coordinates": (
        lambda out: solve(line_problem(reference=AnalyticReference(("y",), lambda y: {"u": y})), out),
        ValueError,
        "the problem's coordinates",
    ),
    "reference not a Reference": (
        lambda out: solve(line_problem(reference=lambda x: {"u": x}), out),
        TypeError,
        "AnalyticReference(coordinates, solution)",
    ),
    "analytic solution of the wrong arity": (
        lambda out: solve(line_problem(reference=AnalyticReference(("x",), lambda x, t: {"u": x})), out),
        TypeError,
        "solution(x) -> {field: tensor}",
    ),
    "analytic solution not a dict": (
        lambda out: solve(line_problem(reference=AnalyticReference(("x",), lambda x: x)), out),
        TypeError,
        "a dict of fields",
    ),
    "no fields": (lambda out: solve(line_problem(fields=()), out), ValueError, "fields=('u',)"),
    "coordinates not of the domain's dimension": (
        lambda out: solve(line_problem(coordinates=("x", "y")), out),
        ValueError,
        "one coordinate name per axis",
    ),
    "domain a string": (lambda out: solve(line_problem(domain="line"), out), TypeError, "Region such as Box"),
    "terms a single Term": (lambda out: solve(line_problem(terms=poisson()), out), TypeError, "a list of Term"),
    "term region of another dimension": (
        lambda out: solve(line_problem(terms=[Term("pde", SQUARE_IN_TIME, lambda f: f.u)]), out),
        ValueError,
        "must have the domain's dimension",
    ),
    "term region a string": (
        lambda out: solve(line_problem(terms=[Term("pde", "domain", lambda f: f.u)]), out),
        TypeError,
        "Region (e.g. domain",
    ),
    "term residual not a function": (
        lambda out: solve(line_problem(terms=[Term("pde", LINE, 1.0)]), out),
        TypeError,
        "a function of the fields",
    ),
    "term name empty": (
        lambda out: solve(line_problem(terms=[Term("", LINE, lambda f: f.u)]), out),
        ValueError,
        "non-empty text",
    ),
    "term names repeated": (
        lambda out: solve(line_problem(terms=[poisson(), poisson()]), out),
        ValueError,
        "must be unique",
    ),
    "term weight text": (
        lambda out: solve(line_problem(terms=[Term("pde", LINE, lambda f: f.u, "1")]), out),
        TypeError,
        "positive finite number",
    ),
    "term weight a bool": (
        lambda out: solve(line_problem(terms=[Term("pde", LINE, lambda f: f.u, True)]), out),
        TypeError,
        "positive finite number",
    ),
    "term weight negative": (
        lambda out: solve(line_problem(terms=[Term("pde", LINE, lambda f: f.u, -1.0)]), out),
        ValueError,
        "positive finite number",
    ),
    "term weight infinite": (
        lambda out: solve(line_problem(terms=[Term("pde", LINE, lambda f: f.u, math.inf)]), out),
        ValueError,
        "positive finite number",
    ),
    "batch text": (lambda out: solve(line_problem(), out, batch="64"), TypeError, "must be an integer"),
    "batch fractional": (lambda out: solve(line_problem(), out, batch=64.5), TypeError, "must be an integer"),
    "batch a bool": (lambda out: solve(line_problem(), out, batch=True), TypeError, "must be an integer"),
    "lr text": (lambda out: solve(line_problem(), out, lr="1e-3"), TypeError, "must be a number"),
    "problem a name": (lambda out: solve("heat2d", out), TypeError, "e.g. pdes.get('heat2d')"),
    "fields a string": (lambda out: line_problem(fields="vel"), TypeError, "tuple of names such as"),
    "time interval reversed": (
        lambda out: TimeInterval(1, 0),
        ValueError,
        "TimeInterval needs t0 < t1, got t0=1, t1=0",
    ),
    "interval reversed": (lambda out: Interval(1, 0), ValueError, "Interval needs a < b, got a=1, b=0"),
    "box of numbers": (lambda out: Box(0, 1), TypeError, "Box([0, 0], [1, 1])"),
    "space-time of a tuple": (lambda out: SpaceTime(LINE, (0, 1)), TypeError, "TimeInterval(0, 1)"),
    "heat backward": (lambda out: solve(pdes.get("heat2d", alpha=-1), out), ValueError, "must be positive and finite"),
    "heat without diffusion": (lambda out: solve(pdes.get("heat1d", alpha=0), out), ValueError, "must be positive"),
    "heat diffusivity nan": (
        lambda out: pdes.heat_problems.heat2d(alpha=math.nan),
        ValueError,
        "must be positive and finite",
    ),
    "cavity re zero": (lambda out: solve(pdes.get("cavity", re=0), out), ValueError, "must be positive and finite"),
    "kovasznay re negative": (lambda out: pdes.get("kovasznay", re=-20), ValueError, "must be positive and finite"),
    "taylor_green nu zero": (lambda out: pdes.get("taylor_green", nu=0), ValueError, "must be positive and finite"),
    "taylor_green t_end negative": (
        lambda out: pdes.get("taylor_green", t_end=-1),
        ValueError,
        "must be positive and finite",
    ),
}


@pytest.mark.parametrize("action,kind,valid", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_before_any_folder(action, kind, valid, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(kind) as raised:
        action(out)
    message = str(raised.value)
    assert valid in message and "\n" not in message, message
    assert not out.exists()


def test_a_good_problem_still_trains(tmp_path):
    """The checks refuse none of the valid input above: constants broadcast by an analytic solution included."""
    reference = AnalyticReference(("x",), lambda x: {"u": torch.tensor(0.0, dtype=torch.float64)})
    solve(line_problem(reference=reference), tmp_path / "run", lbfgs_steps=0, width=8, depth=1, eval_points=64)
    assert (tmp_path / "run" / "report.json").exists()


@pytest.mark.parametrize(
    "problem,param,name",
    [("heat2d", "alpha=-1", "alpha"), ("cavity", "re=0", "re")],
)
def test_unphysical_parameters_on_the_command_line(problem, param, name, tmp_path):
    out = tmp_path / "x"
    argv = [sys.executable, "-m", "pinn", "solve", problem, "--param", param, "--steps", "2", "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("pinn: error:") and done.stderr.count("\n") == 1, done.stderr
    assert f"parameter {name} must be positive and finite" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
