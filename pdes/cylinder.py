"""``cylinder``: steady flow past a cylinder in a channel, the Schäfer–Turek 2D-1 benchmark (Re = 20).

Channel ``[0, 2.2] × [0, 0.41]`` less the disk of radius 0.05 centred at ``(0.2, 0.2)`` (boundary
part ``hole0``); inflow ``u = 4 U y (0.41 − y) / 0.41²``, ``v = 0`` on the left with ``U = 0.3``,
no-slip on the walls (bottom, top) and the cylinder, traction-free outflow on the right;
``ν = 10⁻³``, so ``Re = Ū D / ν = 20`` with the mean inflow ``Ū = 2U/3 = 0.2`` and ``D = 0.1``.

Quantities: drag and lift coefficients ``c = 2 F / (Ū² D)`` of the force on the cylinder, and
``Δp = p(0.15, 0.2) − p(0.25, 0.2)``, beside the published values (Schäfer & Turek 1996; the digits
of the later high-accuracy computations): c_D 5.57953523384, c_L 0.010618948146, Δp 0.11752016697.
The reference is the Taylor–Hood FEM solution on a gmsh mesh refined near the cylinder.
"""

from __future__ import annotations

import dataclasses

import torch

from pdes.conditions import NoSlip, Outflow, Velocity
from pdes.flow import navier_stokes
from pdes.geometry import Difference, Disk, Rectangle
from pdes.problem import Problem, check_positive
from pdes.quantities import Force, PointDifference

LENGTH, HEIGHT = 2.2, 0.41
CENTRE, RADIUS = (0.2, 0.2), 0.05
U_MAX = 0.3
NU = 1e-3
U_MEAN = 2 * U_MAX / 3
COEFFICIENT = 2 / (U_MEAN**2 * (2 * RADIUS))
"""``2 / (Ū² D)``: a force on the cylinder as a drag or lift coefficient."""

PUBLISHED = {"drag": 5.57953523384, "lift": 0.010618948146, "dp": 0.11752016697}
"""The benchmark's reference values (Schäfer–Turek 2D-1)."""

RESOLUTION = 112
"""Cells across the channel's diagonal far from the cylinder (a cell size of about 0.02)."""
CYLINDER_CELL = 0.002
"""Cell size on the cylinder of the reference mesh (benchmarks/fem_cylinder.py: drag, lift and Δp within
2e-4, 1.2e-3 and 2e-4 of the published values)."""
BOUNDARY_WEIGHT = 1.0
"""``Term.weight`` of the condition terms (``cylinder(boundary_weight=...)``)."""


def inflow(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The parabolic inflow profile ``(4 U y (H − y) / H², 0)``."""
    return 4 * U_MAX * y * (HEIGHT - y) / HEIGHT**2, 0.0 * y


def cylinder(
    resolution: int = RESOLUTION,
    cylinder_cell: float = CYLINDER_CELL,
    constraints: str = "exact",
    boundary_weight: float = BOUNDARY_WEIGHT,
) -> Problem:
    """The Schäfer–Turek 2D-1 problem (module docstring); ``resolution`` and ``cylinder_cell`` set the reference
    mesh: cells across the channel's diagonal, and the cell size on the cylinder. ``constraints``: "exact"
    imposes the inflow and no-slip velocity by the output transform (``pdes.distance_transform``), "soft" by
    loss terms. ``boundary_weight`` is the ``Term.weight`` of every condition term (the outflow's, and with
    soft constraints the inflow's, walls' and cylinder's; the equations keep weight 1)."""
    check_positive("cylinder", "cylinder_cell", cylinder_cell, "the reference mesh's cell size on the cylinder")
    check_positive("cylinder", "boundary_weight", boundary_weight, "the weight of the condition terms")
    channel = Difference(Rectangle([0.0, 0.0], [LENGTH, HEIGHT]), Disk(list(CENTRE), RADIUS))
    problem = navier_stokes(
        channel,
        nu=NU,
        conditions={"left": Velocity(inflow), "bottom|top": NoSlip(), "hole0": NoSlip(), "right": Outflow()},
        name="cylinder",
        quantities={
            "drag": Force("hole0", "x", scale=COEFFICIENT, published=PUBLISHED["drag"]),
            "lift": Force("hole0", "y", scale=COEFFICIENT, published=PUBLISHED["lift"]),
            "dp": PointDifference("p", (0.15, 0.2), (0.25, 0.2), published=PUBLISHED["dp"]),
        },
        resolution=resolution,
        refine={"hole0": cylinder_cell},
        defaults=CYLINDER_DEFAULTS,
        constraints=constraints,
    )
    equations = {"momentum_x", "momentum_y", "continuity"}
    problem.terms = [
        t if t.name in equations else dataclasses.replace(t, weight=float(boundary_weight)) for t in problem.terms
    ]
    problem.params = {
        "resolution": resolution, "cylinder_cell": cylinder_cell, "constraints": constraints,
        "boundary_weight": boundary_weight,
    }  # fmt: skip
    return problem


CYLINDER_DEFAULTS = {
    "steps": 2000,
    "lbfgs_steps": 1000,
    "batch": 2048,
    "width": 64,
    "depth": 5,
    "lr": 2e-3,
    "fourier_features": True,
    "fourier_scale": 1.0,
}
"""Chosen on benchmarks/builders_accuracy.py (issue 19), seed 0: with the velocity imposed exactly, 2000 Adam +
1000 L-BFGS steps gave u, v, p 4.1e-2, 0.16, 7.8e-2 in 364 CPU s (1000 + 3000: 8.6e-2; 2000 + 2000: 5.7e-2);
with soft constraints Adam stays in the no-flow state at every setting tried and the best (1000 Adam + 3000
L-BFGS, boundary_weight 10, no Fourier features, no balancing) reached u 0.14 in 505 s. Gradient-norm
balancing is off: it drives the weight of the outflow's ``right_y`` term (``ν v_x``, a near-zero gradient) to
~1e8. The targets are not reached (benchmarks/RESULTS.md)."""
