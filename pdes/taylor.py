"""Second-order Taylor data of pointwise functions: the value, gradient and Hessian at each point.

A ``Taylor`` ``f`` of ``m`` components at ``N`` points in ``d`` coordinates holds

    f.value          (m, N)          f(x)
    f.gradient[i]    (m, N)          ∂f/∂x_i        (gradient: (d, m, N))
    f.hessian[i, j]  (m, N)          ∂²f/∂x_i∂x_j   (hessian: (d, d, m, N))

and its arithmetic follows the sum and product rules,

    (pq)_i = p_i q + p q_i,    (pq)_ij = p_ij q + p_i q_j + p_j q_i + p q_ij,

so a formula written with ``+``, ``−`` and ``*`` (numbers, or Taylors broadcasting over the
components) gives a function's derivatives with its value: the same formula on plain
tensors gives the value alone. ``Taylor.of`` starts from any parameter-free pointwise function
by reverse-mode autograd. Taylors carry no autograd graph. The points come last (and
the derivative indices first) so that products broadcast over leading axes only, which
PyTorch does fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

Tensor = torch.Tensor


@dataclass(frozen=True)
class Taylor:
    """``value (m, N)``, ``gradient (d, m, N)``, ``hessian (d, d, m, N)`` of a function at N points."""

    value: Tensor
    gradient: Tensor
    hessian: Tensor

    @classmethod
    def coordinate(cls, points: Tensor, axis: int) -> Taylor:
        """``x_axis`` at ``points (N, d)``: one component, gradient the unit vector, Hessian zero."""
        n, d = points.shape
        gradient = torch.zeros(d, 1, n, dtype=points.dtype, device=points.device)
        gradient[axis] = 1
        return cls(points[:, axis].detach()[None], gradient, points.new_zeros(d, d, 1, n))

    @classmethod
    def constant(cls, value: Tensor, d: int) -> Taylor:
        """``value`` ``(m, N)`` (or ``(m, 1)``, broadcast over points) with zero derivatives in ``d`` coordinates."""
        return cls(value, value.new_zeros(d, *value.shape), value.new_zeros(d, d, *value.shape))

    @classmethod
    def of(cls, function: Callable[[Tensor], Tensor], points: Tensor, m: int) -> Taylor:
        """The Taylor of a pointwise ``function`` ``(N, k) -> (m, N)`` without parameters, by autograd.

        The function is evaluated once at ``m·k`` stacked copies of the points, one per
        Hessian row ``(c, i)``: the gradient of ``Σ_rows f_c`` gives each row's ``∇f_c`` (the
        copies are independent points), that of ``Σ_rows ∂f_c/∂x_i`` its ``∇∂f_c/∂x_i``.
        """
        n, k = points.shape
        component = torch.arange(m, device=points.device).repeat_interleave(k)
        axis = torch.arange(k, device=points.device).repeat(m)
        rows = torch.arange(m * k, device=points.device)
        with torch.enable_grad():
            y = points.detach().repeat(m * k, 1).requires_grad_(True)
            out = function(y).view(m, m * k, n)
            gradient = _gradient(out[component, rows], y, create_graph=True).view(m * k, n, k)
            hessian = _gradient(gradient[rows, :, axis], y, create_graph=False).view(m * k, n, k)
        value = out[:, 0].detach()
        gradient = gradient.detach().view(m, k, n, k)[:, 0].permute(2, 0, 1).contiguous()
        hessian = hessian.view(m, k, n, k).permute(1, 3, 0, 2).contiguous()
        return cls(value, gradient, hessian)

    def embedded(self, axes: Sequence[int], d: int) -> Taylor:
        """This Taylor in coordinates ``x_0 … x_{d−1}``, its own ``k`` coordinates being ``x_axes``.

        It does not vary along the other coordinates.
        """
        gradient = self.value.new_zeros(d, *self.value.shape)
        hessian = self.value.new_zeros(d, d, *self.value.shape)
        index = torch.tensor(axes, device=self.value.device)
        gradient[index] = self.gradient
        hessian[index[:, None], index[None, :]] = self.hessian
        return Taylor(self.value, gradient, hessian)

    def at(self, start: int, stop: int) -> Taylor:
        """The Taylor at points ``start … stop − 1``."""
        return Taylor(self.value[..., start:stop], self.gradient[..., start:stop], self.hessian[..., start:stop])

    def __add__(self, other: Taylor | float) -> Taylor:
        if isinstance(other, Taylor):
            return Taylor(self.value + other.value, self.gradient + other.gradient, self.hessian + other.hessian)
        return Taylor(self.value + other, self.gradient, self.hessian)

    __radd__ = __add__

    def __neg__(self) -> Taylor:
        return Taylor(-self.value, -self.gradient, -self.hessian)

    def __sub__(self, other: Taylor | float) -> Taylor:
        return self + (-other)

    def __rsub__(self, other: float) -> Taylor:
        return (-self) + other

    def __truediv__(self, other: float) -> Taylor:
        return Taylor(self.value / other, self.gradient / other, self.hessian / other)

    def __mul__(self, other: Taylor | float) -> Taylor:
        if not isinstance(other, Taylor):
            return Taylor(self.value * other, self.gradient * other, self.hessian * other)
        p, q = self, other
        cross = p.gradient[:, None] * q.gradient[None, :]
        return Taylor(
            p.value * q.value,
            p.gradient * q.value + p.value * q.gradient,
            p.hessian * q.value + p.value * q.hessian + cross + cross.transpose(0, 1),
        )

    __rmul__ = __mul__


def coordinates(points: Tensor, taylor: bool) -> list[Tensor | Taylor]:
    """Each coordinate of ``points (N, d)`` as a ``Taylor``, or as its values ``(1, N)``."""
    return [Taylor.coordinate(points, i) if taylor else points[:, i][None] for i in range(points.shape[1])]


def _gradient(outputs: Tensor, inputs: Tensor, create_graph: bool) -> Tensor:
    """``∇ Σ outputs`` with respect to ``inputs``; zeros where they do not depend on them."""
    if not outputs.requires_grad:
        return torch.zeros_like(inputs)
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=create_graph, allow_unused=True)
    return torch.zeros_like(inputs) if grad is None else grad
