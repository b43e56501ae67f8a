"""How noisy is each collocation rule on a trained model? Replicate variance of heat2d's PDE-term loss.

Trains heat2d briefly (or loads a run), then for every rule draws ``--replicates``
independent batches of ``--batch`` points at the trained parameters and measures the
spread of the PDE-term loss estimate ``Σ w_i r(x_i)²``. Prints a markdown table:

- ``variance / uniform``: the replicate variance over that of ``uniform``, with a 90%
  bootstrap interval (resampling the replicates: the loss estimates are heavy-tailed, so
  the Gaussian ``1 ± sqrt(2/(R − 1))`` would understate the uncertainty);
- ``bias / SE``: (mean estimate − reference) in standard errors of that mean, where the
  reference is the mean of ``--reference-draws`` Sobol' estimates of ``2^16`` points;
- for ``gauss`` (deterministic) the squared error against the reference replaces the
  variance; for ``pool`` and ``rar`` the replicates are minibatches of one fixed pool
  (the step-to-step noise; the pool's own error shows in its bias); ``rad`` draws a new
  candidate set for every replicate.

    nice -n 10 python benchmarks/sampler_variance.py --steps 3000 --model /tmp/heat2d_model
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

import pdes
import pinn
import samplers
from pinn.plan import residual_function
from samplers.quadrature import Quadrature
from samplers.variance import sample_variance

Tensor = torch.Tensor

RULE_OPTIONS = {
    "pool": {"size": 65536, "base": "uniform"},
    "rad": {"k": 1.0, "c": 1.0, "every": 1, "candidates": 16384},
    "rar": {"size": 16384, "base": "uniform", "every": 1, "candidates": 65536, "add": 1024},
}


def trained_model(steps: int, model_dir: str | None) -> pinn.Result:
    """heat2d trained for ``steps`` Adam steps with its default settings, or the run in ``model_dir``."""
    if model_dir is not None and (Path(model_dir) / "run.h5").is_file():
        return pinn.load(model_dir)
    return pinn.solve(pdes.get("heat2d"), out=model_dir, steps=steps, lbfgs_steps=0, replicates=2)


def replicate_estimates(
    draw: Callable[[], Quadrature], residual: Callable[[Tensor], Tensor], replicates: int
) -> Tensor:
    """``Σ w r²`` on each of ``replicates`` draws."""
    estimates = []
    for _ in range(replicates):
        q = draw()
        estimates.append(float(q.mean(residual(q.points) ** 2)))
    return torch.tensor(estimates, dtype=torch.float64)


def rule_estimates(name: str, region, residual, batch: int, replicates: int, generator: torch.Generator) -> Tensor:
    """Replicate estimates of ``Σ w r²`` for rule ``name`` (fresh candidates per replicate for rad)."""
    rule = samplers.get(name, **RULE_OPTIONS.get(name, {}))
    if name == "rar":
        rule.draw(region, batch, generator)
        rule.refresh(region, residual, 0, generator)

    def draw() -> Quadrature:
        if name == "rad":
            rule.refresh(region, residual, 0, generator)
        return rule.replicate(region, batch, generator)

    return replicate_estimates(draw, residual, replicates)


def variance_ratio_interval(estimates: Tensor, baseline: Tensor, generator: torch.Generator) -> tuple[float, float]:
    """5% and 95% bootstrap quantiles of ``s²(estimates) / s²(baseline)`` (2000 resamples, degenerate ones skipped)."""
    ratios = []
    for _ in range(2000):
        a = estimates[torch.randint(len(estimates), (len(estimates),), generator=generator)]
        b = baseline[torch.randint(len(baseline), (len(baseline),), generator=generator)]
        if sample_variance(b) > 0:
            ratios.append(sample_variance(a) / sample_variance(b))
    ratios = torch.tensor(ratios, dtype=torch.float64)
    return float(ratios.quantile(0.05)), float(ratios.quantile(0.95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="Adam steps to train heat2d")
    parser.add_argument("--model", help="run directory: loaded if it holds a run, else trained into")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--replicates", type=int, default=256)
    parser.add_argument("--reference-draws", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)

    start = time.perf_counter()
    result = trained_model(args.steps, args.model)
    train_time = time.perf_counter() - start
    model, problem = result.model, result.problem
    term = next(t for t in problem.terms if t.name == "pde")
    p = next(model.parameters())
    residual = residual_function(model, problem, [term], p.device, p.dtype)
    generator = torch.Generator().manual_seed(args.seed)

    sobol = samplers.get("sobol")
    first = sobol.draw(term.region, 2**16, generator)
    values = residual(first.points) ** 2
    others = replicate_estimates(lambda: sobol.draw(term.region, 2**16, generator), residual, args.reference_draws - 1)
    reference = (float(first.mean(values)) + float(others.sum())) / args.reference_draws

    rows = {
        name: rule_estimates(name, term.region, residual, args.batch, args.replicates, generator)
        for name in samplers.names()
    }
    uniform = rows["uniform"]
    error = result.report["errors"]["u"]["rel_l2"] if result.report else math.nan
    quantiles = [float(values.quantile(a) / values.mean()) for a in (0.5, 0.99, 0.999)]
    print(
        f"heat2d trained {result.config.steps} Adam steps (batch {result.config.batch}, {result.config.sampler}), "
        f"rel_l2(u) = {error:.3e}; training/loading {train_time:.0f} s, total {time.perf_counter() - start:.0f} s"
    )
    print(f"PDE-term loss reference (Sobol', {args.reference_draws} × 2^16 points): {reference:.6e}")
    print(
        f"r² over its mean on 2^16 Sobol' points: median {quantiles[0]:.2f}, 99% {quantiles[1]:.1f}, "
        f"99.9% {quantiles[2]:.1f}, max {float(values.max() / values.mean()):.0f}"
    )
    print(f"B = {args.batch}, R = {args.replicates}")
    print()
    print("| rule | mean estimate | std error of one batch | variance / uniform [90% bootstrap] | bias / SE |")
    print("|---|---|---|---|---|")
    for name, estimates in rows.items():
        mean, variance = float(estimates.mean()), sample_variance(estimates)
        bias = mean - reference
        if samplers.get(name).randomized:
            low, high = variance_ratio_interval(estimates, uniform, generator)
            ratio = f"{variance / sample_variance(uniform):.3g} [{low:.3g}, {high:.3g}]"
            in_se = f"{bias / math.sqrt(variance / len(estimates)):+.2f}"
        else:
            ratio = f"{bias**2 / sample_variance(uniform):.3g} (squared error)"
            in_se = "deterministic"
        print(f"| {name} | {mean:.6e} | {math.sqrt(variance):.3e} | {ratio} | {in_se} |")


if __name__ == "__main__":
    main()
