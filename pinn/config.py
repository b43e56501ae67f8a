"""Solver settings: one dataclass, validated, the ``config`` block of report.json."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import torch

import samplers
from pinn.nn import ACTIVATIONS, NORMS, check_choice

DTYPES = {"float32": torch.float32, "float64": torch.float64}
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Config:
    """Everything that defines a run besides the problem.

    ``steps`` Adam steps with learning rate ``lr`` decaying exponentially to
    ``lr · lr_decay`` at the last step, then ``lbfgs_steps`` L-BFGS iterations on
    one fixed batch; every term gets ``batch`` points per step from ``sampler``.
    Errors against the reference are measured every ``eval_every`` steps on
    ``eval_points`` fixed points of the domain.
    """

    steps: int = 5000
    lbfgs_steps: int = 500
    batch: int = 4096
    sampler: str = "sobol"
    norm: str = "none"
    width: int = 64
    depth: int = 4
    activation: str = "tanh"
    lr: float = 1e-3
    lr_decay: float = 0.01
    device: str = "auto"
    dtype: str = "float32"
    seed: int = 0
    eval_every: int = 250
    eval_points: int = 8192
    replicates: int = 32

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
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("device", self.device, dict.fromkeys(DEVICES))
        check_choice("dtype", self.dtype, DTYPES)
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
