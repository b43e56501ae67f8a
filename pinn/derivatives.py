"""Derivative engines: the fields of a model and their input derivatives at a batch.

An engine offers ``points`` and ``derivative(field, wrt)`` (see ``pdes.problem.Derivatives``).
``AutogradDerivatives`` (nested reverse mode) is the reference and works for any model;
``ForwardDerivatives`` carries exactly the derivatives a residual reads forward through the
network in one stacked pass (``pinn.jets``), for any module all of whose layers have jet
rules (``forward_parts``). ``pinn.choices.ENGINES`` names the choices (``auto``: the forward
engine where it knows the model, else autograd).
Every derivative is a derivative of each point's own output. For pointwise models
``grad(u.sum(), x)`` row i is ``∂u(x_i)/∂x_i`` exactly. A model that couples the points of a
batch (BatchNorm in training mode) is first made pointwise by ``pointwise``: its batch
statistics are held fixed, so that the sum trick again gives each point's own derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial

import torch

from pdes.problem import Derivatives
from pdes.taylor import Taylor
from pdes.transforms import AffineTransform
from pinn.jets import Layout, Wrt, is_sum, network_jet, pairs_of, product, taylor_jet, unknown_layer
from pinn.nn import BatchStatistics
from pinn.transformed import Transformed
from pinn.unknowns import Inverse

Tensor = torch.Tensor
Key = tuple[int, Wrt]
"""``(field, wrt)``: a derivative as ``Derivatives.derivative`` names it."""
Transform = Callable[[Tensor, Tensor], Tensor]
Parts = tuple[torch.nn.Module, Transform | None, Sequence[BatchStatistics] | None]
"""``(network, transform, statistics)``: a model as the forward engine takes it (``forward_parts``)."""


def pointwise(model: Callable[[Tensor], Tensor], points: Tensor) -> Callable[[Tensor], Tensor]:
    """``model`` as a function of each point alone, with the batch statistics of ``points`` fixed.

    A model with ``couples_points`` true gets its statistics from a forward pass on the
    detached ``points`` (``model.batch_statistics``): they depend on the parameters, so
    parameter gradients flow through them as BatchNorm training requires, but not on the
    points that spatial derivatives are taken with respect to. Other models are returned as is.
    """
    if not getattr(model, "couples_points", False):
        return model
    return partial(model, statistics=model.batch_statistics(points))


class AutogradDerivatives:
    """Reverse-mode autograd with a per-batch cache.

    One ``grad`` call of a field gives all its first derivatives, and one ``grad`` of a
    first derivative all the second derivatives through it, so ``u_x`` is computed once
    however many residuals read it. Graphs are kept (``create_graph``) so the loss can
    be differentiated with respect to the parameters. The model is evaluated through
    ``pointwise`` at ``points``, so BatchNorm statistics are those of this batch, held fixed.
    """

    def __init__(self, model: Callable[[Tensor], Tensor], points: Tensor):
        self.points = points.detach().requires_grad_(True)
        self.output = pointwise(model, self.points)(self.points)
        self._cache: dict[Key, Tensor] = {}

    def derivative(self, field: int, wrt: Wrt) -> Tensor:
        if is_sum(wrt):
            return sum_of_second_derivatives(self, field, wrt)
        key = (field, wrt)
        if key not in self._cache:
            if not wrt:
                self._cache[key] = self.output[:, field]
            else:
                self._differentiate(field, wrt[:-1])
        return self._cache[key]

    def _differentiate(self, field: int, wrt: tuple[int, ...]) -> None:
        """Cache every derivative of ``∂_wrt out_field`` by one more coordinate."""
        inner = self.derivative(field, wrt)
        grad = None
        if inner.requires_grad:
            (grad,) = torch.autograd.grad(inner.sum(), self.points, create_graph=True, allow_unused=True)
        if grad is None:
            grad = torch.zeros_like(self.points)
        for i in range(self.points.shape[1]):
            self._cache.setdefault((field, tuple(sorted(wrt + (i,)))), grad[:, i])


def sum_of_second_derivatives(engine: Derivatives, field: int, wrt: Wrt) -> Tensor:
    """``Σ_{(i,j) ∈ wrt} ∂²out_field/∂x_i∂x_j`` from ``engine``'s single second derivatives."""
    first, *rest = pairs_of(wrt)
    total = engine.derivative(field, first)
    for pair in rest:
        total = total + engine.derivative(field, pair)
    return total


class PointDerivatives:
    """Derivatives of a one-point function ``x (d,) → out (F,)`` by ``torch.func``, for use under ``vmap``.

    ``points`` is the single point ``(d,)``; ``derivative(k, wrt)`` is a 0-d tensor:
    ``out_k``, ``∂out_k/∂x_i`` (``jacrev``) or ``∂²out_k/∂x_i∂x_j`` (``hessian``). The
    function sees its own point only, so every derivative is of that point's own value.
    Each order is computed once per point.
    """

    def __init__(self, function: Callable[[Tensor], Tensor], point: Tensor):
        self.function = function
        self.points = point
        self._orders: dict[int, Tensor] = {}

    def derivative(self, field: int, wrt: Wrt) -> Tensor:
        if is_sum(wrt):
            return sum_of_second_derivatives(self, field, wrt)
        order = len(wrt)
        if order not in self._orders:
            self._orders[order] = self._compute(order)
        return self._orders[order][(field, *wrt)]

    def _compute(self, order: int) -> Tensor:
        if order == 0:
            return self.function(self.points)
        if order == 1:
            return torch.func.jacrev(self.function)(self.points)
        if order == 2:
            return torch.func.hessian(self.function)(self.points)
        raise ValueError(f"PointDerivatives offers derivatives up to order 2, got order {order}")


class ForwardDerivatives:
    """The ``needed`` derivatives of a model the forward engine knows (``forward_parts``) by one forward jet pass.

    The network's jet (``pinn.jets.network_jet``) carries the value, the first derivatives
    and only the second derivatives (pure or mixed) that ``needed`` names, for every field at
    once. BatchNorm statistics are held fixed as in ``pointwise``: those bound to the model by
    ``functools.partial(model, statistics=…)`` or else those of ``points`` (detached). A
    residual that reads values only (e.g. a Dirichlet term) gets the model's plain forward,
    whatever the model.

    An output transform ``T(x, N(x))`` affine in ``N`` joins the jet by the product rule
    (``affine_transform_jet``); any other is differentiated by autograd over the transform
    alone (``transform_derivatives``). Reading a derivative not in ``needed`` raises ``ValueError``.
    """

    def __init__(self, model: Callable[[Tensor], Tensor], points: Tensor, needed: Collection[Key]):
        self.points = points.detach()
        self.needed = frozenset(needed)
        self.layout = Layout.covering(wrt for _, wrt in self.needed)
        if self.layout.size == 1:
            values = pointwise(model, self.points)(self.points)
            self._values = {(k, wrt): values[:, k] for k, wrt in self.needed}
            return
        parts = _parts_or_reason(model)
        if isinstance(parts, str):
            raise ValueError(f"the forward engine does not know this model: {parts}; use engine 'auto' or 'autograd'")
        network, transform, statistics = parts
        if getattr(network, "couples_points", False) and statistics is None:
            statistics = network.batch_statistics(self.points)
        jet = network_jet(network, self.points, self.layout, statistics)
        if transform is not None and not isinstance(transform, AffineTransform):
            self._values = transform_derivatives(transform, jet, self.layout, self.points, self.needed)
            return
        if transform is not None:
            jet = affine_transform_jet(transform, jet, self.layout, self.points)
        self._values = {(k, wrt): channel_sum(jet, self.layout.channels(wrt), k) for k, wrt in self.needed}

    def derivative(self, field: int, wrt: tuple[int, ...]) -> Tensor:
        if (field, wrt) not in self._values:
            raise ValueError(
                f"the forward engine computed only the derivatives the residual was found to read "
                f"({sorted(self.needed)}), not {(field, wrt)}"
            )
        return self._values[(field, wrt)]


def channel_sum(jet: Tensor, channels: Sequence[int], field: int) -> Tensor:
    """``Σ_c jet[c, :, field]`` over ``channels``: the derivative they carry."""
    first, *rest = channels
    total = jet[first, :, field]
    for c in rest:
        total = total + jet[c, :, field]
    return total


def forward_parts(model: Callable[[Tensor], Tensor]) -> Parts | None:
    """``(network, transform, statistics)`` of a model the forward engine knows, else None.

    Known: a ``torch.nn.Module`` all of whose layers have jet rules (``pinn.jets.unknown_layer``:
    ``pinn.nn``'s layers and backbones, ``Sequential`` of ``Linear`` and smooth activations),
    optionally ``Transformed``, either bound by ``functools.partial`` to ``statistics`` only
    (as ``pinn.plan.StepPlan.losses`` does).
    """
    parts = _parts_or_reason(model)
    return None if isinstance(parts, str) else parts


def _parts_or_reason(model: Callable[[Tensor], Tensor]) -> Parts | str:
    """``forward_parts(model)``, or instead of None the reason, in a few words naming the unknown part."""
    statistics = None
    if isinstance(model, partial):
        if model.args or set(model.keywords) != {"statistics"}:
            return "a functools.partial that binds more than the batch statistics"
        model, statistics = model.func, model.keywords["statistics"]
    transform = None
    if type(model) is Transformed:
        model, transform = model.network, model.transform
    if not isinstance(model, torch.nn.Module):
        return f"{type(model).__name__} is not a torch.nn.Module"
    unknown = unknown_layer(model.network if isinstance(model, Inverse) else model)
    if unknown is not None:
        return f"no jet rule for the layer {unknown}"
    return model, transform, statistics


def affine_transform_jet(transform: AffineTransform, jet: Tensor, layout: Layout, points: Tensor) -> Tensor:
    """The jet of ``T(x, N(x))`` for a transform affine in ``N``: ``B + φ·N``, with ``B = 0``, ``φ = 1`` off its fields.

    ``B`` and ``φ`` come with their derivatives (``transform.affine_taylor``), without an
    autograd graph, so only the product rule (``pinn.jets.product``) joins them to the
    network's jet.
    """
    offset, scale = _eager_affine_taylor(transform, points)
    fields = list(transform.fields)
    offset_jet = torch.zeros_like(jet)
    offset_jet[:, :, fields] = taylor_jet(offset, layout)
    scale_jet = torch.zeros_like(jet)
    scale_jet[0] = 1
    scale_jet[:, :, fields] = taylor_jet(scale, layout)
    return offset_jet + product(jet, scale_jet, layout)


@torch.compiler.disable
def _eager_affine_taylor(transform: AffineTransform, points: Tensor) -> tuple[Taylor, Taylor]:
    """``transform.affine_taylor(points)``, left eager by ``torch.compile`` (it may use autograd on the points)."""
    return transform.affine_taylor(points)


@torch.compiler.disable
def transform_derivatives(
    transform: Transform, jet: Tensor, layout: Layout, points: Tensor, needed: Collection[Key]
) -> dict[Key, Tensor]:
    """``{(field, wrt): (N,)}`` for the ``needed`` derivatives of ``T(x, N(x))``, given ``N``'s ``jet``.

    ``N`` is replaced by its second-order Taylor polynomial about the points,
    ``P(y) = N + Σ_i N_i δ_i + Σ_S c_ij N_S δ_i δ_j`` (``δ = y − x``, ``(i, j)`` the first
    pair of the second-order channel ``S``, ``c_ii = ½``, ``c_ij = 1``), whose value, first
    derivatives and sums of second derivatives over each ``S`` at ``y = x`` are the jet's
    (no pair is in two channels); so ``F(y) = T(y, P(y))`` has exactly the derivatives of
    ``T(y, N(y))`` asked for.
    They come from autograd over ``F``: the transform's few pointwise operations only, never
    the network. ``torch.compile`` leaves this part eager (it cannot compile double backward).
    """
    engine = AutogradDerivatives(partial(_transform_of_taylor, transform, jet, layout, points), points)
    return {key: engine.derivative(*key) for key in needed}


def _transform_of_taylor(transform: Transform, jet: Tensor, layout: Layout, center: Tensor, y: Tensor) -> Tensor:
    """``T(y, P(y))`` with ``P`` the Taylor polynomial of the network's jet about ``center``."""
    delta = y - center
    raw = jet[0]
    for channel, i in enumerate(layout.first, start=1):
        raw = raw + jet[channel] * delta[:, i : i + 1]
    for channel, pairs in enumerate(layout.second, start=layout.second_start):
        i, j = pairs[0]
        coefficient = 0.5 if i == j else 1.0
        raw = raw + coefficient * jet[channel] * (delta[:, i : i + 1] * delta[:, j : j + 1])
    out = transform(y, raw)
    if out.shape != raw.shape:
        raise ValueError(f"the output transform returned shape {tuple(out.shape)}, expected {tuple(raw.shape)}")
    return out
