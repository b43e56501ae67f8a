"""The training step and the loop that calls it: Adam with a decaying learning rate, then L-BFGS.

One Adam step (``adam_step``) takes the state and one quadrature per term and makes one
optimizer step on ``L = Σ_k λ_k Σ_i w_i r_k(x_i)²``; one L-BFGS step (``lbfgs_step``) makes
up to ``LBFGS_CHUNK`` L-BFGS iterations (strong Wolfe line search) on a fixed batch. The
loop (``train``) draws each Adam step's batches from the terms' rules (after handing the
rules their residuals, for adaptive rules), calls the step, appends it to the history and
hands it to the callbacks (``pinn.callbacks``): evaluation, quadrature statistics,
balancing, checkpoints, the progress bar and the NaN guard are callbacks, and so are a
user's. Callbacks see each step's losses before its backward pass (``on_losses``: the NaN
guard stops there, balancing sets the weights) and each finished step (``on_step_end``).

``Run`` holds what stays fixed during a run; ``pinn.state.TrainState`` what changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from torch import nn

from pdes.problem import Problem
from pinn import distributed
from pinn.causal import causal_terms
from pinn.config import Config
from pinn.distributed import Processes
from pinn.plan import StepPlan, total_loss
from pinn.state import LBFGS_STREAM, TrainState, build_model
from samplers.quadrature import Quadrature

Tensor = torch.Tensor
Batches = Mapping[str, Quadrature]

LBFGS_CHUNK = 50
"""L-BFGS iterations per L-BFGS step: between evaluations and checkpoints."""


@dataclass
class Run:
    """What stays fixed during a run: the problem, its settings, the step plan, the processes, the output.

    ``losses`` maps a step's batches to this process's term losses: the plan's, through
    DistributedDataParallel on several processes (``pinn.distributed``).
    """

    problem: Problem
    config: Config
    plan: StepPlan
    losses: Callable[[Batches], dict[str, Tensor]]
    processes: Processes
    device: torch.device
    out: Path | None = None
    started: float = 0.0

    def wall_time(self, state: TrainState) -> float:
        """Seconds of the run so far, earlier processes of a resumed run included."""
        return state.wall_before + time.perf_counter() - self.started


@dataclass(frozen=True)
class StepRecord:
    """What one step did: its phase, the step count after it, the total and per-term losses
    (means over processes), the learning rate it used and how many steps it advanced the run."""

    phase: str
    step: int
    loss: float
    terms: dict[str, float]
    lr: float
    advanced: int = 1


def setup(
    problem: Problem, config: Config, model: nn.Module | None = None, out: Path | None = None
) -> tuple[Run, TrainState]:
    """The run and a new training state of ``problem`` under ``config``: the entry to the step.

    Joins the training processes, if any (``pinn.distributed``), builds the model (or takes
    the user's ``model``, ``pinn.state.build_model``) on this process's device, its state,
    and the step plan::

        run, state = setup(problem, config)
        record = adam_step(run, state, next_batches(run, state))
    """
    processes, device = distributed.start(config.torch_device)
    network = build_model(problem, config, model).to(device)
    compile = "inductor" if config.compile else None
    causal = causal_terms(problem, config.causal_epsilon, config.causal_bins)
    if config.causal_epsilon > 0 and not causal:
        raise ValueError(
            f"causal_epsilon applies to a PDE residual on a space-time domain; {problem.name} has none "
            "(set causal_epsilon=0)"
        )
    plan = StepPlan(problem, network, config.engine, config.shared_points, compile=compile, causal=causal)
    state = TrainState.create(problem, config, network, [group.terms for group in plan.groups], processes.rank)
    parallel = distributed.parallel_losses(network, plan, processes, config.local_norm_stats)
    losses = parallel if parallel is not None else partial(plan.losses, network)
    return Run(problem, config, plan, losses, processes, device, out, time.perf_counter()), state


def next_batches(run: Run, state: TrainState) -> dict[str, Quadrature]:
    """The next Adam step's batches: every rule gets its residual (adaptive rules resample), then draws."""
    plan, device, dtype = run.plan, run.device, state.dtype
    plan.refresh(state.rules, state.model, state.step, state.generators, device, dtype)
    return plan.draw(state.rules, state.generators, run.config.batch, device, dtype)


def adam_step(run: Run, state: TrainState, batches: Batches, callbacks: Sequence = ()) -> StepRecord:
    """One Adam step on ``batches``; the learning rate then decays by the schedule."""
    losses = run.losses(batches)
    means = run.processes.mean(losses)
    for callback in callbacks:
        callback.on_losses(run, state, "adam", losses, means)
    loss = total_loss(run.problem, losses, state.weights)
    state.adam.zero_grad(set_to_none=True)
    loss.backward(inputs=state.parameters)
    state.adam.step()
    lr = state.lr
    state.schedule.step()
    state.step += 1
    return StepRecord("adam", state.step, float(total_loss(run.problem, means, state.weights)), floats(means), lr)


def lbfgs_step(
    run: Run, state: TrainState, batches: Batches, iterations: int = LBFGS_CHUNK, callbacks: Sequence = ()
) -> StepRecord:
    """Up to ``iterations`` L-BFGS iterations on the fixed ``batches``; fewer when it converges."""
    optimizer = state.lbfgs
    last: dict[str, Tensor] = {}

    def closure() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        losses = run.losses(batches)
        means = run.processes.mean(losses)
        for callback in callbacks:
            callback.on_losses(run, state, "lbfgs", losses, means)
        total_loss(run.problem, losses, state.weights).backward(inputs=state.parameters)
        last.update(means)
        return total_loss(run.problem, means, state.weights)

    group = optimizer.param_groups[0]
    group["max_iter"], group["max_eval"] = iterations, iterations * 5 // 4
    first = group["params"][0]
    before = optimizer.state[first].get("n_iter", 0)
    optimizer.step(closure)
    done = optimizer.state[first].get("n_iter", 0) - before
    state.step += done
    used = run.config.lbfgs_steps if done < iterations else state.lbfgs_used + iterations
    advanced, state.lbfgs_used = used - state.lbfgs_used, used
    loss = float(total_loss(run.problem, last, state.weights))
    return StepRecord("lbfgs", state.step, loss, floats(last), 1.0, advanced)


def train(run: Run, state: TrainState, callbacks: Sequence) -> None:
    """Adam steps up to ``config.steps``, then L-BFGS up to ``config.lbfgs_steps``, each handed to ``callbacks``.

    L-BFGS trains on one fixed batch per term, drawn once (on observations: all of them).

    Continues where ``state`` stands (a resumed run). Every callback whose ``on_train_begin``
    ran gets ``on_train_end``, however the loop ends.
    """
    config = run.config
    begun = []
    try:
        for callback in callbacks:
            callback.on_train_begin(run, state)
            begun.append(callback)
        while state.step < config.steps:
            start = time.perf_counter()
            for callback in callbacks:
                callback.on_step_begin(run, state, "adam")
            record = adam_step(run, state, next_batches(run, state), callbacks)
            state.adam_time += time.perf_counter() - start
            finish(run, state, record, callbacks)
        if state.lbfgs_used < config.lbfgs_steps and state.lbfgs_batches is None:
            generator = state.generators[LBFGS_STREAM]
            state.lbfgs_batches = run.plan.draw(
                state.rules, generator, config.batch, run.device, state.dtype, every_observation=True
            )
        while state.lbfgs_used < config.lbfgs_steps:
            for callback in callbacks:
                callback.on_step_begin(run, state, "lbfgs")
            iterations = min(LBFGS_CHUNK, config.lbfgs_steps - state.lbfgs_used)
            finish(run, state, lbfgs_step(run, state, state.lbfgs_batches, iterations, callbacks), callbacks)
    finally:
        for callback in begun:
            callback.on_train_end(run, state)


def finish(run: Run, state: TrainState, record: StepRecord, callbacks: Sequence) -> None:
    """Append ``record`` to the history and hand it to the callbacks."""
    state.record(record.phase, record.loss, record.terms, record.lr)
    for callback in callbacks:
        callback.on_step_end(run, state, record)


def floats(values: Mapping[str, Tensor]) -> dict[str, float]:
    return {name: float(value.detach()) for name, value in values.items()}
