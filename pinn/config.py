"""Solver settings: one dataclass, validated, the ``config`` block of report.json, a TOML file.

Each setting is declared once, as a field of ``Config`` made by ``setting``: its default, its
one-line doc, its fixed choices and its flag's metavar. The ``pinn`` command's flags and their
``--help`` come from the fields (``lr_decay`` → ``--lr-decay``, ``pinn.cli.add_solver_options``);
``Config.to_toml`` writes a run's settings (and its problem parameters as a ``[params]`` table)
and ``read_toml`` reads and type-checks such a file (``pinn solve PROBLEM --config run.toml``).
This module imports nothing of the solver's engines (``pinn.choices`` names their choices).
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
import tomllib
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

import samplers
from pinn.choices import (
    ACTIVATIONS,
    BACKBONES,
    BATCH_COUPLED_NORMS,
    DEVICES,
    DTYPES,
    ENGINES,
    NORMS,
    PIRATE_NORMS,
    check_choice,
    check_compile_available,
)

SAMPLER_OPTIONS = {
    "pool": "size",
    "base_sampler": "base",
    "refresh_every": "every",
    "candidates": "candidates",
    "rad_k": "k",
    "rad_c": "c",
    "rar_add": "add",
}
"""Config field → option of the rules (``samplers.options``) that take it."""


def setting(
    default: object,
    doc: str,
    *,
    choices: Collection[str] | Callable[[], Collection[str]] | None = None,
    metavar: str | None = None,
) -> typing.Any:
    """A Config field: ``default``, one-line ``doc`` (its flag's help), fixed ``choices`` or a function giving them,
    and the flag's ``metavar``."""
    return dataclasses.field(default=default, metadata={"doc": doc, "choices": choices, "metavar": metavar})


def choices_of(field: dataclasses.Field) -> tuple[str, ...] | None:
    """The valid values of a Config field with fixed choices, else ``None``."""
    choices = field.metadata["choices"]
    return tuple(choices() if callable(choices) else choices) if choices is not None else None


@dataclass(frozen=True)
class Config:
    """Everything that defines a run besides the problem.

    ``steps`` Adam steps with learning rate ``lr`` decaying exponentially to
    ``lr · lr_decay`` at the last step (after a linear warm-up over the first ``warmup_steps``),
    then ``lbfgs_steps`` L-BFGS iterations on one fixed batch; every term gets ``batch`` points
    per step from ``sampler``. Errors against the reference are measured every ``eval_every`` steps on
    ``eval_points`` fixed points of the domain. The backbone (``pinn.nn.MLP``) has
    ``depth`` hidden layers of ``width`` units with ``norm`` after each linear layer,
    optionally random Fourier features of scale ``fourier_scale`` and the modified MLP's gating;
    ``backbone="pirate"`` is ``pinn.pirate.PirateNet``, ``depth`` blocks of three such layers.

    Sampler options (each only for the rules that take it, see ``SAMPLER_OPTIONS``):
    ``pool`` points drawn once by ``base_sampler`` (``"fresh"``: a new draw every step);
    RAD/RAR redraw ``candidates`` points every ``refresh_every`` steps, RAD with density
    ``∝ |r|^rad_k / mean + rad_c``, RAR adding the ``rar_add`` worst to its pool.
    Quadrature statistics over ``replicates`` draws per term are recorded every
    ``statistics_every`` steps (0: only at the end) and at the end.
    ``balance_every`` > 0 balances the terms' weights by their gradient norms every that
    many Adam steps (``pinn.balance``; 0: the Terms' fixed weights only).
    ``causal_epsilon`` > 0 weights the PDE residual of a time-dependent problem causally over
    ``causal_bins`` bins of its time interval (``pinn.causal``).
    On several processes (``pinn.distributed``) ``batch`` is per process, and a BatchNorm
    backbone normalizes over the global batch unless ``local_norm_stats`` keeps each
    process's own statistics.
    ``shared_points`` evaluates the terms on one region (e.g. the momentum and continuity
    equations on the domain) at one shared batch per step instead of a batch each, and their
    residuals in one derivative pass (``pinn.solver``).
    ``engine`` computes the residuals' derivatives (``pinn.plan.StepPlan``: ``auto``,
    ``forward`` or ``autograd``); ``compile`` runs the training loss through ``torch.compile``
    (``pinn.compiled``).
    """

    steps: int = setting(5000, "Adam steps")
    lbfgs_steps: int = setting(500, "L-BFGS iterations after Adam, on one fixed batch")
    batch: int = setting(4096, "points per term per step (per process under torchrun)")
    sampler: str = setting("sobol", "quadrature rule", choices=samplers.names)
    backbone: str = setting(
        "mlp", "network: mlp, or pirate (PirateNet: depth residual gated blocks on Fourier features)", choices=BACKBONES
    )
    norm: str = setting("none", "normalization after each hidden linear layer", choices=NORMS)
    width: int = setting(64, "hidden units per layer")
    depth: int = setting(4, "hidden layers")
    activation: str = setting("tanh", "activation of the hidden layers", choices=ACTIVATIONS)
    fourier_features: bool = setting(False, "random Fourier features of the coordinates")
    fourier_scale: float = setting(1.0, "std of the Fourier frequencies", metavar="SIGMA")
    modified_mlp: bool = setting(False, "hidden layers gate between two encoders (modified MLP)")
    lr: float = setting(1e-3, "initial Adam learning rate")
    lr_decay: float = setting(0.01, "the learning rate decays exponentially to lr * lr_decay at the last Adam step")
    warmup_steps: int = setting(0, "Adam steps of a linear learning-rate warm-up from lr/W to lr before the decay")
    device: str = setting("auto", "where to train (auto: CUDA when available)", choices=DEVICES)
    dtype: str = setting("float32", "floating-point precision", choices=DTYPES)
    seed: int = setting(0, "seed of every random stream")
    eval_every: int = setting(250, "steps between evaluations against the reference (and checkpoints)", metavar="M")
    eval_points: int = setting(8192, "fixed points of the domain the errors are measured at")
    replicates: int = setting(32, "independent draws per quadrature statistic")
    pool: int | str = setting(
        "fresh", "collocation pool size, or fresh: a new draw every step (pool, rar)", metavar="N|fresh"
    )
    base_sampler: str = setting("uniform", "rule that fills a pool or draws candidates (pool, rad, rar)")
    refresh_every: int = setting(500, "steps between resamplings (rad, rar)", metavar="M")
    candidates: int = setting(16384, "candidate points per resampling (rad, rar)")
    rad_k: float = setting(1.0, "rad density exponent k in |r|^k/mean + c")
    rad_c: float = setting(1.0, "rad density offset c in |r|^k/mean + c")
    rar_add: int = setting(64, "points rar adds to its pool per resampling")
    statistics_every: int = setting(0, "steps between quadrature statistics (0: only at the end)", metavar="M")
    balance_every: int = setting(0, "steps between gradient-norm loss balancing (0: off)", metavar="M")
    causal_epsilon: float = setting(
        0.0, "causal training: weight exp(-eps * residual of earlier times) on the PDE residual (0: off)", metavar="EPS"
    )
    causal_bins: int = setting(32, "time bins of causal training", metavar="M")
    local_norm_stats: bool = setting(
        False, "under torchrun: BatchNorm statistics of each process's batch, not of the global batch"
    )
    shared_points: bool = setting(False, "terms on one region share each step's batch and one derivative pass")
    engine: str = setting(
        "auto", "derivative engine: forward jets, nested autograd, or auto (forward where it applies)", choices=ENGINES
    )
    compile: bool = setting(False, "torch.compile the training loss (forward engine)")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            check_type(field.name, getattr(self, field.name))
        for field in dataclasses.fields(self):
            choices = choices_of(field)
            if choices is not None:
                check_choice(field.name, getattr(self, field.name), choices)
        for name in ("batch", "width", "depth", "eval_every", "eval_points", "replicates"):
            _require(getattr(self, name) >= 1, f"{name} must be a positive integer, got {getattr(self, name)}")
        _require(
            0 <= self.warmup_steps < max(self.steps, 1),
            f"warmup_steps must be from 0 to steps - 1 ({self.steps - 1}), got {self.warmup_steps}",
        )
        for name in ("steps", "lbfgs_steps"):
            _require(getattr(self, name) >= 0, f"{name} must be zero or more, got {getattr(self, name)}")
        _require(self.steps + self.lbfgs_steps >= 1, "steps + lbfgs_steps must be at least 1")
        _require(
            0 < self.lr < math.inf and 0 < self.lr_decay <= 1,
            f"need a finite lr > 0 and 0 < lr_decay <= 1, got {self.lr}, {self.lr_decay}",
        )
        _require(0 <= self.seed < 2**63, f"seed must be an integer from 0 to 2**63 - 1, got {self.seed}")
        _require(
            self.norm not in BATCH_COUPLED_NORMS or self.batch >= 2,
            f"norm '{self.norm}' normalizes over the batch of points and needs batch >= 2, got {self.batch}; "
            f"use a larger batch or a pointwise norm ({', '.join(n for n in NORMS if n not in BATCH_COUPLED_NORMS)})",
        )
        _require(
            0 < self.fourier_scale < math.inf, f"fourier_scale must be positive and finite, got {self.fourier_scale}"
        )
        _require(self.statistics_every >= 0, f"statistics_every must be zero or more, got {self.statistics_every}")
        _require(self.balance_every >= 0, f"balance_every must be zero or more, got {self.balance_every}")
        _require(
            0 <= self.causal_epsilon < math.inf,
            f"causal_epsilon must be zero or more and finite, got {self.causal_epsilon}",
        )
        _require(self.causal_bins >= 1, f"causal_bins must be a positive integer, got {self.causal_bins}")
        _require(
            not self.local_norm_stats or self.norm in BATCH_COUPLED_NORMS,
            f"local_norm_stats applies to batch-coupled norms ({', '.join(BATCH_COUPLED_NORMS)}), not '{self.norm}'",
        )
        self.check_backbone()
        self.check_sampler_options()
        if self.compile:
            check_compile_available(self.engine)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' requested but no CUDA device is available; use --device cpu or auto")

    @classmethod
    def build(cls, defaults: Mapping[str, object], settings: Mapping[str, object]) -> Config:
        """Config from the class defaults, then ``defaults`` (the problem's), then ``settings``."""
        check_names(defaults, "the problem's defaults: ")
        check_names(settings)
        merged = {**defaults, **{k: v for k, v in settings.items() if v is not None}}
        return cls(**merged)

    def check_backbone(self) -> None:
        """Raise for MLP settings given to a PirateNet (it has its own embedding and gates)."""
        if self.backbone != "pirate":
            return
        _require(
            self.norm in PIRATE_NORMS,
            f"backbone 'pirate' takes norm {', '.join(PIRATE_NORMS)} (its dense layers), not '{self.norm}'",
        )
        _require(self.width >= 2 and self.width % 2 == 0, f"backbone 'pirate' needs an even width, got {self.width}")
        _require(
            not self.modified_mlp, "backbone 'pirate' gates its blocks itself; modified_mlp applies to backbone 'mlp'"
        )

    def sampler_options(self) -> dict[str, object]:
        """The options of this run's rule: ``samplers.get(self.sampler, **self.sampler_options())``."""
        taken = samplers.options(self.sampler)
        return {option: getattr(self, name) for name, option in SAMPLER_OPTIONS.items() if option in taken}

    def check_sampler_options(self) -> None:
        """Raise if a sampler option is set for a rule that does not take it, or a rule rejects its value."""
        taken = samplers.options(self.sampler)
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for name, option in SAMPLER_OPTIONS.items():
            if option not in taken and getattr(self, name) != defaults[name]:
                users = [s for s in samplers.names() if option in samplers.options(s)]
                raise ValueError(f"{name} applies to samplers {', '.join(users)}, not to '{self.sampler}'")
        samplers.get(self.sampler, **self.sampler_options())
        if isinstance(self.pool, int) and "size" in taken:
            _require(
                self.pool >= self.batch, f"pool must hold at least one batch: pool {self.pool} < batch {self.batch}"
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_toml(self, params: Mapping[str, object] | None = None) -> str:
        """TOML text of every setting, and of ``params`` as a ``[params]`` table, that ``read_toml`` reads back.

        ``Config.build({}, read_toml(path)[0])`` equals this Config, and ``read_toml(path)[1]``
        equals ``params`` less its ``None`` values (left out: TOML has no null, and a parameter
        left out takes the problem's default). Each setting's line ends with its doc as a comment.
        """
        lines = [
            f"{f.name} = {toml_value(getattr(self, f.name))}  # {f.metadata['doc']}" for f in dataclasses.fields(self)
        ]
        if params is not None:
            lines += ["", "[params]"]
            lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in params.items() if value is not None]
        return "\n".join(lines) + "\n"

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    @property
    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


SETTING_TYPES: dict[str, tuple[type, ...]] = {
    name: typing.get_args(hint) or (hint,) for name, hint in typing.get_type_hints(Config).items()
}
"""Config field → the types its annotation allows (``int | str`` → ``(int, str)``)."""
TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def fits(value: object, kind: type) -> bool:
    """Whether ``value`` is of setting type ``kind``: only a bool for bool, any integer for int (not a bool),
    any real number for float (not a bool)."""
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real)
    return isinstance(value, kind)


def expected_type(name: str) -> str:
    """What setting ``name`` takes, in words: ``an integer or a string``."""
    return " or ".join(TYPE_NAMES[kind] for kind in SETTING_TYPES[name])


def check_type(name: str, value: object) -> None:
    """Raise ``TypeError`` (one line) if ``value`` is not of the type setting ``name`` takes (``fits``)."""
    if not any(fits(value, kind) for kind in SETTING_TYPES[name]):
        raise TypeError(f"setting '{name}' must be {expected_type(name)}, got {value!r} ({type(value).__name__})")


def check_names(names: Iterable[str], source: str = "") -> None:
    """Raise ``ValueError`` (one line, prefixed by ``source``) for the first name that is no Config field."""
    unknown = sorted(set(names) - set(SETTING_TYPES))
    if unknown:
        raise ValueError(f"{source}unknown setting '{unknown[0]}'; valid settings: {', '.join(sorted(SETTING_TYPES))}")


def read_toml(path: str | Path) -> tuple[dict[str, object], dict[str, object]]:
    """The settings (top-level keys: Config fields) and problem parameters (table ``[params]``) of a TOML file.

    Each setting must have its field's type (an integer also for a float field, made a float;
    ``true``/``false`` only for a bool field); anything wrong raises ``ValueError`` in one line
    that names the file: unreadable or invalid TOML, an unknown key (listing the valid ones),
    or a value of the wrong type (naming the expected one). Values are checked by ``Config``.
    """
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise ValueError(f"cannot read config file {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"config file {path} is not valid TOML: {error}") from None
    params = data.pop("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"{path}: params must be a table [params] of problem parameters, got {toml_shown(params)}")
    check_names(data, f"{path}: ")
    return {name: typed(name, value, path) for name, value in data.items()}, params


def typed(name: str, value: object, path: str | Path) -> object:
    """``value`` of setting ``name`` if its type fits the field (an int made a float for a float field)."""
    allowed = SETTING_TYPES[name]
    if type(value) in allowed:
        return value
    if type(value) is int and float in allowed:
        return float(value)
    raise ValueError(f"{path}: setting '{name}' must be {expected_type(name)}, got {toml_shown(value)}")


def toml_value(value: object) -> str:
    """``value`` (bool, int, float, str, a list or tuple of these, or a dict of them) as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # the shortest text that reads back to the same float; inf and nan too
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):  # an inline table; None entries left out, as TOML has no null
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    raise ValueError(f"cannot write {value!r} ({type(value).__name__}) to a TOML file")


def toml_key(key: str) -> str:
    """``key`` bare where TOML allows it, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def toml_shown(value: object) -> str:
    """A value read from TOML as its TOML text, or its kind (a table, a date) where it has no short one."""
    try:
        return toml_value(value)
    except ValueError:
        return "a table" if isinstance(value, dict) else f"a {type(value).__name__}"
