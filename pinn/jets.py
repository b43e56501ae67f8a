"""Second-order jets: a point's value and the input derivatives asked for, carried through a backbone.

A jet of a layer's activations ``h`` (``width`` units) at ``N`` points is one tensor
``J`` of shape ``(C, N, width)`` stacking its channels (``Layout``)::

    J[0]               h                      the value
    J[1 + k]           ∂h/∂x_i                i = first[k]
    J[1 + F + k]       ∂²h/∂x_i∂x_j           (i, j) = second[k], F = len(first)

Only the channels a residual reads are carried (plus the first derivatives the second ones
are built from). Every rule below maps a jet to the jet of the layer's output, exactly:

    linear      a = hWᵀ + b:  every channel times Wᵀ in one matmul, b added to the value only
    elementwise g = σ(a):     g_i = σ′(a) a_i,  g_ij = σ″(a) a_i a_j + σ′(a) a_ij
    product     g = p·q:      g_i = p_i q + p q_i,  g_ij = p_ij q + p_i q_j + p_j q_i + p q_ij
    mean        over units:   channel by channel (it is linear)

Norms, Fourier features and the modified MLP's gates are compositions of these
(``network_jet``). The parameter gradient of anything built from a jet comes from ordinary
backward through these rules; ``linear`` and ``elementwise``, where the time goes, have
their backward written out (``_Linear``, ``_Elementwise``), fewer and larger operations
than autograd would record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import torch

from pinn.nn import EPS, GROUPS, MLP, BatchNorm, BatchStatistics, GroupNorm, LayerNorm, RMSNorm

Tensor = torch.Tensor


@dataclass(frozen=True)
class Layout:
    """The channels of a jet: the value, first derivatives by ``first``, second by ``second`` pairs.

    ``first`` are coordinate indices (sorted); ``second`` are sorted pairs ``(i, j)``, ``i ≤ j``,
    with both ``i`` and ``j`` in ``first``.
    """

    first: tuple[int, ...]
    second: tuple[tuple[int, int], ...]

    @classmethod
    def covering(cls, derivatives: Iterable[tuple[int, ...]]) -> Layout:
        """The smallest layout holding every ``wrt`` (``()``, ``(i,)`` or ``(i, j)``) of ``derivatives``."""
        wanted = {tuple(sorted(wrt)) for wrt in derivatives}
        if any(len(wrt) > 2 for wrt in wanted):
            raise ValueError(f"jets carry derivatives up to order 2, asked for {sorted(wanted)}")
        second = tuple(sorted(wrt for wrt in wanted if len(wrt) == 2))
        first = tuple(sorted({i for wrt in wanted for i in wrt}))
        return cls(first, second)

    @property
    def size(self) -> int:
        """The number of channels ``C``."""
        return 1 + len(self.first) + len(self.second)

    def channel(self, wrt: tuple[int, ...]) -> int:
        """The channel of ``∂_wrt``; ``ValueError`` when the layout does not carry it."""
        if not wrt:
            return 0
        if len(wrt) == 1 and wrt[0] in self.first:
            return 1 + self.first.index(wrt[0])
        if len(wrt) == 2 and wrt in self.second:
            return 1 + len(self.first) + self.second.index(wrt)
        raise ValueError(f"this jet carries derivatives {self.first} and {self.second}, not {wrt}")

    @cached_property
    def left(self) -> list[int]:
        """For each second-derivative channel ``(i, j)``: the channel of ``∂/∂x_i``."""
        return [self.channel((i,)) for i, _ in self.second]

    @cached_property
    def right(self) -> list[int]:
        """For each second-derivative channel ``(i, j)``: the channel of ``∂/∂x_j``."""
        return [self.channel((j,)) for _, j in self.second]

    @property
    def second_start(self) -> int:
        return 1 + len(self.first)


def coordinates_jet(z: Tensor, scale: Tensor, layout: Layout) -> Tensor:
    """The jet ``(C, N, d)`` of ``z = scale·x + shift`` (per coordinate) with value ``z`` ``(N, d)``.

    ``∂z/∂x_i`` is ``scale_i`` in column ``i``; second derivatives are zero.
    """
    jet = torch.zeros(layout.size, *z.shape, dtype=z.dtype, device=z.device)
    jet[0] = z
    for k, i in enumerate(layout.first):
        jet[1 + k, :, i] = scale[i]
    return jet


class _Linear(torch.autograd.Function):
    """``jet @ Wᵀ`` with ``b`` added to the value channel; backward by hand (two matmuls, one sum)."""

    @staticmethod
    def forward(ctx, jet: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(jet, weight)
        ctx.has_bias = bias is not None
        out = jet @ weight.T
        if bias is not None:
            out[0] += bias
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        jet, weight = ctx.saved_tensors
        grad_jet = grad @ weight if ctx.needs_input_grad[0] else None
        grad_weight = grad.reshape(-1, grad.shape[-1]).T @ jet.reshape(-1, jet.shape[-1])
        grad_bias = grad[0].sum(dim=0) if ctx.has_bias else None
        return grad_jet, grad_weight, grad_bias


def linear(jet: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``a = hWᵀ + b``: all channels in one matmul, the bias added to the value channel.

    Eager mode uses the hand-written backward (``_Linear``); under ``torch.compile`` the same
    formula in plain operations, which the compiler can fuse with its neighbours.
    """
    if not torch.compiler.is_compiling():
        return _Linear.apply(jet, weight, bias)
    out = jet @ weight.T
    return out if bias is None else torch.cat([out[:1] + bias, out[1:]])


def affine(jet: Tensor, scale: Tensor, shift: Tensor | None) -> Tensor:
    """``scale·h + shift`` per unit: every channel scaled, the shift added to the value."""
    out = jet * scale
    if shift is None:
        return out
    return torch.cat([out[:1] + shift, out[1:]])


Derivatives = tuple[Tensor, ...]
"""``σ(a), σ′(a), …`` up to some order."""
DerivativeRule = Callable[[Tensor, int], Derivatives]
"""``rule(a, order)``: ``σ`` and its derivatives at ``a`` up to ``order`` (at most 3)."""


class _Elementwise(torch.autograd.Function):
    """The elementwise rule of the module docstring, forward and backward by hand.

    With ``G`` the gradient of the output jet and pairs ``p = (l, r)``, the backward is
    ``∂a_i = σ′G_i + Σ_{p∋i} σ″ a_other G_p`` (both slots of a pair), ``∂a_p = σ′G_p`` and
    ``∂a₀ = σ′G₀ + σ″ Σ_{c≥1} a_c G_c + σ‴ Σ_p a_l a_r G_p``.
    """

    @staticmethod
    def forward(ctx, jet: Tensor, layout: Layout, rule: DerivativeRule) -> Tensor:
        s = rule(jet[0], 3 if layout.second else 2)
        n = layout.second_start
        out = torch.empty_like(jet)
        out[0] = s[0]
        torch.mul(jet[1:], s[1], out=out[1:])
        for k, (left, right) in enumerate(zip(layout.left, layout.right)):
            out[n + k].addcmul_(jet[left] * s[2], jet[right])
        ctx.save_for_backward(jet, *s[1:])
        ctx.layout = layout
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, None, None]:
        jet, *s = ctx.saved_tensors
        layout = ctx.layout
        n = layout.second_start
        grad_jet = torch.empty_like(jet)
        torch.mul(grad[1:], s[0], out=grad_jet[1:])
        value = s[0] * grad[0] + s[1] * (jet[1:] * grad[1:]).sum(dim=0)
        for k, (left, right) in enumerate(zip(layout.left, layout.right)):
            weighted = s[1] * grad[n + k]
            grad_jet[left].addcmul_(weighted, jet[right])
            grad_jet[right].addcmul_(weighted, jet[left])
            value.addcmul_(s[2] * grad[n + k], jet[left] * jet[right])
        grad_jet[0] = value
        return grad_jet, None, None


def elementwise(jet: Tensor, layout: Layout, rule: DerivativeRule) -> Tensor:
    """``σ(a)`` unit by unit; ``rule(a₀, order)`` gives ``σ, σ′, …`` at the value ``a₀ = jet[0]``.

    The forward needs ``σ′`` (``σ″`` with second derivatives), its backward one order more.
    Eager mode uses the hand-written backward (``_Elementwise``); under ``torch.compile`` the
    same rule in plain operations, which autograd differentiates itself.
    """
    if not torch.compiler.is_compiling():
        return _Elementwise.apply(jet, layout, rule)
    s0, s1, s2 = rule(jet[0], 2)
    n = layout.second_start
    second = [
        s1 * jet[n + k] + s2 * jet[left] * jet[right] for k, (left, right) in enumerate(zip(layout.left, layout.right))
    ]
    return torch.stack([s0, *(s1 * jet[c] for c in range(1, n)), *second])


def product(p: Tensor, q: Tensor, layout: Layout) -> Tensor:
    """``p·q`` (broadcasting over the units, e.g. ``q`` one value per point ``(C, N, 1)``)."""
    n = layout.second_start
    value = p[:1] * q[:1]
    first = p[1:n] * q[:1] + p[:1] * q[1:n]
    if not layout.second:
        return torch.cat([value, first])
    cross = p[layout.left] * q[layout.right] + p[layout.right] * q[layout.left]
    second = p[n:] * q[:1] + p[:1] * q[n:] + cross
    return torch.cat([value, first, second])


def tanh_derivatives(a: Tensor, order: int) -> Derivatives:
    """``t = tanh``: ``t′ = 1 − t²``, ``t″ = −2t t′``, ``t‴ = t′(6t² − 2)``, up to ``order``."""
    t = torch.tanh(a)
    square = t * t
    d1 = 1 - square
    return (t, d1, -2 * t * d1, d1 * (6 * square - 2))[: order + 1]


def sin_derivatives(a: Tensor, order: int) -> Derivatives:
    """``sin``, ``cos``, ``−sin``, ``−cos``, up to ``order``."""
    s, c = torch.sin(a), torch.cos(a)
    return (s, c, -s, -c)[: order + 1]


def cos_derivatives(a: Tensor, order: int) -> Derivatives:
    """``cos``, ``−sin``, ``−cos``, ``sin``, up to ``order``."""
    s, c = torch.sin(a), torch.cos(a)
    return (c, -s, -c, s)[: order + 1]


def gelu_derivatives(a: Tensor, order: int) -> Derivatives:
    """Exact GELU ``aΦ(a)``: ``Φ + aφ``, ``φ(2 − a²)``, ``aφ(a² − 4)`` (Φ, φ: standard normal cdf, density)."""
    cdf = 0.5 * (1 + torch.erf(a * 0.5**0.5))
    density = torch.exp(-0.5 * a * a) * (2 * torch.pi) ** -0.5
    return (a * cdf, cdf + a * density, density * (2 - a * a), a * density * (a * a - 4))[: order + 1]


ACTIVATION_DERIVATIVES: dict[str, DerivativeRule] = {
    "tanh": tanh_derivatives,
    "sin": sin_derivatives,
    "gelu": gelu_derivatives,
}


def inverse_sqrt_derivatives(s: Tensor, order: int) -> Derivatives:
    """``g = (s + ε)^(−1/2)``: ``g′ = −½ g/v``, ``g″ = ¾ g/v²``, ``g‴ = −15/8 g/v³`` with ``v = s + ε``."""
    v = s + EPS
    g = torch.rsqrt(v)
    return (g, -0.5 * g / v, 0.75 * g / (v * v), -1.875 * g / (v * v * v))[: order + 1]


def standardize(jet: Tensor, layout: Layout, center: bool) -> Tensor:
    """``c/√(mean(c²) + ε)`` over the last axis, ``c = a − mean(a)`` (``center``) or ``a``."""
    c = jet - jet.mean(dim=-1, keepdim=True) if center else jet
    mean_square = product(c, c, layout).mean(dim=-1, keepdim=True)
    return product(c, elementwise(mean_square, layout, inverse_sqrt_derivatives), layout)


def norm_jet(norm: torch.nn.Module, jet: Tensor, layout: Layout, statistics: BatchStatistics | None) -> Tensor:
    """The jet through one of ``pinn.nn``'s norm layers (BatchNorm with ``statistics`` held fixed)."""
    if isinstance(norm, torch.nn.Identity):
        return jet
    if isinstance(norm, LayerNorm):
        return affine(standardize(jet, layout, center=True), norm.weight, norm.bias)
    if isinstance(norm, RMSNorm):
        return affine(standardize(jet, layout, center=False), norm.weight, None)
    if isinstance(norm, GroupNorm):
        grouped = jet.reshape(*jet.shape[:-1], GROUPS, jet.shape[-1] // GROUPS)
        return affine(standardize(grouped, layout, center=True).reshape(jet.shape), norm.weight, norm.bias)
    if isinstance(norm, BatchNorm):
        mean, var = (
            (statistics.mean, statistics.var) if statistics is not None else (norm.running_mean, norm.running_var)
        )
        scale = norm.weight * torch.rsqrt(var + EPS)
        return affine(jet, scale, norm.bias - mean * scale)
    raise ValueError(f"the forward engine has no rule for the norm layer {type(norm).__name__}")


def embedding_jet(model: MLP, x: Tensor, layout: Layout) -> Tensor:
    """The jet of ``h₀``: scaled coordinates, or their Fourier features ``[cos(zB), sin(zB)]``."""
    scale = 2 / (model.upper - model.lower)
    z = coordinates_jet(model.scale(x), scale.to(x.dtype), layout)
    if model.frequencies is None:
        return z
    phase = z @ model.frequencies
    return torch.cat([elementwise(phase, layout, cos_derivatives), elementwise(phase, layout, sin_derivatives)], dim=-1)


def network_jet(model: MLP, x: Tensor, layout: Layout, statistics: Sequence[BatchStatistics] | None = None) -> Tensor:
    """The jet ``(C, N, out_dim)`` of ``model``'s outputs at points ``x`` ``(N, d)`` (``MLP._evaluate``).

    BatchNorm layers use ``statistics`` (one per BatchNorm layer, required) when the model is
    in training mode, else their running averages; either way they do not vary with the points
    (DESIGN.md, pointwise derivatives), while the parameter gradient flows through them.
    """
    if model.couples_points and statistics is None:
        raise ValueError("a BatchNorm backbone in training mode needs its batch statistics to be held fixed")
    activation = ACTIVATION_DERIVATIVES[model.activation_name]
    h0 = embedding_jet(model, x, layout)
    if model.encoders is not None:
        weight = torch.cat([encoder.weight for encoder in model.encoders])
        bias = torch.cat([encoder.bias for encoder in model.encoders])
        a = linear(h0, weight, bias)
        u, v = elementwise(a, layout, activation).chunk(2, dim=-1)
        difference = v - u
    given = iter(statistics) if model.couples_points else None
    h = h0
    for layer, norm in zip(model.hidden, model.norms):
        a = linear(h, layer.weight, layer.bias)
        held = next(given) if given is not None and isinstance(norm, BatchNorm) else None
        a = norm_jet(norm, a, layout, held)
        z = elementwise(a, layout, activation)
        h = u + product(z, difference, layout) if model.encoders is not None else z
    return linear(h, model.output.weight, model.output.bias)
