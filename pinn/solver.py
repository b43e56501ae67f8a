"""Training: Adam with an exponentially decaying learning rate, then L-BFGS on a fixed batch.

Each Adam step draws a quadrature for every term from its own rule and random stream
(derived from the one seed), takes ``L = Σ_k λ_k Σ_i w_i r_k(x_i)²`` and steps. Every
term has its own rule instance, since pools and adaptive rules hold points of one region;
before each step the rules get the term's residual through ``rule.refresh``. With
``Config.shared_points`` the terms on one region share one rule (that of the first of them,
with its random stream) and so one batch, and adaptive rules get the root sum of squares of
their residuals; the residuals of a shared batch come from one derivative pass. Quadrature
statistics (report.quadrature_statistics) go into the history every ``statistics_every``
steps and into report.json at the end.
A non-finite loss stops the run at once; the parameters of the last finite step are
kept (and written to the run file when there is an output directory).
With ``Config.balance_every`` the terms' weights are balanced by their gradient norms
(``pinn.balance``); each update goes into the history's ``weights``. A problem's output
transform is applied inside the model (``pinn.transformed``).
A BatchNorm backbone trains on the statistics of each step's points
(``pinn.batch_statistics``); errors, predictions and the final report use evaluation
mode (running statistics), and report.json adds the ``train_eval_gap`` between the two.
Under torchrun every process trains on its own quadratures with DistributedDataParallel
(``pinn.distributed``): the losses recorded are the means over ranks, quadrature statistics
are those of the global batch, rank 0 alone writes files and shows progress, and the run file
keeps every rank's random streams so that a run resumes on as many processes.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import samplers
from pdes.problem import Problem
from pinn import distributed, io
from pinn.balance import GradNormBalance
from pinn.batch_statistics import step_losses, train_eval_gap
from pinn.compiled import compiled_step_losses
from pinn.config import Config
from pinn.loss import sharing_groups, total_loss
from pinn.nn import BATCH_COUPLED_NORMS, MLP, training_mode
from pinn.report import evaluation_points, field_errors, predict, quadrature_statistics, term_residual
from pinn.transformed import Transformed
from samplers.quadrature import Quadrature

Tensor = torch.Tensor

LBFGS_CHUNK = 50
"""L-BFGS iterations between evaluations and checkpoints."""


class Diverged(RuntimeError):
    """The loss became NaN or infinite; the message says where and what was kept."""


@dataclass
class Result:
    """A finished run: its model, report.json dictionary and history."""

    problem: Problem
    model: torch.nn.Module
    config: Config
    report: dict
    history: dict
    out: Path | None = None

    def predict(self, points: Tensor) -> dict[str, Tensor]:
        """``{field: (N,)}`` at ``(N, d)`` points in the order of ``problem.coordinates``."""
        points = torch.as_tensor(points)
        if points.ndim != 2 or points.shape[1] != len(self.problem.coordinates):
            raise ValueError(
                f"points must have shape (N, {len(self.problem.coordinates)}) "
                f"for coordinates {self.problem.coordinates}, got {tuple(points.shape)}"
            )
        p = next(self.model.parameters())
        with training_mode(self.model, False):
            return predict(self.model, self.problem, points.to(p.device, p.dtype))


def solve(
    problem: Problem,
    out: str | Path | None = None,
    progress: bool = True,
    resume: bool = False,
    warm_start: dict[str, Tensor] | None = None,
    **settings: object,
) -> Result:
    """Train a PINN for ``problem`` and measure it against the problem's reference.

    ``settings`` are the fields of ``Config`` (steps, batch, sampler, …); unset ones take
    the problem's ``defaults``, then Config's. With ``out``, writes ``out/report.json``
    and ``out/run.h5`` (checkpointed at every evaluation); an existing run there is never
    overwritten. ``resume=True`` continues the unfinished run in ``out`` with the settings
    stored in its run file (settings given must agree with them); on the CPU it ends with
    the same parameters as an uninterrupted run. ``warm_start`` is a model state dict (of a
    run with the same backbone settings) to start from instead of the initialization.
    """
    if resume:
        if warm_start is not None:
            raise ValueError("warm_start begins a new run; it cannot be combined with resume")
        return resume_run(problem, out, progress, settings)
    config = Config.build(problem.defaults, settings)
    out_dir = io.ensure_writable_dir(Path(out)) if out is not None else None
    if out_dir is not None and (out_dir / "run.h5").exists():
        raise ValueError(f"'{out_dir}' already holds a run; continue it with resume (--resume) or choose another out")
    run = Run(problem, config, out_dir, progress)
    if warm_start is not None:
        run.warm_start(warm_start)
    return run.train()


def resume_run(problem: Problem, out: str | Path | None, progress: bool, settings: dict[str, object]) -> Result:
    """Continue the unfinished run in ``out`` (see ``solve``)."""
    if out is None:
        raise ValueError("resume needs the directory of the run to continue")
    run = io.load_run(Path(out) / "run.h5")
    if run["complete"]:
        raise ValueError(f"the run in '{out}' is already complete; nothing to resume")
    if run["problem"] != problem.name or run["params"] != problem.params:
        raise ValueError(
            f"'{out}' holds a run of {run['problem']} {run['params']}, not {problem.name} {problem.params}"
        )
    config = Config(**run["config"])
    for name, value in settings.items():
        if value is not None and getattr(config, name, value) != value:
            raise ValueError(f"{name}={value} differs from the resumed run's {name}={getattr(config, name)}")
    training = Run(problem, config, Path(out), progress)
    training.restore(run)
    return training.train()


def build_model(problem: Problem, config: Config) -> MLP | Transformed:
    """The backbone for ``problem`` (and its output transform), seeded by ``config.seed``, on its device and dtype."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = MLP(
            problem.domain.bounds,
            len(problem.fields),
            width=config.width,
            depth=config.depth,
            activation=config.activation,
            norm=config.norm,
            fourier_features=config.fourier_features,
            fourier_scale=config.fourier_scale,
            modified_mlp=config.modified_mlp,
        )
    if problem.transform is not None:
        model = Transformed(model, problem.transform)
    return model.to(config.torch_device, config.torch_dtype)


def stream_generators(seed: int, count: int, rank: int = 0) -> list[torch.Generator]:
    """``count`` independent CPU generators derived from ``seed`` for process ``rank``.

    They are children ``rank·count … rank·count + count − 1`` of ``SeedSequence(seed)``: every
    rank's streams are independent of every other's, and rank 0's are a single process's.
    """
    children = np.random.SeedSequence(seed).spawn(count * (rank + 1))[count * rank :]
    return [torch.Generator().manual_seed(int(c.generate_state(1, np.uint64)[0] >> 1)) for c in children]


def term_rules(problem: Problem, config: Config) -> dict[str, samplers.Rule]:
    """``{term: rule}``: a rule instance per term, or with ``config.shared_points`` per region (Region object)."""
    by_region: dict[int, samplers.Rule] = {}
    rules = {}
    for term in problem.terms:
        key = id(term.region) if config.shared_points else id(term)
        if key not in by_region:
            by_region[key] = samplers.get(config.sampler, **config.sampler_options())
        rules[term.name] = by_region[key]
    return rules


def root_sum_of_squares(fns: list[Callable[[Tensor], Tensor]], points: Tensor) -> Tensor:
    """``sqrt(Σ_k r_k(x)²)`` of residual functions ``fns`` at ``points``."""
    return torch.stack([fn(points) for fn in fns]).square().sum(dim=0).sqrt()


def moved(batches: dict[str, Quadrature], device: torch.device, dtype: torch.dtype) -> dict[str, Quadrature]:
    """``batches`` on ``device`` in ``dtype``, terms that shared a quadrature still sharing one."""
    copies: dict[int, Quadrature] = {}
    for q in batches.values():
        copies.setdefault(id(q), q.to(device, dtype))
    return {name: copies[id(q)] for name, q in batches.items()}


class Run:
    """One training run: model, optimizers, random streams and history."""

    def __init__(self, problem: Problem, config: Config, out: Path | None, progress: bool):
        self.problem, self.config, self.out, self.progress = problem, config, out, progress
        self.processes, self.device = distributed.start(config.torch_device)
        self.dtype = config.torch_dtype
        self.model = build_model(problem, config).to(self.device)
        self.step_losses = compiled_step_losses() if config.compile else step_losses
        losses = partial(self.step_losses, engine=config.engine)
        self.parallel = distributed.parallel_losses(
            self.model, problem, losses, self.processes, config.local_norm_stats
        )
        names = [t.name for t in problem.terms]
        self.rules = term_rules(problem, config)
        generators = stream_generators(config.seed, len(names) + 2, self.processes.rank)
        self.generators = dict(zip(names, generators))
        self.lbfgs_generator, self.statistics_generator = generators[-2:]
        self.eval_points = evaluation_points(problem, config.eval_points)
        self.reference = self._reference_values()
        self.history: dict = {
            "step": [],
            "phase": [],
            "loss": [],
            "lr": [],
            "terms": {n: [] for n in names},
            "eval": [],
            "quadrature": [],
            "weights": [],
        }
        self.step = 0
        self.started = time.perf_counter()
        self.wall_before = 0.0
        self.adam_time = 0.0
        self.last_good = self._snapshot()
        # backward(inputs=self.parameters): no gradient flows on to the collocation points
        self.parameters = [p for p in self.model.parameters() if p.requires_grad]
        self.adam = torch.optim.Adam(self.parameters, lr=config.lr, fused=True)
        gamma = config.lr_decay ** (1.0 / max(config.steps, 1))
        self.schedule = torch.optim.lr_scheduler.ExponentialLR(self.adam, gamma)
        self.lbfgs = torch.optim.LBFGS(
            self.parameters,
            lr=1.0,
            history_size=50,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-15,
        )
        self.lbfgs_batches: dict[str, Quadrature] | None = None
        self.lbfgs_used = 0
        self.balance = GradNormBalance(names) if config.balance_every else None

    def warm_start(self, state: dict[str, Tensor]) -> None:
        """Start from the parameters ``state`` instead of the initialization."""
        self.model.load_state_dict(state)
        self.last_good = self._snapshot()

    @property
    def weights(self) -> dict[str, float] | None:
        """The balancing weights λ_k, or None without balancing."""
        return None if self.balance is None else self.balance.weights

    def rebalance(self, losses: dict[str, Tensor]) -> None:
        """Update the balancing weights every ``balance_every`` steps and record them in the history."""
        if self.balance is None or self.step % self.config.balance_every:
            return
        self.balance.update(losses, self.parameters)
        self.balance.weights = self.processes.mean_floats(self.balance.weights)
        self.history.setdefault("weights", []).append({"step": self.step, "weights": dict(self.balance.weights)})

    def _reference_values(self) -> dict[str, Tensor] | None:
        if self.problem.reference is None:
            return None
        return self.problem.reference.evaluate(self.eval_points)

    def draw(self, generator_of: dict[str, torch.Generator] | torch.Generator) -> dict[str, Quadrature]:
        """One quadrature per term, on the run's device and dtype; terms sharing a rule get the same one."""
        batches = {}
        for group in sharing_groups(self.problem.terms, self.rules):
            first = group[0]
            g = generator_of if isinstance(generator_of, torch.Generator) else generator_of[first.name]
            q = self.rules[first.name].draw(first.region, self.config.batch, g).to(self.device, self.dtype)
            batches.update(dict.fromkeys((t.name for t in group), q))
        return batches

    def refresh_rules(self) -> None:
        """Hand every rule its terms' residual before a step (adaptive rules resample)."""
        for group in sharing_groups(self.problem.terms, self.rules):
            fns = [term_residual(self.model, self.problem, t, self.device, self.dtype) for t in group]
            residual_fn = fns[0] if len(fns) == 1 else partial(root_sum_of_squares, fns)
            first = group[0]
            self.rules[first.name].refresh(first.region, residual_fn, self.step, self.generators[first.name])

    def losses(self, batches: dict[str, Quadrature]) -> dict[str, Tensor]:
        """This rank's term losses at ``batches`` (``step_losses``), through DDP on several processes."""
        if self.parallel is None:
            engine = "forward" if self.config.compile else self.config.engine
            return self.step_losses(self.model, self.problem, batches, engine=engine)
        return self.parallel(batches)

    def statistics(self) -> dict[str, dict[str, float]]:
        """Quadrature statistics of every term now (report.json's block, of the global batch), also in the history."""
        c = self.config
        stats = quadrature_statistics(
            self.model,
            self.problem,
            self.rules,
            c.batch,
            c.replicates,
            self.statistics_generator,
            self.device,
            self.dtype,
        )
        if self.processes.size > 1:
            stats = distributed.combine_statistics(self.processes.all_gather(stats), c.batch)
        self.history["quadrature"].append({"step": self.step, "terms": stats})
        return stats

    def train(self) -> Result:
        start = time.perf_counter() - self.wall_before
        total = self.config.steps + self.config.lbfgs_steps
        done = min(self.step, self.config.steps) + self.lbfgs_used
        with tqdm(
            total=total,
            initial=done,
            disable=not (self.progress and self.processes.main),
            desc=self.problem.name,
            file=sys.stderr,
        ) as bar:
            self.bar = bar
            self.adam_phase()
            self.lbfgs_phase()
        wall = time.perf_counter() - start
        self.model.eval()
        report = self.build_report(wall, self.adam_time)
        if self.config.norm in BATCH_COUPLED_NORMS:
            draw = partial(self.draw, self.statistics_generator)
            report["train_eval_gap"] = train_eval_gap(self.model, self.problem, draw, self.config.replicates)
        self.save(complete=True, report=report)
        if self.out is not None and self.processes.main:
            io.write_json(self.out / "report.json", report)
        return Result(self.problem, self.model, self.config, report, self.history, self.out)

    def adam_phase(self) -> None:
        """Adam steps up to ``config.steps``; their seconds accumulate in ``adam_time``."""
        optimizer, schedule = self.adam, self.schedule
        while self.step < self.config.steps:
            start = time.perf_counter()
            self.refresh_rules()
            losses = self.losses(self.draw(self.generators))
            means = self.processes.mean(losses)
            self.check_finite(means, "adam")
            self.rebalance(losses)
            loss = total_loss(self.problem, losses, self.weights)
            self.last_good = self._snapshot()
            optimizer.zero_grad(set_to_none=True)
            loss.backward(inputs=self.parameters)
            optimizer.step()
            self.record("adam", total_loss(self.problem, means, self.weights), means, schedule.get_last_lr()[0])
            schedule.step()
            self.step += 1
            self.bar.update(1)
            self.adam_time += time.perf_counter() - start
            if self.config.statistics_every and self.step % self.config.statistics_every == 0:
                self.statistics()
            if self.step % self.config.eval_every == 0:
                self.evaluate()

    def lbfgs_phase(self) -> None:
        """L-BFGS (strong Wolfe line search) on one fixed batch per term."""
        if self.lbfgs_used >= self.config.lbfgs_steps:
            return
        if self.lbfgs_batches is None:
            self.lbfgs_batches = self.draw(self.lbfgs_generator)
        batches, optimizer = self.lbfgs_batches, self.lbfgs

        def closure() -> Tensor:
            optimizer.zero_grad(set_to_none=True)
            losses = self.losses(batches)
            means = self.processes.mean(losses)
            self.check_finite(means, "lbfgs")
            total_loss(self.problem, losses, self.weights).backward(inputs=self.parameters)
            self.last_losses = (total_loss(self.problem, means, self.weights), means)
            return self.last_losses[0]

        while self.lbfgs_used < self.config.lbfgs_steps:
            chunk = min(LBFGS_CHUNK, self.config.lbfgs_steps - self.lbfgs_used)
            optimizer.param_groups[0]["max_iter"] = chunk
            optimizer.param_groups[0]["max_eval"] = chunk * 5 // 4
            self.last_good = self._snapshot()
            first = optimizer.param_groups[0]["params"][0]
            before = optimizer.state[first].get("n_iter", 0)
            optimizer.step(closure)
            done = optimizer.state[first].get("n_iter", 0) - before
            self.step += done
            converged = done < chunk
            used = self.config.lbfgs_steps if converged else self.lbfgs_used + chunk
            self.bar.update(used - self.lbfgs_used)
            self.lbfgs_used = used
            self.record("lbfgs", *self.last_losses, lr=1.0)
            self.evaluate()

    def check_finite(self, losses: dict[str, Tensor], phase: str) -> None:
        """Stop at once, keeping the last good parameters, if a term's loss is NaN or infinite."""
        bad = [name for name, value in losses.items() if not torch.isfinite(value)]
        if not bad:
            return
        self.model.load_state_dict(self.last_good)
        where = f" in {self.out / 'run.h5'}" if self.out is not None else ""
        self.save(complete=False)
        raise Diverged(
            f"loss of term '{bad[0]}' became {float(losses[bad[0]].detach())} at step {self.step} ({phase}); "
            f"the parameters of the last finite step were kept{where}"
        )

    def record(self, phase: str, loss: Tensor, losses: dict[str, Tensor], lr: float) -> None:
        h = self.history
        h["step"].append(self.step)
        h["phase"].append(phase)
        h["loss"].append(float(loss.detach()))
        h["lr"].append(lr)
        for name, value in losses.items():
            h["terms"][name].append(float(value.detach()))

    def errors(self) -> dict[str, dict[str, float]]:
        if self.reference is None:
            return {}
        with training_mode(self.model, False):
            prediction = predict(self.model, self.problem, self.eval_points.to(self.device, self.dtype))
        return field_errors(prediction, self.reference, self.problem.reference.up_to_constant)

    def evaluate(self) -> None:
        """Errors now (with the seconds since the run began), into the history, the progress bar and the run file."""
        errors = self.errors()
        elapsed = self.wall_before + time.perf_counter() - self.started
        self.history["eval"].append({"step": self.step, "wall_s": elapsed, "errors": errors})
        postfix = {"loss": f"{self.history['loss'][-1]:.2e}"}
        postfix.update({f"{name}_rel_l2": f"{e['rel_l2']:.2e}" for name, e in errors.items()})
        self.bar.set_postfix(postfix)
        self.save(complete=False)

    def build_report(self, wall: float, adam_time: float) -> dict:
        """The report.json dictionary (DESIGN.md schema)."""
        c = self.config
        quadrature = self.statistics()
        reference = self.problem.reference.metadata() if self.problem.reference is not None else {"kind": "none"}
        return {
            "problem": self.problem.name,
            "params": dict(self.problem.params),
            "device": self.device.type,
            "processes": self.processes.size,
            "dtype": c.dtype,
            "config": c.to_dict(),
            "wall_time_s": wall,
            "steps_per_s": c.steps / adam_time if adam_time > 0 else 0.0,
            "peak_memory_mb": peak_memory_mb(self.device),
            "errors": self.errors(),
            "reference": {**reference, "points": int(self.eval_points.shape[0])},
            "quadrature": quadrature,
        }

    def rank_state(self) -> dict:
        """This rank's part of the training state: its random streams, rules and L-BFGS batches (on the CPU)."""
        generators = {**self.generators, "<lbfgs>": self.lbfgs_generator, "<statistics>": self.statistics_generator}
        batches = self.lbfgs_batches
        return {
            "generators": {name: g.get_state() for name, g in generators.items()},
            "rules": self.rules,
            "lbfgs_batches": None if batches is None else moved(batches, torch.device("cpu"), self.dtype),
        }

    def training_state(self, ranks: list[dict]) -> dict:
        """Everything besides the model that an exact resume needs, given every rank's ``rank_state``.

        Rank 0's part is at the top level (as for a single process), the others' in ``other_ranks``.
        """
        return {
            **ranks[0],
            "other_ranks": ranks[1:],
            "adam": self.adam.state_dict(),
            "schedule": self.schedule.state_dict(),
            "lbfgs": self.lbfgs.state_dict(),
            "lbfgs_used": self.lbfgs_used,
            "adam_time": self.adam_time,
            "wall_time": self.wall_before + time.perf_counter() - self.started,
            "balance_weights": self.weights,
        }

    def restore(self, run: dict) -> None:
        """Continue from a run file read by ``io.load_run``."""
        state = run["training_state"]
        ranks = [state, *state.get("other_ranks", [])]
        if len(ranks) != self.processes.size:
            raise ValueError(
                f"the run was trained on {len(ranks)} processes; resume it on as many, not {self.processes.size}"
            )
        own = ranks[self.processes.rank]
        self.model.load_state_dict(run["model_state"])
        generators = {**self.generators, "<lbfgs>": self.lbfgs_generator, "<statistics>": self.statistics_generator}
        for name, g in generators.items():
            g.set_state(own["generators"][name])
        self.rules = own["rules"]
        for group in sharing_groups(self.problem.terms, self.rules):
            self.rules[group[0].name].rebind(group[0].region)
        self.adam.load_state_dict(state["adam"])
        self.schedule.load_state_dict(state["schedule"])
        self.lbfgs.load_state_dict(state["lbfgs"])
        batches = own["lbfgs_batches"]
        self.lbfgs_batches = None if batches is None else moved(batches, self.device, self.dtype)
        self.lbfgs_used = state["lbfgs_used"]
        self.adam_time = state["adam_time"]
        if self.balance is not None:
            self.balance.weights = state["balance_weights"]
        self.wall_before = state["wall_time"]
        self.started = time.perf_counter()
        self.step = run["step"]
        self.history = run["history"]
        self.last_good = self._snapshot()

    def _snapshot(self) -> dict[str, Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def save(self, complete: bool, report: dict | None = None) -> None:
        """Write the run file (rank 0, with every rank's ``rank_state``); every rank must call it."""
        if self.out is None:
            return
        ranks = self.processes.gather(self.rank_state())
        if ranks is None:
            return
        reference = self.problem.reference.metadata() if self.problem.reference is not None else {"kind": "none"}
        io.save_run(
            self.out / "run.h5",
            problem=self.problem.name,
            params=self.problem.params,
            config=self.config.to_dict(),
            reference=reference,
            model_state=self.model.state_dict(),
            training_state=self.training_state(ranks),
            history=self.history,
            step=self.step,
            complete=complete,
            report=report,
        )


def peak_memory_mb(device: torch.device) -> float:
    """Peak CUDA memory allocated on ``device``, or the process's peak resident set on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
