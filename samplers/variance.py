"""How noisy a quadrature is: estimators of the variance of a loss estimate and of its gradient.

Everything here takes callables (an integrand, a draw, a per-point loss), never a model,
so that the solver can hand in its residuals without this package importing it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping

import torch

from samplers.quadrature import Quadrature

Tensor = torch.Tensor


def sample_variance(values: Tensor) -> float:
    """The unbiased sample variance ``s² = Σ (v_i − v̄)² / (B − 1)`` of ``B ≥ 2`` values.

    For iid Gaussian values its relative mean squared error is ``E[(s²/σ² − 1)²] = 2/(B − 1)``,
    so a variance measured from R replicates is uncertain by a factor ``1 ± sqrt(2/(R − 1))``.
    """
    values = values.to(torch.float64)
    if values.numel() < 2:
        raise ValueError(f"a sample variance needs at least 2 values, got {values.numel()}")
    return float(((values - values.mean()) ** 2).sum() / (values.numel() - 1))


def within_batch_std_error(q: Quadrature, values: Tensor) -> float:
    """Standard error of ``L = Σ w_i f_i`` from one batch, assuming its points are iid.

    With ``z_i = B w_i f_i`` (so ``L`` is the mean of the ``z_i``), the standard error is
    ``sqrt(s²(z) / B)``. Right for iid rules (uniform, rad, rejection weights included);
    for stratified and QMC rules it overestimates the noise, for a pool it measures the
    minibatch noise around the pool's own estimate.
    """
    n = len(q)
    if n < 2:
        return math.nan
    z = n * q.weights.to(torch.float64) * values.to(torch.float64)
    return math.sqrt(sample_variance(z) / n)


def replicate_statistics(
    draw: Callable[[], Quadrature], integrand: Callable[[Tensor], Tensor], replicates: int
) -> dict[str, float]:
    """The estimate ``Σ w_i f(x_i)`` over ``replicates`` independent draws at fixed parameters.

    ``estimate`` is the mean over replicates, ``std_error`` the standard deviation of a
    single draw's estimate (its quadrature noise; valid for any randomized rule, 0 for a
    deterministic one, NaN for a single replicate: one draw has no spread),
    ``within_batch_std_error`` the iid formula averaged over draws,
    ``batch`` the points per draw. ``integrand`` takes the draw's points, or the draw itself where it
    carries observed values (``Quadrature.values``).
    """
    if replicates < 1:
        raise ValueError(f"replicates must be a positive integer, got {replicates}")
    estimates, within, batch = [], [], 0
    for _ in range(replicates):
        q = draw()
        values = integrand(q.points if q.values is None else q).to(torch.float64)
        estimates.append(float(q.mean(values.to(q.weights))))
        within.append(within_batch_std_error(q, values))
        batch = len(q)
    values = torch.tensor(estimates, dtype=torch.float64)
    return {
        "batch": batch,
        "estimate": float(values.mean()),
        "std_error": math.sqrt(sample_variance(values)) if replicates > 1 else math.nan,
        "replicates": replicates,
        "within_batch_std_error": sum(within) / len(within),
    }


def per_point_gradients(
    point_loss: Callable[..., Tensor],
    params: Mapping[str, Tensor],
    per_point: tuple[Tensor, ...],
    chunk: int = 512,
) -> Iterator[Tensor]:
    """Chunks ``(c, P)`` of the flattened gradients ``∇_θ point_loss(θ, p_i…)``, one row per point.

    ``point_loss(params, *row)`` is the loss of a single point (each tensor of
    ``per_point`` sliced to one row); it is differentiated with ``torch.func.grad`` and
    mapped over points with ``torch.func.vmap``.
    """
    gradient = torch.func.vmap(torch.func.grad(point_loss), in_dims=(None,) + (0,) * len(per_point))
    for start in range(0, per_point[0].shape[0], chunk):
        rows = tuple(t[start : start + chunk] for t in per_point)
        grads = gradient(dict(params), *rows)
        yield torch.cat([g.reshape(g.shape[0], -1) for g in grads.values()], dim=1)


def gradient_statistics(gradients: Iterable[Tensor]) -> dict[str, float]:
    """Noise of a minibatch gradient from its per-point gradients ``g_i`` (chunks of rows).

    The ``g_i`` are the per-point gradients of ``B w_i r_i²``, so their mean ``ḡ`` is the
    batch gradient ``∇_θ Σ w_i r_i²``. Then

    - ``grad_var_trace = tr Cov(g) = Σ_i ‖g_i − ḡ‖² / (B − 1)``, the total variance of one
      point's gradient;
    - ``grad_snr = ‖ḡ‖ / sqrt(tr Cov(g) / B)``, the norm of the batch gradient over the
      root-mean-square norm of its noise if the points were iid; below 1 the step is mostly
      noise (for stratified or QMC rules the true noise is smaller);
    - ``grad_norm = ‖ḡ‖``.

    Sums are taken about the first chunk's mean, so a large ``‖ḡ‖`` does not cancel the variance.
    """
    shift, total, squares, count = None, None, 0.0, 0
    for g in gradients:
        g = g.detach().to("cpu", torch.float64)
        if shift is None:
            shift, total = g.mean(dim=0), torch.zeros(g.shape[1], dtype=torch.float64)
        d = g - shift
        total += d.sum(dim=0)
        squares += float((d * d).sum())
        count += g.shape[0]
    if count < 2:
        raise ValueError(f"gradient statistics need at least 2 points, got {count}")
    offset = total / count
    trace = max((squares - count * float(offset @ offset)) / (count - 1), 0.0)
    mean = shift + offset
    norm = float(mean.norm())
    snr = norm / math.sqrt(trace / count) if trace > 0 else math.inf
    return {"grad_var_trace": trace, "grad_snr": snr, "grad_norm": norm}


def pool_gap(pool: Quadrature, fresh: Quadrature, integrand: Callable[[Tensor], Tensor]) -> dict[str, float]:
    """How much a run fits its fixed collocation pool: the loss on the pool against fresh points.

    ``pool_loss = Σ_pool v_j f(x_j)`` over the whole pool, ``fresh_loss`` the same on a
    fresh draw of the base rule, ``pool_gap = fresh_loss − pool_loss`` (positive when the
    model does better on the points it trained on) and ``fresh_std_error`` the iid
    standard error of ``fresh_loss``.
    """
    fresh_values = integrand(fresh.points).to(torch.float64)
    pool_loss = float(pool.mean(integrand(pool.points).to(torch.float64)))
    fresh_loss = float(fresh.mean(fresh_values))
    return {
        "pool_size": len(pool),
        "pool_loss": pool_loss,
        "fresh_loss": fresh_loss,
        "pool_gap": fresh_loss - pool_loss,
        "fresh_std_error": within_batch_std_error(fresh, fresh_values),
    }
