"""The lid-driven cavity: a PINN against the finite element reference, with continuation in Re.

    python examples/lid_driven_cavity.py [--lid smooth|classic] [--re 100 [400 …]]

Several Reynolds numbers are solved in order, each run starting from the previous one's
parameters (``pinn.continuation``). Prints the errors and u on the vertical centerline x = 0.5
next to the FEM reference.
"""

import argparse
import time

import torch

from pinn.continuation import continuation

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--lid", default="smooth", choices=["smooth", "classic"])
parser.add_argument("--re", type=float, nargs="+", default=[100.0])
args = parser.parse_args()

out = f"runs/cavity-{args.lid}-{time.strftime('%Y%m%d-%H%M%S')}"
results = continuation("cavity", "re", args.re, params={"lid": args.lid}, out=out)

for result in results:
    errors = ", ".join(f"{f} {e['rel_l2']:.2e}" for f, e in result.report["errors"].items())
    print(f"Re = {result.problem.params['re']:g}: relative L2 errors {errors} in {result.report['wall_time_s']:.0f} s")

last = results[-1]
y = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
line = torch.stack([torch.full_like(y, 0.5), y], dim=1)
pinn_u = last.predict(line)["u"]
fem_u = last.problem.reference.evaluate(line)["u"]
print("   y    u (PINN)   u (FEM)")
for yi, a, b in zip(y.tolist(), pinn_u.tolist(), fem_u.tolist()):
    print(f"{yi:5.2f} {a:10.4f} {b:9.4f}")
