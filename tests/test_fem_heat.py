"""FEM heat solver against manufactured solutions: measured convergence orders in space and time."""

import math

import numpy as np
import pytest

from pdes.fem import heat, mesh

pi = math.pi


def kappa(x, y):
    return 1.0 + 0.5 * x * y


def orders(errors):
    """Observed orders ``log2(e_h / e_{h/2})`` of successive halvings."""
    e = np.asarray(errors)
    return np.log2(e[:-1] / e[1:])


def spatial_exact(x, y, t):
    """Linear in t, so BDF2 (and its BDF1 start) integrate it exactly: only the space error remains."""
    return (1.0 + t) * np.sin(pi * x) * np.exp(y)


def spatial_source(x, y, t):
    """``u_t − ∇·(κ∇u)`` for ``spatial_exact``."""
    g = np.sin(pi * x) * np.exp(y)
    ux, uy = (1.0 + t) * pi * np.cos(pi * x) * np.exp(y), (1.0 + t) * g
    laplacian = (1.0 + t) * (1.0 - pi * pi) * g
    return g - (kappa(x, y) * laplacian + 0.5 * y * ux + 0.5 * x * uy)


def test_p2_spatial_order_on_the_l_shape_with_mixed_conditions():
    """Dirichlet (time-dependent) on left, right, notch; Neumann on bottom; Robin (β = 2) on top."""

    def flux_y(x, y, t):  # κ ∂u/∂y
        return kappa(x, y) * (1.0 + t) * np.sin(pi * x) * np.exp(y)

    errors = []
    for n in (4, 8, 16):
        solution = heat.solve(
            mesh.lshape(n),
            kappa,
            lambda x, y: spatial_exact(x, y, 0.0),
            t_end=1.0,
            steps=4,
            source=spatial_source,
            dirichlet=dict.fromkeys(("left", "right", "notch"), spatial_exact),
            neumann={"bottom": lambda x, y, t: -flux_y(x, y, t)},
            robin={"top": (2.0, lambda x, y, t: flux_y(x, y, t) + 2.0 * spatial_exact(x, y, t))},
        )
        errors.append(solution.l2_error("u", spatial_exact, step=-1))
    assert errors[-1] < 1e-3
    assert np.all((orders(errors) >= 2.7) & (orders(errors) <= 3.3)), errors  # P2 in L²: 3 (measured 2.99, 2.99)


def quadratic(x, y):
    return x * (1.0 - x) + 0.5 * y * y


def temporal_exact(x, y, t):
    """Quadratic in space, so the P2 space error vanishes: only the time error remains."""
    return (1.0 + np.sin(3.0 * t)) * quadratic(x, y)


def temporal_source(x, y, t):
    divergence = -kappa(x, y) + 0.5 * y * (1.0 - 2.0 * x) + 0.5 * x * y  # ∇·(κ∇q)
    return 3.0 * np.cos(3.0 * t) * quadratic(x, y) - (1.0 + np.sin(3.0 * t)) * divergence


def test_bdf2_temporal_order():
    square = mesh.rectangle((0.0, 0.0), (1.0, 1.0), 4, 4)
    errors = []
    for steps in (8, 16, 32):
        solution = heat.solve(
            square,
            kappa,
            lambda x, y: temporal_exact(x, y, 0.0),
            t_end=1.0,
            steps=steps,
            source=temporal_source,
            dirichlet=dict.fromkeys(("left", "right", "bottom", "top"), temporal_exact),
        )
        errors.append(solution.l2_error("u", temporal_exact, step=-1))
    assert np.all((orders(errors) >= 1.8) & (orders(errors) <= 2.2)), errors  # BDF2: 2 (measured 1.88, 1.96)


def test_every_step_is_stored_and_the_initial_state_interpolated():
    solution = heat.solve(
        mesh.rectangle((0.0, 0.0), (2.0, 1.0), 4, 2),
        kappa,
        quadratic,
        t_end=0.5,
        steps=5,
        dirichlet=dict.fromkeys(("left", "right", "bottom", "top"), lambda x, y, t: quadratic(x, y)),
    )
    assert solution.times.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert solution.values["u"].shape == (6, solution.dofs()["u"])
    assert solution.l2_error("u", lambda x, y, t: quadratic(x, y), step=0) < 1e-12


@pytest.mark.parametrize(
    "conditions,message",
    [
        ({"dirichlet": {"left": spatial_exact}}, "boundary 'bottom' has no condition"),
        ({"dirichlet": {"side": spatial_exact}}, "unknown boundary 'side'; this mesh's boundaries: bottom, left"),
        (
            {"dirichlet": dict.fromkeys(("left", "right", "bottom", "top"), spatial_exact), "neumann": {"top": 0}},
            "each boundary takes one condition",
        ),
    ],
)
def test_bad_conditions_are_named(conditions, message):
    with pytest.raises(ValueError, match=message):
        heat.solve(mesh.rectangle((0, 0), (1, 1), 2, 2), kappa, quadratic, 1.0, 2, **conditions)


def test_bad_settings_are_named():
    square = mesh.rectangle((0, 0), (1, 1), 2, 2)
    everywhere = dict.fromkeys(("left", "right", "bottom", "top"), spatial_exact)
    with pytest.raises(ValueError, match="unknown element 'P3'; valid elements: P1, P2"):
        heat.solve(square, kappa, quadratic, 1.0, 2, dirichlet=everywhere, element="P3")
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        heat.solve(square, kappa, quadratic, 1.0, 0, dirichlet=everywhere)
    with pytest.raises(ValueError, match="even number of cells"):
        mesh.lshape(3)


def test_steady_p2_reproduces_a_quadratic_with_every_kind_of_condition():
    """u = x(1 − x) + y²/2 lies in P2, and the degree-6 rules integrate every datum exactly (κ = 1 + xy/2,
    β(x, y) = 1 + x on top): the steady solution is u to rounding, with Dirichlet on left and right,
    Neumann on bottom (n = −e_y) and Robin on top (n = e_y)."""

    def flux_y(x, y):  # κ ∂u/∂y
        return kappa(x, y) * y

    def source(x, y):  # −∇·(κ∇u)
        return kappa(x, y) - 0.5 * y * (1.0 - 2.0 * x) - 0.5 * x * y

    def beta(x, y):
        return 1.0 + x

    solution = heat.solve_steady(
        mesh.rectangle((0.0, 0.0), (1.0, 1.0), 3, 3),
        kappa,
        source,
        dirichlet=dict.fromkeys(("left", "right"), quadratic),
        neumann={"bottom": lambda x, y: -flux_y(x, y)},
        robin={"top": (beta, lambda x, y: flux_y(x, y) + beta(x, y) * quadratic(x, y))},
    )
    assert solution.steady and solution.l2_error("u", quadratic) < 1e-13
    info = dict(solution.info)
    assert 0.0 <= info.pop("wall_time_s") < 60.0
    assert info == {
        "element": "P2",
        "conditions": {"left": "dirichlet", "right": "dirichlet", "bottom": "neumann", "top": "robin"},
    }


def test_steady_robin_everywhere_needs_no_dirichlet_part():
    """Robin with β = 3 on every side, data ``κ∂u/∂n + 3u`` of the quadratic: u again to rounding."""
    normal_flux = {  # κ ∂u/∂n on each side of the unit square
        "left": lambda x, y: -kappa(x, y) * (1.0 - 2.0 * x),
        "right": lambda x, y: kappa(x, y) * (1.0 - 2.0 * x),
        "bottom": lambda x, y: -kappa(x, y) * y,
        "top": lambda x, y: kappa(x, y) * y,
    }
    solution = heat.solve_steady(
        mesh.rectangle((0.0, 0.0), (1.0, 1.0), 2, 2),
        kappa,
        lambda x, y: kappa(x, y) - 0.5 * y * (1.0 - 2.0 * x) - 0.5 * x * y,
        robin={name: (3.0, lambda x, y, g=g: g(x, y) + 3.0 * quadratic(x, y)) for name, g in normal_flux.items()},
    )
    assert solution.l2_error("u", quadratic) < 1e-13
