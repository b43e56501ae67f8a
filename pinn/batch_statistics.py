"""Batch statistics in training, and the train/eval gap they leave.

A backbone whose norm couples points (BatchNorm, ``model.couples_points``) normalizes, in
training, with per-unit statistics over a batch of points. The batch of a training step is
every term's points together: the statistics are computed once from them (on the detached
points, ``model.batch_statistics``), held fixed for every term's residual and its spatial
derivatives, and folded into the running averages once per loss evaluation (each Adam step,
each L-BFGS function evaluation). All terms of a step thus see one and the same function.

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

from collections.abc import Callable, Mapping
from functools import partial

import torch

from pdes.problem import Problem
from pinn.loss import sharing_groups, term_losses
from pinn.nn import MLP, training_mode
from samplers.quadrature import Quadrature

Tensor = torch.Tensor


def step_losses(
    model: MLP,
    problem: Problem,
    batches: Mapping[str, Quadrature],
    update_running: bool = True,
    engine: str = "auto",
) -> dict[str, Tensor]:
    """``term_losses`` at one step's batches; a batch-coupled model uses the step's statistics, held fixed.

    With ``update_running`` the statistics are also folded into the running averages.
    ``engine`` is the derivative engine (``pinn.loss.derivative_engine``).
    """
    if not model.couples_points:
        return term_losses(model, problem, batches, engine)
    shared = [batches[group[0].name] for group in sharing_groups(problem.terms, batches)]
    statistics = model.batch_statistics(torch.cat([q.points for q in shared]))
    if update_running:
        model.update_running_statistics(statistics)
    return term_losses(partial(model, statistics=statistics), problem, batches, engine)


def train_eval_gap(model: MLP, problem: Problem, draw: Callable[[], dict[str, Quadrature]], draws: int) -> dict:
    """The losses with batch and with running statistics at ``draws`` fresh batches (module docstring)."""
    sums = {t.name: {"batch_statistics": 0.0, "running_statistics": 0.0} for t in problem.terms}
    for _ in range(draws):
        batches = draw()
        for kind, training in (("batch_statistics", True), ("running_statistics", False)):
            with training_mode(model, training):
                losses = step_losses(model, problem, batches, update_running=False)
            for name, value in losses.items():
                sums[name][kind] += float(value.detach()) / draws
    total = {
        kind: sum(t.weight * sums[t.name][kind] for t in problem.terms)
        for kind in ("batch_statistics", "running_statistics")
    }
    ratio = total["running_statistics"] / total["batch_statistics"] if total["batch_statistics"] > 0 else float("inf")
    return {"draws": draws, "terms": sums, "total": total, "ratio": ratio}
