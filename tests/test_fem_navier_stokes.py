"""Taylor–Hood Navier–Stokes solvers against Kovasznay and Taylor–Green, and the cavity's continuation."""

import math

import numpy as np
import pytest
from test_fem_heat import orders

from pdes import closed_forms
from pdes.fem import mesh, navier_stokes


def kovasznay_errors(re, resolution):
    solution = navier_stokes.kovasznay(re, resolution)
    return [
        solution.l2_error(name, lambda x, y, k=k: closed_forms.kovasznay(x, y, re)[k], up_to_constant=name == "p")
        for k, name in enumerate("uvp")
    ]


def test_kovasznay_velocity_converges_at_third_order_and_pressure_at_second():
    errors = np.array([kovasznay_errors(20.0, n) for n in (4, 8, 16)])
    velocity, pressure = orders(errors[:, :2]), orders(errors[:, 2])
    # P2 velocity: 3, P1 pressure: 2 in L² (measured on 8 → 16: u 3.10, v 3.25, p 2.34)
    assert np.all((velocity[-1] >= 2.7) & (velocity[-1] <= 3.5)), errors
    assert 1.8 <= pressure[-1] <= 2.6, errors
    assert errors[-1, :2].max() < 5e-3


def test_kovasznay_pressure_has_zero_mean():
    solution = navier_stokes.kovasznay(20.0, 4)

    def zero(x, y):
        return 0.0 * x

    area_times_squared_mean = solution.l2_error("p", zero) ** 2 - solution.l2_error("p", zero, up_to_constant=True) ** 2
    assert abs(area_times_squared_mean) < 1e-12
    assert solution.info["gauge"] == navier_stokes.GAUGE


def test_taylor_green_converges_as_mesh_and_step_are_refined():
    nu, length = 0.05, 2 * math.pi
    errors = []
    for resolution, steps in ((6, 3), (12, 6), (24, 12)):
        solution = navier_stokes.taylor_green(nu=nu, t_end=0.5, length=length, resolution=resolution, steps=steps)
        exact = [lambda x, y, t, k=k: closed_forms.taylor_green(x, y, t, nu, length)[k] for k in range(3)]
        errors.append([solution.l2_error(f, exact[k], step=-1, up_to_constant=f == "p") for k, f in enumerate("uvp")])
    ratios = np.asarray(errors)[:-1] / np.asarray(errors)[1:]
    # h and Δt halved together (P2 space, BDF2 time): measured u, v 8.8 then 16.4, p 6.0 then 4.5
    assert np.all((ratios[:, :2] >= 4.0) & (ratios[:, :2] <= 24.0)), errors
    assert np.all((ratios[:, 2] >= 2.0) & (ratios[:, 2] <= 12.0)), errors
    assert errors[-1][0] < 5e-3 * math.pi  # ‖u‖ over the box is π at t = 0


def test_cavity_continues_in_reynolds_number_and_keeps_the_lid():
    solution = navier_stokes.cavity(re=400.0, lid="smooth", resolution=8)
    assert [stage["re"] for stage in solution.info["continuation"]] == [100.0, 200.0, 400.0]
    x = np.linspace(0.0, 1.0, 9)
    lid = solution.evaluate(np.column_stack([x, np.ones_like(x)]))
    assert np.abs(lid["u"] - 4 * x * (1 - x)).max() < 1e-12
    assert np.abs(lid["v"]).max() < 1e-12
    centre = solution.evaluate(np.array([[0.5, 0.5]]))
    assert -0.3 < centre["u"][0] < 0.0  # the primary vortex turns clockwise


def test_continuation_on_a_coarse_mesh_reaches_the_same_fine_solution():
    direct = navier_stokes.cavity(re=400.0, resolution=16, coarsening=1)
    via_coarse = navier_stokes.cavity(re=400.0, resolution=16, coarsening=2)
    assert [(s["re"], s["cells"]) for s in via_coarse.info["continuation"]] == [
        (100.0, 8),
        (200.0, 8),
        (400.0, 8),
        (400.0, 16),
    ]
    for name in ("u", "v", "p"):
        assert np.abs(direct.values[name] - via_coarse.values[name]).max() < 1e-8


def test_cavity_rejects_unknown_lids():
    with pytest.raises(ValueError, match="unknown lid 'wavy'; valid lids: classic, smooth"):
        navier_stokes.cavity(lid="wavy", resolution=2)


# --------------------------------------------------------------------------- conditions by part: outflow and force

CHANNEL_LENGTH, CHANNEL_NU, CHANNEL_SPEED = 2.0, 0.1, 1.5


def poiseuille(x, y):
    """``u = 4U y(1 − y)``, v = 0 in the channel (0, 2) × (0, 1)."""
    return 4.0 * CHANNEL_SPEED * y * (1.0 - y), 0.0 * x


@pytest.mark.parametrize("p0,driven_by_force", [(0.3, False), (-0.7, True)])
def test_poiseuille_flow_with_an_outflow_is_reproduced_exactly(p0, driven_by_force):
    """Inflow on left, no-slip on bottom and top, outflow p0 on right. Driven by the pressure drop,
    ``p = p0 + 8νU(L − x)``; driven by the body force ``f = (8νU, 0)``, ``p = p0``. Both lie in the
    P2/P1 spaces, so the solution is exact to rounding, and a wrong sign of the outflow or force term
    would show at once."""
    drop = 8.0 * CHANNEL_NU * CHANNEL_SPEED
    grid = mesh.rectangle((0.0, 0.0), (CHANNEL_LENGTH, 1.0), 6, 3)
    walls = dict.fromkeys(("bottom", "top"), lambda x, y: (0.0 * x, 0.0 * x))
    force = (lambda x, y: (drop + 0.0 * x, 0.0 * x)) if driven_by_force else None
    solution = navier_stokes.solve_steady(grid, CHANNEL_NU, {"left": poiseuille, **walls}, {"right": p0}, force)

    def pressure(x, y):
        return p0 + (0.0 if driven_by_force else drop) * (CHANNEL_LENGTH - x)

    assert solution.l2_error("u", lambda x, y: poiseuille(x, y)[0]) < 1e-11
    assert solution.l2_error("v", lambda x, y: 0.0 * x) < 1e-11
    assert solution.l2_error("p", pressure) < 1e-10
    assert solution.info["gauge"] == navier_stokes.OUTFLOW_GAUGE
    assert set(solution.info) == {"element", "gauge", "iterations", "wall_time_s"}


OUTFLOW_P0 = 0.25


def moving_flow(x, y, t):
    """``(u, v, p, fx, fy)`` on the unit square: ``u = cos t · U`` with U from ψ = sin(πx) cos(πy)/π,
    ``p = P0 + cos t (ν U_x + (1 − x) cos y)``, f from the equations; on x = 1 (``V_x = 0``) the
    do-nothing condition with p0 = P0 holds."""
    nu = CHANNEL_NU
    sx, cx, sy, cy = np.sin(math.pi * x), np.cos(math.pi * x), np.sin(math.pi * y), np.cos(math.pi * y)
    u, v = -sx * sy, -cx * cy
    ux, uy, vx, vy = -math.pi * cx * sy, -math.pi * sx * cy, math.pi * sx * cy, math.pi * cx * sy
    q = nu * ux + (1.0 - x) * np.cos(y)
    qx = nu * math.pi**2 * sx * sy - np.cos(y)
    qy = -nu * math.pi**2 * cx * cy - (1.0 - x) * np.sin(y)
    a, da = math.cos(t), -math.sin(t)
    fx = da * u + a * 2 * nu * math.pi**2 * u + a * a * (u * ux + v * uy) + a * qx
    fy = da * v + a * 2 * nu * math.pi**2 * v + a * a * (u * vx + v * vy) + a * qy
    return a * u, a * v, OUTFLOW_P0 + a * q, fx, fy


def test_unsteady_flow_with_an_outflow_and_a_force_converges():
    """Velocity on left, bottom, top; outflow P0 on right; h and Δt halved together: the errors at t = 1
    drop by ≥ 4 (BDF2 in time; measured u, v 6.6 then 5.3, p 4.4 then 4.2)."""
    errors = []
    for n in (4, 8, 16):
        solution = navier_stokes.solve_unsteady(
            mesh.rectangle((0.0, 0.0), (1.0, 1.0), n, n),
            CHANNEL_NU,
            dict.fromkeys(("left", "bottom", "top"), lambda x, y, t: moving_flow(x, y, t)[:2]),
            {"right": OUTFLOW_P0},
            lambda x, y: moving_flow(x, y, 0.0)[:2],
            t_end=1.0,
            steps=n,
            force=lambda x, y, t: moving_flow(x, y, t)[3:],
        )
        exact = [lambda x, y, t, k=k: moving_flow(x, y, t)[k] for k in range(3)]
        errors.append([solution.l2_error(f, exact[k], step=-1) for k, f in enumerate("uvp")])
    ratios = np.asarray(errors)[:-1] / np.asarray(errors)[1:]
    assert np.all((ratios >= 3.5) & (ratios <= 12.0)), errors
    assert errors[-1][0] < 1e-4
    assert solution.info["gauge"] == navier_stokes.OUTFLOW_GAUGE
    assert list(solution.boundaries) == ["left", "right", "bottom", "top"]
