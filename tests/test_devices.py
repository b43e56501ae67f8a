"""Device choice, the CUDA refusal, peak memory and the process-group backend: the logic of the
CUDA paths, tested on the CPU (tests/test_cuda.py runs the same paths on a GPU)."""

import resource

import pytest
import torch

import pinn.distributed as distributed
from pinn.cli import main
from pinn.config import Config
from pinn.solver import peak_memory_mb


@pytest.mark.parametrize("available,expected", [(True, "cuda"), (False, "cpu")])
def test_auto_trains_on_cuda_exactly_when_torch_sees_a_device(monkeypatch, available, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    assert Config(device="auto").torch_device == torch.device(expected)
    assert Config(device="cpu").torch_device == torch.device("cpu")


def test_cuda_without_a_device_is_refused_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device 'cuda' requested but no CUDA device is available"):
        Config(device="cuda")
    code = main(["solve", "heat1d", "--device", "cuda", "--steps", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "use --device cpu or auto" in err
    assert not (tmp_path / "run").exists()


def test_peak_memory_on_cuda_is_the_allocators_peak(monkeypatch):
    seen = []
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device: seen.append(device) or 3 * 2**20)
    assert peak_memory_mb(torch.device("cuda", 1)) == 3.0
    assert seen == [torch.device("cuda", 1)]


def test_peak_memory_on_the_cpu_is_the_peak_resident_set():
    held = torch.ones(64 * 2**20 // 8, dtype=torch.float64)  # 64 MB, touched
    peak = peak_memory_mb(torch.device("cpu"))
    assert peak == resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 and peak >= 64
    del held


class FakeGroups:
    """Records what ``distributed.start`` asks of torch.distributed and torch.cuda."""

    def __init__(self, monkeypatch, current_device: int = 0):
        self.backends, self.devices = [], []
        monkeypatch.setattr(distributed, "launched", lambda: True)
        monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
        monkeypatch.setattr(distributed.dist, "init_process_group", self.backends.append)
        monkeypatch.setattr(distributed.atexit, "register", lambda f: None)
        monkeypatch.setattr(distributed, "current", lambda: distributed.Processes(1, 2))
        monkeypatch.setattr(torch.cuda, "set_device", self.devices.append)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: current_device)


def test_under_torchrun_cuda_training_joins_nccl_on_the_local_rank(monkeypatch):
    fake = FakeGroups(monkeypatch, current_device=3)
    monkeypatch.setenv("LOCAL_RANK", "3")
    processes, device = distributed.start(torch.device("cuda"))
    assert fake.backends == ["nccl"] and fake.devices == [3]
    assert device == torch.device("cuda", 3) and processes.rank == 1 and processes.size == 2


def test_under_torchrun_cpu_training_joins_gloo(monkeypatch):
    fake = FakeGroups(monkeypatch)
    processes, device = distributed.start(torch.device("cpu"))
    assert fake.backends == ["gloo"] and fake.devices == [] and device == torch.device("cpu")


def test_without_torchrun_there_is_one_process_and_no_group(monkeypatch):
    monkeypatch.setattr(distributed, "launched", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda *a: pytest.fail("no group without torchrun"))
    processes, device = distributed.start(torch.device("cpu"))
    assert (processes.rank, processes.size, device) == (0, 1, torch.device("cpu"))
