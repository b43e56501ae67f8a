"""Test-wide settings: one torch thread, and a private cache for FEM references."""

import pytest
import torch


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
