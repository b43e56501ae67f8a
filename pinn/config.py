"""Solver settings: one dataclass, validated, the ``config`` block of report.json."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import torch

import samplers
from pinn.compiled import check_compile_available
from pinn.derivatives import ENGINES
from pinn.nn import ACTIVATIONS, BATCH_COUPLED_NORMS, NORMS, check_choice

DTYPES = {"float32": torch.float32, "float64": torch.float64}
DEVICES = ("auto", "cpu", "cuda")
SAMPLER_OPTIONS = {
    "pool": "size",
    "base_sampler": "base",
    "refresh_every": "every",
    "candidates": "candidates",
    "rad_k": "k",
    "rad_c": "c",
    "rar_add": "add",
}
"""Config field → option of the rules (``samplers.options``) that take it."""


@dataclass(frozen=True)
class Config:
    """Everything that defines a run besides the problem.

    ``steps`` Adam steps with learning rate ``lr`` decaying exponentially to
    ``lr · lr_decay`` at the last step, then ``lbfgs_steps`` L-BFGS iterations on
    one fixed batch; every term gets ``batch`` points per step from ``sampler``.
    Errors against the reference are measured every ``eval_every`` steps on
    ``eval_points`` fixed points of the domain. The backbone (``pinn.nn.MLP``) has
    ``depth`` hidden layers of ``width`` units with ``norm`` after each linear layer,
    optionally random Fourier features of scale ``fourier_scale`` and the modified MLP's gating.

    Sampler options (each only for the rules that take it, see ``SAMPLER_OPTIONS``):
    ``pool`` points drawn once by ``base_sampler`` (``"fresh"``: a new draw every step);
    RAD/RAR redraw ``candidates`` points every ``refresh_every`` steps, RAD with density
    ``∝ |r|^rad_k / mean + rad_c``, RAR adding the ``rar_add`` worst to its pool.
    Quadrature statistics over ``replicates`` draws per term are recorded every
    ``statistics_every`` steps (0: only at the end) and at the end.
    ``balance_every`` > 0 balances the terms' weights by their gradient norms every that
    many Adam steps (``pinn.balance``; 0: the Terms' fixed weights only).
    On several processes (``pinn.distributed``) ``batch`` is per process, and a BatchNorm
    backbone normalizes over the global batch unless ``local_norm_stats`` keeps each
    process's own statistics.
    ``shared_points`` evaluates the terms on one region (e.g. the momentum and continuity
    equations on the domain) at one shared batch per step instead of a batch each, and their
    residuals in one derivative pass (``pinn.solver``).
    ``engine`` computes the residuals' derivatives (``pinn.loss.derivative_engine``: ``auto``,
    ``forward`` or ``autograd``); ``compile`` runs the training loss through ``torch.compile``
    (``pinn.compiled``).
    """

    steps: int = 5000
    lbfgs_steps: int = 500
    batch: int = 4096
    sampler: str = "sobol"
    norm: str = "none"
    width: int = 64
    depth: int = 4
    activation: str = "tanh"
    fourier_features: bool = False
    fourier_scale: float = 1.0
    modified_mlp: bool = False
    lr: float = 1e-3
    lr_decay: float = 0.01
    device: str = "auto"
    dtype: str = "float32"
    seed: int = 0
    eval_every: int = 250
    eval_points: int = 8192
    replicates: int = 32
    pool: int | str = "fresh"
    base_sampler: str = "uniform"
    refresh_every: int = 500
    candidates: int = 16384
    rad_k: float = 1.0
    rad_c: float = 1.0
    rar_add: int = 64
    statistics_every: int = 0
    balance_every: int = 0
    local_norm_stats: bool = False
    shared_points: bool = False
    engine: str = "auto"
    compile: bool = False

    def __post_init__(self) -> None:
        for name in ("batch", "width", "depth", "eval_every", "eval_points", "replicates"):
            _require(getattr(self, name) >= 1, f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("steps", "lbfgs_steps"):
            _require(getattr(self, name) >= 0, f"{name} must be zero or more, got {getattr(self, name)}")
        _require(self.steps + self.lbfgs_steps >= 1, "steps + lbfgs_steps must be at least 1")
        _require(
            self.lr > 0 and 0 < self.lr_decay <= 1, f"need lr > 0 and 0 < lr_decay <= 1, got {self.lr}, {self.lr_decay}"
        )
        check_choice("sampler", self.sampler, dict.fromkeys(samplers.names()))
        check_choice("norm", self.norm, NORMS)
        _require(
            self.norm not in BATCH_COUPLED_NORMS or self.batch >= 2,
            f"norm '{self.norm}' normalizes over the batch of points and needs batch >= 2, got {self.batch}; "
            f"use a larger batch or a pointwise norm ({', '.join(n for n in NORMS if n not in BATCH_COUPLED_NORMS)})",
        )
        check_choice("activation", self.activation, ACTIVATIONS)
        _require(self.fourier_scale > 0, f"fourier_scale must be positive, got {self.fourier_scale}")
        check_choice("device", self.device, dict.fromkeys(DEVICES))
        check_choice("dtype", self.dtype, DTYPES)
        _require(self.statistics_every >= 0, f"statistics_every must be zero or more, got {self.statistics_every}")
        _require(self.balance_every >= 0, f"balance_every must be zero or more, got {self.balance_every}")
        _require(
            not self.local_norm_stats or self.norm in BATCH_COUPLED_NORMS,
            f"local_norm_stats applies to batch-coupled norms ({', '.join(BATCH_COUPLED_NORMS)}), not '{self.norm}'",
        )
        self.check_sampler_options()
        check_choice("engine", self.engine, ENGINES)
        if self.compile:
            check_compile_available(self.engine)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' requested but no CUDA device is available; use --device cpu or auto")

    @classmethod
    def build(cls, defaults: Mapping[str, object], settings: Mapping[str, object]) -> Config:
        """Config from the class defaults, then ``defaults`` (the problem's), then ``settings``."""
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - valid)
        if unknown:
            raise ValueError(f"unknown setting '{unknown[0]}'; valid settings: {', '.join(sorted(valid))}")
        merged = {**defaults, **{k: v for k, v in settings.items() if v is not None}}
        return cls(**merged)

    def sampler_options(self) -> dict[str, object]:
        """The options of this run's rule: ``samplers.get(self.sampler, **self.sampler_options())``."""
        taken = samplers.options(self.sampler)
        return {option: getattr(self, name) for name, option in SAMPLER_OPTIONS.items() if option in taken}

    def check_sampler_options(self) -> None:
        """Raise if a sampler option is set for a rule that does not take it, or a rule rejects its value."""
        taken = samplers.options(self.sampler)
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for name, option in SAMPLER_OPTIONS.items():
            if option not in taken and getattr(self, name) != defaults[name]:
                users = [s for s in samplers.names() if option in samplers.options(s)]
                raise ValueError(f"{name} applies to samplers {', '.join(users)}, not to '{self.sampler}'")
        samplers.get(self.sampler, **self.sampler_options())
        if isinstance(self.pool, int) and "size" in taken:
            _require(
                self.pool >= self.batch, f"pool must hold at least one batch: pool {self.pool} < batch {self.batch}"
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    @property
    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
