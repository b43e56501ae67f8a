"""A study's error figure: the network against its reference by a fixed integration rule, with its standard error.

For each field, with ``e = u − u_ref`` (less its weighted mean for a field known up to a constant),

    rel_l2 = sqrt( Σ_i w_i e(x_i)² / Σ_i w_i u_ref(x_i)² ).

- A finite element reference (``pdes.reference.CachedFEMReference``) is integrated on its own mesh:
  ``FEMSolution.gauss_rule`` (degree GAUSS_ORDER in space, TIME_NODES Gauss–Legendre nodes in time),
  with the finite element function at every Gauss point. The rule is deterministic: the figure has no
  sampling noise of its own, and its ``std_error`` is 0.
- Any other reference on SOBOL_POINTS fixed scrambled Sobol' points of the domain (``EVAL_SEED``), equal
  weights. ``std_error`` is the delta-method standard error of ``rel_l2`` as if the points were
  independent, ``sqrt(Var(e² − R u²) / n) / (2 R^{1/2} mean(u²))`` with ``R = rel_l2²``: an upper bound on
  the error of the quasi-random estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from pdes.problem import Problem
from pdes.reference import CachedFEMReference
from pinn.report import EVAL_SEED
from samplers.sobol import Sobol

Tensor = torch.Tensor

GAUSS_ORDER = 4
TIME_NODES = 32
"""The FEM mesh's rule: Gauss points exact for degree GAUSS_ORDER on each triangle, Gauss–Legendre nodes in time."""

SOBOL_POINTS = 2**16
"""Points of the rule for references without a mesh."""


@dataclass
class ErrorRule:
    """Points ``(N, d)``, weights ``(N,)``, the reference's values there, and how the rule was made."""

    points: Tensor
    weights: Tensor
    reference: dict[str, Tensor]
    up_to_constant: tuple[str, ...]
    kind: str

    @property
    def deterministic(self) -> bool:
        return self.kind == "fem mesh"


def error_rule(problem: Problem) -> ErrorRule:
    """The rule of the module docstring for ``problem``'s reference (ValueError when it has none)."""
    reference = problem.reference
    if reference is None or reference.kind == "none":
        raise ValueError(f"{problem.name} has no reference to measure errors against")
    up_to_constant = tuple(getattr(reference, "up_to_constant", ()))
    if isinstance(reference, CachedFEMReference):
        solution = reference.solution()
        points, weights, values = solution.gauss_rule(GAUSS_ORDER, 0 if solution.steady else TIME_NODES)
        return ErrorRule(
            torch.as_tensor(points),
            torch.as_tensor(weights),
            {name: torch.as_tensor(values[name]) for name in problem.fields if name in values},
            up_to_constant,
            "fem mesh",
        )
    q = Sobol().draw(problem.domain, SOBOL_POINTS, torch.Generator().manual_seed(EVAL_SEED))
    inside = q.weights > 0
    points = q.points[inside]
    values = reference.evaluate(points)
    weights = torch.full((len(points),), 1.0 / len(points), dtype=torch.float64)
    return ErrorRule(points, weights, {k: v.to(torch.float64) for k, v in values.items()}, up_to_constant, "sobol")


def integrated_errors(rule: ErrorRule, predict: Callable[[Tensor], Mapping[str, Tensor]]) -> dict[str, dict]:
    """``{field: {"rel_l2", "std_error"}}`` of ``predict(points)`` against the rule's reference (module docstring)."""
    prediction = predict(rule.points)
    w = rule.weights / rule.weights.sum()
    errors = {}
    for name, ref in rule.reference.items():
        e = prediction[name].detach().cpu().to(torch.float64) - ref
        if name in rule.up_to_constant:
            e = e - (w * e).sum()
        squared_error, squared_reference = e**2, ref**2
        ratio = float((w * squared_error).sum() / (w * squared_reference).sum())
        rel_l2 = ratio**0.5
        if rule.deterministic:
            std_error = 0.0
        else:
            influence = squared_error - ratio * squared_reference
            se_ratio = float(influence.std() / len(e) ** 0.5 / squared_reference.mean())
            std_error = se_ratio / (2 * rel_l2) if rel_l2 > 0 else 0.0
        errors[name] = {"rel_l2": rel_l2, "std_error": std_error}
    return errors
