"""``pinn.solve``: set up a run (state, step plan, callbacks), train it, and report.

A new run builds the model (``pinn.state.build_model``), its ``TrainState``, its ``StepPlan``
and the solver's callbacks (``pinn.callbacks``), then trains (``pinn.step.train``) and
writes ``out/report.json`` and ``out/run.h5`` (checkpointed at every evaluation) and the
resolved settings ``out/config.toml``. A resumed run reads all of that back from its run
file and goes on; on the CPU it ends with the same parameters as an uninterrupted run.

Under torchrun every process trains on its own quadratures with DistributedDataParallel
(``pinn.distributed``): the losses recorded are the means over ranks, quadrature statistics
are those of the global batch, rank 0 alone writes files and shows progress, and the run file
keeps every rank's random streams so that a run resumes on as many processes.
A BatchNorm backbone trains on the statistics of each step's points (``pinn.plan``); errors,
predictions and the final report use evaluation mode (running statistics), and report.json
adds the ``train_eval_gap`` between the two (``pinn.batch_statistics``).
"""

from __future__ import annotations

import dataclasses
import resource
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
from torch import nn

from pdes.problem import Problem
from pdes.reference import NoReference, ReferenceFailed
from pinn import io
from pinn.batch_statistics import train_eval_gap
from pinn.callbacks import (
    Balance,
    Callback,
    Checkpoint,
    Diverged,
    DivergenceGuard,
    Evaluation,
    ProgressBar,
    Statistics,
    statistics,
)
from pinn.choices import BATCH_COUPLED_NORMS
from pinn.config import Config
from pinn.nn import training_mode
from pinn.plan import StepPlan
from pinn.quantities import quantities_report, quantity_report
from pinn.report import (
    data_report,
    evaluation_points,
    predict,
    strict_json,
    true_field_values,
    unknowns_report,
)
from pinn.state import STATISTICS_STREAM, TrainState
from pinn.step import Run, setup, train

Tensor = torch.Tensor

__all__ = ["Diverged", "Result", "solve"]


@dataclass
class Result:
    """A finished run: its model, report.json dictionary and history."""

    problem: Problem
    model: nn.Module
    config: Config
    report: dict
    history: dict
    out: Path | None = None
    warned_outside: bool = field(default=False, repr=False, compare=False)

    def predict(self, points: Tensor) -> dict[str, Tensor]:
        """``{field: (N,)}`` at ``(N, d)`` points in the order of ``problem.coordinates``.

        Points outside the problem's domain get the network's extrapolation, with a warning
        (once per result) saying how many and the first of them.
        """
        points = torch.as_tensor(points)
        if points.ndim != 2 or points.shape[1] != len(self.problem.coordinates):
            raise ValueError(
                f"points must have shape (N, {len(self.problem.coordinates)}) "
                f"for coordinates {self.problem.coordinates}, got {tuple(points.shape)}"
            )
        if not self.warned_outside:
            self.warn_outside(points)
        p = next(self.model.parameters())
        with training_mode(self.model, False):
            return predict(self.model, self.problem, points.to(p.device, p.dtype))

    def warn_outside(self, points: Tensor) -> None:
        """Warn if some ``points`` lie outside the domain (a domain without ``contains`` is not checked)."""
        try:
            inside = self.problem.domain.contains(points.detach().cpu().to(torch.float64))
        except NotImplementedError:
            return
        outside = (~inside).nonzero().flatten()
        if len(outside):
            first = tuple(round(float(v), 6) for v in points[outside[0]])
            warnings.warn(
                f"{len(outside)} of {len(points)} points lie outside the domain of {self.problem.name} "
                f"(first: {first}); the network only extrapolates there",
                stacklevel=3,
            )
            self.warned_outside = True

    def quantity(self, name: str) -> dict:
        """The quantity of interest ``name`` of the problem (``pdes.Force``, ``pdes.Flux`` …) from the network,
        beside the reference's and the published values (``pinn.quantities.quantity_report``)."""
        return quantity_report(self.model, self.problem, name)

    def plot(self, out: str | Path | None = None, formats: Sequence[str] = ("png",)) -> list[Path]:
        """The run's pictures (``pinn.plot.plot_result``: history and field maps) into ``out``, by default
        ``self.out / "plots"``; returns the files written."""
        import pinn.plot  # matplotlib is slow to import; only pictures need it

        if out is None and self.out is None:
            raise ValueError("this result has no run directory to put its plots in; give out= a folder")
        return pinn.plot.plot_result(self, Path(out) if out is not None else self.out / "plots", formats)


def solve(
    problem: Problem,
    out: str | Path | None = None,
    progress: bool = True,
    resume: bool = False,
    warm_start: dict[str, Tensor] | None = None,
    model: nn.Module | None = None,
    callbacks: Sequence[Callback] = (),
    **settings: object,
) -> Result:
    """Train a PINN for ``problem`` and measure it against the problem's reference.

    ``settings`` are the fields of ``Config`` (steps, batch, sampler, …); unset ones take
    the problem's ``defaults``, then Config's. With ``out``, writes ``out/report.json``,
    ``out/run.h5`` (checkpointed at every evaluation) and ``out/config.toml``; an existing
    run there is never overwritten. ``resume=True`` continues the run in ``out`` with the
    settings stored in its run file (settings given must agree with them, but for more
    ``steps`` or ``lbfgs_steps``, which extend an unfinished or finished run; the history's
    ``extensions`` records each extension and the report it replaced).
    ``warm_start`` is a model state dict (of a run with the same backbone settings) to start
    from instead of the initialization. ``model`` is a user's ``torch.nn.Module`` from
    ``(N, d)`` points to ``(N, len(problem.fields))`` outputs, trained in place of the MLP
    the settings describe (the problem's output transform still applies); pass it again to
    resume or load such a run. ``callbacks`` (``pinn.callbacks.Callback``) run after the
    solver's own at every step.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"solve needs a pdes Problem, e.g. pdes.get('heat2d'), got {problem!r:.60}")
    if resume:
        if warm_start is not None:
            raise ValueError("warm_start begins a new run; it cannot be combined with resume")
        return resume_run(problem, out, progress, settings, model, callbacks)
    config = Config.build(problem.defaults, settings)
    out_dir = Path(out) if out is not None else None
    if out_dir is not None and (out_dir / "run.h5").exists():
        raise ValueError(f"'{out_dir}' already holds a run; continue it with resume (--resume) or choose another out")
    run, state, solver_callbacks = start(problem, config, model, out_dir, progress)
    if warm_start is not None:
        load_warm_start(state.model, warm_start)
    if out_dir is not None:  # made only once the run is set up: bad input leaves no folder behind
        io.ensure_writable_dir(out_dir)
        if run.processes.main:
            io.write_text(out_dir / "config.toml", settings_file(config, problem))
    return finish(run, state, [*solver_callbacks, *callbacks])


def load_warm_start(model: nn.Module, parameters: dict[str, Tensor]) -> None:
    """Start ``model`` from ``parameters``; a state of another network is refused in one line."""
    try:
        model.load_state_dict(parameters)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[-1].strip()
        raise ValueError(
            f"the warm start does not fit this problem's network ({first}); "
            "warm-start from a run of the same problem with the same width, depth, norm and features"
        ) from None


def settings_file(config: Config, problem: Problem) -> str:
    """``out/config.toml``: the resolved settings, and the problem's parameters where TOML can hold them all."""
    try:
        return config.to_toml(problem.params)
    except ValueError:  # a user's problem built from, e.g., functions
        return config.to_toml()


def resume_run(
    problem: Problem,
    out: str | Path | None,
    progress: bool,
    settings: dict[str, object],
    model: nn.Module | None,
    callbacks: Sequence[Callback],
) -> Result:
    """Continue the run in ``out`` (see ``solve``); more ``steps`` or ``lbfgs_steps`` than it had extend it."""
    if out is None:
        raise ValueError("resume needs the directory of the run to continue")
    saved = io.load_run(Path(out) / "run.h5")
    if saved["problem"] != problem.name or saved["params"] != io.recorded_params(problem.params):
        raise ValueError(
            f"'{out}' holds a run of {saved['problem']} {saved['params']}, not {problem.name} {problem.params}"
        )
    was = Config(**saved["config"])
    config = extended_config(was, settings, saved, out)
    if was.warmup_steps and config.steps != was.steps:
        raise ValueError(
            f"the run in '{out}' warms up its learning rate and decays it over its {was.steps} Adam steps; it cannot "
            "take more Adam steps (start a new run, or --warm-start from this one)"
        )
    for name, value in settings.items():
        if value is not None and getattr(config, name, value) != value:
            raise ValueError(f"{name}={value} differs from the resumed run's {name}={getattr(config, name)}")
    run, state, solver_callbacks = start(problem, config, model, Path(out), progress)
    state.model.load_state_dict(saved["model_state"])
    state.load_state_dict(saved["training_state"], run.processes.rank, run.processes.size)
    state.step, state.history = saved["step"], saved["history"]
    if config != was:
        extension = {"step": state.step, "steps": [was.steps, config.steps], "report": saved["report"]}
        extension["lbfgs_steps"] = [was.lbfgs_steps, config.lbfgs_steps]
        extension["lr_decay_per_step"] = state.schedule.gamma
        state.history.setdefault("extensions", []).append(extension)
        if run.processes.main:
            io.write_text(Path(out) / "config.toml", settings_file(config, problem))
    run.started = time.perf_counter()
    return finish(run, state, [*solver_callbacks, *callbacks])


def extended_config(config: Config, settings: dict[str, object], saved: dict, out: str | Path) -> Config:
    """``config`` with the ``steps`` and ``lbfgs_steps`` of ``settings`` where they extend the run.

    Adam steps can be added while the run has not begun L-BFGS; L-BFGS iterations always. The
    learning rate goes on decaying at the run's rate per step. A complete run with nothing to
    add, or fewer steps than the run has, is refused.
    """
    steps = config.steps if settings.get("steps") is None else settings["steps"]
    lbfgs_steps = config.lbfgs_steps if settings.get("lbfgs_steps") is None else settings["lbfgs_steps"]
    if steps < config.steps or lbfgs_steps < config.lbfgs_steps:
        raise ValueError(
            f"the run in '{out}' has {config.steps} Adam and {config.lbfgs_steps} L-BFGS steps; "
            f"a resumed run can only get more, not steps={steps}, lbfgs_steps={lbfgs_steps}"
        )
    if steps > config.steps and saved["step"] > config.steps:
        raise ValueError(
            f"the run in '{out}' has begun L-BFGS, so Adam steps cannot follow; extend it with --lbfgs-steps"
        )
    if saved["complete"] and (steps, lbfgs_steps) == (config.steps, config.lbfgs_steps):
        raise ValueError(
            f"the run in '{out}' is already complete; extend it with more steps than its {config.steps} "
            f"(--steps N) or L-BFGS steps than its {config.lbfgs_steps} (--lbfgs-steps M)"
        )
    return dataclasses.replace(config, steps=steps, lbfgs_steps=lbfgs_steps)


def start(
    problem: Problem, config: Config, model: nn.Module | None, out: Path | None, progress: bool
) -> tuple[Run, TrainState, list[Callback]]:
    """The run, its new state (``pinn.step.setup``) and the solver's callbacks (``pinn.callbacks``)."""
    run, state = setup(problem, config, model, out)
    run.plan.check_residuals(run.device, state.dtype)
    check_unknowns_read(problem, run.plan)
    points = evaluation_points(problem, config.eval_points)
    values = reference_values(problem, points)
    reference = problem.reference
    problem.check_reference_values(values, len(points))
    truth = true_field_values(problem, points)
    problem.check_reference_values(truth, len(points))
    values = {**(values or {}), **truth} or None
    evaluation = Evaluation(points, values, reference.up_to_constant if reference is not None else ())
    callbacks: list[Callback] = [DivergenceGuard()]
    if config.balance_every:
        callbacks.append(Balance(config.balance_every))
    if config.statistics_every:
        callbacks.append(Statistics(config.statistics_every))
    metadata = reference_metadata(problem)
    callbacks += [evaluation, Checkpoint(metadata), ProgressBar(progress)]
    run.started = time.perf_counter()
    return run, state, callbacks


def reference_values(problem: Problem, points: Tensor) -> dict[str, Tensor] | None:
    """The reference at the evaluation points; where a described problem's reference fails
    (``pdes.reference.ReferenceFailed``), a warning, and the problem's reference becomes a NoReference saying why,
    so that it trains and its report tells."""
    if problem.reference is None:
        return None
    try:
        return problem.reference.evaluate(points)
    except ReferenceFailed as error:
        warnings.warn(f"{error}; training without a reference", stacklevel=3)
        problem.reference = NoReference(str(error))
        return None


def check_unknowns_read(problem: Problem, plan: StepPlan) -> None:
    """Refuse, in one line, an unknown coefficient or field that no residual reads (the settled ``plan`` says what
    they read): nothing could infer it."""
    fields_read = {problem.fields[field] for group in plan.groups for field, _ in group.reads}
    for unknown in problem.unknowns:
        if unknown.name not in plan.names_read and unknown.name not in fields_read:
            raise ValueError(
                f"no residual of problem '{problem.name}' reads the unknown '{unknown.name}' (as f.{unknown.name}), "
                "so nothing could infer it; read it in a residual or do not declare it"
            )


def finish(run: Run, state: TrainState, callbacks: list[Callback]) -> Result:
    """Train, then write the report and the complete run file.

    A run that diverges (``pinn.callbacks.DivergenceGuard``) still gets its report, of the
    parameters kept, with ``status: "diverged"``, and its run file, not marked complete; then
    ``Diverged`` is raised with the Result as its ``result``.
    """
    checkpoint = next(c for c in callbacks if isinstance(c, Checkpoint))
    evaluation = next(c for c in callbacks if isinstance(c, Evaluation))
    try:
        train(run, state, callbacks)
    except Diverged as error:
        state.model.eval()
        report = build_report(run, state, evaluation, "diverged")
        checkpoint.save(run, state, complete=False, report=report)
        error.result = write_report(run, state, report)
        raise
    state.model.eval()
    report = build_report(run, state, evaluation, "complete")
    if run.config.norm in BATCH_COUPLED_NORMS:
        generator = state.generators[STATISTICS_STREAM]
        draw = partial(run.plan.draw, state.rules, generator, run.config.batch, run.device, state.dtype)
        gap = train_eval_gap(state.model, run.plan, draw, run.config.replicates)
        report = strict_json({**report, "train_eval_gap": gap}, run.config.replicates)
    checkpoint.save(run, state, complete=True, report=report)
    return write_report(run, state, report)


def write_report(run: Run, state: TrainState, report: dict) -> Result:
    """``out/report.json`` (rank 0, when the run has an ``out``), and the run's Result."""
    if run.out is not None and run.processes.main:
        io.write_json(run.out / "report.json", report)
    return Result(run.problem, state.model, run.config, report, state.history, run.out)


def build_report(run: Run, state: TrainState, evaluation: Evaluation, status: str) -> dict:
    """The report.json dictionary (DESIGN.md schema), strict JSON (``pinn.report.strict_json``);
    ``status`` is ``"complete"`` or ``"diverged"``."""
    c, problem = run.config, run.problem
    wall = run.wall_time(state)
    quadrature = statistics(run, state)
    errors = evaluation.errors(run, state)
    reference = reference_metadata(problem)
    report = {
        "problem": problem.name,
        "status": status,
        "steps_done": state.step,
        "params": io.recorded_params(problem.params),
        "device": run.device.type,
        "processes": run.processes.size,
        "dtype": c.dtype,
        "config": c.to_dict(),
        "model": model_name(state.model),
        "wall_time_s": wall,
        "steps_per_s": min(state.step, c.steps) / state.adam_time if state.adam_time > 0 else 0.0,
        "peak_memory_mb": peak_memory_mb(run.device),
        "errors": errors,
        "reference": {**reference, "points": int(evaluation.points.shape[0])},
        "quadrature": quadrature,
    }
    if problem.unknowns:
        report["unknowns"] = unknowns_report(problem, state.model, state.history, errors)
    data = data_report(problem, state.model, run.device, state.dtype)
    if data:
        report["data"] = data
    if problem.quantities:
        report["quantities"] = quantities_report(state.model, problem)
    return strict_json(report, c.replicates)


NO_REFERENCE = "the problem gives no reference (Problem(reference=...)), so the run reports no errors"


def reference_metadata(problem: Problem) -> dict:
    """report.json's ``reference``: the reference's metadata, or ``kind: none`` and why there is none."""
    if problem.reference is None:
        return {"kind": "none", "reason": NO_REFERENCE}
    return problem.reference.metadata()


def model_name(model: nn.Module) -> str:
    """The network's class name (``MLP`` for the solver's own), inside any output transform."""
    return type(getattr(model, "network", model)).__name__


def peak_memory_mb(device: torch.device) -> float:
    """Peak CUDA memory allocated on ``device``, or the process's peak resident set on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
