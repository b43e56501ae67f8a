"""The error bars of training tests: what a network that learned nothing already scores.

A bar of "below the untrained error" is passed by a network that outputs zero, because an
untrained network's error is often ~1–2. These bars are the better of two trivial answers: a
network that outputs 0 (only the exact-constraint lift, if any, is left) and the best constant
field (the reference's mean).
"""

import torch
from torch import nn

from pinn.report import evaluation_points, field_errors, predict
from pinn.state import build_model


class Zero(nn.Module):
    """A network that outputs 0 for every field (one parameter, so the solver accepts it)."""

    def __init__(self, fields: int):
        super().__init__()
        self.fields = fields
        self.offset = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.offset.expand(len(x), self.fields).to(x.dtype)


def trivial_errors(problem, config) -> dict[str, float]:
    """Per field ``min(rel_l2 of the all-zero network, rel_l2 of the best constant)``."""
    points = evaluation_points(problem, config.eval_points)
    reference = problem.reference.evaluate(points)
    model = build_model(problem, config, model=Zero(len(problem.fields)))
    zero = field_errors(predict(model, problem, points.float()), reference)
    constant = field_errors({k: torch.full_like(v, v.mean().item()) for k, v in reference.items()}, reference)
    return {k: min(zero[k]["rel_l2"], constant[k]["rel_l2"]) for k in reference}
