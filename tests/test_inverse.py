"""Inverse problems: observations as an empirical quadrature, unknown coefficients and fields, their reports,
exact resume, and the refusals of bad descriptions."""

import math

import pytest
import torch
from test_run_files import SETTINGS

import pdes
import pinn
import pinn.step
from pdes.data import Data, data_terms
from pdes.geometry import Box
from pdes.reference import AnalyticReference
from pdes.unknowns import Unknown, UnknownField
from pinn.config import Config
from pinn.derivatives import AutogradDerivatives, ForwardDerivatives
from pinn.plan import StepPlan, total_loss
from pinn.state import build_model
from pinn.step import setup
from pinn.unknowns import coefficient_values
from samplers.empirical import Empirical

NU = 0.3


def sine_observations(n: int, seed: int = 0) -> Data:
    x = torch.rand(n, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return Data(x, {"u": torch.sin(math.pi * x[:, 0])})


def poisson_inverse(n: int = 40, **unknown) -> pdes.Problem:
    """``−ν u'' = ν₀π² sin πx`` on (0, 1), u observed at ``n`` points, ν unknown (true ν₀ = 0.3): u = sin πx."""
    box = Box([0.0], [1.0])
    data = sine_observations(n)

    def pde(f):
        return -f.nu * f.u_xx - NU * math.pi**2 * torch.sin(math.pi * f.x)

    terms = [pdes.Term("pde", box, pde), *data_terms(data)]
    options = dict(initial=1.0, positive=True, true=NU) | unknown
    reference = AnalyticReference(("x",), lambda x: {"u": torch.sin(math.pi * x)})
    return pdes.Problem("poisson_inverse", ("x",), ("u",), box, terms, reference, unknowns=[Unknown("nu", **options)])


# --- observations as a quadrature -------------------------------------------------------------


def test_minibatches_of_observations_cover_each_once_per_epoch():
    data = sine_observations(10)
    rule, g = Empirical(), torch.Generator().manual_seed(0)
    for _ in range(3):  # three epochs of batches 4, 4, 2
        batches = [rule.draw(data, 4, g) for _ in range(3)]
        assert [len(q) for q in batches] == [4, 4, 2]
        rows = torch.cat([q.points[:, 0] for q in batches])
        assert sorted(rows.tolist()) == sorted(data.points[:, 0].tolist())
        for q in batches:
            assert torch.equal(q.values["u"], torch.sin(math.pi * q.points[:, 0]))
            assert torch.allclose(q.weights.sum(), torch.tensor(1.0, dtype=torch.float64))


def test_a_minibatch_of_observations_is_an_unbiased_estimate_of_their_mean():
    data = sine_observations(50)
    rule, g = Empirical(), torch.Generator().manual_seed(1)
    exact = float(data.values["u"].square().mean())
    estimates = torch.tensor([float(q.mean(q.values["u"] ** 2)) for q in (rule.draw(data, 7, g) for _ in range(4000))])
    standard_error = float(estimates.std()) / math.sqrt(len(estimates))
    assert abs(float(estimates.mean()) - exact) < 4 * standard_error
    assert float(estimates.std()) > 0  # a real minibatch, not the whole set


def test_a_batch_that_holds_every_observation_serves_the_whole_set_each_step():
    data = sine_observations(12)
    rule, g = Empirical(), torch.Generator().manual_seed(0)
    first, second = rule.draw(data, 64, g), rule.draw(data, 64, g)
    assert len(first) == len(second) == 12
    assert sorted(first.points[:, 0].tolist()) == sorted(second.points[:, 0].tolist())


def test_the_data_term_loss_is_the_mean_squared_misfit():
    problem = poisson_inverse(20)
    model = build_model(problem, Config(width=8, depth=2, dtype="float64"))
    plan = StepPlan(problem, model)
    term = problem.terms[1]
    q = term.region.quadrature()
    loss = plan.losses(model, {"pde": q, "data_u": q} | {"pde": pde_batch(problem)})["data_u"]
    by_hand = (model(q.points)[:, 0] - q.values["u"]).square().mean()
    assert torch.allclose(loss, by_hand, rtol=1e-12)


def pde_batch(problem):
    from samplers.quadrature import Quadrature, equal_weights

    x = torch.linspace(0.05, 0.95, 9, dtype=torch.float64)[:, None]
    return Quadrature(x, equal_weights(9))


# --- unknown coefficients ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["forward", "autograd"])
@pytest.mark.parametrize(
    "kind", [dict(positive=True), dict(positive=False), dict(bounds=(0.1, 2.0))], ids=["log", "plain", "bounded"]
)
def test_an_unknown_coefficient_gets_the_gradient_of_finite_differences(engine, kind):
    problem = poisson_inverse(20, **({"positive": False} | kind))
    model = build_model(problem, Config(width=8, depth=2, dtype="float64"))
    plan = StepPlan(problem, model, engine)
    batches = {"pde": pde_batch(problem), "data_u": problem.terms[1].region.quadrature()}
    raw = next(p for name, p in model.named_parameters() if name.endswith("raw.nu"))

    def loss() -> torch.Tensor:
        return total_loss(problem, plan.losses(model, batches))

    (gradient,) = torch.autograd.grad(loss(), raw)
    h = 1e-6

    def loss_at(shift: float) -> float:
        with torch.no_grad():
            raw.add_(shift)
        value = float(loss().detach())  # with autograd on: the autograd engine differentiates the points
        with torch.no_grad():
            raw.sub_(shift)
        return value

    up, down = loss_at(h), loss_at(-h)
    assert float(gradient) == pytest.approx((up - down) / (2 * h), rel=1e-6)
    assert abs(float(gradient)) > 1e-3


def test_an_unknown_starts_at_its_initial_value_and_keeps_its_bounds():
    problem = poisson_inverse(positive=False, bounds=(0.2, 0.9), initial=0.5)
    model = build_model(problem, Config(width=8, depth=2, dtype="float64"))
    assert float(coefficient_values(model)["nu"].detach()) == pytest.approx(0.5, rel=1e-12)
    raw = next(p for name, p in model.named_parameters() if name.endswith("raw.nu"))
    with torch.no_grad():
        raw.fill_(1e3)
    assert 0.2 < float(coefficient_values(model)["nu"].detach()) <= 0.9


def test_an_unknown_coefficient_is_inferred_and_reported(tmp_path):
    result = pinn.solve(
        poisson_inverse(), out=tmp_path, progress=False, steps=400, lbfgs_steps=60, batch=64, lr=1e-2, width=16
    )
    nu = result.report["unknowns"]["nu"]
    assert nu["rel_error"] < 0.02 and abs(nu["value"] - NU) == pytest.approx(nu["rel_error"] * NU)
    assert nu["initial"] == 1.0 and nu["true"] == NU
    steps = [s for s, _ in nu["history"]]
    assert steps == sorted(steps) and len(steps) >= 2 and abs(nu["history"][0][1] - NU) > abs(nu["value"] - NU)
    data = result.report["data"]["data_u"]
    assert data["observations"] == 40 and data["dropped"] == 0 and data["residual_rms"] < 0.05
    assert result.report["quadrature"]["data_u"]["sampler"] == "data"
    assert result.report["quadrature"]["data_u"]["batch"] == 40
    loaded = pinn.load(tmp_path, problem=poisson_inverse())
    assert float(coefficient_values(loaded.model)["nu"].detach()) == pytest.approx(nu["value"], rel=1e-6)


def test_an_unknown_with_its_own_learning_rate_gets_its_own_adam_group():
    problem = poisson_inverse(lr=0.1)
    run, state = setup(problem, Config(width=8, depth=2))
    assert [g["lr"] for g in state.adam.param_groups] == [1e-3, 0.1]
    assert len(state.adam.param_groups[1]["params"]) == 1


@pytest.mark.parametrize("stop_at", [40, 80], ids=["during_adam", "during_lbfgs"])
def test_a_run_with_unknowns_and_data_resumes_bit_identically(tmp_path, interrupted_solve, stop_at):
    # minibatches of the 40 observations: an epoch order to resume; two L-BFGS chunks (steps 110, 140), so that
    # the run cut at 110 resumes L-BFGS on its stored batches, observed values included
    settings = dict(SETTINGS, batch=16, lbfgs_steps=80)
    whole = pinn.solve(poisson_inverse(), out=tmp_path / "whole", progress=False, **settings)
    interrupted_solve(stop_at, poisson_inverse(), out=tmp_path / "cut", **settings)
    resumed = pinn.solve(poisson_inverse(), out=tmp_path / "cut", progress=False, resume=True)
    assert resumed.history["loss"] == whole.history["loss"]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    assert resumed.report["unknowns"]["nu"]["history"] == whole.report["unknowns"]["nu"]["history"]


def test_infer_turns_a_known_coefficient_into_an_unknown():
    problem = pdes.infer(pdes.get("heat1d"), "alpha", 1.0)
    assert "alpha" not in problem.coefficients
    (alpha,) = problem.unknowns
    assert (alpha.name, alpha.initial, alpha.true, alpha.positive) == ("alpha", 1.0, None, True)
    assert pdes.infer(pdes.get("heat1d"), "alpha", 1.0, true=0.4).unknowns[0].true == 0.4
    with pytest.raises(ValueError, match="has no coefficient 'beta' to infer; its coefficients: alpha"):
        pdes.infer(pdes.get("heat1d"), "beta")


# --- unknown fields ------------------------------------------------------------------------------


def heat_with_unknown_conductivity(network: str, over: str | None) -> pdes.Problem:
    problem = pdes.get("heat2d_varcoef_inverse", points=20)
    field = UnknownField("k", positive=True, network=network, over=over, true=problem.unknowns[0].true)
    return pdes.Problem(
        "k", problem.coordinates, ("u",), problem.domain, problem.terms, unknowns=[field], transform=problem.transform
    )


@pytest.mark.parametrize("network,over", [("separate", "xy"), ("shared", None)])
def test_the_forward_engine_differentiates_unknown_fields_as_autograd_does(network, over):
    problem = heat_with_unknown_conductivity(network, over)
    assert problem.fields == ("u", "k")
    model = build_model(problem, Config(width=8, depth=2, dtype="float64"))
    x = torch.rand(7, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    needed = [(f, w) for f in (0, 1) for w in [(), (0,), (1,), (2,), (0, 0), (1, 1), (0, 1)]]
    forward, autograd = ForwardDerivatives(model, x, needed), AutogradDerivatives(model, x)
    for key in needed:
        assert torch.allclose(forward.derivative(*key), autograd.derivative(*key), rtol=1e-10, atol=1e-12), key
    assert (model(x)[:, 1] > 0).all()  # softplus
    if over == "xy":
        assert torch.allclose(autograd.derivative(1, (2,)), torch.zeros(7, dtype=torch.float64))


def test_an_unknown_field_with_a_true_field_gets_its_errors(tmp_path):
    result = pinn.solve(
        pdes.get("heat2d_varcoef_inverse", points=30), progress=False, steps=20, lbfgs_steps=0, batch=64, width=8
    )
    assert set(result.report["errors"]) == {"u", "k"}
    k = result.report["unknowns"]["k"]
    assert k["kind"] == "field" and k["rel_l2"] == result.report["errors"]["k"]["rel_l2"] > 0


# --- refusals ------------------------------------------------------------------------------------


def test_observations_outside_the_domain_are_refused_or_dropped_on_request():
    box = Box([0.0], [1.0])
    data = Data(torch.tensor([[1.5], [0.5], [2.0]]), {"u": torch.tensor([0.0, 1.0, 2.0])})
    with pytest.raises(
        ValueError, match=r"term 'data_u': 2 of 3 observations lie outside the domain \(first: \(1.5,\)\)"
    ):
        pdes.Problem("p", ("x",), ("u",), box, data_terms(data))
    kept = data.inside(box, drop=True)
    assert len(kept) == 1 and kept.dropped == 2 and kept.summary()["dropped"] == 2
    assert kept.points.tolist() == [[0.5]] and kept.values["u"].tolist() == [1.0]


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda: Data(torch.zeros(3, 1), {"u": torch.tensor([0.0, math.nan, 1.0])}), ValueError, "1 of 3 are not"),
        (lambda: Data(torch.zeros(3, 1), {"u": torch.zeros(4)}), ValueError, r"must have shape \(3,\)"),
        (lambda: Data(torch.zeros(3), {"u": torch.zeros(3)}), ValueError, r"shape \(N, d\)"),
        (lambda: Data(torch.zeros(3, 1), {}), TypeError, "non-empty dict"),
        (lambda: Data(torch.zeros(2, 1), {"u": torch.zeros(2)}, noise=-1.0), ValueError, "standard deviation >= 0"),
        (lambda: Unknown("nu", initial=3.0, bounds=(0.0, 1.0)), ValueError, r"bounds \(0.0, 1.0\) must contain"),
        (lambda: Unknown("nu", initial=-1.0, positive=True), ValueError, "initial value must be > 0"),
        (lambda: Unknown("nu", initial=math.nan), ValueError, "finite number"),
        (lambda: UnknownField("k", over="xy"), ValueError, "give network='separate'"),
        (lambda: pdes.with_data(pdes.get("heat1d"), sine_observations(3), ["w"]), ValueError, "not a field"),
        (
            lambda: pdes.Problem("p", ("x",), ("u",), Box([0.0], [1.0]), [], unknowns=[Unknown("x", initial=1.0)]),
            ValueError,
            "has the name of a coordinate",
        ),
    ],
    ids=[
        "nan",
        "shape",
        "points_1d",
        "no_values",
        "noise",
        "bounds",
        "positive",
        "nan_initial",
        "over",
        "field",
        "name",
    ],
)
def test_bad_descriptions_are_refused_in_one_line(make, error, message):
    with pytest.raises(error, match=message) as raised:
        make()
    assert "\n" not in str(raised.value)


def test_an_unknown_that_no_residual_reads_is_refused_before_training():
    problem = poisson_inverse()
    problem = pdes.Problem(
        problem.name, problem.coordinates, problem.fields, problem.domain, problem.terms[1:],
        unknowns=problem.unknowns,
    )  # fmt: skip
    with pytest.raises(ValueError, match="no residual of problem 'poisson_inverse' reads the unknown 'nu'"):
        pinn.solve(problem, progress=False, steps=1, lbfgs_steps=0)


def test_a_residual_that_reads_data_off_a_data_region_is_refused():
    box = Box([0.0], [1.0])
    problem = pdes.Problem("p", ("x",), ("u",), box, [pdes.Term("pde", box, lambda f: f.u - f.data("u"))])
    with pytest.raises(pdes.UnknownName, match="this term's region is not a pdes Data region"):
        pinn.solve(problem, progress=False, steps=1, lbfgs_steps=0)


def test_observations_of_a_derivative_enter_like_any_residual():
    """A measured flux ``q = u_x``: the data term ``f.u_x − f.data("q")`` on both engines is the mean squared misfit."""
    box = Box([0.0], [1.0])
    x = torch.linspace(0.1, 0.9, 9, dtype=torch.float64)[:, None]
    flux = Data(x, {"q": math.pi * torch.cos(math.pi * x[:, 0])})
    problem = pdes.Problem("flux", ("x",), ("u",), box, [pdes.Term("flux", flux, lambda f: f.u_x - f.data("q"))])
    model = build_model(problem, Config(width=8, depth=2, dtype="float64"))
    q = flux.quadrature()
    points = q.points.clone().requires_grad_(True)
    (u_x,) = torch.autograd.grad(model(points)[:, 0].sum(), points)
    by_hand = (u_x[:, 0] - q.values["q"]).square().mean()
    for engine in ("forward", "autograd"):
        loss = StepPlan(problem, model, engine).losses(model, {"flux": q})["flux"]
        assert torch.allclose(loss, by_hand, rtol=1e-12), engine


def test_inferred_fields_are_exported_to_vtk(tmp_path):
    import pyvista

    import pinn.vtk

    result = pinn.solve(
        pdes.get("heat2d_varcoef_inverse", points=30), progress=False, steps=5, lbfgs_steps=0, batch=32, width=8
    )
    files = pinn.vtk.export(result, tmp_path, times=[0.5], resolution=8)
    mesh = pyvista.read(next(f for f in files if f.suffix in (".vtu", ".vts", ".vtr", ".vti")))
    assert {"u", "k"} <= set(mesh.point_data.keys())
    assert (mesh.point_data["k"] > 0).all()


def test_the_history_figure_draws_each_inferred_coefficient_against_its_truth(tmp_path):
    from pinn.plot import history_figure

    result = pinn.solve(poisson_inverse(), progress=False, steps=40, lbfgs_steps=0, batch=32, width=8, eval_every=10)
    figure = history_figure(result)
    (axes,) = [a for a in figure.axes if a.get_title() == "inferred coefficients"]
    (line,) = [line for line in axes.lines if line.get_label() == "nu rel error"]
    history = result.report["unknowns"]["nu"]["history"]
    assert list(line.get_xdata()) == [s for s, _ in history]
    assert list(line.get_ydata()) == pytest.approx([abs(v - NU) / NU for _, v in history])


def test_an_unknown_field_that_no_residual_reads_is_refused():
    box = Box([0.0], [1.0])
    terms = [pdes.Term("pde", box, lambda f: f.u_xx + 1)]
    problem = pdes.Problem("p", ("x",), ("u",), box, terms, unknowns=[UnknownField("k")])
    with pytest.raises(ValueError, match="no residual of problem 'p' reads the unknown 'k'"):
        pinn.solve(problem, progress=False, steps=1, lbfgs_steps=0)
    read = pdes.Problem(
        "p",
        ("x",),
        ("u",),
        box,
        [pdes.Term("pde", box, lambda f: f.k_x * f.u_x + f.u_xx)],
        unknowns=[UnknownField("k")],
    )
    assert pinn.solve(read, progress=False, steps=1, lbfgs_steps=0).report["unknowns"]["k"]["kind"] == "field"


def test_fields_come_out_in_the_problems_order_whatever_network_gives_them():
    """Fields (u, v, k, m): k from a separate network over x, m a shared output; the backbone gives (u, v, m)."""
    box = Box([0.0, 0.0], [1.0, 1.0])
    unknowns = [UnknownField("k", network="separate", over="x"), UnknownField("m", positive=True)]
    terms = [pdes.Term("pde", box, lambda f: f.k * f.u_xx + f.m * f.v_yy + f.k_x)]
    problem = pdes.Problem("order", ("x", "y"), ("u", "v"), box, terms, unknowns=unknowns)
    assert problem.fields == ("u", "v", "k", "m")
    model = build_model(problem, Config(width=8, depth=2, dtype="float64"))
    x = torch.rand(5, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    needed = [(f, w) for f in range(4) for w in [(), (0,), (1,), (0, 0), (1, 1)]]
    forward, autograd = ForwardDerivatives(model, x, needed), AutogradDerivatives(model, x)
    for key in needed:
        assert torch.allclose(forward.derivative(*key), autograd.derivative(*key), rtol=1e-10, atol=1e-12), key
    assert torch.equal(autograd.derivative(2, (1,)), torch.zeros(5, dtype=torch.float64))  # k does not vary in y
    assert (autograd.derivative(3, (1,)).abs() > 0).all() and (model(x)[:, 3] > 0).all()  # m does; positive


def test_a_single_observation_trains_and_reports_undefined_gradient_statistics(tmp_path):
    box = Box([0.0], [1.0])
    sensor = Data([[0.5]], {"u": [1.0]})
    terms = [pdes.Term("pde", box, lambda f: f.u_xx + f.nu), *data_terms(sensor)]
    problem = pdes.Problem("one", ("x",), ("u",), box, terms, unknowns=[Unknown("nu", initial=1.0)])
    result = pinn.solve(problem, out=tmp_path, progress=False, steps=5, lbfgs_steps=0, batch=16, width=8)
    assert result.report["quadrature"]["data_u"]["grad_snr"] is None
    assert "quadrature.data_u.grad_snr" in result.report["notes"]
    assert (tmp_path / "report.json").exists()


def test_lbfgs_trains_on_every_observation(tmp_path):
    run, state = setup(poisson_inverse(150), Config(width=8, depth=2, steps=1, lbfgs_steps=1, batch=128))
    pinn.step.train(run, state, [])
    assert len(state.lbfgs_batches["data_u"]) == 150 and len(state.lbfgs_batches["pde"]) == 128


def test_resuming_on_other_observations_is_refused(tmp_path, interrupted_solve):
    settings = dict(SETTINGS, batch=16)
    interrupted_solve(40, poisson_inverse(), out=tmp_path, **settings)
    box = Box([0.0], [1.0])
    other = poisson_inverse()
    moved = Data(other.terms[1].region.points + 1e-3, other.terms[1].region.values)
    terms = [other.terms[0], *data_terms(moved)]
    other = pdes.Problem(other.name, ("x",), ("u",), box, terms, other.reference, unknowns=other.unknowns)
    with pytest.raises(ValueError, match="the observations differ from those the run was trained on"):
        pinn.solve(other, out=tmp_path, progress=False, resume=True)


def test_a_users_network_must_give_the_fields_it_computes():
    problem = heat_with_unknown_conductivity("separate", "xy")
    with pytest.raises(
        ValueError, match=r"the network gives 2 outputs, but problem 'k' needs 1, one per field it computes \(u\)"
    ):
        build_model(problem, Config(), model=torch.nn.Sequential(torch.nn.Linear(3, 2)))
    assert build_model(problem, Config(), model=torch.nn.Sequential(torch.nn.Linear(3, 1)))(
        torch.zeros(4, 3)
    ).shape == (4, 2)


@pytest.mark.parametrize(
    "params,message",
    [
        (dict(infer="alpha"), "parameter infer must map names to first guesses"),
        (dict(infer={"alpha": "fast"}), "the first guess of 'alpha' must be a number"),
        (dict(data="obs.h5"), "parameter data must be a table"),
        (dict(data={"file": "obs.h5", "fields": "u"}), "data fields must be a list of field names"),
    ],
)
def test_data_and_infer_parameters_of_the_wrong_kind_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        pdes.get("heat1d", **params)


def test_observed_values_that_are_no_field_are_refused_unless_the_fields_are_named():
    data = Data(torch.rand(4, 2, dtype=torch.float64), {"u": torch.zeros(4), "U": torch.ones(4)})
    with pytest.raises(ValueError, match=r"the data hold U, which is not a field of problem 'heat1d' \(u\)"):
        pdes.with_data(pdes.get("heat1d"), data)
    assert [t.name for t in pdes.with_data(pdes.get("heat1d"), data, ["u"]).terms][-1] == "data_u"


def test_synthetic_data_leave_out_fields_known_only_up_to_a_constant():
    data = pdes.synthetic_data(pdes.get("kovasznay"), 5, noise=0.01)
    assert data.names == ("u", "v")
    with pytest.raises(ValueError, match="noise must be a finite relative standard deviation"):
        pdes.synthetic_data(pdes.get("kovasznay"), 5, noise="0.1")


def test_an_unknown_field_named_like_a_coordinate_is_refused():
    box = Box([0.0], [1.0])
    with pytest.raises(ValueError, match="unknown field 'x' has the name of a coordinate"):
        pdes.Problem("p", ("x",), ("u",), box, [], unknowns=[UnknownField("x")])
