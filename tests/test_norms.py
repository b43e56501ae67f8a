"""Pointwise derivatives under every norm, BatchNorm's batch statistics, and training with each norm."""

import itertools
import json

import pytest
import torch
from trivial import trivial_errors

import pdes
import pinn
import samplers
from pinn.cli import main
from pinn.config import Config
from pinn.derivatives import AutogradDerivatives, ForwardDerivatives, pointwise
from pinn.nn import MLP, NORMS, training_mode
from pinn.plan import StepPlan

BOUNDS = torch.tensor([[0.0, -1.0, 0.0], [1.0, 1.0, 2.0]], dtype=torch.float64)


def model_for(norm: str, seed: int = 0, **options) -> MLP:
    """A float64 backbone with random norm parameters, in training mode."""
    torch.manual_seed(seed)
    model = MLP(BOUNDS, 2, width=12, depth=3, norm=norm, **options).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("norms."):
                p.copy_(1 + 0.3 * torch.randn_like(p))
    return model


def batch(n: int = 8, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return BOUNDS[0] + (BOUNDS[1] - BOUNDS[0]) * torch.rand(n, 3, generator=g, dtype=torch.float64)


def frozen_function(model: MLP, points: torch.Tensor):
    """The model at each point with the batch statistics of ``points`` held fixed (for finite differences)."""
    statistics = model.batch_statistics(points) if model.couples_points else None
    return lambda y: model(y, statistics).detach()


def richardson(difference, h: float) -> torch.Tensor:
    """``(4 D(h/2) − D(h))/3``: a central difference ``D`` with its O(h²) error removed."""
    return (4 * difference(h / 2) - difference(h)) / 3


def first_difference(f, x: torch.Tensor, i: int, h: float = 1e-4) -> torch.Tensor:
    e = torch.eye(x.shape[1], dtype=x.dtype)[i]
    return richardson(lambda s: (f(x + s * e) - f(x - s * e)) / (2 * s), h)


def second_difference(f, x: torch.Tensor, i: int, j: int, h: float = 3e-4) -> torch.Tensor:
    ei, ej = torch.eye(x.shape[1], dtype=x.dtype)[[i, j]]

    def difference(s: float) -> torch.Tensor:
        return (f(x + s * ei + s * ej) - f(x + s * ei - s * ej) - f(x - s * ei + s * ej) + f(x - s * ei - s * ej)) / (
            4 * s * s
        )

    return richardson(difference, h)


def assert_relatively_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4):
    scale = expected.abs().max()
    assert scale > 0
    assert (actual - expected).abs().max() <= rtol * scale, ((actual - expected).abs().max() / scale).item()


EMBEDDINGS = {
    "plain": {},
    "fourier": {"fourier_features": True, "fourier_scale": 2.0},
    "modified": {"modified_mlp": True},
    "fourier_modified": {"fourier_features": True, "fourier_scale": 2.0, "modified_mlp": True},
}
EVERY_KEY = [
    (k, w)
    for k in (0, 1)
    for w in [(), *((i,) for i in range(3)), *itertools.combinations_with_replacement(range(3), 2)]
]
PURE_SECOND = [(k, w) for k in (0, 1) for w in [(), (0, 0), (1, 1), (2, 2)]]


def engine_for(name: str, model: MLP, x: torch.Tensor, needed):
    return AutogradDerivatives(model, x) if name == "autograd" else ForwardDerivatives(model, x, needed)


@pytest.mark.parametrize("engine", ["autograd", "forward"])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("embedding", EMBEDDINGS)
@pytest.mark.parametrize("needed", [EVERY_KEY, PURE_SECOND], ids=["every", "pure_second"])
def test_engine_derivatives_match_finite_differences_with_statistics_frozen(engine, norm, embedding, needed):
    """float64, every norm and embedding: each derivative against a Richardson-extrapolated central difference."""
    model, x = model_for(norm, **EMBEDDINGS[embedding]), batch()
    derivatives = engine_for(engine, model, x, needed)
    f = frozen_function(model, x)
    for field, wrt in needed:
        actual = derivatives.derivative(field, wrt).detach()
        if wrt == ():
            assert_relatively_close(actual, f(x)[:, field], rtol=1e-12)
        elif len(wrt) == 1:
            assert_relatively_close(actual, first_difference(f, x, *wrt)[:, field])
        else:
            assert_relatively_close(actual, second_difference(f, x, *wrt)[:, field])


def test_frozen_statistics_give_the_plain_batch_norm_values():
    model, x = model_for("batch"), batch()
    torch.testing.assert_close(pointwise(model, x)(x), model(x))


def test_naive_sum_trick_through_plain_batch_norm_is_wrong():
    model, x = model_for("batch"), batch()
    points = x.clone().requires_grad_(True)
    (naive,) = torch.autograd.grad(model(points)[:, 0].sum(), points)
    engine = AutogradDerivatives(model, x)
    for i in range(3):
        true = engine.derivative(0, (i,)).detach()
        assert (naive[:, i] - true).abs().max() > 0.1 * true.abs().max()


def test_parameter_gradients_flow_through_batch_statistics():
    """The loss of point values has the same parameter gradient as through a plain BatchNorm forward,
    and a different one when the statistics are detached."""
    model, x = model_for("batch"), batch()
    weights = torch.linspace(0.5, 1.5, x.shape[0], dtype=torch.float64)

    def gradient(output: torch.Tensor) -> torch.Tensor:
        loss = (weights * (output[:, 0] - 0.3) ** 2).sum()
        return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(model.parameters()))])

    plain = gradient(model(x))
    engine = gradient(AutogradDerivatives(model, x).output)
    statistics = model.batch_statistics(x)
    detached = [type(s)(s.mean.detach(), s.var.detach(), s.count) for s in statistics]
    torch.testing.assert_close(engine, plain)
    assert (gradient(model(x, detached)) - plain).abs().max() > 1e-3 * plain.abs().max()


def test_evaluation_uses_running_statistics_and_is_pointwise():
    model, x = model_for("batch"), batch()
    for _ in range(3):
        model.update_running_statistics(model.batch_statistics(x + 0.1))
    with training_mode(model, False):
        assert not model.couples_points
        full = model(x)
        torch.testing.assert_close(model(x[2:3]), full[2:3])
        norm = model.norms[1]
        assert not torch.allclose(norm.running_mean, torch.zeros_like(norm.running_mean))
    assert not torch.allclose(model(x), full)


def test_training_step_uses_one_set_of_statistics_for_all_terms_and_updates_running_once():
    problem = pdes.get("heat2d")
    torch.manual_seed(0)
    model = MLP(problem.domain.bounds, 1, width=8, depth=2, norm="batch").double()
    g = torch.Generator().manual_seed(0)
    batches = {t.name: samplers.get("uniform").draw(t.region, 16, g) for t in problem.terms}
    before = model.norms[1].running_mean.clone()
    StepPlan(problem, model).losses(model, batches)
    union = torch.cat([q.points for q in batches.values()])
    a = model.hidden[1](torch.tanh(model.hidden[0](model.embedding.scale(union))))
    torch.testing.assert_close(model.norms[1].running_mean, 0.9 * before + 0.1 * a.mean(0).detach())


def test_batch_norm_with_batch_of_one_is_refused():
    with pytest.raises(ValueError, match="needs batch >= 2"):
        Config(norm="batch", batch=1)
    Config(norm="layer", batch=1)


def test_cli_refuses_batch_norm_with_batch_of_one(capsys, tmp_path):
    code = main(["solve", "heat2d", "--norm", "batch", "--batch", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "needs batch >= 2" in err
    assert not (tmp_path / "run" / "run.h5").exists()


TINY = {"steps": 300, "lbfgs_steps": 0, "batch": 64, "width": 16, "depth": 2, "lr": 2e-2}
TINY_REPORT = {"eval_points": 256, "replicates": 2, "eval_every": 1000}


@pytest.mark.parametrize("norm", NORMS)
def test_every_norm_trains_heat2d_well_below_a_network_that_learned_nothing(norm):
    problem = pdes.get("heat2d")
    result = pinn.solve(problem, progress=False, norm=norm, **TINY, **TINY_REPORT)
    assert result.report["errors"]["u"]["rel_l2"] < 0.6 * trivial_errors(problem, result.config)["u"]
    assert not result.model.training
    json.dumps(result.report)
    if norm == "batch":
        gap = result.report["train_eval_gap"]
        assert set(gap["terms"]) == {t.name for t in problem.terms}
        assert gap["ratio"] > 0 and gap["total"]["batch_statistics"] > 0
    else:
        assert "train_eval_gap" not in result.report
