"""Derivative engines: the fields of a model and their input derivatives at a batch.

An engine offers ``points`` and ``derivative(field, wrt)`` (see ``pdes.problem.Derivatives``).
Every derivative is a derivative of each point's own output: for pointwise models
``grad(u.sum(), x)`` row i is ``∂u(x_i)/∂x_i`` exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Tensor = torch.Tensor


class AutogradDerivatives:
    """Reverse-mode autograd with a per-batch cache.

    One ``grad`` call of a field gives all its first derivatives, and one ``grad`` of a
    first derivative all the second derivatives through it, so ``u_x`` is computed once
    however many residuals read it. Graphs are kept (``create_graph``) so the loss can
    be differentiated with respect to the parameters.
    """

    def __init__(self, model: Callable[[Tensor], Tensor], points: Tensor):
        self.points = points.detach().requires_grad_(True)
        self.output = model(self.points)
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
