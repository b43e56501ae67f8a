"""Test-wide settings: one torch thread, a private cache for FEM references; interrupted and shortened solves."""

import pytest
import torch

import pinn
import pinn.callbacks
import pinn.continuation
import pinn.solver


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


class InterruptAfterCheckpoint(pinn.callbacks.Callback):
    """A user callback (it runs after the solver's checkpoint) that ends the run at its first
    evaluation at step ≥ ``stop_at``."""

    def __init__(self, stop_at: int):
        self.stop_at = stop_at

    def on_step_end(self, run, state, record):
        if pinn.callbacks.evaluation_due(run, record) and record.step >= self.stop_at:
            raise Interrupt


@pytest.fixture
def interrupted_solve():
    """``interrupted_solve(stop_at, problem, **settings)``: ``pinn.solve`` cut short.

    The run stops at its first evaluation at step ≥ ``stop_at``; its run file then holds that
    evaluation's checkpoint, not marked complete.
    """

    def solve(stop_at: int, problem, **settings) -> None:
        with pytest.raises(Interrupt):
            pinn.solve(problem, progress=False, callbacks=[InterruptAfterCheckpoint(stop_at)], **settings)

    return solve


def pytest_runtest_setup(item):
    """Tests marked ``cuda`` are skipped, with the reason, where torch sees no CUDA device."""
    if item.get_closest_marker("cuda") is not None and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device: torch.cuda.is_available() is False")


@pytest.fixture
def short_solves(monkeypatch):
    """``short_solves(**short)``: from then on every ``pinn.solve`` (also as ``pinn.solver.solve`` and
    inside ``pinn.continuation``) runs with ``short`` in place of the caller's settings of those names."""

    def shorten(**short) -> None:
        solve = pinn.solver.solve

        def short_solve(problem, *args, **settings):
            return solve(problem, *args, **{**settings, **short})

        for module in (pinn, pinn.solver, pinn.continuation):
            monkeypatch.setattr(module, "solve", short_solve)

    return shorten
