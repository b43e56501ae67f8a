"""``--compile``: a compiled run trains exactly like an eager run of the forward engine.

The graph capture (dynamo) and the compiled backward (AOTAutograd) run here with the
``aot_eager`` backend; inductor's C++ code generation takes minutes on a small CPU and is
exercised by ``benchmarks/engine_speed.py --compile`` instead.
"""

import shutil

import pytest
import torch

import pdes
import pinn
import pinn.solver
from pinn.compiled import COMPILERS, compiled_step_losses
from pinn.config import Config

HAS_COMPILER = any(shutil.which(name) for name in COMPILERS)


@pytest.mark.skipif(not HAS_COMPILER, reason="Config(compile=True) requires a C++ compiler")
@pytest.mark.parametrize("name", ["heat1d", "kovasznay"])  # their transforms' Taylors stay eager
def test_compiled_run_matches_the_eager_forward_engine(monkeypatch, name):
    monkeypatch.setattr(pinn.solver, "compiled_step_losses", lambda: compiled_step_losses(backend="aot_eager"))
    settings = dict(steps=3, lbfgs_steps=2, batch=16, width=8, depth=2, norm="batch", eval_every=5,
                    eval_points=64, replicates=2, dtype="float64", device="cpu")  # fmt: skip
    compiled = pinn.solve(pdes.get(name), progress=False, compile=True, **settings)
    eager = pinn.solve(pdes.get(name), progress=False, engine="forward", **settings)
    torch.testing.assert_close(
        torch.tensor(compiled.history["loss"]), torch.tensor(eager.history["loss"]), rtol=1e-10, atol=0
    )
    assert compiled.report["config"]["compile"] is True


def test_compile_is_refused_with_the_autograd_engine_or_without_a_compiler(monkeypatch):
    with pytest.raises(ValueError, match="needs the forward engine"):
        Config(compile=True, engine="autograd")
    monkeypatch.setenv("CXX", "no-such-compiler")
    with pytest.raises(ValueError, match="needs a C\\+\\+ compiler"):
        Config(compile=True)
