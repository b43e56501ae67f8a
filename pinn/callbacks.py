"""Callbacks of the training loop (``pinn.step.train``): what happens around the steps.

A callback overrides any of the hooks of ``Callback``; each gets the run (``pinn.step.Run``,
fixed) and the state (``pinn.state.TrainState``, changing). The solver's own callbacks,
in the order they run:

    DivergenceGuard  stops the run at a loss that is not finite or has grown GROWTH-fold over the
                  run's first loss, keeping the parameters of the last step before
    Balance       every ``balance_every`` Adam steps, gradient-norm balancing of the weights λ_k
    Statistics    every ``statistics_every`` Adam steps, quadrature statistics into the history
    Evaluation    every ``eval_every`` Adam steps and after every L-BFGS step, errors into the history
    Checkpoint    at every evaluation, the run file (``out/run.h5``)
    ProgressBar   a tqdm bar with the loss and errors at each evaluation

then a user's (``pinn.solve(..., callbacks=[...])``), e.g. ``CSVLogger`` or ``TensorBoardLogger``.
Every process calls every callback; only rank 0 writes files and shows progress.
"""

from __future__ import annotations

import csv
import io as io_text
import sys
from collections.abc import Mapping
from pathlib import Path

import torch
from tqdm.auto import tqdm

from pinn import balance, distributed, io
from pinn.nn import training_mode
from pinn.plan import total_loss
from pinn.report import field_errors, predict, quadrature_statistics
from pinn.state import STATISTICS_STREAM, TrainState
from pinn.step import Run, StepRecord
from pinn.unknowns import coefficient_values

Tensor = torch.Tensor


class Diverged(RuntimeError):
    """The loss became NaN or infinite, or grew by orders of magnitude; the message says where and
    what was kept. ``result`` is the run as it stood (its report's ``status`` is ``"diverged"``),
    once the solver has measured it."""

    result = None


class Callback:
    """The hooks of the training loop; each does nothing unless overridden."""

    def on_train_begin(self, run: Run, state: TrainState) -> None:
        """Before the first step of this process (also of a resumed run)."""

    def on_step_begin(self, run: Run, state: TrainState, phase: str) -> None:
        """Before an Adam step (``phase`` "adam") or an L-BFGS step ("lbfgs")."""

    def on_losses(
        self, run: Run, state: TrainState, phase: str, losses: Mapping[str, Tensor], means: Mapping[str, Tensor]
    ) -> None:
        """At every loss evaluation, before its backward pass: this process's term ``losses``
        (with their graphs) and their ``means`` over processes (detached). L-BFGS evaluates
        several times per step."""

    def on_step_end(self, run: Run, state: TrainState, record: StepRecord) -> None:
        """After every step, once the history holds it."""

    def on_train_end(self, run: Run, state: TrainState) -> None:
        """When the loop ends, however it ends."""


def evaluation_due(run: Run, record: StepRecord) -> bool:
    """Whether errors are measured (and the run file written) after this step: every
    ``eval_every`` Adam steps, after every L-BFGS chunk, and after the last step of a run
    without L-BFGS (so that every run's history ends with its final errors)."""
    config = run.config
    last = record.step >= config.steps and config.lbfgs_steps == 0
    return record.phase == "lbfgs" or record.step % config.eval_every == 0 or last


GROWTH = 1e6
"""A run whose loss exceeds GROWTH times its first loss (that of the initial parameters) has diverged."""


class DivergenceGuard(Callback):
    """Raise ``Diverged`` at the first loss that is not finite or exceeds ``GROWTH`` times the run's
    first loss, after restoring the last parameters (and BatchNorm running averages) whose loss was
    accepted: for an Adam step those the previous step began with (the step's own gave the bad
    loss), for an L-BFGS step those it began with. An L-BFGS step is judged for growth by the loss it
    ends with (its line search tries large steps on purpose); a NaN during it stops it at once."""

    def on_train_begin(self, run: Run, state: TrainState) -> None:
        self.current = self.previous = None

    def on_step_begin(self, run: Run, state: TrainState, phase: str) -> None:
        self.previous = self.current
        self.current = {k: v.detach().clone() for k, v in state.model.state_dict().items()}

    def on_losses(self, run, state, phase, losses, means) -> None:
        bad = [name for name, value in means.items() if not torch.isfinite(value)]
        if bad:
            self.stop(run, state, f"loss of term '{bad[0]}' became {float(means[bad[0]])}", phase)
        if phase == "adam":
            self.check_growth(run, state, float(total_loss(run.problem, means, state.weights)), phase)

    def on_step_end(self, run, state, record) -> None:
        if record.phase == "lbfgs":
            self.check_growth(run, state, record.loss, record.phase)

    def check_growth(self, run: Run, state: TrainState, loss: float, phase: str) -> None:
        first = state.history["loss"][0] if state.history["loss"] else loss
        if first > 0 and loss > GROWTH * first:
            self.stop(run, state, f"loss grew to {loss:.3g}, over {GROWTH:.0e} times its first {first:.3g},", phase)

    def stop(self, run: Run, state: TrainState, what: str, phase: str) -> None:
        kept = self.previous if phase == "adam" and self.previous is not None else self.current
        state.model.load_state_dict(kept)
        where = f" in {run.out / 'run.h5'}" if run.out is not None else ""
        raise Diverged(
            f"{what} at step {state.step} ({phase}); the last parameters with an accepted loss were kept{where}"
        )


class Balance(Callback):
    """Every ``every`` Adam steps (from step 0), the balancing weights λ_k from the terms' gradient
    norms (``pinn.balance``), averaged over processes; each update goes into the history's ``weights``."""

    def __init__(self, every: int):
        self.every = every

    def on_losses(self, run, state, phase, losses, means) -> None:
        if phase != "adam" or state.step % self.every:
            return
        weights = balance.updated_weights(state.weights, losses, state.parameters)
        state.weights = run.processes.mean_floats(weights)
        state.history["weights"].append({"step": state.step, "weights": dict(state.weights)})


def statistics(run: Run, state: TrainState) -> dict[str, dict[str, float]]:
    """Quadrature statistics of every term now (report.json's block, of the global batch), also into the history."""
    c = run.config
    generator = state.generators[STATISTICS_STREAM]
    stats = quadrature_statistics(
        state.model, run.problem, state.rules, c.batch, c.replicates, generator, run.device, state.dtype
    )
    if run.processes.size > 1:
        stats = distributed.combine_statistics(run.processes.all_gather(stats), c.batch)
    state.history["quadrature"].append({"step": state.step, "terms": stats})
    return stats


class Statistics(Callback):
    """Every ``every`` Adam steps, ``statistics`` into the history."""

    def __init__(self, every: int):
        self.every = every

    def on_step_end(self, run, state, record) -> None:
        if record.phase == "adam" and record.step % self.every == 0:
            statistics(run, state)


class Evaluation(Callback):
    """Errors against the reference at fixed ``points`` (``reference`` values there, or None: no errors).

    At every due step (``evaluation_due``) the errors, the seconds since the run began and the
    values of the unknown coefficients (``pinn.unknowns``) go into the history's ``eval``.
    """

    def __init__(self, points: Tensor, reference: Mapping[str, Tensor] | None, up_to_constant: tuple[str, ...]):
        self.points, self.reference, self.up_to_constant = points, reference, up_to_constant

    def errors(self, run: Run, state: TrainState) -> dict[str, dict[str, float]]:
        """Per field ``rel_l2`` and ``max_abs`` now, in evaluation mode (``pinn.report.field_errors``)."""
        if self.reference is None:
            return {}
        with training_mode(state.model, False):
            prediction = predict(state.model, run.problem, self.points.to(run.device, state.dtype))
        return field_errors(prediction, self.reference, self.up_to_constant)

    def on_step_end(self, run, state, record) -> None:
        if evaluation_due(run, record):
            entry = {"step": state.step, "wall_s": run.wall_time(state), "errors": self.errors(run, state)}
            coefficients = coefficient_values(state.model)
            if coefficients:
                entry["unknowns"] = {name: float(value.detach()) for name, value in coefficients.items()}
            state.history["eval"].append(entry)


class Checkpoint(Callback):
    """The run file ``out/run.h5`` and the history as ``out/history.csv`` (``history_table``) at every
    evaluation (``save``: rank 0 writes, every rank must call)."""

    def __init__(self, reference: Mapping):
        self.reference = reference

    def save(self, run: Run, state: TrainState, complete: bool, report: dict | None = None) -> None:
        if run.out is None:
            return
        ranks = run.processes.gather(state.rank_state())
        if ranks is None:
            return
        io.save_run(
            run.out / "run.h5",
            problem=run.problem.name,
            source=run.problem.source,
            params=run.problem.params,
            config=run.config.to_dict(),
            reference=self.reference,
            model_state=state.model.state_dict(),
            training_state=state.state_dict(run.wall_time(state), ranks[1:]),
            history=state.history,
            step=state.step,
            complete=complete,
            report=report,
        )
        io.write_text(run.out / "history.csv", history_table(run.problem, state.history))

    def on_step_end(self, run, state, record) -> None:
        if evaluation_due(run, record):
            self.save(run, state, complete=False)


class ProgressBar(Callback):
    """A tqdm bar on stderr over Adam and L-BFGS steps, with the loss of every step and the errors
    of the latest evaluation."""

    def __init__(self, enabled: bool = True):
        self.enabled, self.errors = enabled, {}

    def on_train_begin(self, run, state) -> None:
        c = run.config
        self.bar = tqdm(
            total=c.steps + c.lbfgs_steps,
            initial=min(state.step, c.steps) + state.lbfgs_used,
            disable=not (self.enabled and run.processes.main),
            desc=run.problem.name,
            file=sys.stderr,
        )

    def on_step_end(self, run, state, record) -> None:
        if evaluation_due(run, record):
            errors = latest_errors(state, record.step)
            self.errors = {f"{name}_rel_l2": f"{e['rel_l2']:.2e}" for name, e in errors.items()}
        self.bar.set_postfix({"loss": f"{record.loss:.2e}", **self.errors}, refresh=False)
        self.bar.update(record.advanced)

    def on_train_end(self, run, state) -> None:
        self.bar.close()


def latest_errors(state: TrainState, step: int) -> dict[str, dict[str, float]]:
    """The errors measured after ``step``, or none when that step had no evaluation."""
    evaluations = state.history["eval"]
    return evaluations[-1]["errors"] if evaluations and evaluations[-1]["step"] == step else {}


def reference_fields(problem) -> list[str]:
    """The fields whose errors are measured: those of the problem's reference."""
    return list(problem.reference.fields) if problem.reference is not None else []


def csv_header(problem) -> list[str]:
    """The columns of a history CSV: step, phase, loss, lr, each term's loss, each field's rel L2 error."""
    terms = [t.name for t in problem.terms]
    return ["step", "phase", "loss", "lr", *terms, *(f"{f}_rel_l2" for f in reference_fields(problem))]


def csv_row(step: int, phase: str, loss: float, lr: float, terms: list[float], errors: Mapping, fields) -> list:
    """One row of a history CSV; the error columns are empty on steps without an evaluation."""
    return [step, phase, loss, lr, *terms] + [errors[f]["rel_l2"] if f in errors else "" for f in fields]


def history_table(problem, history: dict) -> str:
    """The whole ``history`` as CSV text (``csv_header``), one row per step or L-BFGS chunk."""
    fields = reference_fields(problem)
    errors = {entry["step"]: entry["errors"] for entry in history["eval"]}
    text = io_text.StringIO()
    writer = csv.writer(text)
    writer.writerow(csv_header(problem))
    for k, step in enumerate(history["step"]):
        terms = [history["terms"][t.name][k] for t in problem.terms]
        row = csv_row(
            step, history["phase"][k], history["loss"][k], history["lr"][k], terms, errors.get(step, {}), fields
        )
        writer.writerow(row)
    return text.getvalue()


class CSVLogger(Callback):
    """One row per step in the CSV file ``path`` (the columns of ``csv_header``), written as the run
    goes (the solver's own ``out/history.csv`` is rewritten whole at every checkpoint).

    A new file is written (an existing one is refused); rows are flushed at every evaluation.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_train_begin(self, run, state) -> None:
        if not run.processes.main:
            self.file = None
            return
        if self.path.exists():
            raise ValueError(f"CSVLogger: '{self.path}' exists; choose a new file")
        self.file = open(self.path, "w", newline="")  # closed in on_train_end
        self.fields = reference_fields(run.problem)
        self.writer = csv.writer(self.file)
        self.writer.writerow(csv_header(run.problem))

    def on_step_end(self, run, state, record) -> None:
        if self.file is None:
            return
        errors = latest_errors(state, record.step)
        terms = list(record.terms.values())
        self.writer.writerow(csv_row(record.step, record.phase, record.loss, record.lr, terms, errors, self.fields))
        if errors:
            self.file.flush()

    def on_train_end(self, run, state) -> None:
        if self.file is not None:
            self.file.close()


class TensorBoardLogger(Callback):
    """Scalars for TensorBoard in ``log_dir``: ``loss``, ``lr``, ``terms/<term>`` every step and
    ``rel_l2/<field>`` at every evaluation. Needs the ``tensorboard`` package."""

    def __init__(self, log_dir: str | Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError(
                "TensorBoardLogger needs the tensorboard package: pip install tensorboard (or use CSVLogger)"
            ) from None
        self.log_dir, self.writer_class, self.writer = Path(log_dir), SummaryWriter, None

    def on_train_begin(self, run, state) -> None:
        if run.processes.main:
            self.writer = self.writer_class(str(self.log_dir))

    def on_step_end(self, run, state, record) -> None:
        if self.writer is None:
            return
        self.writer.add_scalar("loss", record.loss, record.step)
        self.writer.add_scalar("lr", record.lr, record.step)
        for name, value in record.terms.items():
            self.writer.add_scalar(f"terms/{name}", value, record.step)
        for name, e in latest_errors(state, record.step).items():
            self.writer.add_scalar(f"rel_l2/{name}", e["rel_l2"], record.step)

    def on_train_end(self, run, state) -> None:
        if self.writer is not None:
            self.writer.close()
