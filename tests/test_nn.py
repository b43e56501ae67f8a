"""Backbone layers against their formulas and torch's own implementations."""

import pytest
import torch
import torch.nn.functional as F

from pinn.nn import (
    BATCH_MOMENTUM,
    EPS,
    GROUPS,
    MLP,
    NORMS,
    RWF_MEAN,
    RWF_STD,
    BatchNorm,
    FactorizedLinear,
    GroupNorm,
    LayerNorm,
    RMSNorm,
    WeightNormLinear,
    training_mode,
)

BOUNDS = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], dtype=torch.float64)


def randomized(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``module`` in float64 with every parameter drawn at random (so γ, β are not 1, 0)."""
    module = module.double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def activations(n: int = 10, width: int = 12, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, width, generator=g, dtype=torch.float64) + 1


def test_layer_norm_matches_torch():
    norm, a = randomized(LayerNorm(12)), activations()
    expected = F.layer_norm(a, (12,), norm.weight, norm.bias, eps=EPS)
    torch.testing.assert_close(norm(a), expected)


def test_rms_norm_matches_torch():
    norm, a = randomized(RMSNorm(12)), activations()
    torch.testing.assert_close(norm(a), F.rms_norm(a, (12,), norm.weight, eps=EPS))


def test_group_norm_matches_torch():
    norm, a = randomized(GroupNorm(12)), activations()
    torch.testing.assert_close(norm(a), F.group_norm(a, GROUPS, norm.weight, norm.bias, eps=EPS))


def test_group_norm_rejects_width_not_multiple_of_groups():
    with pytest.raises(ValueError, match="multiple"):
        MLP(BOUNDS, 1, width=GROUPS + 1, norm="group")


def test_pointwise_norms_see_one_point_only():
    a = activations()
    for norm in (LayerNorm(12), RMSNorm(12), GroupNorm(12)):
        norm = randomized(norm)
        torch.testing.assert_close(norm(a[3:4]), norm(a)[3:4])


def test_batch_norm_training_matches_torch_and_updates_running_averages():
    norm, a = randomized(BatchNorm(12)), activations()
    running_mean, running_var = torch.randn(12, dtype=torch.float64), torch.rand(12, dtype=torch.float64) + 0.5
    norm.running_mean.copy_(running_mean)
    norm.running_var.copy_(running_var)
    torch_mean, torch_var = running_mean.clone(), running_var.clone()
    expected = F.batch_norm(
        a, torch_mean, torch_var, norm.weight, norm.bias, training=True, momentum=BATCH_MOMENTUM, eps=EPS
    )
    statistics = norm.statistics(a)
    torch.testing.assert_close(norm(a), expected)
    torch.testing.assert_close(norm(a, statistics), expected)
    norm.update_running(statistics)
    torch.testing.assert_close(norm.running_mean, torch_mean)
    torch.testing.assert_close(norm.running_var, torch_var)


def test_batch_norm_evaluation_uses_running_averages():
    norm, a = randomized(BatchNorm(12)), activations()
    norm.running_mean.copy_(torch.linspace(-1, 1, 12))
    norm.running_var.copy_(torch.linspace(0.5, 2, 12))
    norm.eval()
    expected = norm.weight * (a - norm.running_mean) / torch.sqrt(norm.running_var + EPS) + norm.bias
    torch.testing.assert_close(norm(a), expected)
    torch.testing.assert_close(norm(a[:1]), expected[:1])


def test_weight_norm_linear_is_gain_times_unit_rows_and_keeps_initial_weight():
    torch.manual_seed(0)
    linear = torch.nn.Linear(5, 7).double()
    layer = WeightNormLinear(linear)
    torch.testing.assert_close(layer.weight, linear.weight.detach())
    layer = randomized(layer)
    expected = torch._weight_norm(layer.direction, layer.gain[:, None], dim=0)
    h = activations(4, 5)
    torch.testing.assert_close(layer(h), h @ expected.T + layer.bias)


def test_random_weight_factorization_keeps_initial_weight_and_draws_log_scales():
    torch.manual_seed(0)
    linear = torch.nn.Linear(3, 4000).double()
    layer = FactorizedLinear(linear)
    torch.testing.assert_close(layer.weight, linear.weight.detach())
    s = layer.log_scale.detach()
    assert abs(s.mean() - RWF_MEAN) < 5 * RWF_STD / 4000**0.5
    assert abs(s.std() - RWF_STD) < 0.1 * RWF_STD
    h = activations(4, 3)
    torch.testing.assert_close(layer(h), h @ (torch.exp(s)[:, None] * layer.direction).T + layer.bias)


@pytest.mark.parametrize("norm", ["layer", "rms", "group"])
def test_norms_after_each_hidden_linear_layer_but_the_first_before_activation(norm):
    torch.manual_seed(0)
    model = randomized(MLP(BOUNDS, 2, width=8, depth=3, norm=norm))
    x = torch.rand(6, 3, dtype=torch.float64)
    h = torch.tanh(model.hidden[0](model.embedding.scale(x)))
    for linear, layer in zip(model.hidden[1:], model.norms[1:]):
        h = torch.tanh(layer(linear(h)))
    torch.testing.assert_close(model(x), model.output(h))
    assert isinstance(model.norms[0], torch.nn.Identity)


def test_fourier_features_are_cos_and_sin_of_scaled_inputs():
    torch.manual_seed(0)
    model = MLP(BOUNDS, 1, width=10, depth=1, fourier_features=True, fourier_scale=3.0).double()
    frequencies = model.embedding.frequencies
    assert frequencies.shape == (3, 5)
    assert 1.0 < frequencies.std() < 6.0
    x = torch.rand(6, 3, dtype=torch.float64)
    phase = model.embedding.scale(x) @ frequencies
    torch.testing.assert_close(model.embedding(x), torch.cat([torch.cos(phase), torch.sin(phase)], dim=1))
    assert model.hidden[0].in_features == 10


def test_modified_mlp_gates_between_the_two_encoders():
    torch.manual_seed(0)
    model = randomized(MLP(BOUNDS, 1, width=6, depth=2, modified_mlp=True))
    x = torch.rand(5, 3, dtype=torch.float64)
    h0 = model.embedding.scale(x)
    u, v = (torch.tanh(e(h0)) for e in model.encoders)
    h = h0
    for linear in model.hidden:
        z = torch.tanh(linear(h))
        h = (1 - z) * u + z * v
    torch.testing.assert_close(model(x), model.output(h))


def test_default_model_has_no_embedding_parameters():
    model = MLP(BOUNDS, 1, width=8, depth=2)
    assert model.embedding.frequencies is None and model.encoders is None
    assert sorted(model.state_dict()) == sorted(
        ["embedding.lower", "embedding.upper", "output.weight", "output.bias"]
        + [f"hidden.{k}.{p}" for k in (0, 1) for p in ("weight", "bias")]
    )


def test_a_state_dict_saved_before_the_embedding_was_a_module_loads():
    torch.manual_seed(0)
    model = MLP(BOUNDS, 1, width=8, depth=2, fourier_features=True).double()
    old = {k.removeprefix("embedding."): v for k, v in model.state_dict().items()}
    assert {"lower", "upper", "frequencies"} <= old.keys()
    torch.manual_seed(1)
    other = MLP(BOUNDS, 1, width=8, depth=2, fourier_features=True).double()
    other.load_state_dict(old)
    x = torch.rand(4, 3, dtype=torch.float64)
    torch.testing.assert_close(other(x), model(x))


@pytest.mark.parametrize("norm", NORMS)
def test_every_norm_builds_with_every_embedding(norm):
    for fourier in (False, True):
        for modified in (False, True):
            model = MLP(BOUNDS, 2, width=8, depth=2, norm=norm, fourier_features=fourier, modified_mlp=modified)
            with training_mode(model.double(), False):
                out = model(torch.rand(4, 3, dtype=torch.float64))
            assert out.shape == (4, 2) and torch.isfinite(out).all()


def test_unknown_norm_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown norm 'bn'; valid: none, layer, rms, batch, group, weight, rwf"):
        MLP(BOUNDS, 1, norm="bn")


def test_training_mode_restores_the_previous_mode():
    model = MLP(BOUNDS, 1, norm="batch")
    with training_mode(model, False):
        assert not model.training and not model.couples_points
    assert model.training and model.couples_points
