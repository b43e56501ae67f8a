"""Backbones: an MLP that scales each input coordinate to [-1, 1] from the domain bounds.

Layout: ``x → 2(x − lo)/(hi − lo) − 1 → [Linear → norm → σ] × depth → Linear``.
The normalization sits after each hidden linear layer, before the activation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Tensor = torch.Tensor

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "sin": torch.sin,
    "gelu": nn.functional.gelu,
}

NORMS: dict[str, Callable[[int], nn.Module]] = {
    "none": lambda width: nn.Identity(),
}


def check_choice(kind: str, name: str, valid: dict) -> None:
    """Raise ``ValueError`` naming the valid choices when ``name`` is not one of them."""
    if name not in valid:
        raise ValueError(f"unknown {kind} '{name}'; valid: {', '.join(valid)}")


class MLP(nn.Module):
    """A fully connected network from ``in_dim`` scaled coordinates to ``out_dim`` fields."""

    def __init__(
        self,
        bounds: Tensor,
        out_dim: int,
        width: int = 64,
        depth: int = 4,
        activation: str = "tanh",
        norm: str = "none",
    ):
        super().__init__()
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("norm", norm, NORMS)
        if width < 1 or depth < 1:
            raise ValueError(f"width and depth must be positive, got width={width}, depth={depth}")
        lower, upper = torch.as_tensor(bounds, dtype=torch.float64)
        self.register_buffer("lower", lower.clone())
        self.register_buffer("upper", upper.clone())
        self.activation_name = activation
        self.activation = ACTIVATIONS[activation]
        in_dim = lower.shape[0]
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(NORMS[norm](width) for _ in range(depth))
        self.output = nn.Linear(width, out_dim)
        for layer in [*self.hidden, self.output]:
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def scale(self, x: Tensor) -> Tensor:
        """Each coordinate mapped from ``[lo, hi]`` to ``[-1, 1]``."""
        return 2 * (x - self.lower) / (self.upper - self.lower) - 1

    def forward(self, x: Tensor) -> Tensor:
        h = self.scale(x)
        for linear, norm in zip(self.hidden, self.norms):
            h = self.activation(norm(linear(h)))
        return self.output(h)
