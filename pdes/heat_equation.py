"""``pdes.heat``: the heat equation on any domain, from one description, with its FEM reference.

    u_t = ∇·(k∇u) + f      (steady: 0 = ∇·(k∇u) + f)      in Ω × (t0, T]
    conditions on each named part of ∂Ω (``pdes.conditions``), u = u0 at t0

``k``, ``f``, ``u0`` and the condition data are numbers or torch functions of the coordinates
(``pdes.given``); ``k`` may not depend on time. The PINN residual expands
``∇·(k∇u) = kΔu + ∇k·∇u`` (``∇k`` by ``torch.func.grad``); a constant ``k`` is the problem's
coefficient ``kappa`` (read as ``f.kappa``, so ``pdes.infer`` can make it unknown). Terms:
``pde``, one per condition named by its key (``left``, ``bottom|top`` …), and ``initial``.

The reference is the P2 finite element solution (``pdes.fem.heat``, BDF2 in time) on a gmsh
mesh of the domain (``pdes.mesh_reference``); a domain the FEM cannot take (not 2D, or not
meshable) gets no reference and the report says why.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from pdes import conditions as bc
from pdes.description import (
    Setting,
    check_mesh_settings,
    check_term_names,
    checked,
    fem_unsupported,
    fingerprint,
    initial_datum,
    setting,
)
from pdes.given import Given
from pdes.mesh_reference import DEFAULT_RESOLUTION, MeshFEMReference
from pdes.problem import Fields, Problem, Term
from pdes.quantities import Physics, Quantity, bind_quantities
from pdes.reference import NoReference

Tensor = torch.Tensor

TIME_STEPS = 200
"""BDF2 steps of the FEM reference over (t0, T] unless ``time_steps`` is given."""


def heat(
    domain: object,
    conductivity: object = 1.0,
    source: object = 0.0,
    initial: object = None,
    conditions: Mapping[str, object] | None = None,
    time: tuple[float, float] | None = None,
    name: str = "heat",
    quantities: Mapping[str, Quantity] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    refine: Mapping[str, float] | None = None,
    time_steps: int = TIME_STEPS,
    defaults: Mapping[str, object] | None = None,
) -> Problem:
    """The heat problem of the description (module docstring) as a Problem with its FEM reference.

    ``quantities`` maps names to ``pdes.Flux`` / ``pdes.PointValue`` … (``pdes.quantities``);
    ``resolution`` is the reference mesh's cells across the domain's diagonal, ``refine`` cell sizes
    near named parts, ``time_steps`` its BDF2 steps; ``defaults`` solver settings for this problem.
    """
    where = setting("heat", domain, time)
    k = where.given("conductivity", conductivity, time=False)
    f = where.given("source", source)
    placed = bc.resolve(where.boundary, conditions, bc.HEAT, "heat")
    check_mesh_settings(where, resolution, refine, time_steps)
    check_term_names("heat", [p.key for p in placed], ("pde", "initial"), ("",))
    prints = {"conductivity": checked(k, where.domain, "positive"), "source": checked(f, where.domain)}
    data = {p.key: condition_data(where, p) for p in placed}
    for p in placed:
        for role, datum in data[p.key].items():
            prints[f"{p.key}:{role}"] = checked(datum, p.region, "non-negative" if role == "coefficient" else None)
    if where.time is None and all(isinstance(p.condition, bc.Neumann) for p in placed):
        raise ValueError(
            "heat: a steady problem with only Neumann conditions has a solution only up to a constant (and only if "
            "its sources balance its fluxes); give one part a Dirichlet or Robin condition"
        )
    u0 = initial_datum(where, initial)
    if u0 is not None:
        prints["initial"] = checked(u0, where.domain.initial)
    terms = [Term("pde", where.domain, pde_residual(where, k, f))]
    terms += [Term(p.key, p.region, condition_residual(where, k, p.condition, data[p.key])) for p in placed]
    if u0 is not None:
        terms.append(Term("initial", where.domain.initial, lambda fields: fields.u - u0(*space_of(fields, where))))
    description = {
        "equation": "heat",
        "dim": where.dim,
        "time": None if where.time is None else [where.time.t0, where.time.t1],
        "conductivity": k.describe(),
        "source": f.describe(),
        "conditions": {p.key: type(p.condition).__name__.lower() for p in placed},
    }
    identity = fingerprint({**description, "data": prints})
    settings = {"element": "P2", "time_steps": time_steps if where.time is not None else None}
    reason = fem_unsupported(where.space)
    if reason is None:
        solve = fem_solver(where, k, f, u0, placed, data, time_steps)
        reference = MeshFEMReference(
            name,
            where.space,
            where.coordinates,
            ("u",),
            solve,
            __name__,
            identity,
            settings,
            resolution,
            refine,
            description=description,
        )
    else:
        reference = NoReference(reason)
    return Problem(
        name=name,
        coordinates=where.coordinates,
        fields=("u",),
        domain=where.domain,
        terms=terms,
        reference=reference,
        defaults=dict(defaults or {}),
        coefficients={"kappa": k.constant[0]} if k.is_constant else {},
        quantities=bind_quantities(quantities, where, HeatPhysics(where, k, placed, data)),
    )


def condition_data(where: Setting, placed: bc.Placed) -> dict[str, Given]:
    """The data of one condition by role: ``value``, ``flux`` or ``coefficient`` (a Robin transfer coefficient,
    which may not depend on time)."""
    c, key = placed.condition, placed.key
    if isinstance(c, bc.Dirichlet):
        return {"value": where.given(f"conditions['{key}'] Dirichlet value", c.value)}
    if isinstance(c, bc.Neumann):
        return {"flux": where.given(f"conditions['{key}'] Neumann flux", c.flux)}
    return {
        "coefficient": where.given(f"conditions['{key}'] Robin coefficient", c.coefficient, time=False),
        "value": where.given(f"conditions['{key}'] Robin value", c.value),
    }


def space_of(fields: Fields, where: Setting) -> tuple[Tensor, ...]:
    """The coordinates of a batch: space, then ``t`` where the problem has time."""
    return tuple(getattr(fields, c) for c in where.coordinates)


def conductivity_at(fields: Fields, k: Given, coordinates: tuple[Tensor, ...]) -> Tensor:
    """``k`` at the batch: the coefficient ``f.kappa`` when constant, else the function."""
    return fields.kappa if k.is_constant else k(*coordinates)


def pde_residual(where: Setting, k: Given, f: Given):
    """``u_t − kΔu − ∇k·∇u − f`` (no ``u_t`` when steady)."""
    space = "".join(where.space_coordinates)

    def residual(fields: Fields) -> Tensor:
        xs = space_of(fields, where)
        diffusion = conductivity_at(fields, k, xs) * fields.laplacian("u", space)
        if not k.is_constant:
            gradient = k.gradient(*xs)
            diffusion = diffusion + sum(g * getattr(fields, f"u_{c}") for g, c in zip(gradient, space))
        r = -diffusion - f(*xs)
        return fields.u_t + r if where.time is not None else r

    return residual


def normal_derivative(fields: Fields, where: Setting) -> Tensor:
    """``∂u/∂n = Σ_c u_c n_c`` over the space coordinates."""
    return sum(getattr(fields, f"u_{c}") * getattr(fields, f"n_{c}") for c in where.space_coordinates)


def condition_residual(where: Setting, k: Given, condition: object, data: dict[str, Given]):
    """The residual of a condition: ``u − g``, ``k ∂u/∂n − h`` or ``k ∂u/∂n + a u − g``."""

    def residual(fields: Fields) -> Tensor:
        xs = space_of(fields, where)
        if isinstance(condition, bc.Dirichlet):
            return fields.u - data["value"](*xs)
        flux = conductivity_at(fields, k, xs) * normal_derivative(fields, where)
        if isinstance(condition, bc.Neumann):
            return flux - data["flux"](*xs)
        return flux + data["coefficient"](*xs) * fields.u - data["value"](*xs)

    return residual


def fem_solver(where: Setting, k: Given, f: Given, u0: Given | None, placed: list, data: dict, steps: int):
    """``solve(mesh) -> FEMSolution`` of the description by ``pdes.fem.heat`` (P2; BDF2 when there is time)."""

    def solve(mesh):
        from pdes.fem import heat as fem_heat

        dirichlet, neumann, robin = {}, {}, {}
        for p in placed:
            d = data[p.key]
            for part in p.parts:
                if isinstance(p.condition, bc.Dirichlet):
                    dirichlet[part] = d["value"].numpy
                elif isinstance(p.condition, bc.Neumann):
                    neumann[part] = d["flux"].numpy
                else:
                    robin[part] = (d["coefficient"].numpy, d["value"].numpy)
        if where.time is None:
            return fem_heat.solve_steady(mesh, k.numpy, f.numpy, dirichlet, neumann, robin, element="P2")
        return fem_heat.solve(
            mesh, k.numpy, u0.numpy, t_end=where.time.t1, steps=steps, source=f.numpy, dirichlet=dirichlet,
            neumann=neumann, robin=robin, element="P2", t_start=where.time.t0,
        )  # fmt: skip

    return solve


class HeatPhysics(Physics):
    """The heat flux ``k ∂u/∂n`` for ``pdes.Flux``, by the PINN and by the FEM: on a Neumann or Robin part from
    its data (``∫ h``, ``∫ (g − a u_h)``), on a Dirichlet part by the facet integral of ``k ∇u_h·n``."""

    equation = "heat problems"
    fields = ("u",)

    def __init__(self, where: Setting, k: Given, placed: list[bc.Placed], data: dict[str, dict[str, Given]]):
        self.where, self.k = where, k
        self.conditions = {part: (p.condition, data[p.key]) for p in placed for part in p.parts}

    def flux_integrand(self, name: str):
        def integrand(fields: Fields) -> Tensor:
            return conductivity_at(fields, self.k, space_of(fields, self.where)) * normal_derivative(fields, self.where)

        return integrand

    def fem_flux(self, parts: tuple[str, ...], time: float | None):
        def at_step(solution, step: int | None) -> float:
            return sum(self.fem_part_flux(solution, part, step, time) for part in parts)

        def value(solution) -> float:
            if time is None:
                return at_step(solution, None)
            steps, thetas = solution.time_weights(np.array([time]))
            step, theta = int(steps[0]), float(thetas[0])
            return (1 - theta) * at_step(solution, step) + theta * at_step(solution, step + 1)

        return value

    def fem_part_flux(self, solution, part: str, step: int | None, time: float | None) -> float:
        """The FEM's heat flowing in through one part (class docstring), at stored ``step``."""
        from pdes.fem.quantities import boundary_integral, heat_flux

        condition, data = self.conditions[part]
        t = () if time is None else (float(solution.times[step]),)
        if isinstance(condition, bc.Neumann):
            return boundary_integral(solution, part, lambda x, y, u: data["flux"].numpy(x, y, *t), step)
        if isinstance(condition, bc.Robin):
            a, g = data["coefficient"], data["value"]
            return boundary_integral(solution, part, lambda x, y, u: g.numpy(x, y, *t) - a.numpy(x, y) * u, step)
        return heat_flux(solution, self.k.numpy, part, step=step)
