"""Solve u_t = 0.4 u_xx on (0, 1) x (0, 1] with u(x, 0) = sin(pi x) and u = 0 at both ends.

Run it with ``python examples/heat_1d.py``; it trains with the problem's measured
defaults (Adam, then L-BFGS), prints the errors against the exact solution
u = sin(pi x) exp(-0.4 pi^2 t) and writes report.json and run.h5 under runs/.
"""

import time

import torch

import pdes
import pinn

problem = pdes.get("heat1d", alpha=0.4)
result = pinn.solve(problem, out=f"runs/heat1d-{time.strftime('%Y%m%d-%H%M%S')}")

print(f"relative L2 error of u: {result.report['errors']['u']['rel_l2']:.2e}")
print(f"wall time: {result.report['wall_time_s']:.1f} s")

x = torch.linspace(0, 1, 5, dtype=torch.float64)
points = torch.stack([x, torch.full_like(x, 0.5)], dim=1)  # (x, t) at t = 0.5
predicted = result.predict(points)["u"]
exact = problem.reference.evaluate(points)["u"]
for xi, p, e in zip(x, predicted, exact):
    print(f"u({xi:.2f}, 0.5) = {p:.5f}   exact {e:.5f}")
