"""Training on several processes: torch.distributed glue for ``torchrun … -m pinn solve``.

Every process (rank ``r`` of ``R``) draws its own quadrature of every term from streams
derived from the seed and its rank (``pinn.state.stream_generators``). Each rank's weights
sum to 1, so with equal batches the mean of the ranks' losses is the loss of the quadrature
over the union of their points, with weights ``w_i / R``:

    L = (1/R) Σ_r Σ_i w_ri r(x_ri)²,        ∇L = (1/R) Σ_r ∇L_r

and DistributedDataParallel's gradient all-reduce (an average) gives exactly ``∇L``. The loss
of a step is built inside DDP's forward (``StepLosses``): DDP arms its gradient hooks in its
forward, and the input derivatives the residuals need (autograd.grad with create_graph, or
the forward engine) leave the parameters' gradients untouched until the final backward.

A BatchNorm backbone normalizes, by default, with the statistics of the global batch: each
BatchNorm layer sums its per-unit sums over the ranks with an all-reduce whose backward is
again an all-reduce (``sum_over_processes``), so forward and backward are those of one process
holding every rank's points (torch's SyncBatchNorm does the same, but it computes and applies
the statistics in one call and cannot hold them fixed for pointwise derivatives). The all-reduce
runs on NCCL on CUDA and on gloo on the CPU. ``local_norm_stats`` keeps each rank's own
statistics instead (the gradient is then not that of one process on the union).
"""

from __future__ import annotations

import atexit
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from pinn.nn import BatchNorm
from pinn.plan import StepPlan
from samplers.quadrature import Quadrature

Tensor = torch.Tensor

LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
"""The environment variables torchrun sets for every process it starts."""


@dataclass(frozen=True)
class Processes:
    """This process's ``rank`` among ``size`` training processes (one process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the one that writes files and shows progress."""
        return self.rank == 0

    def mean(self, values: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``{name: (1/R) Σ_r value_r}``: each (scalar) value averaged over the ranks, detached."""
        if self.size == 1:
            return {name: value.detach() for name, value in values.items()}
        stacked = torch.stack([value.detach() for value in values.values()])
        dist.all_reduce(stacked)
        return dict(zip(values, stacked / self.size))

    def mean_floats(self, values: Mapping[str, float]) -> dict[str, float]:
        """``{name: (1/R) Σ_r value_r}`` for plain numbers."""
        if self.size == 1:
            return dict(values)
        averaged = self.mean({name: torch.tensor(float(v), dtype=torch.float64) for name, v in values.items()})
        return {name: float(v) for name, v in averaged.items()}

    def gather(self, value: object) -> list[object] | None:
        """Every rank's ``value`` (a picklable object), in rank order, on rank 0; None on the others."""
        if self.size == 1:
            return [value]
        gathered = [None] * self.size if self.main else None
        dist.gather_object(value, gathered, dst=0)
        return gathered

    def all_gather(self, value: object) -> list[object]:
        """Every rank's ``value`` (a picklable object), in rank order, on every rank."""
        if self.size == 1:
            return [value]
        gathered: list[object] = [None] * self.size
        dist.all_gather_object(gathered, value)
        return gathered


def launched() -> bool:
    """Whether this process was started by torchrun (its environment variables are set)."""
    return all(name in os.environ for name in LAUNCHER_VARIABLES)


def current() -> Processes:
    """This process's rank and the number of processes (rank 0 of 1 without a process group)."""
    if not dist.is_initialized():
        return Processes()
    return Processes(dist.get_rank(), dist.get_world_size())


def start(device: torch.device) -> tuple[Processes, torch.device]:
    """Join the training processes, if any, and the device this process trains on.

    Under torchrun (``launched``), the default process group is initialized from the
    environment: NCCL when training on CUDA (each process on ``cuda:LOCAL_RANK``), gloo on the
    CPU. A process group initialized by the caller is used as it is. Otherwise: one process.
    """
    if not dist.is_initialized():
        if not launched():
            return Processes(), device
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(dist.destroy_process_group)
    if device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    return current(), device


class SumOverProcesses(torch.autograd.Function):
    """``Σ_r x_r`` over the ranks. With ``L = Σ_r L_r`` the gradient of ``x_r`` is ``Σ_q ∂L_q/∂(Σ x)``:
    the backward is the same all-reduce of the incoming gradients."""

    @staticmethod
    def forward(ctx: object, tensor: Tensor) -> Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: object, gradient: Tensor) -> Tensor:
        return SumOverProcesses.apply(gradient)


def sum_over_processes(tensor: Tensor) -> Tensor:
    """``Σ_r tensor_r`` over the ranks, differentiable (``SumOverProcesses``)."""
    return SumOverProcesses.apply(tensor)


def synchronize_batch_norms(model: nn.Module) -> None:
    """Make every BatchNorm layer of ``model`` normalize with the statistics of the global batch."""
    for module in model.modules():
        if isinstance(module, BatchNorm):
            module.sum_over_processes = sum_over_processes


class StepLosses(nn.Module):
    """``batches ↦ plan.losses(model, batches)`` as a module, for DDP to wrap (``pinn.plan.StepPlan``)."""

    def __init__(self, model: nn.Module, plan: StepPlan):
        super().__init__()
        self.model = model
        self.plan = plan

    def forward(self, batches: Mapping[str, Quadrature]) -> dict[str, Tensor]:
        return self.plan.losses(self.model, batches)


def parallel_losses(
    model: nn.Module, plan: StepPlan, processes: Processes, local_norm_stats: bool = False
) -> DistributedDataParallel | None:
    """DDP around ``StepLosses(model, plan)``, with synchronized BatchNorm statistics unless
    ``local_norm_stats``; None for a single process.

    Buffers are not broadcast at each forward: BatchNorm running averages are the same on
    every rank when the statistics are synchronized, and rank 0's are the ones saved when not.
    """
    if processes.size == 1:
        return None
    if not local_norm_stats:
        synchronize_batch_norms(model)
    return DistributedDataParallel(StepLosses(model, plan), forward_sync_buffers=False)


def combine_statistics(per_rank: list[dict[str, dict]], batch: int) -> dict[str, dict]:
    """The quadrature statistics (``pinn.report.quadrature_statistics``) of the global batch from each rank's.

    Each rank measured ``replicates`` draws of its own batch of ``batch`` points; a step's
    global quadrature is the mean of ``R`` independent such draws. Per term: ``batch`` is
    ``R·batch``, ``replicates`` the draws of all ranks, ``estimate`` and every other number
    the mean over ranks, except the standard errors of the global estimate,
    ``sqrt(mean_r(se_r²) / R)``, and ``grad_snr = grad_norm / sqrt(grad_var_trace / (R·batch))``
    of the averaged gradient norm and per-point variance trace.
    """
    size = len(per_rank)
    combined = {}
    for term, first in per_rank[0].items():
        entries = [stats[term] for stats in per_rank]
        entry = {}
        for key, value in first.items():
            numbers = [e[key] for e in entries]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                entry[key] = value
            elif key.endswith("std_error"):
                entry[key] = math.sqrt(sum(n * n for n in numbers) / size / size)
            else:
                entry[key] = sum(numbers) / size
        entry["batch"] = batch * size
        if "replicates" in first:
            entry["replicates"] = sum(e["replicates"] for e in entries)
        if {"grad_norm", "grad_var_trace"} <= entry.keys() and entry["grad_var_trace"] > 0:
            entry["grad_snr"] = entry["grad_norm"] / math.sqrt(entry["grad_var_trace"] / entry["batch"])
        combined[term] = entry
    return combined
