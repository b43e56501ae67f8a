"""``heat_plate``: transient heat in a plate with two circular holes held at different temperatures.

The plate ``[−1, 1] × [−0.5, 0.5]`` less the disks of radius 0.2 at ``(−0.5, 0)`` (``hole0``, hot)
and ``(0.5, 0)`` (``hole1``, cold); ``u_t = k Δu`` for ``t ∈ (0, T]``, ``u = 0`` at ``t = 0``. Each
hole exchanges heat with a fluid at its own temperature by a Robin condition,
``k ∂u/∂n + h (u − u_hole) = 0`` with ``u_hole`` 1 and 0, and the outer edges are insulated
(``k ∂u/∂n = 0``): heat flows from the hot hole through the plate into the cold one. (The kind of
complex-geometry heat case PINNacle benchmarks; its best PINN error there is 2.39e-2.)

Quantities: the heat taken in through each hole at ``T`` (``pdes.Flux``) and the temperature at
the plate's centre. The reference is the P2 / BDF2 FEM solution on a gmsh mesh.
"""

from __future__ import annotations

from pdes.conditions import Neumann, Robin
from pdes.geometry import Difference, Disk, Rectangle
from pdes.heat_equation import heat
from pdes.problem import Problem, check_positive
from pdes.quantities import Flux, PointValue

RESOLUTION = 80
"""Cells across the plate's diagonal in the reference mesh (about 5300 triangles): the fluxes through the holes
and the centre's temperature within about 1e-3 of those on a mesh twice as fine."""

HOLES = (((-0.5, 0.0), 0.2, 1.0), ((0.5, 0.0), 0.2, 0.0))
"""``(centre, radius, fluid temperature)`` of each hole."""


def heat_plate(conductivity: float = 0.5, transfer: float = 2.0, t_end: float = 1.0) -> Problem:
    """The plate (module docstring) with conductivity ``k``, transfer coefficient ``h`` and final time ``T``."""
    for name, value in (("conductivity", conductivity), ("transfer", transfer), ("t_end", t_end)):
        check_positive("heat_plate", name, value)
    plate = Difference(Rectangle([-1.0, -0.5], [1.0, 0.5]), [Disk(list(c), r) for c, r, _ in HOLES])
    holes = {f"hole{i}": Robin(transfer, transfer * temperature) for i, (_, _, temperature) in enumerate(HOLES)}
    problem = heat(
        plate,
        conductivity=conductivity,
        initial=0.0,
        conditions={"left|right|bottom|top": Neumann(0.0), **holes},
        time=(0.0, t_end),
        name="heat_plate",
        quantities={
            "flux_hot": Flux("hole0"),
            "flux_cold": Flux("hole1"),
            "centre": PointValue("u", (0.0, 0.0)),
        },
        resolution=RESOLUTION,
        defaults=HEAT_PLATE_DEFAULTS,
    )
    problem.params = {"conductivity": conductivity, "transfer": transfer, "t_end": t_end}
    return problem


HEAT_PLATE_DEFAULTS = {
    "steps": 3000,
    "lbfgs_steps": 1000,
    "batch": 2048,
    "width": 64,
    "depth": 4,
    "lr": 3e-3,
    "fourier_features": True,
    "fourier_scale": 1.0,
    "balance_every": 100,
}
"""Chosen on the problem (benchmarks/RESULTS.md, issue 19)."""
