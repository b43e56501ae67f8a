"""Second-order jets: a point's value and the input derivatives asked for, carried through a backbone.

A jet of a layer's activations ``h`` (``width`` units) at ``N`` points is one tensor
``J`` of shape ``(C, N, width)`` stacking its channels (``Layout``)::

    J[0]               h                            the value
    J[1 + k]           ∂h/∂x_i                      i = first[k]
    J[1 + F + k]       Σ_{(i,j) ∈ S} ∂²h/∂x_i∂x_j   S = second[k], F = len(first)

A second-order channel is one second derivative (``S = ((i, j),)``) or a sum of them, such
as the Laplacian ``S = ((0, 0), (1, 1))``, carried as one channel when no other channel
needs its terms alone (the "forward Laplacian"). Only the channels a residual reads are
carried (plus the first derivatives the second ones are built from). Every rule below maps
a jet to the jet of the layer's output, exactly:

    linear      a = hWᵀ + b:  every channel times Wᵀ in one matmul, b added to the value only
    elementwise g = σ(a):     g_i = σ′(a) a_i,  g_S = σ″(a) Σ_{(i,j)∈S} a_i a_j + σ′(a) a_S
    product     g = p·q:      g_i = p_i q + p q_i,  g_S = p_S q + p q_S + Σ_{(i,j)∈S} (p_i q_j + p_j q_i)
    mean        over units:   channel by channel (it is linear)

Every layer maps the jet of its input to the jet of its output (``layer_jet``): the layers
of ``pinn.nn`` by their own ``jet`` method, written next to their ``forward`` from these
rules, and a few ``torch.nn`` layers by ``TORCH_JETS`` (``Linear``, ``Identity``, ``Tanh``,
``Sigmoid``, ``SiLU``, ``GELU``, and ``Sequential`` of known layers). A network is known to
the forward engine when all its layers are (``unknown_layer``). ``ReLU`` and other
piecewise-linear activations have no rule: their second derivative is zero wherever it
exists, which makes a second-order residual meaningless rather than cheap, so such a model
is left to autograd (engine ``auto``) or refused (engine ``forward``).

The parameter gradient of anything built from a jet comes from ordinary backward through
these rules; ``linear`` and ``elementwise``, where the time goes, have their backward
written out (``_Linear``, ``_Elementwise``), fewer and larger operations than autograd
would record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial

import torch
from torch import nn

from pdes.taylor import Taylor

Tensor = torch.Tensor
Pair = tuple[int, int]
Wrt = tuple[int, ...] | tuple[Pair, ...]
"""A derivative: ``()``, ``(i,)``, ``(i, j)`` (``i ≤ j``), or a sum of second derivatives ``((i, j), …)``."""


def is_sum(wrt: Wrt) -> bool:
    """Whether ``wrt`` names a sum of second derivatives, ``((i, j), …)``."""
    return bool(wrt) and isinstance(wrt[0], tuple)


def pairs_of(wrt: Wrt) -> tuple[Pair, ...]:
    """The second derivatives ``(i, j)`` that ``wrt`` sums (one for ``(i, j)``, none below order 2)."""
    if is_sum(wrt):
        return tuple(wrt)
    return (tuple(wrt),) if len(wrt) == 2 else ()


def is_second_order(wrt: Wrt) -> bool:
    """Whether ``wrt`` is a second derivative or a sum of them."""
    return bool(pairs_of(wrt))


@dataclass(frozen=True)
class Layout:
    """The channels of a jet: the value, first derivatives by ``first``, second-order sums by ``second``.

    ``first`` are coordinate indices (sorted); each of ``second`` is a sorted tuple of pairs
    ``(i, j)``, ``i ≤ j``, both in ``first``; no pair is in two of them.
    """

    first: tuple[int, ...]
    second: tuple[tuple[Pair, ...], ...]

    @classmethod
    def covering(cls, derivatives: Iterable[Wrt]) -> Layout:
        """The smallest layout holding every derivative of ``derivatives`` (see ``Wrt``).

        A sum of second derivatives gets one channel unless one of its pairs is also read
        otherwise; then its pairs are carried one by one and the sum is read from them.
        """
        wanted = set()
        for wrt in derivatives:
            if is_sum(wrt):
                wanted.add(tuple(sorted(tuple(sorted(pair)) for pair in wrt)))
            elif len(wrt) > 2:
                raise ValueError(f"jets carry derivatives up to order 2, asked for {tuple(wrt)}")
            else:
                wanted.add(tuple(sorted(wrt)))
        sums = [wrt for wrt in wanted if is_sum(wrt) and len(wrt) > 1]
        singles = {pair for wrt in wanted for pair in pairs_of(wrt) if len(pairs_of(wrt)) == 1}
        second: set[tuple[Pair, ...]] = {(pair,) for pair in singles}
        for total in sums:
            others = [pair for other in sums if other != total for pair in other]
            if any(pair in singles or pair in others for pair in total):
                second.update((pair,) for pair in total)
            else:
                second.add(total)
        first = {i for wrt in wanted if len(wrt) == 1 for i in wrt}
        first |= {i for channel in second for pair in channel for i in pair}
        return cls(tuple(sorted(first)), tuple(sorted(second)))

    @property
    def size(self) -> int:
        """The number of channels ``C``."""
        return 1 + len(self.first) + len(self.second)

    def channels(self, wrt: Wrt) -> list[int]:
        """The channels whose sum is ``∂_wrt``; ``ValueError`` when the layout does not carry it."""
        if not wrt:
            return [0]
        if not is_second_order(wrt) and wrt[0] in self.first:
            return [1 + self.first.index(wrt[0])]
        pairs = tuple(sorted(pairs_of(wrt)))
        if pairs in self.second:
            return [self.second_start + self.second.index(pairs)]
        if pairs and all((pair,) in self.second for pair in pairs):
            return [self.second_start + self.second.index((pair,)) for pair in pairs]
        raise ValueError(f"this jet carries derivatives {self.first} and {self.second}, not {wrt}")

    @cached_property
    def pairs(self) -> list[list[tuple[int, int]]]:
        """For each second-order channel: the ``(channel of ∂/∂x_i, channel of ∂/∂x_j)`` of its pairs."""
        first = {i: 1 + k for k, i in enumerate(self.first)}
        return [[(first[i], first[j]) for i, j in channel] for channel in self.second]

    @property
    def second_start(self) -> int:
        return 1 + len(self.first)


def input_jet(x: Tensor, layout: Layout) -> Tensor:
    """The jet ``(C, N, d)`` of the coordinates themselves: value ``x``, ``∂x/∂x_i = e_i``, no second derivatives."""
    jet = torch.zeros(layout.size, *x.shape, dtype=x.dtype, device=x.device)
    jet[0] = x
    for k, i in enumerate(layout.first):
        jet[1 + k, :, i] = 1
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
        flat_grad, flat_jet = grad.reshape(-1, grad.shape[-1]), jet.reshape(-1, jet.shape[-1])
        if flat_jet.shape[1] < flat_grad.shape[1]:  # narrow input: MKL builds (2, 50) ~6× faster than (50, 2)
            grad_weight = (flat_jet.T @ flat_grad).T
        else:
            grad_weight = flat_grad.T @ flat_jet
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

    With ``G`` the gradient of the output jet and second-order channels ``S`` of pairs
    ``(l, r)``, the backward is ``∂a_i = σ′G_i + Σ_S Σ_{(l,r)∈S, l or r = i} σ″ a_other G_S``
    (both slots of a pair), ``∂a_S = σ′G_S`` and
    ``∂a₀ = σ′G₀ + σ″ Σ_{c≥1} a_c G_c + σ‴ Σ_S G_S Σ_{(l,r)∈S} a_l a_r``.
    """

    @staticmethod
    def forward(ctx, jet: Tensor, layout: Layout, rule: DerivativeRule) -> Tensor:
        s = rule(jet[0], 3 if layout.second else 2)
        n = layout.second_start
        out = torch.empty_like(jet)
        out[0] = s[0]
        torch.mul(jet[1:], s[1], out=out[1:])
        squares = [pair_products(jet, jet, pairs) for pairs in layout.pairs]
        for k, square in enumerate(squares):
            out[n + k].addcmul_(s[2], square)
        ctx.save_for_backward(jet, *s[1:], *squares)
        ctx.layout, ctx.orders = layout, len(s) - 1
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, None, None]:
        layout = ctx.layout
        n = layout.second_start
        jet, *rest = ctx.saved_tensors
        s, squares = rest[: ctx.orders], rest[ctx.orders :]
        grad_jet = torch.empty_like(jet)
        torch.mul(grad[1:], s[0], out=grad_jet[1:])
        inner = jet[1] * grad[1]
        for c in range(2, jet.shape[0]):
            inner.addcmul_(jet[c], grad[c])
        value = grad_jet[0]
        torch.mul(s[0], grad[0], out=value)
        value.addcmul_(s[1], inner)
        for k, (pairs, square) in enumerate(zip(layout.pairs, squares)):
            weighted = s[1] * grad[n + k]
            for left, right in pairs:
                if left == right:
                    grad_jet[left].addcmul_(weighted, jet[left], value=2)
                else:
                    grad_jet[left].addcmul_(weighted, jet[right])
                    grad_jet[right].addcmul_(weighted, jet[left])
            value.addcmul_(s[2] * grad[n + k], square)
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
    second = [s1 * jet[n + k] + s2 * pair_products(jet, jet, pairs) for k, pairs in enumerate(layout.pairs)]
    return torch.stack([s0, *(s1 * jet[c] for c in range(1, n)), *second])


def pair_products(p: Tensor, q: Tensor, pairs: Sequence[tuple[int, int]]) -> Tensor:
    """``Σ_(l, r) p[l] q[r]`` over the channel ``pairs``."""
    (left, right), *rest = pairs
    total = p[left] * q[right]
    for left, right in rest:
        total = total.addcmul(p[left], q[right])
    return total


def product(p: Tensor, q: Tensor, layout: Layout) -> Tensor:
    """``p·q`` (broadcasting over the units, e.g. ``q`` one value per point ``(C, N, 1)``)."""
    n = layout.second_start
    value = p[:1] * q[:1]
    first = p[1:n] * q[:1] + p[:1] * q[1:n]
    if not layout.second:
        return torch.cat([value, first])
    cross = torch.stack([pair_products(p, q, pairs) + pair_products(q, p, pairs) for pairs in layout.pairs])
    second = p[n:] * q[:1] + p[:1] * q[n:] + cross
    return torch.cat([value, first, second])


def taylor_jet(f: Taylor, layout: Layout) -> Tensor:
    """The jet ``(C, N, m)`` of a function given by its value, gradient and Hessian (``pdes.taylor``)."""
    second = [sum(f.hessian[i, j] for i, j in pairs) for pairs in layout.second]
    return torch.stack([f.value, *(f.gradient[i] for i in layout.first), *second]).transpose(1, 2)


def tanh_derivatives(a: Tensor, order: int) -> Derivatives:
    """``t = tanh``: ``t′ = 1 − t²``, ``t″ = −2t t′``, ``t‴ = t′(6t² − 2)``, up to ``order``."""
    t = torch.tanh(a)
    square = t * t
    d1 = 1 - square
    if order < 2:
        return (t, d1)[: order + 1]
    d2 = torch.mul(t, d1).mul_(-2)
    return (t, d1, d2, square.mul(6).sub_(2).mul_(d1))[: order + 1]


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


GELU_TANH = (2 / torch.pi) ** 0.5, 0.044715
"""``k``, ``c`` of the tanh approximation of GELU, ``½a(1 + tanh(k(a + ca³)))``."""


def gelu_tanh_derivatives(a: Tensor, order: int) -> Derivatives:
    """``½a(1 + T)``, ``T = tanh(u)``, ``u = k(a + ca³)``: ``½(1 + T) + ½aT′``, ``T′ + ½aT″``, ``³⁄₂T″ + ½aT‴``.

    ``T′ = τ₁u′``, ``T″ = τ₂u′² + τ₁u″``, ``T‴ = τ₃u′³ + 3τ₂u′u″ + τ₁u‴`` with ``τ`` the
    derivatives of tanh at ``u`` (``tanh_derivatives``) and ``u′ = k(1 + 3ca²)``, ``u″ = 6kca``, ``u‴ = 6kc``.
    """
    k, c = GELU_TANH
    u1, u2, u3 = k * (1 + 3 * c * a * a), 6 * k * c * a, 6 * k * c
    t = tanh_derivatives(k * (a + c * a * a * a), order)
    derivatives = [0.5 * a * (1 + t[0])]
    if order >= 1:
        d1 = t[1] * u1
        derivatives.append(0.5 * (1 + t[0]) + 0.5 * a * d1)
    if order >= 2:
        d2 = t[2] * u1 * u1 + t[1] * u2
        derivatives.append(d1 + 0.5 * a * d2)
    if order >= 3:
        d3 = t[3] * u1 * u1 * u1 + 3 * t[2] * u1 * u2 + t[1] * u3
        derivatives.append(1.5 * d2 + 0.5 * a * d3)
    return tuple(derivatives)


def sigmoid_derivatives(a: Tensor, order: int) -> Derivatives:
    """``σ``: ``σ′ = σ(1 − σ)``, ``σ″ = σ′(1 − 2σ)``, ``σ‴ = σ′(1 − 6σ + 6σ²)``, up to ``order``."""
    s = torch.sigmoid(a)
    d1 = s * (1 - s)
    return (s, d1, d1 * (1 - 2 * s), d1 * (1 - 6 * s + 6 * s * s))[: order + 1]


def softplus_derivatives(a: Tensor, order: int) -> Derivatives:
    """Softplus ``log(1 + eᵃ)``: its derivatives are the logistic ``σ`` and σ's, up to ``order``."""
    return (torch.nn.functional.softplus(a), *sigmoid_derivatives(a, order - 1))


def silu_derivatives(a: Tensor, order: int) -> Derivatives:
    """SiLU ``aσ(a)``: ``σ + aσ′``, ``2σ′ + aσ″``, ``3σ″ + aσ‴``, up to ``order``."""
    s = sigmoid_derivatives(a, order)
    return (a * s[0], *(k * s[k - 1] + a * s[k] for k in range(1, len(s))))


ACTIVATION_DERIVATIVES: dict[str, DerivativeRule] = {
    "tanh": tanh_derivatives,
    "sin": sin_derivatives,
    "gelu": gelu_derivatives,
}
"""The derivative rules of ``pinn.nn.ACTIVATIONS``, by name."""


def inverse_sqrt_derivatives(s: Tensor, order: int, eps: float = 0.0) -> Derivatives:
    """``g = (s + ε)^(−1/2)``: ``g′ = −½ g/v``, ``g″ = ¾ g/v²``, ``g‴ = −15/8 g/v³`` with ``v = s + ε``."""
    v = s + eps
    g = torch.rsqrt(v)
    return (g, -0.5 * g / v, 0.75 * g / (v * v), -1.875 * g / (v * v * v))[: order + 1]


def standardize(jet: Tensor, layout: Layout, center: bool, eps: float) -> Tensor:
    """``c/√(mean(c²) + ε)`` over the last axis, ``c = a − mean(a)`` (``center``) or ``a``."""
    c = jet - jet.mean(dim=-1, keepdim=True) if center else jet
    mean_square = product(c, c, layout).mean(dim=-1, keepdim=True)
    return product(c, elementwise(mean_square, layout, partial(inverse_sqrt_derivatives, eps=eps)), layout)


TorchJet = Callable[[nn.Module, Tensor, Layout], Tensor]
"""``rule(layer, jet, layout)``: the jet of ``layer``'s output given the jet of its input."""


def _activation_jet(rule: DerivativeRule, layer: nn.Module, jet: Tensor, layout: Layout) -> Tensor:
    """The jet of an activation layer with the derivative rule ``rule`` (bound by ``partial`` in ``TORCH_JETS``)."""
    return elementwise(jet, layout, rule)


def _sequential_jet(layers: nn.Sequential, jet: Tensor, layout: Layout) -> Tensor:
    for layer in layers:
        jet = layer_jet(layer, jet, layout)
    return jet


TORCH_JETS: dict[type[nn.Module], TorchJet] = {
    nn.Linear: lambda layer, jet, layout: linear(jet, layer.weight, layer.bias),
    nn.Identity: lambda layer, jet, layout: jet,
    nn.Tanh: partial(_activation_jet, tanh_derivatives),
    nn.Sigmoid: partial(_activation_jet, sigmoid_derivatives),
    nn.SiLU: partial(_activation_jet, silu_derivatives),
    nn.GELU: lambda layer, jet, layout: elementwise(
        jet, layout, gelu_tanh_derivatives if layer.approximate == "tanh" else gelu_derivatives
    ),
    nn.Sequential: _sequential_jet,
}
"""Jet rules of ``torch.nn`` layers, by exact type (a subclass may change ``forward``)."""


def owns_jet(layer: nn.Module) -> bool:
    """Whether the class that defines ``layer``'s ``forward`` also defines its ``jet`` (as ``pinn.nn``'s layers do).

    A subclass that overrides ``forward`` alone is not known: its inherited ``jet`` would be another function's.
    """
    owner = next(cls for cls in type(layer).__mro__ if "forward" in vars(cls))
    return "jet" in vars(owner)


def layer_jet(layer: nn.Module, jet: Tensor, layout: Layout, statistics: object = None) -> Tensor:
    """The jet of ``layer``'s output given the jet of its input: ``layer.jet`` or ``TORCH_JETS``.

    ``statistics`` go to layers that take them (``pinn.nn.BatchNorm``, ``pinn.nn.MLP``).
    """
    rule = TORCH_JETS.get(type(layer))
    if rule is not None:
        return rule(layer, jet, layout)
    if owns_jet(layer):
        return layer.jet(jet, layout, statistics)
    raise ValueError(f"the forward engine has no jet rule for the layer {type(layer).__name__}")


def unknown_layer(module: nn.Module, path: str = "") -> str | None:
    """The first layer of ``module`` without a jet rule, as ``"ReLU at '1'"`` (its path), or None when all have one.

    A layer with its own ``jet`` (``owns_jet``) answers for its sublayers; the sublayers of a
    ``TORCH_JETS`` container (``Sequential``) must each be known.
    """
    if owns_jet(module):
        return None
    if type(module) not in TORCH_JETS:
        return f"{type(module).__name__} at '{path}'" if path else type(module).__name__
    for name, child in module.named_children():
        unknown = unknown_layer(child, f"{path}.{name}" if path else name)
        if unknown is not None:
            return unknown
    return None


@dataclass(frozen=True)
class Jets:
    """The operations of a network description (``pinn.nn.MLP._evaluate``) on jets: layer rules and the product rule.

    ``pinn.nn.VALUES`` is the same interface on plain values (each layer's ``forward``).
    """

    layout: Layout

    def apply(self, layer: nn.Module, jet: Tensor, statistics: object = None) -> Tensor:
        return layer_jet(layer, jet, self.layout, statistics)

    def product(self, p: Tensor, q: Tensor) -> Tensor:
        return product(p, q, self.layout)


def network_jet(network: nn.Module, x: Tensor, layout: Layout, statistics: object = None) -> Tensor:
    """The jet ``(C, N, out_dim)`` of ``network``'s outputs at points ``x`` ``(N, d)``.

    ``statistics`` are the batch statistics to hold fixed, for a network that takes them
    (``pinn.nn.MLP``: one per BatchNorm layer, required in training mode).
    """
    return layer_jet(network, input_jet(x, layout), layout, statistics)
