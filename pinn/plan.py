"""The step plan: what every training step of a run evaluates, decided once per run.

A PINN loss is ``L = Σ_k λ_k Σ_i w_i r_k(x_i)²``. What a step needs to evaluate it never
changes during a run, so ``StepPlan`` decides it once:

- the **groups**: terms that share a batch. With ``shared_points`` the terms on one region
  (one Region object) form a group and share one batch and one derivative pass; otherwise
  each term is its own group. The group's first term owns the rule and random stream
  that draw its batch.
- what each group's residuals **read**: the ``(field, wrt)`` derivatives, recorded on the
  group's first batch (or, by ``check_residuals`` as the solver sets up, at probe points of its
  region) by running its residuals once on ``ReadRecorder`` (an engine that answers zeros and
  notes what is asked), each checked to return one float per point
  (``pdes.problem.check_residual``). A residual reads the same names at every point,
  so they are recorded once; they are recorded again only when a residual reads something
  new (the forward engine then raises, the plan records, and the step is evaluated again).
- the **engine** of each group (``ENGINES``): ``autograd``, ``forward``, or for ``auto`` the
  forward engine where it saves work — residuals that read values only (a plain forward
  pass of any model), and second derivatives of a model the forward engine knows
  (``pinn.derivatives.forward_parts``); first-derivative residuals cost nested autograd
  about as many matrix products as the jet and fewer other operations, so they get
  ``autograd``. ``compile`` runs every group on the forward engine, single process or not
  (autograd's double backward does not compile), and the term losses through
  ``torch.compile`` (``pinn.compiled``).
- whether each group's region has outward **normals** (``f.n_x``), asked of the region once.

So each residual runs once per step. The same plan serves one-off evaluations: ``residuals``
builds a one-group plan for any terms at any points.

A model that couples the points of a batch (BatchNorm in training, ``couples_points``) is
evaluated with the statistics of the step's batch — every group's points together — held
fixed (``pinn.derivatives.pointwise``), folded once into the running averages per loss
evaluation: all terms of a step see one and the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import torch

from pdes.data import Data
from pdes.geometry import Region
from pdes.problem import Problem, Term, check_residual
from pinn.causal import Causal
from pinn.choices import ENGINES, check_choice
from pinn.compiled import compiled
from pinn.derivatives import AutogradDerivatives, ForwardDerivatives, Key, forward_parts
from pinn.jets import Wrt, is_second_order
from pinn.unknowns import coefficient_values
from samplers.quadrature import Quadrature, Rule

Tensor = torch.Tensor
Model = Callable[[Tensor], Tensor]


PROBE_POINTS = 2
"""Points a residual is first called at, by the ReadRecorder: two, so that a residual reduced over them shows."""


class ReadRecorder:
    """A derivative engine at ``points[:PROBE_POINTS]`` that returns zeros and records every ``(field, wrt)`` read."""

    def __init__(self, points: Tensor):
        self.points = points[:PROBE_POINTS].detach()
        self.read: set[Key] = set()

    def derivative(self, field: int, wrt: Wrt) -> Tensor:
        self.read.add((field, wrt))
        return torch.zeros_like(self.points[..., 0])


@dataclass
class Group:
    """Terms that share one batch; ``reads``, ``engine`` and ``normals`` are settled at the first batch."""

    terms: tuple[Term, ...]
    reads: frozenset[Key] | None = None
    engine: str | None = None
    normals: bool | None = None

    @property
    def owner(self) -> Term:
        """The term whose rule and random stream draw the group's batch."""
        return self.terms[0]

    @property
    def region(self) -> Region:
        return self.terms[0].region


class StepPlan:
    """The groups of ``problem``'s terms, what they read and the engine of each (module docstring).

    ``model`` is the run's model (to learn whether the forward engine knows it); ``compile``
    names a ``torch.compile`` backend for the term losses (``pinn.compiled``), or None.
    """

    def __init__(
        self,
        problem: Problem,
        model: Model,
        engine: str = "auto",
        shared_points: bool = False,
        terms: Sequence[Term] | None = None,
        compile: str | None = None,
        causal: Mapping[str, Causal] | None = None,
    ):
        check_choice("engine", engine, ENGINES)
        self.problem = problem
        self.causal = dict(causal or {})
        """``{term: Causal}``: the terms whose squared residuals get causal factors (``pinn.causal``)."""
        self.engine = "forward" if compile is not None else engine
        self.compile = compile
        self.known_model = forward_parts(model) is not None
        self.model = model
        self.names_read: set[str] = set()
        """Every name a residual read when the groups were settled (``Fields.reads``): coefficients included."""
        terms = problem.terms if terms is None else terms
        if not terms:
            raise ValueError(
                f"problem '{problem.name}' has no terms to train on; give it one or more Term(name, region, residual)"
            )
        by_key: dict[int, list[Term]] = {}
        for term in terms:
            by_key.setdefault(id(term.region) if shared_points else id(term), []).append(term)
        self.groups = [Group(tuple(group)) for group in by_key.values()]
        self._term_losses = self.term_losses if compile is None else compiled(self.term_losses, compile)

    # --- batches -------------------------------------------------------------------------

    def draw(
        self,
        rules: Mapping[str, Rule],
        generators: Mapping[str, torch.Generator] | torch.Generator,
        batch: int,
        device: torch.device,
        dtype: torch.dtype,
        every_observation: bool = False,
    ) -> dict[str, Quadrature]:
        """One quadrature of ``batch`` points per group, from its owner's rule and stream (or one ``generators``).

        Terms of a group get the same Quadrature object; on ``device`` in ``dtype``. A region of
        dimension 0 (a point, e.g. a pressure gauge) gets one point of weight 1: any rule's
        ``batch`` points there are copies of it, and their mean is its value. With
        ``every_observation`` (L-BFGS's fixed batch) observations come whole, not as a minibatch.
        """
        batches = {}
        for group in self.groups:
            owner = group.owner
            g = generators if isinstance(generators, torch.Generator) else generators[owner.name]
            if every_observation and isinstance(owner.region, Data):
                q = owner.region.quadrature().to(device, dtype)
            else:
                q = rules[owner.name].draw(owner.region, batch_size(owner.region, batch), g).to(device, dtype)
            batches.update(dict.fromkeys((t.name for t in group.terms), q))
        return batches

    def refresh(
        self,
        rules: Mapping[str, Rule],
        model: Model,
        step: int,
        generators: Mapping[str, torch.Generator],
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        """Hand every group's rule its residual before a step (adaptive rules resample).

        A group of several terms hands the root sum of squares ``sqrt(Σ_k r_k²)`` of its residuals.
        """
        for group in self.groups:
            owner = group.owner
            residual = residual_function(model, self.problem, group.terms, device, dtype)
            rules[owner.name].refresh(owner.region, residual, step, generators[owner.name])

    # --- losses --------------------------------------------------------------------------

    def losses(self, model: Model, batches: Mapping[str, Quadrature], update_running: bool = True) -> dict[str, Tensor]:
        """``{term: Σ_i w_i r(x_i)²}`` (unweighted by λ) at one step's ``batches``, in the problem's term order.

        A batch-coupled model uses the statistics of all the step's points, held fixed, and
        (with ``update_running``) folds them into its running averages.
        """
        if getattr(model, "couples_points", False):
            points = torch.cat([batches[group.owner.name].points for group in self.groups])
            statistics = model.batch_statistics(points)
            if update_running:
                model.update_running_statistics(statistics)
            model = partial(model, statistics=statistics)
        self._settle(batches)
        try:
            return self._term_losses(model, batches)
        except ValueError:
            if not self._read_again(batches):
                raise
            return self._term_losses(model, batches)

    def term_losses(self, model: Model, batches: Mapping[str, Quadrature]) -> dict[str, Tensor]:
        """``{term: Σ_i w_i r(x_i)²}`` (``Σ_i c(t_i) w_i r(x_i)²`` for causal terms) with the settled reads and
        engines (what ``compile`` compiles)."""
        losses = {}
        for group in self.groups:
            q = batches[group.owner.name]
            for term, r in zip(group.terms, self._residuals(model, group, q)):
                squared = r**2
                causal = self.causal.get(term.name)
                if causal is not None:
                    squared = causal.factors(q.points[:, -1], squared, q.weights) * squared
                losses[term.name] = q.mean(squared)
        return {t.name: losses[t.name] for t in self.problem.terms if t.name in losses}

    def residuals(self, model: Model, points: Tensor | Quadrature) -> list[Tensor]:
        """The residual ``(N,)`` of every term of the plan at the same ``points`` (a one-group plan); a Quadrature
        brings its observed values along (``Quadrature.values``)."""
        (group,) = self.groups
        q = points if isinstance(points, Quadrature) else Quadrature(points, points.new_ones(points.shape[0]))
        batch = {group.owner.name: q}
        self._settle(batch)
        try:
            return self._residuals(model, group, q)
        except ValueError:
            if not self._read_again(batch):
                raise
            return self._residuals(model, group, q)

    def _residuals(self, model: Model, group: Group, q: Quadrature) -> list[Tensor]:
        points = q.points
        if group.engine == "autograd":
            engine = AutogradDerivatives(model, points)
        else:
            engine = ForwardDerivatives(model, points, group.reads)
        normals = group.region.normal(points.detach()) if group.normals else None
        fields = self.problem.view(engine, normals, q.values, coefficient_values(model))
        return [check_residual(term, term.residual(fields), len(points)).to(points.dtype) for term in group.terms]

    # --- settling reads and engines ------------------------------------------------------

    def check_residuals(self, device: torch.device, dtype: torch.dtype) -> None:
        """Settle every group now, at probe points of its region on ``device`` in ``dtype``, not at its first batch.

        Every residual runs once there (on zeros, the model is not run), so one that reads an
        unknown name or does not return one float per point (``pdes.problem.check_residual``)
        is refused before training; what is settled is what the first batch would settle.
        """
        probes = {group.owner.name: probe_batch(group.region, device, dtype) for group in self.groups}
        self._settle(probes)

    def _settle(self, batches: Mapping[str, Quadrature]) -> None:
        """At a group's first batch: whether its region has normals, what it reads, its engine."""
        for group in self.groups:
            if group.reads is None:
                q = batches[group.owner.name]
                group.normals = has_normals(group.region, q.points[:1])
                group.reads = self._record(group, q)
                group.engine = self._engine_for(group.reads)

    def _read_again(self, batches: Mapping[str, Quadrature]) -> bool:
        """Record every group's reads again; whether any residual read something new."""
        changed = False
        for group in self.groups:
            reads = self._record(group, batches[group.owner.name])
            if not reads <= group.reads:
                group.reads = group.reads | reads
                group.engine = self._engine_for(group.reads)
                changed = True
        return changed

    def _record(self, group: Group, q: Quadrature) -> frozenset[Key]:
        recorder = ReadRecorder(q.points)
        normals = group.region.normal(recorder.points) if group.normals else None
        observations = None if q.values is None else {k: v[:PROBE_POINTS] for k, v in q.values.items()}
        fields = self.problem.view(recorder, normals, observations, coefficient_values(self.model))
        for term in group.terms:
            check_residual(term, term.residual(fields), len(recorder.points))
        self.names_read |= fields.reads
        return frozenset(recorder.read)

    def _engine_for(self, reads: frozenset[Key]) -> str:
        if self.engine != "auto":
            return self.engine
        values_only = all(not wrt for _, wrt in reads)
        second_order = any(is_second_order(wrt) for _, wrt in reads)
        return "forward" if values_only or (self.known_model and second_order) else "autograd"


def has_normals(region: Region, points: Tensor) -> bool:
    """Whether ``region`` gives outward normals (a boundary) — asked once, at one point."""
    try:
        region.normal(points.detach())
    except ValueError:
        return False
    return True


def probe_batch(region: Region, device: torch.device, dtype: torch.dtype) -> Quadrature:
    """``PROBE_POINTS`` fixed points of ``region`` (unit-cube points ``(k/(P+1), …)``), weight 1; the first
    observations, with their values, of a ``pdes.data.Data`` region."""
    if isinstance(region, Data):
        q = region.quadrature().subset(torch.arange(min(PROBE_POINTS, len(region))))
        return Quadrature(q.points, torch.ones(len(q), dtype=torch.float64), q.values).to(device, dtype)
    u = torch.arange(1, PROBE_POINTS + 1, dtype=torch.float64)[:, None] / (PROBE_POINTS + 1)
    points, _ = region.from_unit_cube(u.repeat(1, region.cube_dim))
    points = points.to(device, dtype)
    return Quadrature(points, points.new_ones(points.shape[0]))


def batch_size(region: Region, batch: int) -> int:
    """Points per batch on ``region``: ``batch``; one on a point (a region of dimension 0: any rule's points there
    are copies of it); at most all of them on observations (``pdes.data.Data``)."""
    if region.cube_dim == 0:
        return 1
    return min(batch, len(region)) if isinstance(region, Data) else batch


def residuals(
    model: Model, problem: Problem, terms: Sequence[Term], points: Tensor, engine: str = "auto"
) -> list[Tensor]:
    """The residual ``r_k(x_i)`` of each of ``terms`` at the same ``points``, by one derivative pass of ``engine``."""
    return StepPlan(problem, model, engine, shared_points=True, terms=[*terms]).residuals(model, points)


def residual(model: Model, problem: Problem, term: Term, points: Tensor, engine: str = "auto") -> Tensor:
    """The residual ``r(x_i)`` of ``term`` at each point, an ``(N,)`` tensor, by the derivative ``engine``."""
    (r,) = residuals(model, problem, [term], points, engine)
    return r


def residual_function(
    model: Model, problem: Problem, terms: Sequence[Term], device: torch.device, dtype: torch.dtype, chunk: int = 16384
) -> Callable[[Tensor], Tensor]:
    """``points ↦ r(x_i)`` of one term, or ``sqrt(Σ_k r_k²)`` of several at the same points (on one region).

    Float64 CPU points (or a Quadrature) in, detached float64 CPU ``(N,)`` out, evaluated in chunks. On
    observations (``pdes.data.Data``) give a Quadrature: its ``values`` are the observed values there.
    """

    region = terms[0].region

    def evaluate(points: Tensor | Quadrature) -> Tensor:
        plan = StepPlan(problem, model, shared_points=True, terms=terms)  # one group; its reads recorded once
        q = points if isinstance(points, Quadrature) else Quadrature(points, points.new_ones(len(points)))
        if isinstance(region, Data) and q.values is None:
            raise ValueError("a residual on observations is evaluated on a Quadrature that carries their values")
        parts = []
        for rows in torch.arange(len(q)).split(chunk):
            rs = plan.residuals(model, q.subset(rows).to(device, dtype))
            parts.append((rs[0] if len(rs) == 1 else torch.stack(rs).square().sum(dim=0).sqrt()).detach())
        return torch.cat(parts).to("cpu", torch.float64) if parts else torch.zeros(0, dtype=torch.float64)

    return evaluate


def total_loss(problem: Problem, losses: Mapping[str, Tensor], weights: Mapping[str, float] | None = None) -> Tensor:
    """``Σ_k λ_k L_k`` with ``λ_k`` the Term's weight, times its balancing weight if ``weights`` is given."""
    return sum(t.weight * (1.0 if weights is None else weights[t.name]) * losses[t.name] for t in problem.terms)
