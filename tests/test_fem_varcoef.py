"""heat2d_varcoef: its PINN residual is the equation the FEM reference solves, and the reference works end to end."""

import numpy as np
import pytest
import torch

import pdes
from pdes import heat_problems as heat
from pinn.cli import main
from pinn.plan import residual


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_kappa_gradient_matches_finite_differences():
    x, y = np.random.default_rng(0).random((2, 200))
    h = 1e-6
    kx, ky = heat.varcoef_kappa_gradient(x, y)
    assert np.abs(kx - (heat.varcoef_kappa(x + h, y) - heat.varcoef_kappa(x - h, y)) / (2 * h)).max() < 1e-8
    assert np.abs(ky - (heat.varcoef_kappa(x, y + h) - heat.varcoef_kappa(x, y - h)) / (2 * h)).max() < 1e-8


def test_shared_functions_agree_on_numpy_and_torch():
    x, y, t = np.random.default_rng(1).random((3, 50))
    tx, ty, tt = (torch.from_numpy(a) for a in (x, y, t))
    assert np.allclose(heat.varcoef_kappa(x, y), heat.varcoef_kappa(tx, ty).numpy(), rtol=0, atol=1e-15)
    assert np.allclose(heat.varcoef_source(x, y, t), heat.varcoef_source(tx, ty, tt).numpy(), rtol=0, atol=1e-15)
    assert np.allclose(heat.varcoef_initial(x, y), heat.varcoef_initial(tx, ty).numpy(), rtol=0, atol=1e-15)


def test_pinn_residual_is_the_divergence_form_equation():
    """On a smooth u, the residual equals u_t − ∇·(κ∇u) − s with the divergence taken by finite differences."""
    problem = pdes.get("heat2d_varcoef")

    def u(x, y, t):
        return torch.sin(2 * x + y) * torch.exp(-t) + x * y * t

    def model(points):
        return u(points[:, 0], points[:, 1], points[:, 2])[:, None]

    points = torch.rand(100, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    r = residual(model, problem, problem.terms[0], points)
    x, y, t = points.T
    h = 1e-4

    def flux(x, y):  # κ ∇u by central differences of u
        ux = (u(x + h, y, t) - u(x - h, y, t)) / (2 * h)
        uy = (u(x, y + h, t) - u(x, y - h, t)) / (2 * h)
        return heat.varcoef_kappa(x, y) * ux, heat.varcoef_kappa(x, y) * uy

    divergence = (flux(x + h, y)[0] - flux(x - h, y)[0]) / (2 * h) + (flux(x, y + h)[1] - flux(x, y - h)[1]) / (2 * h)
    u_t = -torch.sin(2 * x + y) * torch.exp(-t) + x * y
    expected = u_t - divergence - heat.varcoef_source(x, y, t)
    assert (r - expected).abs().max() < 1e-5


def test_reference_is_a_lazily_computed_fem_solution(cache):
    problem = pdes.get("heat2d_varcoef")
    assert problem.reference.kind == "fem" and not cache.exists()
    x = torch.rand(300, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    x[:, 2] = 0.0
    u0 = heat.varcoef_initial(x[:, 0], x[:, 1])
    coarse, fine = (problem.reference.with_resolution(n) for n in (4, 8))
    coarse_error = (coarse.evaluate(x)["u"] - u0).abs().max()
    fine_error = (fine.evaluate(x)["u"] - u0).abs().max()
    assert coarse_error < 0.02 and fine_error < coarse_error / 5  # the P2 interpolant of u0, error O(h³)
    assert coarse.metadata()["resolution"] == 4 and coarse.metadata()["dofs"] == {"u": 81}
    assert len(list(cache.iterdir())) == 2


def test_cli_reference_prints_dofs_time_and_path(cache, capsys):
    assert main(["reference", "heat2d_varcoef", "--resolution", "4"]) == 0
    out = capsys.readouterr().out
    assert "dofs: u 81" in out and "200 time steps" in out and "computed now" in out
    assert f"cache: {cache}" in out
    assert main(["reference", "heat2d_varcoef", "--resolution", "4"]) == 0
    assert "loaded in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,message",
    [
        (["reference", "heat2d", "--resolution", "8"], "--resolution is for FEM references"),
        (["reference", "heat2d_varcoef", "--resolution", "0"], "resolution must be a positive integer, got 0"),
        (["reference", "heat2d_varcoef", "--param", "alpha=1"], "no parameter 'alpha'"),
    ],
)
def test_cli_reference_bad_input(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("pinn: error: ") and err.count("\n") == 1 and message in err


def test_cli_reference_of_an_analytic_problem(capsys):
    assert main(["reference", "heat2d"]) == 0
    assert "analytic reference, nothing to compute" in capsys.readouterr().out
