"""Output transforms affine in the network's raw outputs: ``u = B(x) + φ(x)·N`` on some fields.

A subclass names its ``fields`` (output columns; the others pass through unchanged) and
writes ``B`` and ``φ`` once, in ``_affine(points, taylor)``, with ``+``, ``−``, ``*`` and
``/`` only, so that the same formula gives their values ``(m, N)`` or, on
``pdes.taylor.Taylor`` coordinates, their gradients and Hessians too (``affine_taylor``),
which a derivative engine can join to the network's own derivatives by the product rule
instead of differentiating the transform (``pinn.derivatives.affine_transform_jet``).
"""

from __future__ import annotations

import torch

from pdes.taylor import Taylor

Tensor = torch.Tensor
Number = Tensor | Taylor
"""A function of the points: its values ``(m, N)``, or its ``Taylor``."""


class AffineTransform:
    """``(points, raw) -> outputs``: ``raw``, with ``B + φ·raw`` on the columns ``fields``."""

    fields: tuple[int, ...]

    def __call__(self, points: Tensor, raw: Tensor) -> Tensor:
        offset, scale = self.affine(points)
        full_offset, full_scale = torch.zeros_like(raw), torch.ones_like(raw)
        full_offset[:, self.fields], full_scale[:, self.fields] = offset.T, scale.T
        return full_offset + full_scale * raw

    def affine(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, φ)`` at ``points``: ``(len(fields), N)`` and ``(1, N)`` (or one row per field)."""
        return self._affine(points, taylor=False)

    def affine_taylor(self, points: Tensor) -> tuple[Taylor, Taylor]:
        """The ``Taylor`` of ``B`` and of ``φ`` at ``points`` (no autograd graph)."""
        return self._affine(points.detach(), taylor=True)

    def _affine(self, points: Tensor, taylor: bool) -> tuple[Number, Number]:
        """``(B, φ)`` as values, or as Taylors when ``taylor``."""
        raise NotImplementedError
