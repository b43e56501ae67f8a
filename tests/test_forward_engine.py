"""The forward (jet) engine against nested autograd: values, derivatives, residuals, parameter gradients.

Every backbone option of ``pinn.nn`` (norms, activations, Fourier features, modified MLP),
with and without an output transform, in float64 with tight tolerances; BatchNorm's held
statistics also against finite differences.
"""

import dataclasses
from functools import partial

import pytest
import torch

import pdes
import samplers
from pinn.config import Config
from pinn.derivatives import AutogradDerivatives, ForwardDerivatives, forward_parts
from pinn.jets import (
    ACTIVATION_DERIVATIVES,
    Layout,
    cos_derivatives,
    elementwise,
    inverse_sqrt_derivatives,
    linear,
    sin_derivatives,
)
from pinn.nn import ACTIVATIONS, MLP, NORMS
from pinn.plan import StepPlan, residual
from pinn.state import build_model

TOL = dict(rtol=1e-9, atol=1e-11)
EMBEDDINGS = {
    "plain": {},
    "fourier": {"fourier_features": True, "fourier_scale": 2.0},
    "modified": {"modified_mlp": True},
}
PROBLEMS = {
    "heat2d": lambda: pdes.get("heat2d"),
    "heat2d_soft": lambda: pdes.get("heat2d", constraints="soft"),
    "cavity": lambda: pdes.get("cavity"),
    "taylor_green": lambda: pdes.get("taylor_green"),
    "heat_spot": lambda: pdes.get("heat_spot"),
}


def every_derivative(fields: int, dim: int) -> list[tuple[int, tuple[int, ...]]]:
    """Every ``(field, wrt)`` up to order 2, mixed included."""
    wrts = [()] + [(i,) for i in range(dim)] + [(i, j) for i in range(dim) for j in range(i, dim)]
    return [(k, wrt) for k in range(fields) for wrt in wrts]


def model_for(problem, norm="none", activation="tanh", embedding="plain", training=True):
    config = Config(width=8, depth=3, norm=norm, activation=activation, dtype="float64", device="cpu",
                    **EMBEDDINGS[embedding])  # fmt: skip
    torch.manual_seed(1)
    model = build_model(problem, config)
    for p in model.parameters():  # away from the initialization (zero biases, unit norm scales)
        p.data.add_(0.1 * torch.randn_like(p))
    for norm_layer in getattr(model, "network", model).batch_norms:
        norm_layer.running_mean.normal_(0, 0.1)
        norm_layer.running_var.uniform_(0.5, 1.5)
    return model.train(training)


def draw(problem, n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    rule = samplers.get("uniform")
    return {t.name: rule.draw(t.region, n, g).to("cpu", torch.float64) for t in problem.terms}


def held(model, points):
    """``model`` with the batch statistics of ``points`` bound, as the solver's steps do."""
    return partial(model, statistics=model.batch_statistics(points)) if model.couples_points else model


def assert_every_derivative_matches(model, points, fields):
    needed = every_derivative(fields, points.shape[1])
    forward = ForwardDerivatives(model, points, needed)
    reference = AutogradDerivatives(model, points)
    for key in needed:
        torch.testing.assert_close(forward.derivative(*key), reference.derivative(*key), **TOL, msg=str(key))


BACKBONES = [(norm, "tanh", e) for norm in NORMS for e in EMBEDDINGS] + [
    ("layer", a, e) for a in ACTIVATIONS if a != "tanh" for e in EMBEDDINGS
]
"""Every norm with every embedding, and every activation with every embedding."""


@pytest.mark.parametrize("norm,activation,embedding", BACKBONES)
def test_every_derivative_matches_autograd(norm, activation, embedding):
    torch.manual_seed(2)
    bounds = torch.tensor([[0.0, -1.0, 0.0], [1.0, 1.0, 2.0]], dtype=torch.float64)
    model = MLP(bounds, 2, width=8, depth=3, activation=activation, norm=norm, **EMBEDDINGS[embedding]).double()
    for p in model.parameters():  # away from the initialization (zero biases, unit norm scales)
        p.data.add_(0.1 * torch.randn_like(p))
    points = bounds[0] + (bounds[1] - bounds[0]) * torch.rand(16, 3, dtype=torch.float64)
    assert_every_derivative_matches(held(model, points), points, 2)
    if norm == "batch":
        assert_every_derivative_matches(model.eval(), points, 2)


@pytest.mark.parametrize("problem_name", ["heat2d", "taylor_green", "heat_spot"])
def test_every_derivative_through_an_output_transform_matches_autograd(problem_name):
    problem = PROBLEMS[problem_name]()
    model = model_for(problem, "layer", "tanh", "modified")
    points = draw(problem)[problem.terms[0].name].points
    assert_every_derivative_matches(model, points, len(problem.fields))


def nonlinear_transform(points, raw):
    """An output transform that is not affine in the raw outputs (no ``affine`` method)."""
    return torch.tanh(raw) * torch.exp(-points[:, :1]) + points[:, 1:2] * raw**2


def test_residual_gradients_through_a_nonlinear_transform_match_autograd():
    """The forward engine differentiates any output transform, not only those affine in the raw outputs."""
    problem = dataclasses.replace(PROBLEMS["taylor_green"](), transform=nonlinear_transform)
    model = model_for(problem, "none", "tanh", "fourier")
    batches = draw(problem)
    for term in problem.terms:
        points = batches[term.name].points
        grads = {}
        for engine in ("forward", "autograd"):
            model.zero_grad()
            r = residual(model, problem, term, points, engine)
            (r**2).sum().backward()
            grads[engine] = (r.detach(), [p.grad.clone() for p in model.parameters()])
        torch.testing.assert_close(grads["forward"][0], grads["autograd"][0], **TOL)
        for a, b in zip(grads["forward"][1], grads["autograd"][1]):
            torch.testing.assert_close(a, b, **TOL)


GRADIENT_CASES = (
    [("heat2d", norm, e) for norm in NORMS for e in EMBEDDINGS]
    + [("cavity", norm, "plain") for norm in NORMS]
    + [("cavity", "none", "fourier"), ("cavity", "none", "modified")]
)


@pytest.mark.parametrize("problem_name,norm,embedding", GRADIENT_CASES)
def test_residuals_and_parameter_gradients_match_autograd(problem_name, norm, embedding):
    problem = PROBLEMS[problem_name]()
    model = model_for(problem, norm, "tanh", embedding)
    batches = draw(problem)
    for term in problem.terms:
        points = batches[term.name].points
        r_forward = residual(held(model, points), problem, term, points, "forward")
        r_autograd = residual(held(model, points), problem, term, points, "autograd")
        torch.testing.assert_close(r_forward, r_autograd, **TOL, msg=term.name)
    gradients = {}
    for engine in ("forward", "autograd"):
        model.zero_grad()
        losses = StepPlan(problem, model, engine).losses(model, batches, update_running=False)
        sum(losses.values()).backward()
        gradients[engine] = {n: p.grad.clone() for n, p in model.named_parameters()}
    for n, g in gradients["forward"].items():
        torch.testing.assert_close(g, gradients["autograd"][n], **TOL, msg=n)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_unsteady_navier_stokes_residuals_with_every_activation(activation):
    problem = PROBLEMS["taylor_green"]()
    model = model_for(problem, "batch", activation, "fourier", training=False)
    batches = draw(problem)
    for term in problem.terms[:3]:
        points = batches[term.name].points
        torch.testing.assert_close(
            residual(model, problem, term, points, "forward"), residual(model, problem, term, points, "autograd"), **TOL
        )


def test_batch_norm_derivatives_hold_the_statistics_fixed_finite_differences():
    problem = PROBLEMS["heat2d_soft"]()
    model = model_for(problem, "batch", "tanh", "plain")
    points = draw(problem)["pde"].points
    function = held(model, points)
    engine = ForwardDerivatives(function, points, [(0, ()), (0, (0,)), (0, (2,)), (0, (0, 0)), (0, (0, 1))])

    def at(shift):
        with torch.no_grad():
            return function(points + shift)[:, 0]

    e = torch.eye(3, dtype=torch.float64) * 1e-5
    torch.testing.assert_close(engine.derivative(0, (0,)), (at(e[0]) - at(-e[0])) / 2e-5, rtol=1e-7, atol=1e-8)
    torch.testing.assert_close(engine.derivative(0, (2,)), (at(e[2]) - at(-e[2])) / 2e-5, rtol=1e-7, atol=1e-8)

    def second_differences(h):
        """Central differences of ``u_xx`` and ``u_xy``, error ``O(h²)``."""
        e = torch.eye(3, dtype=torch.float64) * h
        pure = (at(e[0]) - 2 * at(0 * e[0]) + at(-e[0])) / h**2
        mixed = (at(e[0] + e[1]) - at(e[0] - e[1]) - at(e[1] - e[0]) + at(-e[0] - e[1])) / (4 * h * h)
        return pure, mixed

    coarse, fine = second_differences(2e-3), second_differences(1e-3)
    richardson = [(4 * f - c) / 3 for c, f in zip(coarse, fine)]  # error O(h⁴)
    torch.testing.assert_close(engine.derivative(0, (0, 0)), richardson[0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(engine.derivative(0, (0, 1)), richardson[1], rtol=1e-6, atol=1e-6)


def settled(model, problem, terms, points, engine="auto"):
    """The one group of a plan of ``terms`` after it evaluated them at ``points``: its reads and engine."""
    plan = StepPlan(problem, model, engine, shared_points=True, terms=terms)
    plan.residuals(model, points)
    return plan.groups[0]


def derivatives_read(problem, term, points):
    return settled(model_for(problem), problem, [term], points).reads


def test_reads_are_exactly_the_derivatives_a_residual_uses():
    heat = PROBLEMS["heat2d"]()
    points = draw(heat)["pde"].points
    laplacian = ((0, 0), (1, 1))
    assert derivatives_read(heat, heat.terms[0], points) == {(0, (2,)), (0, laplacian)}
    cavity = PROBLEMS["cavity"]()
    terms = {t.name: t for t in cavity.terms}
    points = draw(cavity)["momentum_x"].points
    u, v, p = 0, 1, 2
    assert derivatives_read(cavity, terms["momentum_x"], points) == {
        (u, ()), (v, ()), (u, (0,)), (u, (1,)), (p, (0,)), (u, laplacian)
    }  # fmt: skip
    assert derivatives_read(cavity, terms["continuity"], points) == {(u, (0,)), (v, (1,))}


def test_the_layout_carries_only_what_is_read():
    layout = Layout.covering([(), (2,), (0, 0), (1, 1)])
    assert layout.first == (0, 1, 2) and layout.second == (((0, 0),), ((1, 1),)) and layout.size == 6
    laplacian = ((0, 0), (1, 1))
    layout = Layout.covering([(), (2,), laplacian])
    assert layout.second == (laplacian,) and layout.size == 5 and layout.channels(laplacian) == [4]
    expanded = Layout.covering([laplacian, (0, 0)])  # a term read alone: the sum from its terms
    assert expanded.second == (((0, 0),), ((1, 1),)) and expanded.channels(laplacian) == [3, 4]
    overlapping = Layout.covering([laplacian, ((1, 1), (2, 2))])
    assert overlapping.second == (((0, 0),), ((1, 1),), ((2, 2),))
    assert Layout.covering([(0,), (1,)]).size == 3
    assert Layout.covering([(1, 2)]).first == (1, 2)
    with pytest.raises(ValueError, match="order 2"):
        Layout.covering([(0, 0, 0)])


def test_a_derivative_not_read_is_refused():
    problem = PROBLEMS["heat2d_soft"]()
    model = model_for(problem)
    engine = ForwardDerivatives(model, draw(problem)["pde"].points, [(0, ()), (0, (0,))])
    with pytest.raises(ValueError, match="computed only"):
        engine.derivative(0, (1,))


def test_auto_falls_back_to_autograd_for_unknown_models():
    problem = PROBLEMS["heat2d_soft"]()
    points = draw(problem)["pde"].points
    user_model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).double()
    assert forward_parts(user_model) is None
    assert settled(user_model, problem, problem.terms[:1], points, "auto").engine == "autograd"
    with pytest.raises(ValueError, match="does not know this model: no jet rule for the layer ReLU at '1'"):
        settled(user_model, problem, problem.terms[:1], points, "forward")
    with pytest.raises(ValueError, match="unknown engine 'jet'"):
        settled(user_model, problem, problem.terms[:1], points, "jet")
    model = model_for(problem)
    assert settled(model, problem, problem.terms[:1], points, "auto").engine == "forward"
    assert forward_parts(partial(model, points)) is None


def test_auto_gives_the_forward_engine_the_residuals_with_second_derivatives_or_values_only():
    cavity = PROBLEMS["cavity"]()
    model = model_for(cavity)
    points = draw(cavity)["momentum_x"].points
    kinds = {t.name: settled(model, cavity, [t], points).engine for t in cavity.terms}
    assert kinds == {"momentum_x": "forward", "momentum_y": "forward", "continuity": "autograd", "gauge": "forward"}


def test_values_only_residuals_take_a_plain_forward_pass_of_any_model():
    """A model the forward engine does not know still gets ``auto``'s plain forward for a values-only residual."""
    cavity = PROBLEMS["cavity"]()
    network = model_for(cavity)

    def unknown(x):
        return network(x)

    gauge = next(t for t in cavity.terms if t.name == "gauge")
    points = draw(cavity)["gauge"].points
    assert settled(unknown, cavity, [gauge], points).engine == "forward"
    engine = ForwardDerivatives(unknown, points, [(2, ())])
    torch.testing.assert_close(engine.derivative(2, ()), network(points)[:, 2], **TOL)
    momentum = next(t for t in cavity.terms if t.name == "momentum_x")
    assert settled(unknown, cavity, [momentum], points).engine == "autograd"


LAYOUTS = [
    Layout.covering([(0,), (0, 0), (0, 1), (1, 1), (2,)]),
    Layout.covering([(0, 1), ((0, 0), (1, 1), (2, 2))]),  # a sum channel next to a mixed one
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=["single", "sum"])
@pytest.mark.parametrize("rule", [*ACTIVATION_DERIVATIVES.values(), sin_derivatives, cos_derivatives])
def test_hand_written_backward_of_the_elementwise_rule(rule, layout):
    jet = torch.randn(layout.size, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda j: elementwise(j, layout, rule), (jet,))


def test_hand_written_backward_of_linear_and_inverse_square_root():
    layout = Layout.covering([(1,), (0, 1)])
    jet = torch.randn(layout.size, 3, 4, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(linear, (jet, weight, bias))
    assert torch.autograd.gradcheck(lambda j, w: linear(j, w, None), (jet, weight))
    positive = (torch.rand(layout.size, 3, 1, dtype=torch.float64) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda j: elementwise(j, layout, inverse_sqrt_derivatives), (positive,))


def test_solver_runs_alike_with_either_engine():
    import pinn

    settings = dict(steps=3, lbfgs_steps=2, batch=32, width=8, depth=2, eval_every=5, eval_points=64,
                    replicates=2, dtype="float64", device="cpu")  # fmt: skip
    runs = {e: pinn.solve(pdes.get("heat1d"), progress=False, engine=e, **settings) for e in ("forward", "autograd")}
    torch.testing.assert_close(
        torch.tensor(runs["forward"].history["loss"]), torch.tensor(runs["autograd"].history["loss"]), **TOL
    )
    assert runs["forward"].report["config"]["engine"] == "forward"


def test_engine_setting_is_checked():
    with pytest.raises(ValueError, match="unknown engine"):
        Config(engine="jets")
    with pytest.raises(ValueError, match="needs the forward engine"):
        Config(engine="autograd", compile=True)


def test_mlp_subclasses_that_change_forward_are_not_taken_for_known_models():
    class Doubled(MLP):
        def forward(self, x, statistics=None):
            return 2 * super().forward(x, statistics)

    class Renamed(MLP):
        pass

    bounds = torch.tensor([[0.0], [1.0]])
    assert forward_parts(Doubled(bounds, 1, width=4, depth=1)) is None
    assert forward_parts(Renamed(bounds, 1, width=4, depth=1)) is not None
