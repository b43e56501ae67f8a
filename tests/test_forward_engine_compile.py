"""``--compile``: the compiled training loss equals eager mode's, loss and parameter gradients.

The graph capture (dynamo) and the compiled backward (AOTAutograd) run here with the
``aot_eager`` backend; inductor's C++ code generation takes minutes on a small CPU and is
exercised by ``benchmarks/engine_speed.py --compile`` instead.
"""

import pytest
import torch

import pdes
import samplers
from pinn.batch_statistics import step_losses
from pinn.compiled import compiled_step_losses
from pinn.config import Config
from pinn.loss import total_loss
from pinn.solver import build_model


@pytest.mark.parametrize("problem_name,norm", [("heat1d", "batch")])
def test_compiled_loss_and_gradients_equal_eager(problem_name, norm):
    problem = pdes.get(problem_name)
    model = build_model(problem, Config(width=8, depth=2, norm=norm, dtype="float64", device="cpu"))
    g = torch.Generator().manual_seed(0)
    batches = {t.name: samplers.get("sobol").draw(t.region, 32, g).to("cpu", torch.float64) for t in problem.terms}
    compiled = compiled_step_losses(backend="aot_eager")
    results = []
    for function in (compiled, step_losses):
        model.zero_grad()
        loss = total_loss(problem, function(model, problem, batches, update_running=False, engine="forward"))
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    (compiled_loss, compiled_grads), (eager_loss, eager_grads) = results
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=1e-12, atol=0)
    for a, b in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_compile_is_refused_with_the_autograd_engine_or_without_a_compiler(monkeypatch):
    with pytest.raises(ValueError, match="needs the forward engine"):
        Config(compile=True, engine="autograd")
    monkeypatch.setenv("CXX", "no-such-compiler")
    with pytest.raises(ValueError, match="needs a C\\+\\+ compiler"):
        Config(compile=True)
