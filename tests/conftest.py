"""Test-wide settings: one torch thread, a private cache for FEM references; interrupted solves."""

import pytest
import torch

import pinn
from pinn.solver import Run


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tests use tiny tensors: one intra-op thread, since waking a second one costs milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="session")
def private_reference_cache(tmp_path_factory):
    """FEM references computed by tests go to a temporary $PINN_CACHE, not the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PINN_CACHE", str(tmp_path_factory.mktemp("pinn_cache")))
        yield


class Interrupt(Exception):
    """Raised by ``interrupted_solve`` to cut a run short, as a crash would."""


@pytest.fixture
def interrupted_solve(monkeypatch):
    """``interrupted_solve(stop_at, problem, **settings)``: ``pinn.solve`` cut short.

    The run stops at its first evaluation at step ≥ ``stop_at``; its run file then holds that
    evaluation's checkpoint, not marked complete.
    """

    def solve(stop_at: int, problem, **settings) -> None:
        evaluate = Run.evaluate

        def evaluate_then_die(self):
            evaluate(self)
            if self.step >= stop_at:
                raise Interrupt

        monkeypatch.setattr(Run, "evaluate", evaluate_then_die)
        with pytest.raises(Interrupt):
            pinn.solve(problem, progress=False, **settings)
        monkeypatch.setattr(Run, "evaluate", evaluate)

    return solve
