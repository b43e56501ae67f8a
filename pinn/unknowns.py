"""The trainable side of an inverse problem: unknown coefficients and unknown fields inside the model.

``with_unknowns(network, problem, bounds, activation)`` wraps the backbone in ``Inverse`` when the problem
declares unknowns (``pdes.unknowns``), so that they are parameters of the model: Adam, L-BFGS,
the run file's model state and an exact resume cover them with no code of their own.

- ``Coefficients``: one raw parameter θ per ``pdes.Unknown``; its value is ``θ``, ``exp θ``
  (``positive``) or ``lo + (hi − lo)·logistic(θ)`` (``bounds``).
- ``Inverse``: the fields ``(N, F)`` of the problem, in its order: the backbone's outputs and
  those of the separate small networks of unknown fields (``network="separate"``, each over its
  own coordinates), a softplus on the positive unknown fields; with a ``jet`` of the same, so the
  forward engine differentiates it.

``coefficient_values(model)`` is what residuals read as ``f.nu``: ``{name: 0-d tensor}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from pdes.problem import Problem
from pdes.unknowns import Unknown
from pinn.jets import Layout, elementwise, layer_jet, softplus_derivatives
from pinn.nn import MLP, BatchStatistics
from pinn.transformed import AroundNetwork

Tensor = torch.Tensor


class Coefficients(nn.Module):
    """The unknown coefficients as parameters ``raw.<name>``; ``forward()`` gives ``{name: value}``."""

    def __init__(self, unknowns: Sequence[Unknown]):
        super().__init__()
        self.unknowns = {u.name: u for u in unknowns}
        self.raw = nn.ParameterDict(
            {u.name: nn.Parameter(torch.tensor(raw_initial(u), dtype=torch.float64)) for u in unknowns}
        )

    def forward(self) -> dict[str, Tensor]:
        return {name: value_of(self.unknowns[name], raw) for name, raw in self.raw.items()}


def raw_initial(unknown: Unknown) -> float:
    """The raw parameter whose value (``value_of``) is the unknown's initial value."""
    if unknown.bounds is not None:
        lo, hi = unknown.bounds
        p = (unknown.initial - lo) / (hi - lo)
        return math.log(p / (1 - p))
    return math.log(unknown.initial) if unknown.positive else unknown.initial


def value_of(unknown: Unknown, raw: Tensor) -> Tensor:
    """The coefficient a raw parameter stands for (module docstring)."""
    if unknown.bounds is not None:
        lo, hi = unknown.bounds
        return lo + (hi - lo) * torch.sigmoid(raw)
    return torch.exp(raw) if unknown.positive else raw


class Inverse(AroundNetwork):
    """``network``'s fields and the unknown fields of ``problem`` in the problem's field order (module docstring).

    ``network`` gives every field but the separate ones (``len(problem.fields) − len(separate)``
    outputs); ``separate`` are ``(network, input indices)`` of the separate unknown fields, in the
    order of ``problem.unknown_fields``.
    """

    def __init__(self, network: nn.Module, problem: Problem, separate: Sequence[tuple[nn.Module, tuple[int, ...]]]):
        super().__init__()
        self.network = network
        self.coefficients = Coefficients(problem.unknown_coefficients)
        self.separate = nn.ModuleList(net for net, _ in separate)
        self.inputs = [list(inputs) for _, inputs in separate]
        separate_names = [u.name for u in problem.unknown_fields if u.network == "separate"]
        shared = [name for name in problem.fields if name not in separate_names]
        order = shared + separate_names
        self.register_buffer("order", torch.tensor([order.index(name) for name in problem.fields]), persistent=False)
        positive = [problem.fields.index(u.name) for u in problem.unknown_fields if u.positive]
        self.register_buffer("positive", torch.tensor(positive, dtype=torch.long), persistent=False)

    def forward(self, x: Tensor, statistics: Sequence[BatchStatistics] | None = None) -> Tensor:
        main = self.network(x) if statistics is None else self.network(x, statistics)
        parts = [main, *(net(x[:, inputs]) for net, inputs in zip(self.separate, self.inputs))]
        out = torch.cat(parts, dim=-1)[:, self.order]
        if len(self.positive):
            out = out.index_copy(1, self.positive, nn.functional.softplus(out[:, self.positive]))
        return out

    def jet(self, jet: Tensor, layout: Layout, statistics: Sequence[BatchStatistics] | None = None) -> Tensor:
        """The same as ``forward`` on jets ``(C, N, ·)``: concatenation, a column order, a softplus rule."""
        main = layer_jet(self.network, jet, layout, statistics)
        parts = [main, *(layer_jet(net, jet[..., inputs], layout) for net, inputs in zip(self.separate, self.inputs))]
        out = torch.cat(parts, dim=-1)[..., self.order]
        if len(self.positive):
            positive = elementwise(out[..., self.positive], layout, softplus_derivatives)
            out = out.index_copy(2, self.positive, positive)
        return out


def with_unknowns(network: nn.Module, problem: Problem, bounds: Tensor, activation: str) -> nn.Module:
    """``network`` alone when ``problem`` declares no unknowns, else ``Inverse`` around it, with a new ``MLP``
    (``activation``, input scaling from ``bounds`` restricted to its coordinates) per separate unknown field."""
    if not problem.unknowns:
        return network
    separate = []
    for field in problem.unknown_fields:
        if field.network == "separate":
            inputs = field.inputs(problem.coordinates)
            net = MLP(bounds[:, list(inputs)], 1, width=field.width, depth=field.depth, activation=activation)
            separate.append((net, inputs))
    return Inverse(network, problem, separate)


def check_outputs(model: nn.Module, problem: Problem) -> None:
    """Refuse, in one line, a backbone inside ``model`` (its device and dtype settled) that does not give one output
    per field but the separate unknown fields; a model without unknowns passes."""
    inverse = inverse_of(model)
    if inverse is None:
        return
    parameter = next(inverse.network.parameters())
    probe = problem.domain.bounds.mean(dim=0, keepdim=True).to(parameter.device, parameter.dtype)
    with torch.no_grad():
        got = inverse.network(probe).shape[-1]
    wanted = shared_outputs(problem)
    if got != wanted:
        separate = {u.name for u in problem.unknown_fields if u.network == "separate"}
        names = [f for f in problem.fields if f not in separate]
        raise ValueError(
            f"the network gives {got} outputs, but problem '{problem.name}' needs {wanted}, one per field it "
            f"computes ({', '.join(names)}); separate unknown fields have networks of their own"
        )


def inverse_of(model: object) -> Inverse | None:
    """The ``Inverse`` inside ``model`` (through ``functools.partial``, ``Transformed``, DDP), or None."""
    while True:
        if isinstance(model, Inverse):
            return model
        if isinstance(model, partial):
            model = model.func
        elif hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "network") and isinstance(model.network, nn.Module):
            model = model.network
        else:
            return None


def coefficient_values(model: object) -> dict[str, Tensor]:
    """``{name: value}`` of the model's unknown coefficients (empty for a problem without them)."""
    inverse = inverse_of(model)
    return {} if inverse is None else inverse.coefficients()


def shared_outputs(problem: Problem) -> int:
    """How many outputs the backbone has: every field but the separate unknown fields."""
    return len(problem.fields) - sum(u.network == "separate" for u in problem.unknown_fields)
