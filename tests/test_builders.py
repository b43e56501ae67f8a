"""The physics-level builders ``pdes.heat`` and ``pdes.navier_stokes``: their PINN residuals and their FEM reference
agree with manufactured solutions, their quantities with closed forms, and a bad description is refused in one line.

A network that *is* the exact solution (``Exact``) must make every residual vanish: that checks the signs of
normals and the Neumann, Robin and outflow conditions of the PINN side. The FEM reference of the same description
must be the exact solution to its discretization error: that checks the translation to ``pdes.fem``.
"""

import math

import numpy as np
import pytest
import torch

import pdes
import pinn
from pdes.geometry import Box, Difference, Disk, Interval, Rectangle
from pinn.plan import residual_function
from pinn.quantities import network_value

pi = math.pi


class Exact(torch.nn.Module):
    """A "network" whose outputs are ``solution(points) -> (N, F)``; one dummy parameter for the plan."""

    def __init__(self, solution):
        super().__init__()
        self.solution = solution
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, points):
        return self.solution(points) + 0.0 * self.dummy


def largest_residuals(problem, model, skip=()):
    """``{term: max |r|}`` over 512 Sobol' points of each term's region (float64)."""
    out = {}
    for term in problem.terms:
        if term.name in skip:
            continue
        x = pdes.description.probe_points(term.region, 512)
        r = residual_function(model, problem, [term], torch.device("cpu"), torch.float64)(x)
        out[term.name] = float(r.abs().max())
    return out


def fem_error(problem, solution, n=2000):
    """Relative L2 error of the FEM reference against ``solution`` at Sobol' points of the domain, per field."""
    x = pdes.description.probe_points(problem.domain, n)
    values = problem.reference.evaluate(x)
    exact = solution(x)
    scale = math.sqrt(n)  # a field that is zero is measured absolutely, as if of RMS 1
    return {name: float((values[name] - exact[:, k]).norm() / max(exact[:, k].norm(), scale)) for k, name in
            enumerate(values)}  # fmt: skip


# --------------------------------------------------------------------------- heat


def annulus_heat(**overrides):
    """Steady heat on a square less a disk: Dirichlet outside, Robin on the hole, with
    u = sin(πx/2) cosh(y) / 2 + x y, k = 1 + x²/4, f = −∇·(k∇u)."""

    def u(x, y):
        return torch.sin(pi * x / 2) * torch.cosh(y) / 2 + x * y

    def k(x, y):
        return 1 + x**2 / 4

    def gradient(x, y):
        return pi / 4 * torch.cos(pi * x / 2) * torch.cosh(y) + y, torch.sin(pi * x / 2) * torch.sinh(y) / 2 + x

    def source(x, y):
        ux, uy = gradient(x, y)
        laplacian = (1 - pi**2 / 4) * torch.sin(pi * x / 2) * torch.cosh(y) / 2
        return -(k(x, y) * laplacian + x / 2 * ux)

    def robin(x, y):  # k ∂u/∂n + 3u with n pointing into the hole (outward of the plate)
        ux, uy = gradient(x, y)
        nx, ny = -(x - 0.5) / 0.25, -(y - 0.5) / 0.25
        return k(x, y) * (ux * nx + uy * ny) + 3 * u(x, y)

    plate = Difference(Rectangle([0.0, 0.0], [1.0, 1.0]), Disk([0.5, 0.5], 0.25))
    settings = dict(
        conductivity=k,
        source=source,
        conditions={"left|right|bottom|top": pdes.Dirichlet(u), "hole0": pdes.Robin(3.0, robin)},
        resolution=24,
    )
    settings.update(overrides)
    problem = pdes.heat(plate, **settings)
    return problem, lambda p: u(p[:, 0], p[:, 1])[:, None]


def test_heat_residuals_vanish_on_the_exact_solution():
    problem, exact = annulus_heat()
    assert [t.name for t in problem.terms] == ["pde", "left|right|bottom|top", "hole0"]
    residuals = largest_residuals(problem, Exact(exact))
    assert max(residuals.values()) < 1e-10, residuals


def test_heat_residuals_see_a_wrong_solution():
    """The same check fails for a solution off by 1 % in one term (so the check above has power)."""
    problem, exact = annulus_heat()
    residuals = largest_residuals(problem, Exact(lambda p: exact(p) * 1.01))
    assert min(residuals.values()) > 1e-3, residuals


def test_heat_fem_reference_matches_the_exact_solution():
    problem, exact = annulus_heat()
    assert problem.reference.kind == "fem"
    error = fem_error(problem, exact)
    assert error["u"] < 2e-4, error
    meta = problem.reference.metadata()
    assert meta["mesh"]["cells"] > 100 and meta["mesh"]["parts"] == ["bottom", "hole0", "left", "right", "top"]


def test_heat_flux_of_network_and_reference_against_the_closed_form():
    """∫ k ∂u/∂n over the hole by quadrature of the closed form, by the exact "network" through pdes.Flux, and by
    the FEM, from the Robin data (∫ (g − 3u_h)) and, with the flux given as Neumann data, from those."""
    problem, exact = annulus_heat(quantities={"q": pdes.Flux("hole0")}, refine={"hole0": 0.01})
    theta = torch.linspace(0, 2 * pi, 4097, dtype=torch.float64)[:-1]
    x, y = 0.5 + 0.25 * torch.cos(theta), 0.5 + 0.25 * torch.sin(theta)
    k = 1 + x**2 / 4
    ux = pi / 4 * torch.cos(pi * x / 2) * torch.cosh(y) + y
    uy = torch.sin(pi * x / 2) * torch.sinh(y) / 2 + x
    closed = float((k * (-ux * torch.cos(theta) - uy * torch.sin(theta))).mean() * 2 * pi * 0.25)
    bound = problem.quantities["q"]
    assert network_value(Exact(exact), problem, bound) == pytest.approx(closed, rel=1e-4)
    assert bound.fem(problem.reference.solution()) == pytest.approx(closed, rel=1e-3)
    dirichlet = pdes.Dirichlet(lambda x, y: exact(torch.stack([x, y], dim=1))[:, 0])
    conditions = {"left|right|bottom|top": dirichlet, "hole0": pdes.Neumann(k_normal_derivative)}
    neumann, _ = annulus_heat(quantities={"q": pdes.Flux("hole0")}, refine={"hole0": 0.01}, conditions=conditions)
    assert neumann.quantities["q"].fem(neumann.reference.solution()) == pytest.approx(closed, rel=1e-3)


def k_normal_derivative(x, y):
    """``k ∂u/∂n`` of annulus_heat's solution on its hole (n into the hole)."""
    k = 1 + x**2 / 4
    ux = pi / 4 * torch.cos(pi * x / 2) * torch.cosh(y) + y
    uy = torch.sin(pi * x / 2) * torch.sinh(y) / 2 + x
    return k * (-ux * (x - 0.5) - uy * (y - 0.5)) / 0.25


def test_transient_heat_reference_and_residuals():
    """u = e^{−2π²κt} sin πx sin πy on the unit square, insulated nowhere: Dirichlet 0 and the initial data."""
    kappa = 0.05

    def u(x, y, t):
        return torch.exp(-2 * pi**2 * kappa * t) * torch.sin(pi * x) * torch.sin(pi * y)

    problem = pdes.heat(
        Rectangle([0.0, 0.0], [1.0, 1.0]),
        conductivity=kappa,
        initial=lambda x, y: u(x, y, 0.0 * x),
        conditions={"left|right|bottom|top": pdes.Dirichlet(0.0)},
        time=(0.0, 1.0),
        resolution=20,
        time_steps=40,
    )
    assert problem.coordinates == ("x", "y", "t") and problem.coefficients == {"kappa": kappa}
    exact = lambda p: u(p[:, 0], p[:, 1], p[:, 2])[:, None]  # noqa: E731
    assert max(largest_residuals(problem, Exact(exact)).values()) < 1e-10
    assert fem_error(problem, exact)["u"] < 2e-3


def test_a_heat_problem_the_fem_cannot_take_trains_and_says_why(tmp_path):
    problem = pdes.heat(Box([0, 0, 0], [1, 1, 1]), source=1.0, conditions={
        "left|right|bottom|top|back|front": pdes.Dirichlet(0.0)})  # fmt: skip
    assert problem.reference.kind == "none" and "2D" in problem.reference.reason
    result = pinn.solve(problem, steps=3, lbfgs_steps=0, batch=32, eval_points=64, replicates=2, progress=False)
    assert result.report["errors"] == {}
    assert result.report["reference"]["kind"] == "none" and "3D" in result.report["reference"]["reason"]
    assert set(result.report["quadrature"]) == {"pde", "left|right|bottom|top|back|front"}


def test_one_dimensional_heat_has_no_fem_reference_but_builds():
    problem = pdes.heat(Interval(0.0, 1.0), conductivity=2.0, conditions={"left": pdes.Dirichlet(0.0),
                        "right": pdes.Neumann(1.0)})  # fmt: skip
    exact = Exact(lambda p: (p[:, 0] / 2)[:, None])  # 2 u'' = 0, u(0) = 0, 2 u'(1) = 1
    assert max(largest_residuals(problem, exact).values()) < 1e-12
    assert problem.reference.kind == "none"


# --------------------------------------------------------------------------- flow

H, L, U = 0.5, 2.0, 1.0


def poiseuille(nu=0.1, p0=0.3):
    """Channel flow u = 4U y(H − y)/H², p = p0 + 8νU(L − x)/H²: exact for Taylor–Hood elements."""

    def velocity(x, y):
        return 4 * U * y * (H - y) / H**2, 0.0 * y

    def solution(p):
        x, y = p[:, 0], p[:, 1]
        u, v = velocity(x, y)
        return torch.stack([u, v, p0 + 8 * nu * U * (L - x) / H**2], dim=1)

    problem = pdes.navier_stokes(
        Rectangle([0.0, 0.0], [L, H]),
        nu=nu,
        conditions={"left": pdes.Velocity(velocity), "bottom|top": pdes.NoSlip(), "right": pdes.Outflow(pressure=p0)},
        quantities={
            "drag": pdes.Force("bottom", "x"),
            "load": pdes.Force("bottom", "y"),
            "dp": pdes.PointDifference("p", (0.5, 0.25), (1.5, 0.25)),
        },  # fmt: skip
        resolution=12,
    )
    return problem, solution


def test_flow_residuals_vanish_on_poiseuille_flow():
    problem, solution = poiseuille()
    names = [t.name for t in problem.terms]
    assert "gauge" not in names and {"right_x", "right_y", "left_u", "bottom|top_v"} <= set(names)
    assert max(largest_residuals(problem, Exact(solution)).values()) < 1e-10


def test_the_outflow_pressure_is_imposed():
    """A network with the pressure off by 0.1 violates the outflow condition (and nothing else)."""
    problem, solution = poiseuille()
    shifted = Exact(lambda p: solution(p) + torch.tensor([0.0, 0.0, 0.1], dtype=p.dtype))
    residuals = largest_residuals(problem, shifted)
    assert residuals["right_x"] == pytest.approx(0.1, rel=1e-6)
    assert max(v for k, v in residuals.items() if k not in ("right_x", "right_y")) < 1e-10


def test_flow_fem_reference_is_poiseuille():
    problem, solution = poiseuille()
    assert problem.reference.up_to_constant == ()
    error = fem_error(problem, solution)
    assert max(error.values()) < 1e-8, error


def test_flow_quantities_against_closed_forms():
    """Force of the fluid on the bottom wall: (4νUL/H, −∫p dx); Δp = 8νU/H² between x = 0.5 and 1.5.

    The FEM's drag on this wall is not checked: its weak (reaction) form takes in one cell of the inflow's
    traction at the shared corner (pdes.fem.quantities); tests/test_fem_mms.py checks it on a body alone."""
    nu, p0 = 0.1, 0.3
    problem, solution = poiseuille(nu, p0)
    drag = 4 * nu * U * L / H
    load = -(p0 * L + 8 * nu * U / H**2 * L**2 / 2)
    closed = {"drag": drag, "load": load, "dp": 8 * nu * U / H**2}
    for name, value in closed.items():
        bound = problem.quantities[name]
        assert network_value(Exact(solution), problem, bound) == pytest.approx(value, rel=1e-6), name
        if name != "drag":
            assert bound.fem(problem.reference.solution()) == pytest.approx(value, rel=1e-6), name


def test_arrays_and_tensors_of_numbers_are_constants():
    problem = pdes.navier_stokes(
        Rectangle([0.0, 0.0], [1.0, 1.0]), nu=np.float64(0.1), force=np.array([0.0, -1.0]),
        conditions={"top": pdes.Velocity(torch.tensor([1.0, 0.0])), "left|right|bottom": pdes.NoSlip()},
    )  # fmt: skip
    assert problem.reference.description["force"] == [0.0, -1.0] and problem.coefficients == {"nu": 0.1}


def test_closed_flow_gets_a_gauge_and_pressure_up_to_a_constant():
    problem = pdes.navier_stokes(
        Rectangle([0.0, 0.0], [1.0, 1.0]),
        nu=0.01,
        conditions={"top": pdes.Velocity(lambda x, y: (4 * x * (1 - x), 0.0 * x)), "left|right|bottom": pdes.NoSlip()},
    )
    assert problem.terms[-1].name == "gauge" and problem.reference.up_to_constant == ("p",)


# --------------------------------------------------------------------------- bad descriptions

SQUARE = Rectangle([0.0, 0.0], [1.0, 1.0])
ALL = "left|right|bottom|top"
BAD = {
    "unknown part": (lambda: pdes.heat(SQUARE, conditions={"left|right|bottom|top|inlet": pdes.Dirichlet()}),
                     "names the part 'inlet'.*its parts: left, right, bottom, top"),
    "missing part": (lambda: pdes.heat(SQUARE, conditions={"left|right|bottom": pdes.Dirichlet()}),
                     "the boundary part 'top' has no condition"),
    "two conditions": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.Dirichlet(), "top": pdes.Neumann()}),
                       "the part 'top' is given two conditions"),
    "zero conductivity": (lambda: pdes.heat(SQUARE, conductivity=0.0, conditions={ALL: pdes.Dirichlet()}),
                          "conductivity must be positive"),
    "negative conductivity function": (
        lambda: pdes.heat(SQUARE, conductivity=lambda x, y: x - 0.5, conditions={ALL: pdes.Dirichlet()}),
        "conductivity must be positive, but is -0.*at"),
    "negative transfer": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.Robin(-1.0, 0.0)}),
                          r"Robin coefficient must be non-negative, but is -1"),
    "flow condition in heat": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.NoSlip()}),
                               r"conditions\['left\|right\|bottom\|top'\] must be one of Dirichlet, Neumann, Robin"),
    "nan source": (lambda: pdes.heat(SQUARE, source=lambda x, y: x / 0.0 * 0.0, conditions={ALL: pdes.Dirichlet()}),
                   "source: not finite at"),
    "wrong arity": (lambda: pdes.heat(SQUARE, source=lambda x: x, conditions={ALL: pdes.Dirichlet()}),
                    r"source: the function takes 1 argument\(s\); it must take \(x, y\)"),
    "time-dependent conductivity": (
        lambda: pdes.heat(SQUARE, conductivity=lambda x, y, t: 1 + t, initial=0.0, time=(0, 1),
                          conditions={ALL: pdes.Dirichlet()}), r"conductivity: the function takes 3"),
    "missing initial": (lambda: pdes.heat(SQUARE, time=(0, 1), conditions={ALL: pdes.Dirichlet()}),
                        "needs initial=u0"),
    "backwards time": (lambda: pdes.heat(SQUARE, initial=0.0, time=(1, 0), conditions={ALL: pdes.Dirichlet()}),
                       r"time must be None \(steady\) or \(t0, T\) with finite t0 < T"),
    "zero viscosity": (lambda: pdes.navier_stokes(SQUARE, nu=0.0, conditions={ALL: pdes.NoSlip()}),
                       "the viscosity nu must be a positive finite number"),
    "inflow through walls": (
        lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={"left": pdes.Velocity((1.0, 0.0)),
                                                               "right|bottom|top": pdes.NoSlip()}),
        "net flux of 1 into the domain and no part is an Outflow"),
    "nan velocity": (lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={ALL: pdes.Velocity((math.nan, 0.0))}),
                     r"must be a tuple of 2 finite numbers or a function of the coordinates, got \(nan, 0.0\)"),
    "velocity of one component": (
        lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={"left": pdes.Velocity(lambda x, y: x),
                                                               "right|bottom|top": pdes.Outflow()}),
        r"returned 1 value\(s\), expected 2"),
    "3D flow": (lambda: pdes.navier_stokes(Box([0, 0, 0], [1, 1, 1]), nu=0.1, conditions={}), "flows are 2D"),
    "quantity on an unknown part": (
        lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={ALL: pdes.NoSlip()},
                                   quantities={"drag": pdes.Force("cylinder")}), "unknown boundary part 'cylinder'"),
    "flux of a flow": (lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={ALL: pdes.NoSlip()},
                                                  quantities={"q": pdes.Flux("left")}), "Flux is a quantity of heat"),
    "pure Neumann steady heat": (lambda: pdes.heat(SQUARE, source=1.0, conditions={ALL: pdes.Neumann(0.0)}),
                                 "only Neumann conditions has a solution only up to a constant"),
    "refine on an unknown part": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.Dirichlet()}, refine={"hole0": 0.1}),
                                  "refine names the part 'hole0'; the domain's parts: left, right, bottom, top"),
    "negative refine": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.Dirichlet()}, refine={"top": -0.01}),
                        r"refine\['top'\] must be a positive cell size"),
    "zero time steps": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.Dirichlet()}, initial=0.0, time=(0, 1),
                                          time_steps=0), "time_steps must be a positive integer"),
    "part named like a term": (
        lambda: pdes.heat(pdes.geometry.Polygon([(0, 0), (1, 0), (0, 1)], names=["pde", "b", "c"]),
                          conditions={"pde": pdes.Dirichlet(), "b|c": pdes.Neumann()}),
        "the condition on 'pde' would make the term 'pde'"),
    "pressure at a point of a closed flow": (
        lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={ALL: pdes.NoSlip()},
                                   quantities={"p": pdes.PointValue("p", (0.5, 0.5))}), "take a PointDifference"),
    "force on a wall of a closed flow": (
        lambda: pdes.navier_stokes(SQUARE, nu=0.1, conditions={ALL: pdes.NoSlip()},
                                   quantities={"f": pdes.Force("top", "y")}), "depends on the pressure's constant"),
    "point outside": (lambda: pdes.heat(SQUARE, conditions={ALL: pdes.Dirichlet()},
                                        quantities={"u": pdes.PointValue("u", (2.0, 0.5))}), "lies outside the domain"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_descriptions_are_refused_in_one_line(case):
    build, message = BAD[case]
    with pytest.raises((ValueError, TypeError), match=message) as error:
        build()
    assert "\n" not in str(error.value)


# --------------------------------------------------------------------------- the reference's cache and failures


def test_the_cache_key_follows_the_description_and_the_mesh():
    first, _ = annulus_heat()
    again, _ = annulus_heat()
    other_data, _ = annulus_heat(source=lambda x, y: 1.0 + 0.0 * x)
    finer, _ = annulus_heat(resolution=30)
    assert first.reference.key == again.reference.key
    assert first.reference.fingerprint == again.reference.fingerprint != other_data.reference.fingerprint
    assert first.params == {} and first.reference.metadata()["description"]["conditions"] == {
        "left|right|bottom|top": "dirichlet", "hole0": "robin"}  # fmt: skip
    assert len({first.reference.key, other_data.reference.key, finer.reference.key}) == 3
    first.reference.solution()
    again.reference.solution()
    assert again.reference.source == "cache"


def test_a_failing_fem_reference_leaves_a_run_that_trains_and_says_why():
    """Newton from the Stokes start diverges at ν = 1e-5: the run trains, warns, and reports the reason."""
    problem = pdes.navier_stokes(
        Rectangle([0.0, 0.0], [1.0, 1.0]), nu=1e-5, resolution=8,
        conditions={"top": pdes.Velocity((1.0, 0.0)), "left|right|bottom": pdes.NoSlip()},
    )  # fmt: skip
    with pytest.warns(UserWarning, match="Newton diverged"):
        result = pinn.solve(problem, steps=2, lbfgs_steps=0, batch=32, eval_points=64, replicates=2, progress=False)
    assert result.report["errors"] == {} and result.report["reference"]["kind"] == "none"
    assert result.report["reference"]["reason"].startswith("the finite element reference of navier_stokes failed")


# --------------------------------------------------------------------------- exact velocity (DistanceDirichlet)


def channel_with_obstacle(time=None):
    channel = Difference(Rectangle([0.0, 0.0], [2.0, 1.0]), Disk([0.6, 0.5], 0.15))

    def inflow(x, y, *t):
        ramp = 1.0 if not t else 1 - torch.exp(-5 * t[0])
        return 4 * y * (1 - y) * ramp, 0.0 * y

    return pdes.navier_stokes(
        channel, nu=0.05, constraints="exact", time=time, initial=None if time is None else (0.0, 0.0),
        conditions={"left": pdes.Velocity(inflow), "bottom|top|hole0": pdes.NoSlip(), "right": pdes.Outflow()},
        resolution=10,
    ), inflow  # fmt: skip


@pytest.mark.parametrize("time", [None, (0.0, 1.0)], ids=["steady", "unsteady"])
def test_exact_velocity_holds_on_the_parts_whatever_the_network(time):
    problem, inflow = channel_with_obstacle(time)
    assert {t.name for t in problem.terms} >= {"right_x", "right_y"} and "left_u" not in {t.name for t in problem.terms}
    generator = torch.Generator().manual_seed(0)
    for name in ("left", "bottom", "top", "hole0"):
        region = problem.domain.boundary[name]
        x = pdes.description.probe_points(region, 64)
        raw = torch.randn(len(x), 3, generator=generator, dtype=torch.float64)
        out = problem.transform(x, raw)
        expected = inflow(x[:, 0], x[:, 1], *x[:, 2:].unbind(dim=1)) if name == "left" else (0.0, 0.0)
        torch.testing.assert_close(out[:, 0], torch.zeros_like(x[:, 0]) + expected[0], atol=1e-12, rtol=0)
        torch.testing.assert_close(out[:, 1], torch.zeros_like(x[:, 0]), atol=1e-12, rtol=0)
        torch.testing.assert_close(out[:, 2], raw[:, 2])  # the pressure passes through
    inside = pdes.description.probe_points(problem.domain, 256)
    offset, scale = problem.transform.affine(inside)
    assert bool((scale > 0).all())
    if time is not None:
        start = problem.domain.initial
        x = pdes.description.probe_points(start, 64)
        out = problem.transform(x, torch.randn(len(x), 3, generator=generator, dtype=torch.float64))
        torch.testing.assert_close(out[:, :2], torch.zeros(len(x), 2, dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("time", [None, (0.0, 1.0)], ids=["steady", "unsteady"])
def test_exact_velocity_taylors_match_autograd(time):
    problem, _ = channel_with_obstacle(time)
    p = pdes.description.probe_points(problem.domain, 64)
    offset, scale = problem.transform.affine_taylor(p)
    for taylor, row in ((offset, 0), (scale, 1)):
        q = p.clone().requires_grad_(True)
        values = problem.transform.affine(q)[row]
        for c in range(values.shape[0]):
            (g,) = torch.autograd.grad(values[c].sum(), q, create_graph=True)
            torch.testing.assert_close(taylor.gradient[:, c].T, g.detach(), rtol=1e-8, atol=1e-10)
            for i in range(p.shape[1]):
                (h,) = torch.autograd.grad(g[:, i].sum(), q, retain_graph=True)
                torch.testing.assert_close(taylor.hessian[i, :, c].T, h, rtol=1e-8, atol=1e-9)


def test_exact_velocity_trains_and_refuses_a_carrier_that_cuts_the_domain():
    problem, _ = channel_with_obstacle()
    result = pinn.solve(problem, steps=5, lbfgs_steps=0, batch=64, width=8, depth=2, eval_points=256,
                        replicates=2, progress=False)  # fmt: skip
    assert result.report["status"] == "complete" and set(result.report["errors"]) == {"u", "v", "p"}
    corner = pdes.geometry.Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])  # edge2's and edge3's lines cut it
    conditions = {"edge0": pdes.Velocity((0.0, 0.0)), "edge1|edge3|edge4|edge5": pdes.NoSlip(), "edge2": pdes.NoSlip()}
    with pytest.raises(ValueError, match="the line of the part 'edge[23]' cuts the domain"):
        pdes.navier_stokes(corner, nu=0.1, conditions=conditions, constraints="exact")
