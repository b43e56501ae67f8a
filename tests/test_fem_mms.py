"""Manufactured solutions on gmsh meshes of Regions: measured convergence orders of the steady heat and
Navier–Stokes solvers, of ``force_on`` and of ``heat_flux``.

Domains: the L-shape ``Polygon`` (0, 1)² ∖ [½, 1]² with parts bottom, right, notch, top, left, and the
annulus ``Difference(Disk((0, 0), 1), Disk((0, 0), 0.4))`` with parts circle and hole0, each meshed by
``MeshRegion.from_gmsh(..., size=h)`` at three sizes and converted by ``from_mesh_region``. The exact
solutions are smooth in the whole plane, so the discrete problem on the polygonal mesh is posed with
exact data wherever the data are values: Dirichlet data on the curved parts are exact on the discrete
domain. The one Robin condition on a curved part (heat on the annulus, hole0) computes its data
``κ∇u·n_h + βu`` with the discrete facet normal ``n_h`` (the MeshRegion part's ``normal``), so it too is
exact on the discrete domain. Orders are least-squares slopes of log error against log h,
``h = sqrt(area / cells)``; errors by ``FEMSolution.l2_error``.
"""

import math

import numpy as np
import pytest
import torch

from pdes.fem import heat, navier_stokes
from pdes.fem.mesh import from_mesh_region
from pdes.fem.quantities import force_on, heat_flux
from pdes.geometry import Difference, Disk, Polygon
from pdes.meshes import MeshRegion

pi = math.pi

L_SHAPE = Polygon(
    [(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)], names=["bottom", "right", "notch", "notch", "top", "left"]
)
ANNULUS = Difference(Disk((0.0, 0.0), 1.0), Disk((0.0, 0.0), 0.4))
HOLE_RADIUS = 0.4
SIZES = (0.1, 0.05, 0.025)
ANNULUS_SIZES = (0.15, 0.075, 0.0375)
NU = 0.1
P0 = 0.25
"""The outflow pressure of the L-shape flow (not zero, so that its sign matters)."""


def meshed(region, size):
    """``(MeshRegion, TriMesh, h)`` of ``region`` at gmsh size ``size``, ``h = sqrt(area / cells)``."""
    domain = MeshRegion.from_gmsh(region, size=size)
    return domain, from_mesh_region(domain), math.sqrt(float(domain.measure) / len(domain.cells))


def order(h, errors):
    """The least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


# --------------------------------------------------------------------------- heat: u = sin(πx) eʸ, κ = 1 + xy/2


def kappa(x, y):
    return 1.0 + 0.5 * x * y


def temperature(x, y):
    return np.sin(pi * x) * np.exp(y)


def temperature_gradient(x, y):
    return pi * np.cos(pi * x) * np.exp(y), np.sin(pi * x) * np.exp(y)


def heat_source(x, y):
    """``−∇·(κ∇u)``."""
    ux, uy = temperature_gradient(x, y)
    return -(kappa(x, y) * (1.0 - pi * pi) * temperature(x, y) + 0.5 * y * ux + 0.5 * x * uy)


def beta(x, y):
    return 1.0 + x


def heat_on_the_l_shape(grid):
    """Dirichlet on bottom, notch and left; Neumann ``κ u_x`` on right (n = e_x); Robin ``κ u_y + βu`` on top."""
    return heat.solve_steady(
        grid,
        kappa,
        heat_source,
        dirichlet=dict.fromkeys(("bottom", "notch", "left"), temperature),
        neumann={"right": lambda x, y: kappa(x, y) * temperature_gradient(x, y)[0]},
        robin={
            "top": (beta, lambda x, y: kappa(x, y) * temperature_gradient(x, y)[1] + beta(x, y) * temperature(x, y))
        },
    )


def heat_on_the_annulus(domain, grid):
    """Dirichlet on the circle; Robin ``κ∇u·n_h + 2u`` on hole0 with the discrete facet normal ``n_h``."""
    hole = domain.boundary["hole0"]

    def robin_data(x, y):
        points = torch.from_numpy(np.stack([np.ravel(x), np.ravel(y)], axis=1))
        n = hole.normal(points).numpy()
        ux, uy = temperature_gradient(x, y)
        return kappa(x, y) * (ux * n[:, 0].reshape(x.shape) + uy * n[:, 1].reshape(x.shape)) + 2.0 * temperature(x, y)

    return heat.solve_steady(
        grid, kappa, heat_source, dirichlet={"circle": temperature}, robin={"hole0": (2.0, robin_data)}
    )


@pytest.fixture(scope="module")
def l_shape_heat():
    """``(h, solutions)`` of the L-shape heat problem at ``SIZES``."""
    meshes = [meshed(L_SHAPE, size) for size in SIZES]
    return [h for _, _, h in meshes], [heat_on_the_l_shape(grid) for _, grid, _ in meshes]


def test_p2_heat_on_the_l_shape_with_dirichlet_neumann_and_robin_converges_at_third_order(l_shape_heat):
    h, solutions = l_shape_heat
    errors = [s.l2_error("u", temperature) for s in solutions]
    assert 2.7 <= order(h, errors) <= 3.5, errors  # measured 3.07
    assert errors[-1] < 1e-5
    assert solutions[0].info["conditions"]["top"] == "robin"


def test_p2_heat_on_the_annulus_with_robin_data_by_discrete_normals_converges_at_third_order():
    meshes = [meshed(ANNULUS, size) for size in SIZES]
    errors = [heat_on_the_annulus(domain, grid).l2_error("u", temperature) for domain, grid, _ in meshes]
    assert 2.7 <= order([h for *_, h in meshes], errors) <= 3.5, errors  # measured 3.08
    assert errors[-1] < 1e-5


def test_heat_flux_through_a_dirichlet_part_converges_to_the_exact_flux(l_shape_heat):
    """``∫_left κ ∇u·n ds`` with n = −e_x on x = 0: ``−∫₀¹ π eʸ dy = −π(e − 1)``."""
    h, solutions = l_shape_heat
    exact = -pi * (math.e - 1.0)
    errors = [abs(heat_flux(s, kappa, "left") - exact) for s in solutions]
    assert order(h, errors) >= 1.8, errors  # P2 gradients on facets: 2 (measured 1.98)
    assert errors[-1] < 1e-3 * abs(exact)


# --------------------------------------------------------------------------- Navier–Stokes


def l_shape_flow(x, y):
    """``(u, v, p, fx, fy)``: ψ = sin(πx) cos(πy)/π, ``p = P0 + ν u_x + (1 − x) cos y`` and f from the equations.

    On the outflow x = 1 (n = e_x), ``v_x = π sin(πx) cos(πy) = 0`` and ``ν u_x − p = −P0``: the
    do-nothing condition with p0 = P0 holds exactly.
    """
    sx, cx, sy, cy = np.sin(pi * x), np.cos(pi * x), np.sin(pi * y), np.cos(pi * y)
    u, v = -sx * sy, -cx * cy
    ux, uy, vx, vy = -pi * cx * sy, -pi * sx * cy, pi * sx * cy, pi * cx * sy
    p = P0 + NU * ux + (1.0 - x) * np.cos(y)
    px = NU * pi * pi * sx * sy - np.cos(y)
    py = -NU * pi * pi * cx * cy - (1.0 - x) * np.sin(y)
    fx = 2.0 * NU * pi * pi * u + u * ux + v * uy + px  # −νΔu = 2νπ² u
    fy = 2.0 * NU * pi * pi * v + u * vx + v * vy + py
    return u, v, p, fx, fy


def annulus_gradient(x, y):
    """``(u_x, u_y, v_x, v_y)`` of the annulus flow."""
    s2, c2, sy, cy = np.sin(2 * x), np.cos(2 * x), np.sin(y), np.cos(y)
    return 2.0 * c2 * cy, -s2 * sy, 4.0 * s2 * sy, -2.0 * c2 * cy


def annulus_flow(x, y):
    """``(u, v, p, fx, fy)``: ψ = sin(2x) sin(y) (divergence-free in the whole plane), p = cos x sin y."""
    u, v = np.sin(2 * x) * np.cos(y), -2.0 * np.cos(2 * x) * np.sin(y)
    ux, uy, vx, vy = annulus_gradient(x, y)
    px, py = -np.sin(x) * np.sin(y), np.cos(x) * np.cos(y)
    fx = 5.0 * NU * u + u * ux + v * uy + px  # Δu = −5u, Δv = −5v
    fy = 5.0 * NU * v + u * vx + v * vy + py
    return u, v, np.cos(x) * np.sin(y), fx, fy


def annulus_stress_force():
    """``∫_hole (p n − ν(∇u + ∇uᵀ) n) ds`` on the circle r = 0.4, n = −(x, y)/r (out of the fluid),
    by the trapezoidal rule (spectrally accurate for periodic integrands)."""
    theta = np.linspace(0.0, 2 * pi, 4001)[:-1]
    x, y = HOLE_RADIUS * np.cos(theta), HOLE_RADIUS * np.sin(theta)
    nx, ny = -np.cos(theta), -np.sin(theta)
    ux, uy, vx, vy = annulus_gradient(x, y)
    p = annulus_flow(x, y)[2]
    tx = p * nx - NU * (2 * ux * nx + (uy + vx) * ny)
    ty = p * ny - NU * ((uy + vx) * nx + 2 * vy * ny)
    return np.array([tx.mean(), ty.mean()]) * 2 * pi * HOLE_RADIUS


def solve_flow(grid, flow, velocity_parts, outflow):
    return navier_stokes.solve_steady(
        grid, NU, dict.fromkeys(velocity_parts, lambda x, y: flow(x, y)[:2]), outflow, lambda x, y: flow(x, y)[3:]
    )


def flow_errors(solution, flow, up_to_constant):
    return [
        solution.l2_error(name, lambda x, y, k=k: flow(x, y)[k], up_to_constant=up_to_constant and name == "p")
        for k, name in enumerate("uvp")
    ]


@pytest.fixture(scope="module")
def annulus_flows():
    """``(h, solutions)`` of the annulus flow at ``ANNULUS_SIZES``, the velocity given on both circles."""
    meshes = [meshed(ANNULUS, size) for size in ANNULUS_SIZES]
    return [h for *_, h in meshes], [solve_flow(grid, annulus_flow, ("circle", "hole0"), {}) for _, grid, _ in meshes]


def test_taylor_hood_on_the_l_shape_with_an_outflow_converges_at_third_order():
    """Velocity on bottom, notch, top, left; outflow p0 = P0 on right. The pressure is compared as it is
    (the outflow fixes it), so a wrong sign of the outflow term would not converge."""
    meshes = [meshed(L_SHAPE, size) for size in SIZES]
    solutions = [
        solve_flow(grid, l_shape_flow, ("bottom", "notch", "top", "left"), {"right": P0}) for _, grid, _ in meshes
    ]
    h = [h for *_, h in meshes]
    errors = np.array([flow_errors(s, l_shape_flow, up_to_constant=False) for s in solutions])
    assert min(order(h, errors[:, 0]), order(h, errors[:, 1])) >= 2.5, errors  # P2: 3 (measured 3.05, 3.01)
    assert order(h, errors[:, 2]) >= 1.8, errors  # P1 pressure: 2 (measured 2.02)
    assert errors[-1, :2].max() < 1e-5
    assert solutions[-1].info["gauge"] == navier_stokes.OUTFLOW_GAUGE


def test_taylor_hood_on_the_annulus_converges_at_third_order(annulus_flows):
    h, solutions = annulus_flows
    errors = np.array([flow_errors(s, annulus_flow, up_to_constant=True) for s in solutions])
    assert min(order(h, errors[:, 0]), order(h, errors[:, 1])) >= 2.5, errors  # measured 3.17, 3.18
    assert order(h, errors[:, 2]) >= 1.8, errors  # measured 2.06
    assert errors[-1, :2].max() < 5e-6
    assert solutions[-1].info["gauge"] == navier_stokes.GAUGE


def test_force_on_the_hole_converges_to_the_stress_integral_on_the_circle(annulus_flows):
    """The weak-form force on hole0 against the stress integral on the exact circle: the difference is
    the polygonal hole's O(h²) (F_x = 0 by the flow's symmetry y → −y)."""
    h, solutions = annulus_flows
    exact = annulus_stress_force()
    forces = np.array([force_on(s, NU, "hole0", lambda x, y: annulus_flow(x, y)[3:]) for s in solutions])
    errors = np.linalg.norm(forces - exact, axis=1)
    assert order(h, errors) >= 1.8, (forces, exact)  # measured 2.07
    assert errors[-1] < 2e-3 * np.linalg.norm(exact)
    assert abs(exact[0]) < 1e-12 and abs(forces[-1, 0]) < 1e-6
