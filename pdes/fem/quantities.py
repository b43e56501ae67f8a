"""Quantities of interest of finite element solutions: the force of a flow on a body, heat fluxes.

- ``force_on``: the force the fluid exerts on the body bounded by a velocity (Dirichlet) part,
  ``F = ∫_part (p n − ν(∇u + ∇uᵀ) n) ds`` with n the outward normal of the fluid domain, computed in
  the weak (reaction) form ``F_k = −R(u_h, p_h; φ_k)``, where
  ``R(u, p; φ) = ∫ ν∇u:∇φ + ((u·∇)u)·φ − p ∇·φ − f·φ`` and ``φ_k`` is the P2 function equal to the
  unit vector ``e_k`` at the velocity dofs of the part and zero at all others. Integrating by parts,
  ``R(φ_k) = ∫_part (ν ∂u/∂n − p n)_k ds``; on a no-slip wall (and for any divergence-free flow
  around a closed body) ``∫ ν∇uᵀ n`` vanishes, so this is ``−F_k``. The weak form converges at the
  rate of the energy error squared, faster than the facet integral of the stress. It is meant for a
  part that is a whole closed body (a hole): where the part meets another part, ``φ_k`` also lives
  on that part's adjacent facets, which adds their traction (an O(h) share).
- ``heat_flux``: ``∫_part κ ∇u_h·n ds``, n the outward normal of the domain (a facet integral).

Point values are ``FEMSolution.evaluate``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skfem import FacetBasis, Functional
from skfem.helpers import dot, grad

from pdes.fem.navier_stokes import Force, TaylorHood
from pdes.fem.solution import ELEMENTS, FEMSolution

QUADRATURE_ORDER = 6
"""Degree of the facet quadrature of ``heat_flux``."""


def force_on(solution: FEMSolution, nu: float, part: str, force: Force | None = None) -> tuple[float, float]:
    """``(F_x, F_y)`` the fluid exerts on the body bounded by ``part`` (module docstring).

    ``solution`` a steady Taylor–Hood flow (fields u, v, p, with its boundary parts), ``nu`` its
    viscosity and ``force(x, y) -> (fx, fy)`` its body force (None: none): the solution stores neither.
    """
    if not solution.steady or solution.elements != {"u": "P2", "v": "P2", "p": "P1"}:
        raise ValueError("force_on needs a steady Taylor–Hood flow solution (fields u, v P2 and p P1)")
    if not nu > 0:
        raise ValueError(f"nu must be positive, got {nu!r}")
    th = TaylorHood(solution.mesh)
    nodes = th.part_nodes(part)
    residual = th.residual(th.state(solution.values), nu, None if force is None else th.force_load(force))
    return -float(residual[th.ux[nodes]].sum()), -float(residual[th.uy[nodes]].sum())


def heat_flux(
    solution: FEMSolution,
    kappa: Callable[..., object],
    part: str,
    step: int | None = None,
    element: str | None = None,
) -> float:
    """``∫_part κ ∇u_h·n ds`` of the field u of ``solution`` (at stored ``step`` when unsteady).

    ``kappa(x, y)`` the conductivity; ``element`` the element of u, checked against the solution's
    (None: the solution's).
    """
    facets, u = _facets(solution, part, element, step)

    @Functional
    def flux(w):
        return kappa(*w.x) * dot(grad(w["u"]), w.n)

    return float(flux.assemble(facets, u=u))


def boundary_integral(
    solution: FEMSolution, part: str, function: Callable[..., object], step: int | None = None
) -> float:
    """``∫_part function(x, y, u_h) ds`` of the field u of ``solution`` (at stored ``step`` when unsteady): the
    heat through a Neumann or Robin part from its data, ``∫ h`` or ``∫ (g − a u_h)``, which converges as u_h
    does, faster than the facet integral of its gradient."""
    facets, u = _facets(solution, part, None, step)

    @Functional
    def integral(w):
        return function(*w.x, w["u"])

    return float(integral.assemble(facets, u=u))


def _facets(solution: FEMSolution, part: str, element: str | None, step: int | None):
    """The facet basis of ``part`` and u_h interpolated on it; one line for a solution without u or the part."""
    own = solution.elements.get("u")
    if own is None:
        raise ValueError(f"heat_flux needs a solution with a field u, got fields {', '.join(solution.fields)}")
    if element is not None and element != own:
        raise ValueError(f"the solution's u is {own}, not {element}")
    parts = solution.mesh.boundaries or {}
    if part not in parts:
        raise ValueError(f"unknown boundary part '{part}'; this solution's parts: {', '.join(sorted(parts)) or 'none'}")
    facets = FacetBasis(solution.mesh, ELEMENTS[own](), facets=np.asarray(parts[part]), intorder=QUADRATURE_ORDER)
    return facets, facets.interpolate(solution.nodal("u", step))
