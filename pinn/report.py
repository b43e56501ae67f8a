"""Errors against the reference, quadrature statistics, and the report.json dictionary."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping

import torch

from pdes.data import Data
from pdes.problem import Problem, Term
from pinn.derivatives import PointDerivatives
from pinn.plan import has_normals, residual_function
from pinn.unknowns import coefficient_values, inverse_of
from samplers.quadrature import Quadrature, Rule
from samplers.sobol import Sobol
from samplers.variance import gradient_statistics, per_point_gradients, pool_gap, replicate_statistics

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

    For fields in ``up_to_constant`` the mean difference is removed first. Where the reference
    is zero at every point (to ``ZERO_REFERENCE`` times the largest RMS of the reference's fields, or
    exactly when all are zero: a numerical solution's zero is rounding) a relative error is undefined:
    ``rel_l2`` then holds the absolute RMS error ``‖u − u_ref‖₂ / √N``, and the field's ``note`` says so.
    """
    errors = {}
    largest = max((float(ref.norm()) / max(len(ref), 1) ** 0.5 for ref in reference.values()), default=0.0)
    for name, ref in reference.items():
        diff = prediction[name].to(ref) - ref
        if name in up_to_constant:
            diff = diff - diff.mean()
        scale = ref.norm()
        zero = bool(scale / len(ref) ** 0.5 <= ZERO_REFERENCE * largest) or bool(scale == 0)
        errors[name] = {
            "rel_l2": float(diff.norm() / (len(diff) ** 0.5 if zero else scale)),
            "max_abs": float(diff.abs().max()),
        }
        if zero:
            errors[name]["note"] = ZERO_REFERENCE_NOTE
    return errors


ZERO_REFERENCE = 1e-10
"""A reference field whose RMS is at most this fraction of the largest field's RMS counts as zero."""

ZERO_REFERENCE_NOTE = "the reference is zero at every evaluation point: rel_l2 is the absolute RMS error ‖u − u_ref‖/√N"


SINGLE_REPLICATE_NOTE = "undefined with replicates=1: one draw has no spread"


def strict_json(report: dict, replicates: int) -> dict:
    """``report`` with every number that is not finite replaced by None (JSON ``null``), each listed
    with its reason in ``notes`` (``{"errors.u.rel_l2": "not a finite number (nan)"}``), so that the
    file is strict JSON. A ``std_error`` of a single replicate is undefined, and its note says so.
    Notes already in ``report`` are kept.
    """
    notes: dict[str, str] = dict(report.get("notes", {}))

    def clean(node: object, path: str) -> object:
        if isinstance(node, dict):
            return {key: clean(value, f"{path}.{key}" if path else str(key)) for key, value in node.items()}
        if isinstance(node, list | tuple):
            return [clean(value, f"{path}.{k}") for k, value in enumerate(node)]
        if isinstance(node, float) and not math.isfinite(node):
            single = path.endswith(".std_error") and replicates == 1
            notes[path] = SINGLE_REPLICATE_NOTE if single else f"not a finite number ({node})"
            return None
        return node

    cleaned = clean(report, "")
    return {**cleaned, "notes": notes} if notes else cleaned


def term_gradient_statistics(
    model: torch.nn.Module, problem: Problem, term: Term, q: Quadrature, device: torch.device, dtype: torch.dtype
) -> dict[str, float]:
    """``samplers.variance.gradient_statistics`` of ``term`` on the batch ``q``.

    The per-point gradient of ``B w_i r_i²`` comes from ``torch.func``: ``functional_call``
    of the model on the single point, ``PointDerivatives`` for its input derivatives, ``grad``
    over the parameters and ``vmap`` over the points. The model runs in eval mode here, so
    batch normalization uses its running statistics (per-point gradients are not defined
    when points share batch statistics).
    """
    q = q.to(device, dtype)
    if len(q) < 2:  # one point (a single observation) has no spread: strict_json writes null with a note
        return {"grad_var_trace": math.nan, "grad_snr": math.nan, "grad_norm": math.nan}
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = dict(model.named_buffers())
    normals = term.region.normal(q.points) if has_normals(term.region, q.points) else None
    size = len(q)

    names = sorted(q.values) if q.values is not None else []
    inverse = inverse_of(model)
    path = next((name for name, m in model.named_modules() if m is inverse), None)
    key = f"{path}.coefficients." if path else "coefficients."

    def point_loss(p: dict[str, Tensor], x: Tensor, w: Tensor, *rest: Tensor) -> Tensor:
        normal, observed = (rest[0], rest[1:]) if normals is not None else (None, rest)

        def output(y: Tensor) -> Tensor:
            return torch.func.functional_call(model, (p, buffers), (y[None],))[0]

        coefficients = {}
        if inverse is not None:
            own = {k[len(key) :]: v for k, v in p.items() if k.startswith(key)}
            coefficients = torch.func.functional_call(inverse.coefficients, own, ())
        observations = dict(zip(names, observed)) if names else None
        fields = problem.view(PointDerivatives(output, x), normal, observations, coefficients)
        return size * w * term.residual(fields) ** 2

    per_point = (q.points, q.weights, *([] if normals is None else [normals]), *(q.values[k] for k in names))
    training = model.training
    model.eval()
    try:
        return gradient_statistics(per_point_gradients(point_loss, params, per_point))
    finally:
        model.train(training)


def quadrature_statistics(
    model: torch.nn.Module,
    problem: Problem,
    rules: Mapping[str, Rule],
    batch: int,
    replicates: int,
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> dict[str, dict[str, float]]:
    """Per term, how noisy its quadrature of ``r²`` is at the current parameters (report.json's block).

    ``replicate_statistics`` over ``replicates`` independent draws (``estimate``,
    ``std_error``, ``within_batch_std_error``), ``term_gradient_statistics`` on one more
    draw (``grad_var_trace``, ``grad_snr``, ``grad_norm``; and ``wasted_fraction``, the share of
    its points that rejection sampling left with weight 0, outside the region) and, for rules with a fixed
    pool, ``pool_gap`` against a fresh draw of the pool's size. Draws use ``rule.replicate``,
    so a rule's training state is left as it was.
    """
    stats = {}
    for term in problem.terms:
        rule = rules[term.name]
        integrand = _squared(residual_function(model, problem, [term], device, dtype))
        draw = functools.partial(rule.replicate, term.region, batch, generator)
        entry = {"sampler": rule.name, **replicate_statistics(draw, integrand, replicates)}
        q = draw()
        entry["wasted_fraction"] = float((q.weights == 0).to(torch.float64).mean())
        entry.update(term_gradient_statistics(model, problem, term, q, device, dtype))
        pool = getattr(rule, "pool", None)
        if pool is not None:
            entry.update(pool_gap(pool, rule.base.draw(term.region, len(pool), generator), integrand))
        stats[term.name] = entry
    return stats


def _squared(function: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    return lambda points: function(points) ** 2


def interior_terms(problem: Problem) -> list[Term]:
    """The terms whose region is the whole domain: the PDE residuals, as opposed to conditions."""
    return [term for term in problem.terms if term.region is problem.domain]


def true_field_values(problem: Problem, points: Tensor) -> dict[str, Tensor]:
    """``{field: (N,)}`` of the unknown fields whose true field is given (``UnknownField(true=...)``), at ``points``."""
    columns = problem.split(points)
    values = {}
    for field in problem.unknown_fields:
        if field.true is not None:
            value = torch.as_tensor(field.true(*columns.values()), dtype=points.dtype)
            values[field.name] = value.expand(points.shape[0]) if value.ndim == 0 else value
    return values


def unknowns_report(problem: Problem, model: torch.nn.Module, history: dict, errors: Mapping) -> dict[str, dict]:
    """report.json's ``unknowns``: per coefficient its ``value`` now, ``initial``, ``true`` and ``rel_error`` (where
    the true value is given) and ``history`` ``[[step, value], …]`` of every evaluation; per unknown field its
    ``errors`` (report.json's, where its true field is given)."""
    values = coefficient_values(model)
    report = {}
    for unknown in problem.unknown_coefficients:
        value = float(values[unknown.name].detach())
        entry = {"kind": "coefficient", "value": value, "initial": unknown.initial, "true": unknown.true}
        if unknown.true is not None:
            entry["rel_error"] = coefficient_error(value, unknown.true)
        entry["history"] = [[e["step"], e["unknowns"][unknown.name]] for e in history["eval"] if "unknowns" in e]
        report[unknown.name] = entry
    for field in problem.unknown_fields:
        entry = {"kind": "field", "positive": field.positive, "network": field.network}
        report[field.name] = {**entry, **errors.get(field.name, {})}
    return report


def coefficient_error(value: float, true: float) -> float:
    """``|value − true| / |true|``, or ``|value|`` for a true value of zero."""
    return abs(value - true) / abs(true) if true else abs(value)


def data_report(problem: Problem, model: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> dict:
    """report.json's ``data``: per data term its observations (``pdes.data.Data.summary``) and the RMS of its
    residual over all of them, to set beside the noise."""
    report = {}
    for term in problem.terms:
        if isinstance(term.region, Data):
            r = residual_function(model, problem, [term], device, dtype)(term.region.quadrature())
            report[term.name] = {**term.region.summary(), "residual_rms": float(r.square().mean().sqrt())}
    return report
