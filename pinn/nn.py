"""Backbones: an MLP with optional input embeddings and a normalization in its hidden layers.

Layout, for points ``x`` of the domain (``B``, ``U``, ``V`` only where switched on)::

    z  = 2(x − lo)/(hi − lo) − 1                    coordinates scaled to [-1, 1]
    h₀ = [cos(zB), sin(zB)]                         Fourier features: B ~ N(0, σ²), fixed, (d, ⌊width/2⌋)
    U  = act(h₀W_U + b_U),  V = act(h₀W_V + b_V)    modified MLP: two encoders of h₀
    for each of the ``depth`` hidden layers k = 1, …, depth:
        a = linear_k(h)
        a = norm_k(a)                               k ≥ 2: the norm sits after the linear layer, before act
        h = act(a)                                  plain MLP
        h = U + act(a)·(V − U)                      modified MLP: act(a) gates between the encoders
    out = hW + b                                    one output per field

Norms (``NORMS``), for the pre-activation ``a`` (``width`` units) of one point; every norm but
``weight`` and ``rwf`` ends with a learned per-unit scale γ (and shift β except ``rms``)::

    none    a
    layer   γ(a − m)/√(s + ε) + β       m, s: mean and (biased) variance of the point's units
    rms     γa/√(mean(a²) + ε)
    group   layer norm within each of GROUPS groups of consecutive units, then γ, β per unit
    batch   γ(a − μ)/√(v + ε) + β       μ, v per unit: over the batch of points in training,
                                        their running averages in evaluation (``model.eval()``)
    weight  the linear layer is W = diag(g)·V/‖V‖ (‖V‖ per row): weight normalization
    rwf     the linear layer is W = diag(exp(s))·V, s ~ N(RWF_MEAN, RWF_STD²) at initialization:
            random weight factorization (Wang et al.)

The first hidden layer has no norm layer: its pre-activation ``a = W z + b`` is linear in the
(centered) coordinates while ``b = 0``, so ``layer``, ``rms`` and ``group`` would make the network
invariant to ``z → cz`` (constant along rays from the domain's center, with gradients like
``1/|z|`` there), and ``batch`` would only repeat the input scaling. ``weight`` and ``rwf``
reparametrize every hidden linear layer, the first included (W at initialization is the same
Xavier-normal matrix as for ``none``); the encoders and the output layer are always plain.

Only ``batch`` couples the points of a batch: in training mode ``forward(x)`` normalizes with
the statistics of ``x`` itself, or with ``statistics`` from ``batch_statistics`` held fixed
(see ``pinn.derivatives.pointwise``); running averages change only through
``update_running_statistics``.

Every layer here defines, next to its ``forward``, its ``jet(jet, layout, statistics=None)``:
the same map on second-order jets (``pinn.jets``), written with the jet rules there. The
MLP is described once, in ``_evaluate``, over an operations object: ``VALUES`` runs each
layer's ``forward``, ``pinn.jets.Jets`` its jet; so ``MLP.forward`` and ``MLP.jet`` cannot
disagree, and a new norm is one class with both methods (and its name in ``NORM_LAYERS`` and
``pinn.choices.NORMS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from pinn.choices import BATCH_COUPLED_NORMS, NORMS, check_choice
from pinn.jets import (
    ACTIVATION_DERIVATIVES,
    Jets,
    Layout,
    affine,
    cos_derivatives,
    elementwise,
    linear,
    sin_derivatives,
    standardize,
)

Tensor = torch.Tensor

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "sin": torch.sin,
    "gelu": nn.functional.gelu,
}
"""The activations by name; their derivative rules are ``pinn.jets.ACTIVATION_DERIVATIVES``."""

EPS = 1e-5
"""ε added to every variance (and mean square) before the square root."""
GROUPS = 4
"""Number of groups of hidden units of ``group``; the width must be a multiple of it."""
BATCH_MOMENTUM = 0.1
"""Weight of the newest batch in BatchNorm's running averages."""
RWF_MEAN, RWF_STD = 1.0, 0.1
"""Mean and standard deviation of the log-scales ``s`` of ``rwf`` at initialization."""


class LayerNorm(nn.Module):
    """``γ(a − m)/√(s + ε) + β`` with ``m``, ``s`` the mean and biased variance over the last axis."""

    def __init__(self, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, a: Tensor) -> Tensor:
        centered = a - a.mean(dim=-1, keepdim=True)
        variance = (centered**2).mean(dim=-1, keepdim=True)
        return self.weight * centered / torch.sqrt(variance + EPS) + self.bias

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        return affine(standardize(jet, layout, center=True, eps=EPS), self.weight, self.bias)


class RMSNorm(nn.Module):
    """``γa/√(mean(a²) + ε)`` over the last axis."""

    def __init__(self, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, a: Tensor) -> Tensor:
        return self.weight * a / torch.sqrt((a**2).mean(dim=-1, keepdim=True) + EPS)

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        return affine(standardize(jet, layout, center=False, eps=EPS), self.weight, None)


class GroupNorm(nn.Module):
    """Layer norm within each of ``GROUPS`` groups of consecutive units, then ``γ``, ``β`` per unit."""

    def __init__(self, width: int):
        super().__init__()
        if width % GROUPS:
            raise ValueError(
                f"norm 'group' splits the width into {GROUPS} groups: width must be a multiple, got {width}"
            )
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, a: Tensor) -> Tensor:
        grouped = a.reshape(*a.shape[:-1], GROUPS, a.shape[-1] // GROUPS)
        centered = grouped - grouped.mean(dim=-1, keepdim=True)
        variance = (centered**2).mean(dim=-1, keepdim=True)
        normalized = (centered / torch.sqrt(variance + EPS)).reshape(a.shape)
        return self.weight * normalized + self.bias

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        grouped = jet.reshape(*jet.shape[:-1], GROUPS, jet.shape[-1] // GROUPS)
        normalized = standardize(grouped, layout, center=True, eps=EPS).reshape(jet.shape)
        return affine(normalized, self.weight, self.bias)


@dataclass(frozen=True)
class BatchStatistics:
    """Per-unit mean and biased variance of one layer's pre-activations over ``count`` points."""

    mean: Tensor
    var: Tensor
    count: int


class BatchNorm(nn.Module):
    """``γ(a − μ)/√(v + ε) + β`` per unit, ``μ``, ``v`` over the batch (axis 0) or running averages.

    Training mode uses the given ``statistics`` or else those of ``a`` itself; evaluation mode
    the running averages, updated by ``update_running`` as
    ``μ_run ← (1 − m)μ_run + mμ`` and ``v_run ← (1 − m)v_run + m·v·n/(n − 1)`` (unbiased).
    The jet holds the statistics fixed (given ones in training, required there): a per-unit affine map.
    """

    def __init__(self, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))
        self.register_buffer("running_mean", torch.zeros(width))
        self.register_buffer("running_var", torch.ones(width))
        self.sum_over_processes: Callable[[Tensor], Tensor] | None = None
        """An autograd-aware all-reduce sum (set by ``pinn.distributed``); None: this process's batch only."""

    def statistics(self, a: Tensor) -> BatchStatistics:
        """Mean and biased variance of ``a`` ``(N, width)`` over its ``N`` points.

        With ``sum_over_processes`` they are over the union of every process's batch:
        ``μ = Σ_p Σ_i a_pi / Σ_p N_p`` and ``v = Σ_p Σ_i (a_pi − μ)² / Σ_p N_p``, and the
        gradient flows back through both sums to every process's points.
        """
        total = self.sum_over_processes
        if total is None:
            mean = a.mean(dim=0)
            return BatchStatistics(mean, ((a - mean) ** 2).mean(dim=0), a.shape[0])
        count = int(total(a.new_tensor(float(a.shape[0]))).item())
        mean = total(a.sum(dim=0)) / count
        return BatchStatistics(mean, total(((a - mean) ** 2).sum(dim=0)) / count, count)

    def forward(self, a: Tensor, statistics: BatchStatistics | None = None) -> Tensor:
        if not self.training:
            mean, var = self.running_mean, self.running_var
        else:
            s = statistics if statistics is not None else self.statistics(a)
            mean, var = s.mean, s.var
        return self.weight * (a - mean) / torch.sqrt(var + EPS) + self.bias

    def jet(self, jet: Tensor, layout: Layout, statistics: BatchStatistics | None = None) -> Tensor:
        if not self.training:
            mean, var = self.running_mean, self.running_var
        elif statistics is not None:
            mean, var = statistics.mean, statistics.var
        else:
            raise ValueError("a BatchNorm layer in training mode needs its batch statistics to be held fixed")
        scale = self.weight * torch.rsqrt(var + EPS)
        return affine(jet, scale, self.bias - mean * scale)

    @torch.no_grad()
    def update_running(self, statistics: BatchStatistics) -> None:
        n = statistics.count
        self.running_mean.lerp_(statistics.mean.detach(), BATCH_MOMENTUM)
        self.running_var.lerp_(statistics.var.detach() * n / max(n - 1, 1), BATCH_MOMENTUM)


class ReparametrizedLinear(nn.Module):
    """``a = hWᵀ + b`` with ``W`` a function of trained parameters (the subclass's ``weight``)."""

    weight: Tensor

    def forward(self, h: Tensor) -> Tensor:
        return h @ self.weight.T + self.bias

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        return linear(jet, self.weight, self.bias)


class WeightNormLinear(ReparametrizedLinear):
    """``W = diag(g)·V/‖V‖`` (row norms); ``g``, ``V``, ``b`` are trained."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        weight = linear.weight.detach()
        self.direction = nn.Parameter(weight.clone())
        self.gain = nn.Parameter(weight.norm(dim=1))
        self.bias = nn.Parameter(linear.bias.detach().clone())

    @property
    def weight(self) -> Tensor:
        return self.gain[:, None] * self.direction / self.direction.norm(dim=1, keepdim=True)


class FactorizedLinear(ReparametrizedLinear):
    """``W = diag(exp(s))·V``; at initialization ``V = W₀/exp(s)`` for ``W₀`` given."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        weight = linear.weight.detach()
        log_scale = RWF_MEAN + RWF_STD * torch.randn(weight.shape[0], dtype=weight.dtype)
        self.log_scale = nn.Parameter(log_scale)
        self.direction = nn.Parameter(weight / torch.exp(log_scale)[:, None])
        self.bias = nn.Parameter(linear.bias.detach().clone())

    @property
    def weight(self) -> Tensor:
        return torch.exp(self.log_scale)[:, None] * self.direction


class Activation(nn.Module):
    """One of ``ACTIVATIONS`` by name, unit by unit."""

    def __init__(self, name: str):
        super().__init__()
        check_choice("activation", name, ACTIVATIONS)
        self.name = name

    def forward(self, a: Tensor) -> Tensor:
        return ACTIVATIONS[self.name](a)

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        return elementwise(jet, layout, ACTIVATION_DERIVATIVES[self.name])

    def extra_repr(self) -> str:
        return self.name


class Embedding(nn.Module):
    """``h₀``: coordinates scaled from ``[lo, hi]`` to ``[-1, 1]``, or their Fourier features ``[cos(zB), sin(zB)]``.

    ``B`` (``frequencies``, ``(d, m)``) is fixed, drawn by ``MLP``; None: no Fourier features.
    """

    def __init__(self, lower: Tensor, upper: Tensor, frequencies: Tensor | None):
        super().__init__()
        self.register_buffer("lower", lower.clone())
        self.register_buffer("upper", upper.clone())
        self.register_buffer("frequencies", frequencies)

    def scale(self, x: Tensor) -> Tensor:
        """Each coordinate mapped from ``[lo, hi]`` to ``[-1, 1]``."""
        return 2 * (x - self.lower) / (self.upper - self.lower) - 1

    def forward(self, x: Tensor) -> Tensor:
        z = self.scale(x)
        if self.frequencies is None:
            return z
        phase = z @ self.frequencies
        return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)

    def jet(self, jet: Tensor, layout: Layout, statistics: None = None) -> Tensor:
        z = torch.cat([self.scale(jet[:1]), jet[1:] * (2 / (self.upper - self.lower))])  # affine per coordinate
        if self.frequencies is None:
            return z
        phase = linear(z, self.frequencies.T, None)
        return torch.cat([elementwise(phase, layout, cos_derivatives), elementwise(phase, layout, sin_derivatives)], -1)


NORM_LAYERS: dict[str, Callable[[int], nn.Module]] = {
    "layer": LayerNorm,
    "rms": RMSNorm,
    "group": GroupNorm,
    "batch": BatchNorm,
}
REPARAMETRIZED_LINEARS: dict[str, Callable[[nn.Linear], nn.Module]] = {
    "weight": WeightNormLinear,
    "rwf": FactorizedLinear,
}


def xavier_linear(in_dim: int, out_dim: int) -> nn.Linear:
    """A linear layer with Xavier-normal weights and zero bias."""
    layer = nn.Linear(in_dim, out_dim)
    nn.init.xavier_normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Values:
    """The operations of ``MLP._evaluate`` on plain values: each layer's ``forward``, the ordinary product.

    ``pinn.jets.Jets`` is the same interface on jets.
    """

    @staticmethod
    def apply(layer: nn.Module, h: Tensor, statistics: BatchStatistics | None = None) -> Tensor:
        return layer(h) if statistics is None else layer(h, statistics)

    @staticmethod
    def product(p: Tensor, q: Tensor) -> Tensor:
        return p * q


VALUES = Values()
Operations = Values | Jets


class MLP(nn.Module):
    """A fully connected network from the domain's coordinates to ``out_dim`` fields (module docstring)."""

    def __init__(
        self,
        bounds: Tensor,
        out_dim: int,
        width: int = 64,
        depth: int = 4,
        activation: str = "tanh",
        norm: str = "none",
        fourier_features: bool = False,
        fourier_scale: float = 1.0,
        modified_mlp: bool = False,
    ):
        super().__init__()
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("norm", norm, NORMS)
        if width < 1 or depth < 1:
            raise ValueError(f"width and depth must be positive, got width={width}, depth={depth}")
        if fourier_features and (width < 2 or not fourier_scale > 0):
            raise ValueError(f"Fourier features need width >= 2 and scale > 0, got {width}, {fourier_scale}")
        lower, upper = torch.as_tensor(bounds, dtype=torch.float64)
        self.norm_name = norm
        in_dim = 2 * (width // 2) if fourier_features else lower.shape[0]
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        norm_layer = NORM_LAYERS.get(norm, nn.Identity)
        self.norms = nn.ModuleList([nn.Identity()] + [norm_layer(width) for _ in range(depth - 1)])
        self.output = nn.Linear(width, out_dim)
        for layer in [*self.hidden, self.output]:
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        if norm in REPARAMETRIZED_LINEARS:
            self.hidden = nn.ModuleList(REPARAMETRIZED_LINEARS[norm](layer) for layer in self.hidden)
        frequencies = None
        if fourier_features:
            frequencies = fourier_scale * torch.randn(lower.shape[0], width // 2, dtype=torch.float64)
        self.embedding = Embedding(lower, upper, frequencies)
        self.activation = Activation(activation)
        self.encoders = nn.ModuleList(xavier_linear(in_dim, width) for _ in range(2)) if modified_mlp else None
        self._register_load_state_dict_pre_hook(_embedding_keys)

    @property
    def couples_points(self) -> bool:
        """Whether the output at a point depends on the rest of the batch (BatchNorm, training mode)."""
        return self.training and self.norm_name in BATCH_COUPLED_NORMS

    def forward(self, x: Tensor, statistics: Sequence[BatchStatistics] | None = None) -> Tensor:
        """Outputs ``(N, out_dim)`` at points ``(N, d)``.

        ``statistics`` (one per BatchNorm layer, from ``batch_statistics``) are the BatchNorm
        statistics to normalize with in training mode; without them the batch ``x`` supplies
        its own, which couples its points.
        """
        if statistics is not None and not self.couples_points:
            raise ValueError("batch statistics apply only to a BatchNorm backbone in training mode")
        if statistics is not None and len(statistics) != len(self.batch_norms):
            raise ValueError(
                f"need statistics for each of {len(self.batch_norms)} BatchNorm layers, got {len(statistics)}"
            )
        return self._evaluate(x, VALUES, statistics, [])

    def jet(self, jet: Tensor, layout: Layout, statistics: Sequence[BatchStatistics] | None = None) -> Tensor:
        """The jet of the outputs given the jet of the points (``pinn.jets.input_jet``).

        BatchNorm layers use ``statistics`` (one per BatchNorm layer, required) in training
        mode, else their running averages; either way they do not vary with the points
        (DESIGN.md, pointwise derivatives), while the parameter gradient flows through them.
        """
        if self.couples_points and statistics is None:
            raise ValueError("a BatchNorm backbone in training mode needs its batch statistics to be held fixed")
        return self._evaluate(jet, Jets(layout), statistics if self.couples_points else None, [])

    def batch_statistics(self, x: Tensor) -> list[BatchStatistics]:
        """The statistics of each BatchNorm layer at the batch ``x.detach()``.

        They depend on the parameters (with their autograd graph) but not on the points that
        derivatives are later taken with respect to. Empty when the model couples no points.
        """
        if not self.couples_points:
            return []
        collected: list[BatchStatistics] = []
        self._evaluate(x.detach(), VALUES, None, collected)
        return collected

    def update_running_statistics(self, statistics: Sequence[BatchStatistics]) -> None:
        """Fold one training step's ``statistics`` into the BatchNorm running averages."""
        for norm, s in zip(self.batch_norms, statistics, strict=True):
            norm.update_running(s)

    @property
    def batch_norms(self) -> list[BatchNorm]:
        """The BatchNorm layers, in order."""
        return [norm for norm in self.norms if isinstance(norm, BatchNorm)]

    def _evaluate(
        self, h: Tensor, ops: Operations, statistics: Sequence[BatchStatistics] | None, collected: list
    ) -> Tensor:
        """The network (module docstring) on points or their jets, by ``ops`` (``VALUES`` or ``Jets``).

        In training, each BatchNorm layer normalizes with the next of ``statistics``, or else
        (plain values only) with those of its input; the ones used are appended to ``collected``.
        """
        given = iter(statistics) if statistics is not None else None
        h0 = ops.apply(self.embedding, h)
        if self.encoders is not None:
            u, v = (ops.apply(self.activation, ops.apply(encoder, h0)) for encoder in self.encoders)
            difference = v - u
        h = h0
        for layer, norm in zip(self.hidden, self.norms):
            a = ops.apply(layer, h)
            if isinstance(norm, BatchNorm) and self.training:
                s = next(given) if given is not None else norm.statistics(a)
                collected.append(s)
                a = ops.apply(norm, a, s)
            else:
                a = ops.apply(norm, a)
            z = ops.apply(self.activation, a)
            h = u + ops.product(z, difference) if self.encoders is not None else z
        return ops.apply(self.output, h)


def _embedding_keys(state_dict: dict, prefix: str, *args: object) -> None:
    """Read a state dict saved before the embedding was a module: ``lower`` → ``embedding.lower`` (and ``upper``,
    ``frequencies``)."""
    for name in ("lower", "upper", "frequencies"):
        if prefix + name in state_dict:
            state_dict[f"{prefix}embedding.{name}"] = state_dict.pop(prefix + name)


@contextmanager
def training_mode(model: nn.Module, training: bool) -> Iterator[nn.Module]:
    """``model.train(training)`` inside the block, its previous mode restored after.

    ``training=False`` is evaluation: BatchNorm normalizes with its running statistics.
    """
    was_training = model.training
    model.train(training)
    try:
        yield model
    finally:
        model.train(was_training)
