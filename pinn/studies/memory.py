"""Peak memory of a block of work, comparable between runs.

    with PeakMemory(device) as memory:
        train_a_few_steps()
    memory.mb   # MiB the block needed above what was in use when it started

On CUDA: ``torch.cuda.max_memory_allocated`` since a reset at the start, minus the memory
allocated then. On the CPU (Linux): the peak resident set ``VmHWM`` since a reset at the
start (writing ``5`` to ``/proc/self/clear_refs``), minus the resident set ``VmRSS`` then.
A process keeps memory it freed, so the CPU number is meaningful only in a process that
has not run anything bigger before (a fresh child process). Elsewhere: NaN.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


class PeakMemory:
    """A context manager; ``mb`` holds the peak rise in MiB after the block (module docstring)."""

    def __init__(self, device: torch.device | str):
        self.device = torch.device(device)
        self.mb = math.nan
        self._start = math.nan

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device) / 2**20
        elif resident_set_available():
            CLEAR_REFS.write_text("5")
            self._start = status_mb("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mb = torch.cuda.max_memory_allocated(self.device) / 2**20 - self._start
        elif not math.isnan(self._start):
            self.mb = status_mb("VmHWM") - self._start


def resident_set_available() -> bool:
    """Whether this system lets a process read and reset its peak resident set (Linux)."""
    return STATUS.is_file() and CLEAR_REFS.exists()


def status_mb(key: str) -> float:
    """A ``kB`` entry of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB."""
    match = re.search(rf"^{key}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    if match is None:
        raise ValueError(f"/proc/self/status has no entry {key}")
    return int(match.group(1)) / 1024
