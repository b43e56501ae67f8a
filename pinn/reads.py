"""Which derivatives a residual reads, found by running it once on a recording engine.

The forward engine carries only the derivatives a term's residual needs. They are found by
evaluating the residual on the first point of the batch with ``ReadRecorder``, an engine
that answers every ``derivative(field, wrt)`` with zeros and notes the ``(field, wrt)``
asked for. (``Fields.reads`` records the names read, coordinates and normals included; the
engine sees the same reads already resolved to fields and sorted coordinate indices.) A
residual reads the same names at every point, so one point tells them all; it costs one
residual evaluation on a single point.
"""

from __future__ import annotations

import torch

from pdes.problem import Problem, Term
from pinn.derivatives import Key
from pinn.jets import Wrt

Tensor = torch.Tensor


class ReadRecorder:
    """A derivative engine at ``points[:1]`` that returns zeros and records every ``(field, wrt)`` read."""

    def __init__(self, points: Tensor):
        self.points = points[:1].detach()
        self.read: set[Key] = set()

    def derivative(self, field: int, wrt: Wrt) -> Tensor:
        self.read.add((field, wrt))
        return torch.zeros_like(self.points[..., 0])


def derivatives_read(problem: Problem, term: Term, points: Tensor) -> frozenset[Key]:
    """The ``(field, wrt)`` pairs ``term``'s residual reads, at the first of ``points``."""
    recorder = ReadRecorder(points)
    term.residual(problem.fields_at(recorder, term.region))
    return frozenset(recorder.read)
