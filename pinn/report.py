"""Errors against the reference, quadrature statistics, and the report.json dictionary."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from pdes.problem import Problem
from pinn.loss import residual
from samplers.quadrature import Rule
from samplers.sobol import Sobol

Tensor = torch.Tensor

EVAL_SEED = 20261126
"""Evaluation points are the same for every run of a problem, whatever its seed."""


def evaluation_points(problem: Problem, n: int) -> Tensor:
    """``n`` fixed scrambled-Sobol points of the problem's domain (float64), inside it."""
    q = Sobol().draw(problem.domain, n, torch.Generator().manual_seed(EVAL_SEED))
    return q.points[q.weights > 0]


def predict(
    model: Callable[[Tensor], Tensor], problem: Problem, points: Tensor, chunk: int = 65536
) -> dict[str, Tensor]:
    """``{field: (N,) tensor}`` of the model at ``points``, evaluated in chunks without gradients."""
    with torch.no_grad():
        out = torch.cat([model(p) for p in points.split(chunk)])
    return {name: out[:, k] for k, name in enumerate(problem.fields)}


def field_errors(
    prediction: Mapping[str, Tensor], reference: Mapping[str, Tensor], up_to_constant: tuple[str, ...] = ()
) -> dict[str, dict[str, float]]:
    """Per field ``rel_l2 = ‖u − u_ref‖₂ / ‖u_ref‖₂`` and ``max_abs = max |u − u_ref|``.

    For fields in ``up_to_constant`` the mean difference is removed first.
    """
    errors = {}
    for name, ref in reference.items():
        diff = prediction[name].to(ref) - ref
        if name in up_to_constant:
            diff = diff - diff.mean()
        errors[name] = {
            "rel_l2": float(diff.norm() / ref.norm().clamp_min(1e-300)),
            "max_abs": float(diff.abs().max()),
        }
    return errors


def replicate_statistics(
    model: Callable[[Tensor], Tensor],
    problem: Problem,
    rule: Rule,
    batch: int,
    replicates: int,
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> dict[str, dict[str, float]]:
    """Per term, the loss estimate ``Σ w_i r_i²`` over ``replicates`` independent draws.

    ``estimate`` is the mean over replicates, ``std_error`` the standard deviation of a
    single batch's estimate across replicates (its quadrature noise), and
    ``within_batch_std_error`` the iid formula ``sqrt(Σ w_i² (r_i² − L)²)`` averaged over
    replicates (exact in expectation for ``uniform``; an overestimate for QMC rules).
    """
    stats = {}
    for term in problem.terms:
        estimates, within = [], []
        for _ in range(replicates):
            q = rule.draw(term.region, batch, generator).to(device, dtype)
            r2 = residual(model, problem, term, q.points).detach() ** 2
            estimate = q.mean(r2)
            estimates.append(float(estimate))
            within.append(float(((q.weights * (r2 - estimate)) ** 2).sum().sqrt()))
        values = torch.tensor(estimates, dtype=torch.float64)
        stats[term.name] = {
            "sampler": rule.name,
            "batch": batch,
            "estimate": float(values.mean()),
            "std_error": float(values.std()) if replicates > 1 else 0.0,
            "replicates": replicates,
            "within_batch_std_error": sum(within) / len(within),
        }
    return stats
