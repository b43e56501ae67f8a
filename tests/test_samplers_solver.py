"""Every rule trains through ``pinn solve``, and the solver records quadrature statistics."""

from __future__ import annotations

import json
import math

import pytest
import torch

import pdes
import pinn
import samplers
from pdes.geometry import Ball, SpaceTime, TimeInterval
from pdes.problem import Problem, Term
from pinn.cli import main
from pinn.step import setup

SCHEMA = ("sampler", "batch", "estimate", "std_error", "replicates", "grad_var_trace", "grad_snr")
TINY = ["--steps", "2", "--lbfgs-steps", "0", "--batch", "64", "--width", "8", "--depth", "1", "--replicates", "2"]
OPTIONS = {
    "pool": ["--pool", "128"],
    "rad": ["--refresh-every", "1", "--candidates", "128"],
    "rar": ["--pool", "64", "--refresh-every", "1", "--candidates", "128", "--rar-add", "8"],
}


def solve_heat2d(rule: str, out, *params: str) -> dict:
    """``pinn solve heat2d --sampler rule`` with tiny settings; the report's quadrature block."""
    argv = ["solve", "heat2d", *params, "--sampler", rule, *TINY, *OPTIONS.get(rule, []), "--out", str(out)]
    assert main(argv) == 0
    return json.loads((out / "report.json").read_text())["quadrature"]


@pytest.mark.parametrize("rule", samplers.names())
def test_pinn_solve_heat2d_works_with_every_rule(rule, tmp_path):
    quadrature = solve_heat2d(rule, tmp_path)
    assert set(quadrature) == {t.name for t in pdes.get("heat2d").terms}
    check_statistics(quadrature, rule)


@pytest.mark.parametrize("rule", ["gauss", "rar"])
def test_boundary_and_initial_terms_get_their_own_rules(rule, tmp_path):
    quadrature = solve_heat2d(rule, tmp_path, "--param", "constraints=soft")
    assert set(quadrature) == {"pde", "boundary", "initial"}
    check_statistics(quadrature, rule)


def check_statistics(quadrature: dict, rule: str) -> None:
    for stats in quadrature.values():
        assert stats["sampler"] == rule
        assert all(key in stats for key in SCHEMA)
        assert all(math.isfinite(stats[key]) for key in SCHEMA[2:])
    if rule in ("pool", "rar"):
        assert quadrature["pde"]["pool_size"] >= 64
        assert math.isfinite(quadrature["pde"]["pool_gap"])


def test_statistics_are_recorded_at_the_interval_and_at_the_end():
    result = pinn.solve(
        pdes.get("heat1d"),
        progress=False,
        steps=4,
        lbfgs_steps=0,
        batch=32,
        width=8,
        depth=1,
        replicates=3,
        statistics_every=2,
        eval_points=256,
    )
    entries = result.history["quadrature"]
    assert [e["step"] for e in entries] == [2, 4, 4]
    assert entries[-1]["terms"] == result.report["quadrature"]
    assert result.report["quadrature"]["pde"]["replicates"] == 3


def test_gauss_on_a_ball_says_so_in_one_line():
    domain = SpaceTime(Ball([0.0, 0.0], 1.0), TimeInterval(0.0, 1.0))
    problem = Problem("disk", ("x", "y", "t"), ("u",), domain, [Term("pde", domain, lambda f: f.u_t)])
    with pytest.raises(ValueError, match="gauss works on boxes, box faces, points and products of those; Ball") as e:
        pinn.solve(problem, progress=False, steps=1, lbfgs_steps=0, batch=16, width=4, depth=1, sampler="gauss")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--sampler", "sobol", "--pool", "128"], "pool applies to samplers pool, rar, not to 'sobol'"),
        (["--sampler", "pool", "--pool", "many"], "--pool expects a number of points or 'fresh'"),
        (["--sampler", "pool", "--pool", "16"], "pool must hold at least one batch"),
        (["--sampler", "rad", "--rad-k", "-1"], "rad needs finite k >= 0"),
        (["--sampler", "pool", "--base-sampler", "rar"], "must be stateless"),
    ],
)
def test_bad_sampler_options_are_one_line_errors(extra, message, capsys):
    assert main(["solve", "heat2d", *TINY, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pinn: error: ") and message in err and err.count("\n") == 1


def test_one_rule_instance_per_term():
    run, state = setup(
        pdes.get("heat1d", constraints="soft"), pinn.Config(sampler="pool", pool=64, batch=32, steps=1, lbfgs_steps=0)
    )
    rules = list(state.rules.values())
    assert len({id(r) for r in rules}) == len(rules) == 3
    run.plan.draw(state.rules, state.generators, 32, run.device, state.dtype)
    assert [r.region for r in rules] == [t.region for t in run.problem.terms]
    assert torch.is_tensor(rules[0].pool.points)
