"""The decaying Taylor–Green vortex: an unsteady Navier–Stokes PINN against the exact solution.

    python examples/taylor_green.py [--nu 0.01] [--t-end 1.0] [--soft]

The velocity is imposed exactly on the sides and at t = 0 by the problem's output transform
(``--soft``: by boundary and initial Terms instead). Prints the errors over the whole
space-time domain and the relative L2 error of u, v at a few times.
"""

import argparse
import math
import time

import torch

import pdes
import pinn

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--nu", type=float, default=0.01)
parser.add_argument("--t-end", type=float, default=1.0)
parser.add_argument("--soft", action="store_true")
args = parser.parse_args()

problem = pdes.get("taylor_green", nu=args.nu, t_end=args.t_end, constraints="soft" if args.soft else "exact")
result = pinn.solve(problem, out=f"runs/taylor_green-{time.strftime('%Y%m%d-%H%M%S')}")
for field, error in result.report["errors"].items():
    print(f"{field}: relative L2 error {error['rel_l2']:.2e}")

grid = torch.linspace(0.0, 2 * math.pi, 65, dtype=torch.float64)
x, y = (c.reshape(-1) for c in torch.meshgrid(grid, grid, indexing="ij"))
for t in torch.linspace(0.0, args.t_end, 5).tolist():
    points = torch.stack([x, y, torch.full_like(x, t)], dim=1)
    prediction, exact = result.predict(points), problem.reference.evaluate(points)
    error = torch.cat([prediction["u"] - exact["u"], prediction["v"] - exact["v"]]).norm()
    print(f"t = {t:.2f}: relative L2 error of (u, v) {float(error / torch.cat([exact['u'], exact['v']]).norm()):.2e}")
