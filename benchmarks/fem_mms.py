"""Convergence of the FEM layer on gmsh meshes of Regions: the manufactured solutions of tests/test_fem_mms.py
(its problem definitions, imported) on more and finer meshes.

Four problems: steady P2 heat on the L-shape (Dirichlet, Neumann, Robin with β(x, y)) and on the annulus
(Dirichlet, Robin with discrete normals), steady Taylor–Hood Navier–Stokes on the L-shape (velocity on
four parts, outflow p0 on right) and on the annulus (velocity on both circles). For each mesh size: h =
sqrt(area/cells), cells, L² errors (u; or u, v, p with p up to a constant where the boundary is closed),
a quantity of interest (the heat flux through left, or the force on hole0, against their exact values),
wall time; then the least-squares orders over all sizes and over the last three.

    OMP_NUM_THREADS=1 python benchmarks/fem_mms.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_fem_mms as mms  # noqa: E402

L_SIZES = (0.1, 0.05, 0.025, 0.0125)
ANNULUS_SIZES = (0.15, 0.075, 0.0375, 0.01875)


def heat_l_shape(domain, grid):
    solution = mms.heat_on_the_l_shape(grid)
    flux = abs(mms.heat_flux(solution, mms.kappa, "left") + mms.pi * (np.e - 1.0))
    return [solution.l2_error("u", mms.temperature)], flux


def heat_annulus(domain, grid):
    return [mms.heat_on_the_annulus(domain, grid).l2_error("u", mms.temperature)], None


def flow_l_shape(domain, grid):
    solution = mms.solve_flow(grid, mms.l_shape_flow, ("bottom", "notch", "top", "left"), {"right": mms.P0})
    return mms.flow_errors(solution, mms.l_shape_flow, up_to_constant=False), None


def flow_annulus(domain, grid):
    solution = mms.solve_flow(grid, mms.annulus_flow, ("circle", "hole0"), {})
    force = mms.force_on(solution, mms.NU, "hole0", lambda x, y: mms.annulus_flow(x, y)[3:])
    return mms.flow_errors(solution, mms.annulus_flow, up_to_constant=True), float(
        np.linalg.norm(np.asarray(force) - mms.annulus_stress_force())
    )


PROBLEMS = [
    ("Heat P2, L-shape: Dirichlet + Neumann + Robin β(x, y)", mms.L_SHAPE, L_SIZES, heat_l_shape, "u", "flux(left)"),
    ("Heat P2, annulus: Dirichlet + Robin (discrete normals)", mms.ANNULUS, ANNULUS_SIZES, heat_annulus, "u", None),
    ("Navier–Stokes P2/P1, L-shape: velocity + outflow p0", mms.L_SHAPE, L_SIZES, flow_l_shape, "uvp", None),
    (
        "Navier–Stokes P2/P1, annulus: velocity on both circles",
        mms.ANNULUS,
        ANNULUS_SIZES,
        flow_annulus,
        "uvp",
        "force",
    ),
]


def study(title, region, sizes, solve, fields, quantity) -> None:
    print(f"\n## {title}\n")
    names = [f"‖{f}_h − {f}‖" for f in fields] + ([f"|{quantity} error|"] if quantity else [])
    print("| gmsh size | h | cells | " + " | ".join(names) + " | wall s |")
    print("|---|---|---|" + "---|" * len(names) + "---|")
    hs, rows = [], []
    for size in sizes:
        start = time.perf_counter()
        domain, grid, h = mms.meshed(region, size)
        errors, extra = solve(domain, grid)
        values = errors + ([extra] if quantity else [])
        hs.append(h)
        rows.append(values)
        cells = " | ".join(f"{e:.3e}" for e in values)
        print(f"| {size:g} | {h:.4f} | {len(domain.cells)} | {cells} | {time.perf_counter() - start:.1f} |")
    rows = np.array(rows)
    for label, pick in (("all sizes", slice(None)), ("last three", slice(-3, None))):
        orders = " | ".join(f"{mms.order(hs[pick], rows[pick, k]):.2f}" for k in range(rows.shape[1]))
        print(f"| order, {label} | | | {orders} | |")


def main() -> None:
    for problem in PROBLEMS:
        study(*problem)


if __name__ == "__main__":
    main()
