"""Infer the viscosity of Kovasznay's flow from 100 noisy velocity measurements, as a user would.

The flow is governed by the steady Navier–Stokes equations with an unknown viscosity ν; the
measurements (here drawn from the exact solution with 1 % Gaussian noise, as an experiment would
give them) enter the loss as one more integral, their mean squared misfit. The network and ν
train together; the report says what ν became and how far it is from the true 1/20.

    python examples/infer_viscosity.py
"""

import time

import pdes
import pinn
from pdes import Data, Problem, Unknown, data_terms
from pdes.closed_forms import kovasznay
from pdes.flow_problems import point_gauge, steady_equations
from pdes.geometry import Box
from pdes.reference import AnalyticReference
from pdes.transforms import BoxDirichlet

re = 20.0
box = Box([-0.5, -0.5], [1.0, 1.5])


def velocity(x, y):
    u, v, _ = kovasznay(x, y, re)
    return u, v


def exact(x, y):
    return dict(zip("uvp", kovasznay(x, y, re)))


# 100 measurements of u and v with 1 % noise; your own: Data(points, values) from arrays, or read_data(file)
measured = pdes.synthetic_data(pdes.get("kovasznay"), 100, noise=0.01, seed=0, names=["u", "v"])
observations = Data(measured.points, measured.values, noise=measured.noise)

terms = steady_equations(box, nu=lambda f: f.nu)  # the residuals read the unknown viscosity as f.nu
terms.append(point_gauge((0.25, 0.5), value=float(kovasznay(0.25, 0.5, re)[2])))
terms += data_terms(observations, ["u", "v"])  # data_u: f.u − f.data("u"), data_v likewise

problem = Problem(
    name="my_viscosity",
    coordinates=("x", "y"),
    fields=("u", "v", "p"),
    domain=box,
    terms=terms,
    reference=AnalyticReference(("x", "y"), exact, up_to_constant=("p",)),
    defaults=pdes.get("kovasznay").defaults,
    transform=BoxDirichlet(box, velocity, fields=(0, 1)),
    unknowns=[Unknown("nu", initial=0.1, positive=True, true=1.0 / re)],
)

result = pinn.solve(problem, out=f"runs/infer-viscosity-{time.strftime('%Y%m%d-%H%M%S')}")
nu = result.report["unknowns"]["nu"]
print(f"inferred ν = {nu['value']:.5f} (true {nu['true']:.5f}, relative error {nu['rel_error']:.2%})")
for field, error in result.report["errors"].items():
    print(f"{field}: relative L2 error {error['rel_l2']:.2e}")
print(f"wall time {result.report['wall_time_s']:.0f} s")
