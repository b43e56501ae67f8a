"""The training state: everything a run changes as it trains, and all that an exact resume needs.

``TrainState`` holds the model, both optimizers and the learning-rate schedule, the rules
and random streams of every term, the step counters, the balancing weights and the
history. ``state_dict()`` / ``load_state_dict()`` give and take all of it but the model and
the history, which the run file stores beside it (``pinn.io``); on the CPU a run resumed
from them ends with the same parameters as an uninterrupted one.

Random streams: one per term, one for the L-BFGS batch and one for the statistics, all
derived from the one seed (``stream_generators``); on several processes each rank has its
own (``pinn.distributed``), and ``state_dict`` then keeps every rank's part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import torch
from torch import nn

import samplers
from pdes.data import Data
from pdes.problem import Problem, Term
from pinn.config import Config
from pinn.nn import MLP, BatchNorm
from pinn.pirate import PirateNet
from pinn.transformed import Transformed
from pinn.unknowns import check_outputs, inverse_of, shared_outputs, with_unknowns
from samplers.empirical import Empirical
from samplers.quadrature import Quadrature, Rule, quadrature_or_none

Tensor = torch.Tensor
T = TypeVar("T")

LBFGS_STREAM, STATISTICS_STREAM = "<lbfgs>", "<statistics>"
"""Names of the two streams besides the terms' own."""


def learning_rate_schedule(adam: torch.optim.Adam, config: Config) -> torch.optim.lr_scheduler.LRScheduler:
    """Adam's learning rate: ``lr`` decaying exponentially to ``lr · lr_decay`` at the last Adam step; with
    ``warmup_steps`` W > 0, first ``lr · (k + 1)/W`` at steps ``k < W``, then the decay over the remaining steps.

    Without warm-up it is ``ExponentialLR`` (``lr`` times ``γ = lr_decay^(1/steps)`` at each step), as run
    files written before the warm-up existed hold it.
    """
    warmup = config.warmup_steps
    if warmup == 0:
        return torch.optim.lr_scheduler.ExponentialLR(adam, config.lr_decay ** (1.0 / max(config.steps, 1)))
    decay_steps = max(config.steps - warmup, 1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return config.lr_decay ** ((step - warmup) / decay_steps)

    return torch.optim.lr_scheduler.LambdaLR(adam, factor)


def backbone(problem: Problem, config: Config) -> nn.Module:
    """The solver's own network of ``config.backbone``: ``pinn.nn.MLP`` or ``pinn.pirate.PirateNet``."""
    shape = {"width": config.width, "depth": config.depth, "activation": config.activation, "norm": config.norm}
    if config.backbone == "pirate":
        return PirateNet(problem.domain.bounds, shared_outputs(problem), fourier_scale=config.fourier_scale, **shape)
    return MLP(
        problem.domain.bounds,
        shared_outputs(problem),
        fourier_features=config.fourier_features,
        fourier_scale=config.fourier_scale,
        modified_mlp=config.modified_mlp,
        **shape,
    )


def build_model(problem: Problem, config: Config, model: nn.Module | None = None) -> nn.Module:
    """The network for ``problem`` on ``config``'s device and dtype, with the problem's output transform.

    Without ``model``: the backbone the config describes (``backbone``), seeded by ``config.seed``.
    A user's ``model`` (``(N, d)`` points to ``(N, len(problem.fields))`` outputs) is used as it is.
    A problem with unknowns gets them inside the model (``pinn.unknowns.with_unknowns``; a separate
    unknown field's network seeded by ``config.seed + 1``); the backbone then gives every field but
    the separate unknown fields.
    """
    if model is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = backbone(problem, config)
    else:
        check_user_model(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed + 1)
        model = with_unknowns(model, problem, problem.domain.bounds, config.activation)
    if problem.transform is not None:
        model = Transformed(model, problem.transform)
    model = model.to(config.torch_device, config.torch_dtype)
    check_outputs(model, problem)
    return model


def check_user_model(model: object) -> None:
    """Refuse, in one line, a model that is no ``nn.Module``, has no parameters, or couples points unseen."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError(f"model {type(model).__name__} has no trainable parameters")
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm | BatchNorm) and not isinstance(model, MLP):
            raise ValueError(
                f"model {type(model).__name__} contains {type(module).__name__}, whose batch statistics would "
                "couple the points' derivatives; use the solver's MLP with norm='batch', or another norm"
            )


def adam_groups(model: nn.Module, parameters: list[Tensor], problem: Problem, lr: float) -> list[dict]:
    """Adam's parameter groups: one at ``lr``, and one per unknown coefficient that has its own ``lr``."""
    inverse = inverse_of(model)
    own = {}
    if inverse is not None:
        for unknown in problem.unknown_coefficients:
            if unknown.lr is not None:
                own[id(inverse.coefficients.raw[unknown.name])] = unknown.lr
    groups = [{"params": [p for p in parameters if id(p) not in own], "lr": lr}]
    groups += [{"params": [p], "lr": own[id(p)]} for p in parameters if id(p) in own]
    return groups


def stream_generators(seed: int, count: int, rank: int = 0) -> list[torch.Generator]:
    """``count`` independent CPU generators derived from ``seed`` for process ``rank``.

    They are children ``rank·count … rank·count + count − 1`` of ``SeedSequence(seed)``: every
    rank's streams are independent of every other's, and rank 0's are a single process's.
    """
    children = np.random.SeedSequence(seed).spawn(count * (rank + 1))[count * rank :]
    return [torch.Generator().manual_seed(int(c.generate_state(1, np.uint64)[0] >> 1)) for c in children]


def term_rules(groups: Sequence[Sequence[Term]], config: Config) -> dict[str, Rule]:
    """``{term: rule}``: one rule instance per group of terms that share a batch (``pinn.plan.StepPlan.groups``);
    observations (``pdes.data.Data``) are served by their empirical measure (``samplers.empirical.Empirical``)."""
    rules = {}
    for terms in groups:
        own = isinstance(terms[0].region, Data)
        rule = Empirical() if own else samplers.get(config.sampler, **config.sampler_options())
        rules.update(dict.fromkeys((t.name for t in terms), rule))
    return rules


def moved(batches: dict[str, Quadrature], device: torch.device, dtype: torch.dtype) -> dict[str, Quadrature]:
    """``batches`` on ``device`` in ``dtype``, terms that shared a quadrature still sharing one."""
    copies: dict[int, Quadrature] = {}
    for q in batches.values():
        copies.setdefault(id(q), q.to(device, dtype))
    return {name: copies[id(q)] for name, q in batches.items()}


def first_of_each(values: dict[str, T]) -> dict[str, T]:
    """Each object of ``values`` once, under the first name it has (terms of a group share a rule and a batch)."""
    first: dict[int, str] = {}
    for name, value in values.items():
        first.setdefault(id(value), name)
    return {name: values[name] for name in first.values()}


def batches_state(batches: dict[str, Quadrature]) -> dict:
    """``{"quadratures": {owner: q}, "terms": {term: owner}}``: each quadrature once, on the CPU, under the
    first term it serves (``first_of_each``), so that terms which shared one still share it."""
    owners = first_of_each(batches)
    owner_of = {id(q): name for name, q in owners.items()}
    return {
        "quadratures": {name: q.to("cpu", q.points.dtype).as_dict() for name, q in owners.items()},
        "terms": {name: owner_of[id(q)] for name, q in batches.items()},
    }


def batches_from_state(state: dict) -> dict[str, Quadrature]:
    """The batches of ``batches_state``."""
    quadratures = {name: quadrature_or_none(q) for name, q in state["quadratures"].items()}
    return {name: quadratures[owner] for name, owner in state["terms"].items()}


def empty_history(problem: Problem) -> dict:
    """The history of a run that has not started: per-step lists, evaluations, statistics, weights."""
    return {
        "step": [],
        "phase": [],
        "loss": [],
        "lr": [],
        "terms": {t.name: [] for t in problem.terms},
        "eval": [],
        "quadrature": [],
        "weights": [],
    }


@dataclass
class TrainState:
    """What a run changes as it trains (module docstring).

    ``step`` counts Adam steps and then L-BFGS iterations; ``lbfgs_used`` the L-BFGS
    iterations spent (all of them once L-BFGS converged); ``lbfgs_batches`` the fixed batch
    L-BFGS trains on; ``weights`` the balancing weights λ_k (None without balancing);
    ``adam_time`` the seconds spent in Adam steps and ``wall_before`` the seconds of earlier
    processes of this run.
    """

    model: nn.Module
    adam: torch.optim.Adam
    schedule: torch.optim.lr_scheduler.LRScheduler
    lbfgs: torch.optim.LBFGS
    rules: dict[str, Rule]
    generators: dict[str, torch.Generator]
    history: dict
    weights: dict[str, float] | None = None
    step: int = 0
    lbfgs_used: int = 0
    lbfgs_batches: dict[str, Quadrature] | None = None
    adam_time: float = 0.0
    wall_before: float = 0.0
    parameters: list[Tensor] = field(default_factory=list)

    @classmethod
    def create(
        cls, problem: Problem, config: Config, model: nn.Module, groups: Sequence[Sequence[Term]], rank: int = 0
    ) -> TrainState:
        """The state of a new run of ``model`` on ``problem``: a rule per group of terms sharing a batch
        (``pinn.plan.StepPlan.groups``), process ``rank``'s streams."""
        # backward(inputs=parameters): no gradient flows on to the collocation points
        parameters = [p for p in model.parameters() if p.requires_grad]
        adam = torch.optim.Adam(adam_groups(model, parameters, problem, config.lr), lr=config.lr, fused=True)
        lbfgs = torch.optim.LBFGS(
            parameters,
            lr=1.0,
            history_size=50,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-15,
        )
        names = [t.name for t in problem.terms] + [LBFGS_STREAM, STATISTICS_STREAM]
        return cls(
            model=model,
            adam=adam,
            schedule=learning_rate_schedule(adam, config),
            lbfgs=lbfgs,
            rules=term_rules(groups, config),
            generators=dict(zip(names, stream_generators(config.seed, len(names), rank))),
            history=empty_history(problem),
            weights={t.name: 1.0 for t in problem.terms} if config.balance_every else None,
            parameters=parameters,
        )

    def rank_state(self) -> dict:
        """This process's own part: its random streams, rules and L-BFGS batches (tensors on the CPU)."""
        return {
            "generators": {name: g.get_state() for name, g in self.generators.items()},
            "rules": {name: rule.state_dict() for name, rule in first_of_each(self.rules).items()},
            "lbfgs_batches": None if self.lbfgs_batches is None else batches_state(self.lbfgs_batches),
        }

    def state_dict(self, wall_time: float, other_ranks: list[dict] = ()) -> dict:
        """Everything but the model and the history that an exact resume needs, as a tree of
        tensors, numbers and containers (``pinn.tree``: run files hold no pickle).

        This process's ``rank_state`` is at the top level (rank 0's on several processes), the
        other ranks' in ``other_ranks``; ``wall_time`` is the run's seconds so far.
        """
        return {
            **self.rank_state(),
            "other_ranks": list(other_ranks),
            "adam": self.adam.state_dict(),
            "schedule": self.schedule.state_dict(),
            "lbfgs": self.lbfgs.state_dict(),
            "lbfgs_used": self.lbfgs_used,
            "adam_time": self.adam_time,
            "wall_time": wall_time,
            "balance_weights": self.weights,
        }

    def load_state_dict(self, state: dict, rank: int = 0, ranks: int = 1) -> None:
        """Continue from ``state_dict()``'s dictionary as process ``rank`` of ``ranks``."""
        parts = [state, *state.get("other_ranks", [])]
        if len(parts) != ranks:
            raise ValueError(f"the run was trained on {len(parts)} processes; resume it on as many, not {ranks}")
        own = parts[rank]
        for name, g in self.generators.items():
            g.set_state(own["generators"][name])
        for name, rule in first_of_each(self.rules).items():
            rule.load_state_dict(own["rules"][name])
        self.adam.load_state_dict(state["adam"])
        self.schedule.load_state_dict(state["schedule"])
        self.lbfgs.load_state_dict(state["lbfgs"])
        batches = own["lbfgs_batches"]
        device = self.parameters[0].device
        self.lbfgs_batches = None if batches is None else moved(batches_from_state(batches), device, self.dtype)
        self.lbfgs_used = state["lbfgs_used"]
        self.adam_time = state["adam_time"]
        self.weights = state["balance_weights"]
        self.wall_before = state["wall_time"]

    @property
    def dtype(self) -> torch.dtype:
        return self.parameters[0].dtype

    @property
    def lr(self) -> float:
        """The Adam learning rate of the next step."""
        return self.schedule.get_last_lr()[0]

    def record(self, phase: str, loss: float, losses: dict[str, float], lr: float) -> None:
        """Append one step (or L-BFGS chunk) to the history."""
        h = self.history
        h["step"].append(self.step)
        h["phase"].append(phase)
        h["loss"].append(loss)
        h["lr"].append(lr)
        for name, value in losses.items():
            h["terms"][name].append(value)

    @property
    def last_loss(self) -> float:
        return self.history["loss"][-1] if self.history["loss"] else math.nan
