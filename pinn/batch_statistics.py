"""The train/eval gap of a backbone whose norm couples the points of a batch (BatchNorm).

In training, such a backbone normalizes with the statistics of each step's batch, held fixed
for every term and its derivatives and folded into the running averages (``pinn.plan``).
Evaluation (``model.eval()``) normalizes with the running averages instead. The train/eval
gap compares the loss of the same fresh batches both ways; report.json records it as
``train_eval_gap`` for batch-coupled norms::

    {"draws": R,
     "terms": {"pde": {"batch_statistics": L_b, "running_statistics": L_r}, …},
     "total": {"batch_statistics": Σλ_k L_b,k, "running_statistics": Σλ_k L_r,k},
     "ratio": total running / total batch}

each loss ``Σ_i w_i r(x_i)²`` averaged over ``R`` draws of one batch per term.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from pinn.nn import training_mode
from pinn.plan import StepPlan
from samplers.quadrature import Quadrature

Tensor = torch.Tensor


def train_eval_gap(
    model: torch.nn.Module, plan: StepPlan, draw: Callable[[], dict[str, Quadrature]], draws: int
) -> dict:
    """The losses with batch and with running statistics at ``draws`` fresh batches (module docstring)."""
    problem = plan.problem
    sums = {t.name: {"batch_statistics": 0.0, "running_statistics": 0.0} for t in problem.terms}
    for _ in range(draws):
        batches = draw()
        for kind, training in (("batch_statistics", True), ("running_statistics", False)):
            with training_mode(model, training):
                losses = plan.losses(model, batches, update_running=False)
            for name, value in losses.items():
                sums[name][kind] += float(value.detach()) / draws
    total = {
        kind: sum(t.weight * sums[t.name][kind] for t in problem.terms)
        for kind in ("batch_statistics", "running_statistics")
    }
    ratio = total["running_statistics"] / total["batch_statistics"] if total["batch_statistics"] > 0 else float("inf")
    return {"draws": draws, "terms": sums, "total": total, "ratio": ratio}
