"""Quantities of interest of a trained network (``pdes.quantities``), beside the FEM reference's values.

A surface quantity is ``scale · |Γ| · mean_i w_i q(x_i)`` over ``SURFACE_POINTS`` scrambled Sobol'
points of the part Γ (seed 0: the same points for every run), with ``q`` its integrand read from
the network by the problem's Fields view (derivatives and normals as in a residual); a point
quantity is ``scale · Σ_i s_i q(x_i)``. report.json's ``quantities`` gives each with the
reference's value, the published one where the problem states it, and the relative errors.
"""

from __future__ import annotations

import math

import torch

from pdes.description import sobol_points
from pdes.problem import Problem, Term
from pdes.quantities import Bound
from pinn.nn import training_mode
from pinn.plan import residual_function

SURFACE_POINTS = 2**14
"""Scrambled Sobol' points of a surface integral."""


def network_value(model: torch.nn.Module, problem: Problem, bound: Bound) -> float:
    """The quantity ``bound`` of the network ``model`` (module docstring)."""
    p = next(model.parameters())
    evaluate = residual_function(model, problem, [Term(bound.name, bound.region, bound.integrand)], p.device, p.dtype)
    with training_mode(model, False):
        if bound.points is not None:
            values = evaluate(bound.points)
            return bound.scale * float(sum(s * v for s, v in zip(bound.signs, values.tolist())))
        x, w = sobol_points(bound.region, SURFACE_POINTS)
        values = evaluate(x)
    return bound.scale * bound.region.measure * float((w * values).mean())


def reference_value(problem: Problem, bound: Bound) -> tuple[float | None, str | None]:
    """The reference's value of ``bound`` and, where there is none, why."""
    solution = getattr(problem.reference, "solution", None)
    if solution is None:
        return None, "the problem has no finite element reference"
    if bound.fem is None:
        return None, "the finite element reference gives this quantity for steady flows only"
    return bound.scale * float(bound.fem(solution())), None


def quantity_report(model: torch.nn.Module, problem: Problem, name: str) -> dict:
    """``{"value", "reference", "rel_error", "published", "published_rel_error"}`` of the quantity ``name``."""
    if name not in problem.quantities:
        valid = ", ".join(problem.quantities) or "none"
        raise ValueError(f"unknown quantity '{name}'; this problem's quantities: {valid}")
    bound = problem.quantities[name]
    value = network_value(model, problem, bound)
    reference, missing = reference_value(problem, bound)
    published = bound.quantity.published
    entry = {
        "kind": type(bound.quantity).__name__,
        "value": value,
        "reference": reference,
        "rel_error": relative(value, reference),
        "published": published,
        "published_rel_error": relative(value, published),
    }
    if missing is not None:
        entry["reference_note"] = missing
    if reference is not None and published is not None:
        entry["reference_published_rel_error"] = relative(reference, published)
    return entry


def quantities_report(model: torch.nn.Module, problem: Problem) -> dict:
    """report.json's ``quantities``: every quantity of the problem (``quantity_report``)."""
    return {name: quantity_report(model, problem, name) for name in problem.quantities}


def relative(value: float, reference: float | None) -> float | None:
    """``|value − reference| / |reference|``; None without a reference or where it is zero."""
    if reference is None or reference == 0 or not math.isfinite(reference):
        return None
    return abs(value - reference) / abs(reference)
