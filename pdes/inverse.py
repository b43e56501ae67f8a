"""Inverse problems: observations added to a problem, synthetic observations, and the registered inverse problems.

- ``with_data(problem, data, names)``: ``problem`` with one data term ``data_<name>`` per observed field.
- ``synthetic_data(problem, n, noise, seed)``: ``n`` observations drawn uniformly in the domain from the
  problem's reference, with Gaussian noise of standard deviation ``noise × RMS`` of each field's values.
- ``kovasznay_inverse``, ``cavity_inverse``, ``heat2d_varcoef_inverse``: problems with known answers
  (the viscosity of Kovasznay's flow, the Reynolds number of the smooth-lid cavity, the conductivity
  field of heat2d_varcoef), each from its own seeded synthetic observations.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from pdes import flow_problems, heat_problems, unknowns
from pdes.data import Data, data_terms
from pdes.problem import Problem, Term, check_positive
from pdes.unknowns import Unknown, UnknownField

Tensor = torch.Tensor

DRAW_ROUNDS = 64
"""Rounds of rejection sampling ``synthetic_data`` tries before it gives up on a domain of tiny measure."""


def with_data(problem: Problem, data: Data, names: Sequence[str] | None = None, weight: float = 1.0) -> Problem:
    """``problem`` with the terms ``data_<name>: f.<name> − f.data(name)`` for each of ``names`` (default: every
    observed value, each of which must then be a field of the problem); a name that is no field is refused."""
    if names is None:
        others = [n for n in data.names if n not in problem.fields]
        if others:
            raise ValueError(
                f"the data hold {', '.join(others)}, which {'is' if len(others) == 1 else 'are'} not a field of "
                f"problem '{problem.name}' ({', '.join(problem.fields)}); name the observed fields to fit "
                "(names=[...], --data-field u,v)"
            )
        names = list(data.names)
    for name in names:
        check_observed_field(problem, name)
    return dataclasses.replace(problem, terms=[*problem.terms, *data_terms(data, names, weight)])


def check_observed_field(problem: Problem, name: str) -> None:
    """Refuse, in one line, an observed field that is not a field of ``problem``."""
    if name not in problem.fields:
        raise ValueError(
            f"observed field '{name}' is not a field of problem '{problem.name}'; "
            f"its fields: {', '.join(problem.fields)}"
        )


INVERSE_PARAMS = ("data", "infer")
"""Parameters ``pdes.get`` takes for any problem: observations to add, and coefficients to infer (``applied``)."""
OUTSIDE = ("refuse", "drop")


def applied(problem: Problem, data: dict | None = None, infer: dict | None = None) -> Problem:
    """``problem`` with observations read from a file and known coefficients made unknown, recorded in its params.

    ``data = {"file": path, "fields": [names] or None, "outside": "refuse" | "drop", "time": t or None}``
    (``pdes.data_files.read_data``; ``sha256``, recorded on first use, must match the file's when given again);
    ``infer = {name: initial or None}`` (``pdes.unknowns.infer``). This is what ``--data`` and ``--infer`` do,
    and what rebuilds such a run's problem from its run file.
    """
    params = dict(problem.params)
    check_inverse_params(data, infer)
    if data is not None:
        data = dict(data)
        unknown = sorted(set(data) - {"file", "fields", "outside", "time", "sha256"})
        if unknown or "file" not in data:
            raise ValueError(f"data must be {{'file': path, 'fields', 'outside', 'time'}}, got keys {sorted(data)}")
        outside = data.get("outside") or "refuse"
        if outside not in OUTSIDE:
            raise ValueError(f"data outside the domain: valid choices are {', '.join(OUTSIDE)}, got {outside!r}")
        from pdes.data_files import read_data  # meshio and h5py are loaded only when data are read

        path = str(Path(data["file"]).resolve())
        digest = file_digest(path)
        if data.get("sha256") not in (None, digest):
            raise ValueError(f"the data file '{path}' changed since the run was trained on it (its SHA-256 differs)")
        fields = data.get("fields")
        for name in fields or ():
            check_observed_field(problem, name)
        observations = read_data(path, problem.coordinates, fields, data.get("time"))
        observations = observations.inside(problem.domain, drop=outside == "drop")
        problem = with_data(problem, observations, fields)
        params["data"] = {
            "file": path,
            "fields": fields,
            "outside": outside,
            "time": data.get("time"),
            "sha256": digest,
        }
    for name, initial in (infer or {}).items():
        problem = unknowns.infer(problem, name, initial)
    return dataclasses.replace(problem, params={**params, **({"infer": dict(infer)} if infer else {})})


def check_inverse_params(data: object, infer: object) -> None:
    """Refuse, in one line, ``data``/``infer`` parameters of the wrong kind (``applied``)."""
    if data is not None:
        if not isinstance(data, Mapping):
            raise ValueError(
                f"parameter data must be a table {{file = ..., fields = [...]}} (--data FILE), got {data!r}"
            )
        fields = data.get("fields")
        if fields is not None and (isinstance(fields, str) or not all(isinstance(f, str) for f in fields)):
            raise ValueError(f"data fields must be a list of field names such as ['u', 'v'], got {fields!r}")
    if infer is not None:
        if not isinstance(infer, Mapping):
            raise ValueError(
                f"parameter infer must map names to first guesses, e.g. {{nu = 0.1}} (--infer nu=0.1), got {infer!r}"
            )
        for name, guess in infer.items():
            if guess is not None and (isinstance(guess, bool) or not isinstance(guess, int | float)):
                raise ValueError(f"the first guess of '{name}' must be a number or none, got {guess!r}")


def file_digest(path: str) -> str:
    """The SHA-256 of the file at ``path`` (hex); a missing file is refused in one line."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as error:
        raise ValueError(f"cannot read the data file '{path}': {error.strerror}") from None


def synthetic_data(
    problem: Problem, n: int, noise: float = 0.0, seed: int = 0, names: Sequence[str] | None = None
) -> Data:
    """``n`` observations of ``names`` (default: the reference's fields but those it fixes only up to a constant,
    such as a pressure, whose data would fight the problem's gauge) at points uniform in the domain.

    Each value is the reference's plus Gaussian noise of standard deviation ``σ = noise × RMS`` of that
    field's exact values at the points (so ``noise=0.01`` is "1 % noise"); ``σ`` is the data's ``noise``.
    """
    if problem.reference is None:
        raise ValueError(f"problem '{problem.name}' has no reference to draw synthetic observations from")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of observations must be a positive integer, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise < float("inf"):
        raise ValueError(f"noise must be a finite relative standard deviation >= 0, e.g. 0.01, got {noise!r}")
    generator = torch.Generator().manual_seed(seed)
    points = uniform_points(problem.domain, n, generator)
    exact = problem.reference.evaluate(points)
    if isinstance(names, str):
        names = [names]
    free = problem.reference.up_to_constant
    names = [name for name in exact if name not in free] if names is None else list(names)
    for name in names:
        if name not in exact:
            raise ValueError(f"the reference of '{problem.name}' gives {', '.join(exact)}, not '{name}'")
    values, sigma = {}, {}
    for name in names:
        sigma[name] = noise * float(exact[name].square().mean().sqrt())
        values[name] = exact[name] + sigma[name] * torch.randn(n, generator=generator, dtype=torch.float64)
    return Data(points, values, noise=sigma)


def uniform_points(domain, n: int, generator: torch.Generator) -> Tensor:
    """``n`` independent points uniform in ``domain`` (rejection where its map weights points 0)."""
    kept: list[Tensor] = []
    count = 0
    for _ in range(DRAW_ROUNDS):
        u = torch.rand(2 * n, domain.cube_dim, generator=generator, dtype=torch.float64)
        x, w = domain.from_unit_cube(u)
        kept.append(x[w > 0])
        count += kept[-1].shape[0]
        if count >= n:
            return torch.cat(kept)[:n]
    raise ValueError(f"could not draw {n} points inside the domain in {DRAW_ROUNDS} rounds")


def kovasznay_inverse(points: int = 100, noise: float = 0.01, data_seed: int = 0, initial: float = 0.1) -> Problem:
    """Kovasznay's flow at Re = 20 with its viscosity ν (true 1/20) unknown, from ``points`` velocity
    observations with ``noise`` (relative, ``synthetic_data``); ν starts at ``initial``."""
    check_positive("kovasznay_inverse", "initial", initial, "the first guess of the viscosity")
    base = flow_problems.kovasznay()
    data = synthetic_data(base, points, noise, data_seed, ["u", "v"])
    true = base.coefficients["nu"]
    problem = with_data(dataclasses.replace(base, coefficients={}), data)
    return dataclasses.replace(
        problem,
        name="kovasznay_inverse",
        unknowns=[Unknown("nu", initial=initial, positive=True, true=true)],
        params={"points": points, "noise": noise, "data_seed": data_seed, "initial": initial},
        defaults=INVERSE_DEFAULTS["kovasznay_inverse"],
    )


def cavity_inverse(points: int = 200, noise: float = 0.01, data_seed: int = 0, initial: float = 50.0) -> Problem:
    """The smooth-lid cavity at Re = 100 with its Reynolds number unknown, from ``points`` velocity observations
    of the FEM reference with ``noise``; Re starts at ``initial``."""
    check_positive("cavity_inverse", "initial", initial, "the first guess of the Reynolds number")
    base = flow_problems.cavity(re=100.0, lid="smooth")
    data = synthetic_data(base, points, noise, data_seed, ["u", "v"])
    problem = with_data(dataclasses.replace(base, coefficients={}), data)
    return dataclasses.replace(
        problem,
        name="cavity_inverse",
        unknowns=[Unknown("re", initial=initial, positive=True, true=100.0)],
        params={"points": points, "noise": noise, "data_seed": data_seed, "initial": initial},
        defaults=INVERSE_DEFAULTS["cavity_inverse"],
    )


def heat2d_varcoef_inverse(points: int = 400, noise: float = 0.01, data_seed: int = 0) -> Problem:
    """heat2d_varcoef with its conductivity field κ(x, y) unknown (positive, a separate network over x, y), from
    ``points`` temperature observations of the FEM reference with ``noise``; source, boundary and initial data
    known. The residual is ``u_t − ∇·(κ∇u) − s`` with ``∇·(κ∇u) = κΔu + κ_x u_x + κ_y u_y``."""
    base = heat_problems.heat2d_varcoef()
    data = synthetic_data(base, points, noise, data_seed, ["u"])
    domain = base.domain

    def pde(f):
        flux_divergence = f.k * f.laplacian("u", "xy") + f.k_x * f.u_x + f.k_y * f.u_y
        return f.u_t - flux_divergence - heat_problems.varcoef_source(f.x, f.y, f.t)

    problem = dataclasses.replace(base, terms=[Term("pde", domain, pde)])
    conductivity = UnknownField("k", positive=True, network="separate", over="xy", true=_true_kappa)
    problem = dataclasses.replace(problem, unknowns=[conductivity])
    return dataclasses.replace(
        with_data(problem, data),
        name="heat2d_varcoef_inverse",
        params={"points": points, "noise": noise, "data_seed": data_seed},
        defaults=INVERSE_DEFAULTS["heat2d_varcoef_inverse"],
    )


def _true_kappa(x: Tensor, y: Tensor, t: Tensor) -> Tensor:
    """The conductivity of heat2d_varcoef at space-time points (it does not depend on t)."""
    return heat_problems.varcoef_kappa(x, y)


INVERSE_DEFAULTS = {
    # ν within 0.1–0.3 % for seeds 0–2 in 20–30 CPU s (the forward 1000 + 2000 steps take ~90 s).
    "kovasznay_inverse": {**flow_problems.KOVASZNAY_DEFAULTS, "steps": 300, "lbfgs_steps": 300},
    # the forward's 2000 + 3000 steps: 1000 + 1000 missed Re by 3.9 % and 7.0 % for seeds 1 and 2.
    "cavity_inverse": {**flow_problems.CAVITY_DEFAULTS["smooth"]},
    # gradient-norm balancing: κ rel L2 0.105 → 0.024 (seed 0) at the same steps; 3000 + 2000 steps without it: 0.056.
    "heat2d_varcoef_inverse": {**heat_problems.HEAT2D_DEFAULTS["exact"], "balance_every": 100},
}
"""Solver settings of the registered inverse problems: their forward problems', changed where measured
(``benchmarks/inverse.py``; the comments give the measurements)."""
