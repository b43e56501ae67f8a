"""Derivative engines: the fields of a model and their input derivatives at a batch.

An engine offers ``points`` and ``derivative(field, wrt)`` (see ``pdes.problem.Derivatives``).
Every derivative is a derivative of each point's own output. For pointwise models
``grad(u.sum(), x)`` row i is ``∂u(x_i)/∂x_i`` exactly. A model that couples the points of a
batch (BatchNorm in training mode) is first made pointwise by ``pointwise``: its batch
statistics are held fixed, so that the sum trick again gives each point's own derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

Tensor = torch.Tensor


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
        self._cache: dict[tuple[int, tuple[int, ...]], Tensor] = {}

    def derivative(self, field: int, wrt: tuple[int, ...]) -> Tensor:
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

    def derivative(self, field: int, wrt: tuple[int, ...]) -> Tensor:
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
