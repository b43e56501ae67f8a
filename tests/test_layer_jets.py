"""Each layer's own jet against autograd, and user ``torch.nn`` models on the forward engine.

Every layer of ``pinn.nn`` and every ``torch.nn`` layer of ``pinn.jets.TORCH_JETS`` sits in a
``Sequential`` after a nonlinear map of the points (so its input jet has nonzero second
derivatives); the forward engine's value, first, second, mixed derivatives and a Laplacian
channel must equal nested autograd's, in float64.
"""

from functools import partial

import pytest
import torch
from torch import nn

import pdes
import samplers
from pinn.derivatives import AutogradDerivatives, ForwardDerivatives, forward_parts
from pinn.jets import (
    TORCH_JETS,
    Layout,
    cos_derivatives,
    elementwise,
    gelu_derivatives,
    gelu_tanh_derivatives,
    input_jet,
    inverse_sqrt_derivatives,
    layer_jet,
    linear,
    owns_jet,
    sigmoid_derivatives,
    silu_derivatives,
    sin_derivatives,
    tanh_derivatives,
    unknown_layer,
)
from pinn.nn import (
    ACTIVATIONS,
    MLP,
    Activation,
    BatchNorm,
    Embedding,
    FactorizedLinear,
    GroupNorm,
    LayerNorm,
    RMSNorm,
    WeightNormLinear,
)
from pinn.plan import StepPlan
from pinn.transformed import Transformed

TOL = dict(rtol=1e-10, atol=1e-12)
DIM, WIDTH = 3, 8
LAPLACIAN = ((0, 0), (1, 1), (2, 2))
EVERY = [()] + [(i,) for i in range(DIM)] + [(i, j) for i in range(DIM) for j in range(i, DIM)]
"""Every derivative up to order 2, each second derivative in a channel of its own."""
LAPLACIAN_AND_MIXED = [(), (0,), (1,), (2,), (0, 1), LAPLACIAN]
"""The Laplacian in one channel (none of its terms read alone), next to a mixed derivative."""


def randomized(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` in float64 with every parameter moved off its initialization."""
    module = module.double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def points(n: int = 12, seed: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 2 * torch.rand(n, DIM, generator=g, dtype=torch.float64) - 1


def assert_forward_matches_autograd(model, x, wrts, fields: int):
    needed = [(k, wrt) for k in range(fields) for wrt in wrts]
    forward = ForwardDerivatives(model, x, needed)
    reference = AutogradDerivatives(model, x)
    for key in needed:
        torch.testing.assert_close(forward.derivative(*key), reference.derivative(*key), **TOL, msg=str(key))


def bounds() -> torch.Tensor:
    return torch.tensor([[-1.0, -1.0, 0.0], [1.0, 2.0, 1.0]], dtype=torch.float64)


LAYERS = {
    "LayerNorm": lambda: LayerNorm(WIDTH),
    "RMSNorm": lambda: RMSNorm(WIDTH),
    "GroupNorm": lambda: GroupNorm(WIDTH),
    "BatchNorm (evaluation)": lambda: BatchNorm(WIDTH).eval(),
    "WeightNormLinear": lambda: WeightNormLinear(nn.Linear(WIDTH, WIDTH)),
    "FactorizedLinear": lambda: FactorizedLinear(nn.Linear(WIDTH, WIDTH)),
    **{f"Activation {name}": partial(Activation, name) for name in ACTIVATIONS},
    "Identity": nn.Identity,
    "Linear": lambda: nn.Linear(WIDTH, WIDTH),
    "Tanh": nn.Tanh,
    "Sigmoid": nn.Sigmoid,
    "SiLU": nn.SiLU,
    "GELU": nn.GELU,
    "GELU tanh": lambda: nn.GELU(approximate="tanh"),
}
"""A layer from ``WIDTH`` units to ``WIDTH`` units, by name."""


@pytest.mark.parametrize("wrts", [EVERY, LAPLACIAN_AND_MIXED], ids=["every", "laplacian"])
@pytest.mark.parametrize("name", LAYERS)
def test_each_layer_jet_matches_autograd(name, wrts):
    torch.manual_seed(0)
    layer = LAYERS[name]()
    if isinstance(layer, BatchNorm):
        layer.running_mean.normal_(0, 0.3)
        layer.running_var.uniform_(0.5, 1.5)
    model = randomized(nn.Sequential(nn.Linear(DIM, WIDTH), nn.Tanh(), layer, nn.Linear(WIDTH, 2)))
    model.eval() if isinstance(layer, BatchNorm) else model.train()
    assert forward_parts(model) is not None
    assert_forward_matches_autograd(model, points(), wrts, 2)


@pytest.mark.parametrize("fourier", [False, True], ids=["scaled", "fourier"])
@pytest.mark.parametrize("wrts", [EVERY, LAPLACIAN_AND_MIXED], ids=["every", "laplacian"])
def test_embedding_jet_matches_autograd(fourier, wrts):
    torch.manual_seed(0)
    lower, upper = bounds()
    frequencies = 2 * torch.randn(DIM, WIDTH // 2, dtype=torch.float64) if fourier else None
    embedding = Embedding(lower, upper, frequencies)
    model = randomized(nn.Sequential(embedding, nn.Linear(WIDTH if fourier else DIM, 2)))
    assert_forward_matches_autograd(model, points(), wrts, 2)


def test_the_laplacian_is_one_channel():
    assert Layout.covering(LAPLACIAN_AND_MIXED).second == (LAPLACIAN, ((0, 1),))


def test_the_mlp_is_a_layer_with_a_jet_too():
    torch.manual_seed(0)
    mlp = randomized(MLP(bounds(), 2, width=WIDTH, depth=2, norm="layer", fourier_features=True, modified_mlp=True))
    model = nn.Sequential(mlp, nn.Tanh())
    assert unknown_layer(model) is None
    assert_forward_matches_autograd(model, points(), LAPLACIAN_AND_MIXED, 2)


def test_a_user_sequential_gives_autograds_derivatives():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(DIM, 16), nn.Tanh(), nn.Linear(16, 16), nn.SiLU(), nn.Linear(16, 2)).double()
    assert forward_parts(model) == (model, None, None)
    assert_forward_matches_autograd(model, points(), EVERY, 2)
    assert_forward_matches_autograd(model, points(), LAPLACIAN_AND_MIXED, 2)


def test_a_user_sequential_trains_with_the_forward_engine_as_with_autograd():
    """Residuals and parameter gradients of every heat2d term, the output transform included."""
    problem = pdes.get("heat2d")
    torch.manual_seed(0)
    network = nn.Sequential(nn.Linear(DIM, 16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 1)).double()
    assert problem.transform is not None
    model = Transformed(network, problem.transform)
    g = torch.Generator().manual_seed(0)
    batches = {t.name: samplers.get("uniform").draw(t.region, 24, g).to("cpu", torch.float64) for t in problem.terms}
    gradients = {}
    for engine in ("forward", "autograd"):
        model.zero_grad()
        plan = StepPlan(problem, model, engine)
        losses = plan.losses(model, batches)
        sum(losses.values()).backward()
        gradients[engine] = (losses, [p.grad.clone() for p in model.parameters()])
    for name, loss in gradients["forward"][0].items():
        torch.testing.assert_close(loss, gradients["autograd"][0][name], **TOL, msg=name)
    for a, b in zip(gradients["forward"][1], gradients["autograd"][1]):
        torch.testing.assert_close(a, b, **TOL)
    auto = StepPlan(problem, model, "auto")
    auto.losses(model, batches)
    assert "forward" in {group.engine for group in auto.groups}


class Custom(nn.Module):
    """A user layer with a forward of its own and no jet."""

    def forward(self, h):
        return h * torch.sigmoid(h)


@pytest.mark.parametrize(
    "model,unknown",
    [
        (nn.Sequential(nn.Linear(DIM, 4), nn.ReLU(), nn.Linear(4, 1)), "ReLU at '1'"),
        (nn.Sequential(nn.Linear(DIM, 4), nn.Sequential(nn.Tanh(), Custom()), nn.Linear(4, 1)), "Custom at '1.1'"),
        (Custom(), "Custom"),
        (nn.Sequential(nn.Linear(DIM, 4), nn.Softplus(), nn.Linear(4, 1)), "Softplus at '1'"),
    ],
    ids=["relu", "nested-custom", "custom", "softplus"],
)
def test_a_model_with_an_unknown_layer_is_refused_in_one_line_and_left_to_autograd(model, unknown):
    model = model.double()
    assert unknown_layer(model) == unknown
    assert forward_parts(model) is None
    x = points()
    with pytest.raises(ValueError) as error:
        ForwardDerivatives(model, x, [(0, ()), (0, (0, 0))])
    message = str(error.value)
    assert "\n" not in message and f"no jet rule for the layer {unknown}" in message
    problem = pdes.get("heat2d", constraints="soft")
    pde = problem.terms[0]
    plan = StepPlan(problem, model, "auto", terms=[pde])
    plan.residuals(model, x)
    assert plan.groups[0].engine == "autograd"


def test_a_function_is_not_known():
    with pytest.raises(ValueError, match="function is not a torch.nn.Module"):
        ForwardDerivatives(lambda x: x[:, :1], points(), [(0, (0,))])


def test_a_subclass_that_overrides_forward_alone_is_not_known():
    class Scaled(LayerNorm):
        def forward(self, a):
            return 2 * super().forward(a)

    class Renamed(LayerNorm):
        pass

    class Linear(nn.Linear):
        pass

    assert not owns_jet(Scaled(4)) and unknown_layer(Scaled(4)) == "Scaled"
    assert owns_jet(Renamed(4)) and unknown_layer(Renamed(4)) is None
    assert unknown_layer(Linear(2, 2)) == "Linear"  # torch.nn layers by exact type
    assert nn.Linear in TORCH_JETS


def test_batch_norm_in_training_refuses_a_jet_without_statistics():
    norm = BatchNorm(4).double()
    layout = Layout.covering([(0,)])
    with pytest.raises(ValueError, match="needs its batch statistics"):
        layer_jet(norm, input_jet(torch.zeros(3, 4, dtype=torch.float64), layout), layout)
    statistics = norm.statistics(torch.randn(5, 4, dtype=torch.float64))
    jet = layer_jet(norm, input_jet(torch.randn(3, 4, dtype=torch.float64), layout), layout, statistics)
    assert jet.shape == (2, 3, 4)


def inverse_sqrt(s: torch.Tensor) -> torch.Tensor:
    return s.rsqrt()


@pytest.mark.parametrize(
    "rule,function,interval",
    [
        (tanh_derivatives, torch.tanh, (-4, 4)),
        (sin_derivatives, torch.sin, (-4, 4)),
        (cos_derivatives, torch.cos, (-4, 4)),
        (sigmoid_derivatives, torch.sigmoid, (-4, 4)),
        (silu_derivatives, nn.functional.silu, (-4, 4)),
        (gelu_derivatives, nn.functional.gelu, (-4, 4)),
        (gelu_tanh_derivatives, partial(nn.functional.gelu, approximate="tanh"), (-4, 4)),
        (inverse_sqrt_derivatives, inverse_sqrt, (0.25, 4)),
    ],
    ids=["tanh", "sin", "cos", "sigmoid", "silu", "gelu", "gelu-tanh", "inverse-sqrt"],
)
def test_derivative_rules_give_exactly_the_orders_asked_and_match_autograd_to_third_order(rule, function, interval):
    a = torch.linspace(*interval, 41, dtype=torch.float64, requires_grad=True)
    expected = [function(a)]
    for _ in range(3):
        (d,) = torch.autograd.grad(expected[-1].sum(), a, create_graph=True)
        expected.append(d)
    for order in range(4):
        got = rule(a, order)
        assert len(got) == order + 1
        for k in range(order + 1):
            torch.testing.assert_close(got[k], expected[k], rtol=1e-12, atol=1e-12, msg=f"order {order}, σ^({k})")


class Compiling:
    """Makes ``torch.compiler.is_compiling()`` true, so the jets take their plain-operation branch in eager mode."""

    def __init__(self, monkeypatch):
        monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)


@pytest.mark.parametrize("wrts", [EVERY, LAPLACIAN_AND_MIXED], ids=["every", "laplacian"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_the_compiled_branches_of_linear_and_elementwise_equal_the_hand_written_ones(monkeypatch, wrts, bias):
    """The branch ``torch.compile`` traces (plain operations) against the eager one (hand-written
    backward): the same jet of ``tanh(hWᵀ + b)`` and the same gradients of a loss of it."""
    layout = Layout.covering(wrts)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, DIM, generator=g, dtype=torch.float64)
    jet = input_jet(torch.sin(x) + x, layout)  # nonzero second-order channels for the elementwise rule
    jet = jet + 0.1 * torch.randn(jet.shape, generator=g, dtype=torch.float64)
    weight = torch.randn(5, DIM, generator=g, dtype=torch.float64)
    shift = torch.randn(5, generator=g, dtype=torch.float64) if bias else None
    probe = torch.randn(layout.size, 6, 5, generator=g, dtype=torch.float64)

    def jet_and_gradients():
        inputs = [t.clone().requires_grad_() for t in (jet, weight) + ((shift,) if bias else ())]
        out = elementwise(linear(inputs[0], inputs[1], inputs[2] if bias else None), layout, tanh_derivatives)
        return out.detach(), torch.autograd.grad((out * probe).sum(), inputs)

    eager = jet_and_gradients()
    Compiling(monkeypatch)
    compiled = jet_and_gradients()
    torch.testing.assert_close(compiled[0], eager[0], **TOL)
    for a, b in zip(compiled[1], eager[1]):
        torch.testing.assert_close(a, b, **TOL)


def test_a_frozen_layer_still_passes_gradients_to_the_layers_before_it():
    """Fine-tuning: the output layer frozen, the first layer's gradient through the forward engine equals autograd's."""
    model = randomized(nn.Sequential(nn.Linear(DIM, WIDTH), nn.Tanh(), nn.Linear(WIDTH, 1)))
    model[2].requires_grad_(False)
    x = points()
    needed = [(0, wrt) for wrt in EVERY]
    gradients = []
    for engine in (ForwardDerivatives(model, x, needed), AutogradDerivatives(model, x)):
        loss = sum((engine.derivative(*key) ** 2).sum() for key in needed)
        gradients.append(torch.autograd.grad(loss, [model[0].weight, model[0].bias]))
    for a, b in zip(*gradients):
        torch.testing.assert_close(a, b, **TOL)


def test_a_derivative_the_jet_does_not_carry_is_refused_in_one_line():
    layout = Layout.covering([(), (0,), (0, 0)])
    with pytest.raises(ValueError, match=r"this jet carries derivatives \(0,\) and \(\(\(0, 0\),\),\), not \(1,\)"):
        layout.channels((1,))


def test_a_layer_without_a_rule_is_named_in_the_error():
    layout = Layout.covering([(), (0,)])
    with pytest.raises(ValueError, match="the forward engine has no jet rule for the layer ReLU"):
        layer_jet(nn.ReLU(), input_jet(points(), layout), layout)
