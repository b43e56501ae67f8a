"""PirateNet: identity blocks at initialization, its jet against autograd, training, resume, bad settings."""

import pytest
import torch
from test_forward_engine import assert_every_derivative_matches
from test_run_files import SETTINGS

import pdes
import pinn
from pinn.config import Config
from pinn.derivatives import forward_parts
from pinn.pirate import PirateNet
from pinn.state import build_model

BOUNDS = torch.tensor([[0.0, -1.0, 0.0], [1.0, 1.0, 2.0]], dtype=torch.float64)


def perturbed(model):
    """``model`` in float64 with every parameter, the blocks' α included, moved away from its initialization."""
    model = model.double()
    for p in model.parameters():
        p.data.add_(0.3 * torch.randn_like(p))
    return model


def test_at_initialization_the_network_is_linear_in_its_fourier_features():
    torch.manual_seed(0)
    model = PirateNet(BOUNDS, 2, width=8, depth=3).double()
    points = BOUNDS[0] + (BOUNDS[1] - BOUNDS[0]) * torch.rand(10, 3, dtype=torch.float64)
    assert torch.equal(model.alphas.detach(), torch.zeros(3))
    torch.testing.assert_close(model(points), model.output(model.embedding(points)), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("norm", ["none", "rwf", "weight"])
@pytest.mark.parametrize("activation", ["tanh", "sin", "gelu"])
def test_every_derivative_matches_autograd_to_float64_tolerance(norm, activation):
    torch.manual_seed(1)
    model = perturbed(PirateNet(BOUNDS, 2, width=8, depth=2, activation=activation, norm=norm, fourier_scale=2.0))
    assert model.alphas.abs().min() > 0
    points = BOUNDS[0] + (BOUNDS[1] - BOUNDS[0]) * torch.rand(16, 3, dtype=torch.float64)
    assert forward_parts(model) is not None  # the forward engine knows it, it does not fall back
    assert_every_derivative_matches(model, points, 2)


def test_the_solver_builds_trains_and_resumes_a_piratenet(tmp_path, interrupted_solve):
    problem = pdes.get("heat1d")
    settings = dict(SETTINGS, backbone="pirate", depth=2, width=8, norm="rwf")
    assert isinstance(build_model(problem, Config.build(problem.defaults, settings)).network, PirateNet)
    whole = pinn.solve(problem, out=tmp_path / "whole", progress=False, **settings)
    assert whole.history["loss"][-1] < whole.history["loss"][0]
    interrupted_solve(40, problem, out=tmp_path / "cut", **settings)
    resumed = pinn.solve(problem, out=tmp_path / "cut", progress=False, resume=True)
    assert resumed.history["loss"] == whole.history["loss"]
    loaded = pinn.load(tmp_path / "whole")
    points = torch.tensor([[0.3, 0.2], [0.7, 0.9]], dtype=torch.float64)
    assert torch.equal(loaded.predict(points)["u"], whole.predict(points)["u"])


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"backbone": "resnet"}, "unknown backbone 'resnet'; valid: mlp, pirate"),
        ({"backbone": "pirate", "norm": "layer"}, "backbone 'pirate' takes norm none, weight, rwf"),
        ({"backbone": "pirate", "width": 7}, "backbone 'pirate' needs an even width, got 7"),
        ({"backbone": "pirate", "modified_mlp": True}, "modified_mlp applies to backbone 'mlp'"),
    ],
)
def test_bad_piratenet_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Config(**settings)
