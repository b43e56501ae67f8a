"""Peak tensor memory of a block of work, counted by torch's allocator, comparable between runs.

    with PeakMemory(device) as memory:
        train_a_few_steps()
    memory.mb   # MiB of tensors the block needed above what was allocated when it started

On CUDA: ``torch.cuda.max_memory_allocated`` since a reset at the start, minus the memory
allocated then. On the CPU: the same quantity, counted from torch's profiler: with
``profile_memory`` it records every allocation and release of torch's CPU allocator (bytes
and time), and the peak is the largest running sum of those records over the block. Both
count the bytes of tensors (parameters, gradients, optimizer state, pools, activations saved
for backward, temporaries of every op), not the process's resident set: memory freed
earlier and kept by the C allocator, Python objects and the pages of libraries do not count,
so the figure does not depend on what the process ran before, and the same block measured
twice gives the same number to the byte (up to tensors torch caches on first use).

The CPU figure used to be the rise of the resident set (``VmHWM`` over ``VmRSS``); that is
counted in 4 KiB pages and blind to heap the C allocator already holds: for a small network
it gave 0.21 MB at batch 128 and at batch 512, whose tensors take 0.060 and 0.239 MB.

The profiler's start and stop each print a line from its native library on standard error;
PeakMemory silences file descriptor 2 around those two calls only. Inside another profiler's
block (torch runs one at a time), or where the profiler cannot start: NaN.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import sys
from collections.abc import Iterable, Iterator

import torch
from torch.profiler import ProfilerActivity, profile

MEMORY_EVENT = "[memory]"
"""The name of the profiler's allocation records (``nbytes`` > 0 allocated, < 0 released)."""


class PeakMemory:
    """A context manager; ``mb`` holds the peak rise of allocated tensor memory in MiB after the block."""

    def __init__(self, device: torch.device | str):
        self.device = torch.device(device)
        self.mb = math.nan
        self._start = math.nan
        self._profile: profile | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device) / 2**20
        elif not torch.autograd._profiler_enabled():  # torch runs one profiler at a time: leave the user's alone
            gc.collect()  # tensors of earlier work held in reference cycles would be freed inside the block
            recorder = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
            try:
                with native_stderr_silenced():
                    recorder.__enter__()
            except RuntimeError:
                return self
            self._profile = recorder
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mb = torch.cuda.max_memory_allocated(self.device) / 2**20 - self._start
        elif self._profile is not None:
            with native_stderr_silenced():
                self._profile.__exit__(None, None, None)
            events = allocation_events(self._profile)
            self.mb = math.nan if events is None else peak_bytes(events) / 2**20
            self._profile = None


def allocation_events(recorder: profile) -> list | None:
    """The profiler's raw event records, or None where this torch lacks them (``kineto_results`` is
    not a public torch API: the figure is then NaN rather than an error)."""
    try:
        return list(recorder.profiler.kineto_results.events())
    except AttributeError:
        return None


def peak_bytes(events: Iterable) -> int:
    """The largest running sum, in time order, of the CPU allocation records among profiler ``events``.

    The profiler records only the release of memory it saw allocated (torch warns once of
    others): the sum is of the tensors the block allocated and still holds, 0 at the start.
    On CUDA, tensors from before released in the block lower the count instead; a probe
    releases none (``gc.collect`` before it).
    """
    records = [e for e in events if e.name() == MEMORY_EVENT and e.device_type() == torch.autograd.DeviceType.CPU]
    live = peak = 0
    for record in sorted(records, key=lambda e: e.start_ns()):  # stable: ties keep the order recorded
        live += record.nbytes()
        peak = max(peak, live)
    return peak


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 goes to the null device inside the block (what native code prints there is lost)."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
