"""Kovasznay's flow at Re = 20, built from the Navier–Stokes building blocks as a user would.

``pdes.get("kovasznay")`` is the same problem; this script assembles it from the equations
(``steady_equations``), the prescribed velocity on the boundary and a pressure gauge, or
imposes the velocity exactly with an output transform (``--exact``), then solves it with
the registered problem's measured defaults.

    python examples/kovasznay.py [--exact]
"""

import sys
import time

import pdes
import pinn
from pdes import Problem
from pdes.closed_forms import kovasznay
from pdes.flow_problems import point_gauge, prescribed_velocity, steady_equations
from pdes.geometry import Box
from pdes.reference import AnalyticReference
from pdes.transforms import BoxDirichlet

re = 20.0
box = Box([-0.5, -0.5], [1.0, 1.5])
exact = "--exact" in sys.argv[1:]


def velocity(x, y):
    u, v, _ = kovasznay(x, y, re)
    return u, v


terms = steady_equations(box, nu=1.0 / re)  # momentum_x, momentum_y, continuity
terms.append(point_gauge((0.25, 0.5), value=float(kovasznay(0.25, 0.5, re)[2])))  # p(x0) = p_exact(x0)
if not exact:
    terms += prescribed_velocity("boundary", box.boundary, velocity)  # boundary_u, boundary_v

problem = Problem(
    name="my_kovasznay",
    coordinates=("x", "y"),
    fields=("u", "v", "p"),
    domain=box,
    terms=terms,
    reference=AnalyticReference(("x", "y"), lambda x, y: dict(zip("uvp", kovasznay(x, y, re))), up_to_constant=("p",)),
    defaults=pdes.get("kovasznay").defaults,
    transform=BoxDirichlet(box, velocity, fields=(0, 1)) if exact else None,
)

result = pinn.solve(problem, out=f"runs/kovasznay-{time.strftime('%Y%m%d-%H%M%S')}")
for field, error in result.report["errors"].items():
    print(f"{field}: relative L2 error {error['rel_l2']:.2e}")
print(f"wall time {result.report['wall_time_s']:.0f} s")
