"""PirateNet: residual adaptive blocks on a Fourier embedding (Wang, Li, Chen & Perdikaris, 2024).

With the Fourier embedding ``Φ = [cos(zB), sin(zB)]`` of the scaled coordinates (``pinn.nn.Embedding``,
width ``w`` = 2·(w/2)) and two gates ``U = σ(W_u Φ + b_u)``, ``V = σ(W_v Φ + b_v)``, each of ``depth``
blocks maps ``x`` (the first block: ``x = Φ``) to

    f = σ(W₁ x + b₁),   z₁ = V + f ⊙ (U − V)
    g = σ(W₂ z₁ + b₂),  z₂ = V + g ⊙ (U − V)
    h = σ(W₃ z₂ + b₃),  x ← x + α (h − x)

with ``α`` a trainable scalar per block that starts at 0, and the output is ``W_out x + b_out``. At
initialization every block is the identity, so the network is the linear model ``W_out Φ`` and grows
deep as the ``α`` learn to open the blocks. The same description runs on values and on jets
(``pinn.jets.Jets``: the layers' rules, the product rule, sums, and the scalar ``α``), so the forward
engine differentiates it exactly. ``norm`` is ``none`` or a reparametrized linear layer (``rwf``:
random weight factorization, ``weight``) for every dense layer inside the blocks.
"""

from __future__ import annotations

import torch
from torch import nn

from pinn.choices import ACTIVATIONS, PIRATE_NORMS, check_choice
from pinn.jets import Jets, Layout
from pinn.nn import REPARAMETRIZED_LINEARS, VALUES, Activation, Embedding, Operations, xavier_linear

Tensor = torch.Tensor

LAYERS_PER_BLOCK = 3


class PirateNet(nn.Module):
    """The network of the module docstring from the domain's coordinates to ``out_dim`` fields."""

    couples_points = False

    def __init__(
        self,
        bounds: Tensor,
        out_dim: int,
        width: int = 64,
        depth: int = 3,
        activation: str = "tanh",
        norm: str = "none",
        fourier_scale: float = 1.0,
    ):
        super().__init__()
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("PirateNet norm", norm, PIRATE_NORMS)
        if width < 2 or width % 2 or depth < 1 or not fourier_scale > 0:
            raise ValueError(
                f"a PirateNet needs an even width >= 2, depth >= 1 and fourier_scale > 0, "
                f"got width={width}, depth={depth}, fourier_scale={fourier_scale}"
            )
        lower, upper = torch.as_tensor(bounds, dtype=torch.float64)
        frequencies = fourier_scale * torch.randn(lower.shape[0], width // 2, dtype=torch.float64)
        self.embedding = Embedding(lower, upper, frequencies)
        self.activation = Activation(activation)
        self.gates = nn.ModuleList(xavier_linear(width, width) for _ in range(2))
        dense = [xavier_linear(width, width) for _ in range(LAYERS_PER_BLOCK * depth)]
        if norm in REPARAMETRIZED_LINEARS:
            dense = [REPARAMETRIZED_LINEARS[norm](layer) for layer in dense]
        self.blocks = nn.ModuleList(
            nn.ModuleList(dense[i : i + LAYERS_PER_BLOCK]) for i in range(0, len(dense), LAYERS_PER_BLOCK)
        )
        self.alphas = nn.Parameter(torch.zeros(depth))
        self.output = xavier_linear(width, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Outputs ``(N, out_dim)`` at points ``(N, d)``."""
        return self._evaluate(x, VALUES)

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        """The jet of the outputs given the jet of the points (``pinn.jets.input_jet``)."""
        return self._evaluate(jet, Jets(layout))

    def batch_statistics(self, x: Tensor) -> list:
        """None to hold fixed: a PirateNet couples no points."""
        return []

    def _evaluate(self, h: Tensor, ops: Operations) -> Tensor:
        x = ops.apply(self.embedding, h)
        u, v = (ops.apply(self.activation, ops.apply(gate, x)) for gate in self.gates)
        difference = u - v
        for (first, second, third), alpha in zip(self.blocks, self.alphas):
            f = ops.apply(self.activation, ops.apply(first, x))
            z = v + ops.product(f, difference)
            g = ops.apply(self.activation, ops.apply(second, z))
            z = v + ops.product(g, difference)
            block = ops.apply(self.activation, ops.apply(third, z))
            x = x + alpha * (block - x)
        return ops.apply(self.output, x)
