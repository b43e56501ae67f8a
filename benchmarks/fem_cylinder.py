"""The Schäfer–Turek 2D-1 benchmark (steady flow around a cylinder, Re = 20) by Taylor–Hood FEM.

Channel ``Rectangle([0, 0], [2.2, 0.41])`` minus ``Disk([0.2, 0.2], 0.05)`` (parts left, right, bottom,
top, hole0), meshed by gmsh with cells of ``size`` away from the cylinder and ``refine={"hole0": h}``
on it; inflow ``u = 4 Um y (0.41 − y)/0.41², v = 0`` on left (Um = 0.3), no-slip on bottom, top and
hole0, outflow p0 = 0 on right, ν = 1e-3; ``pdes.fem.navier_stokes.solve_steady`` (3 Picard steps, then
Newton). Drag and lift coefficients ``c = 2F/(Ū² D)`` (Ū = 0.2, D = 0.1) from the weak-form force
``pdes.fem.quantities.force_on``; ``Δp = p(0.15, 0.2) − p(0.25, 0.2)``. Prints a markdown table (cells,
unknowns, the three values and their errors relative to the published ones, wall time of mesh +
solve + quantities) for each mesh; the default mesh of the registered problem is
``navier_stokes.CYLINDER_SIZE`` / ``CYLINDER_REFINED_SIZE``.

    OMP_NUM_THREADS=1 python benchmarks/fem_cylinder.py
    OMP_NUM_THREADS=1 python benchmarks/fem_cylinder.py --meshes 0.02:0.002 0.01:0.001
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pdes.fem import navier_stokes
from pdes.fem.mesh import from_mesh_region
from pdes.fem.quantities import force_on
from pdes.geometry import Difference, Disk, Rectangle
from pdes.meshes import MeshRegion

HEIGHT, UM, NU = 0.41, 0.3, 1e-3
MEAN_VELOCITY, DIAMETER = 0.2, 0.1
PUBLISHED = {"c_D": 5.57953523384, "c_L": 0.010618948146, "Δp": 0.11752016697}
"""Reference values of the benchmark (Schäfer & Turek 1996; digits of the later high-accuracy computations)."""

DEFAULT = f"{navier_stokes.CYLINDER_SIZE}:{navier_stokes.CYLINDER_REFINED_SIZE}"
MESHES = ("0.04:0.008", "0.03:0.004", DEFAULT, "0.01:0.001", "0.007:0.0007")


def inflow(x, y):
    return 4.0 * UM * y * (HEIGHT - y) / HEIGHT**2, 0.0 * x


def no_slip(x, y):
    return 0.0 * x, 0.0 * x


def cylinder(size: float, refined: float) -> dict[str, float]:
    """The benchmark on one mesh: cells, unknowns, c_D, c_L, Δp, Newton iterations, wall seconds."""
    start = time.perf_counter()
    domain = Difference(Rectangle([0.0, 0.0], [2.2, HEIGHT]), Disk([0.2, 0.2], 0.05))
    mesh = from_mesh_region(MeshRegion.from_gmsh(domain, size=size, refine={"hole0": refined}))
    walls = dict.fromkeys(("bottom", "top", "hole0"), no_slip)
    solution = navier_stokes.solve_steady(mesh, NU, {"left": inflow, **walls}, {"right": 0.0})
    fx, fy = force_on(solution, NU, "hole0")
    p = solution.evaluate(np.array([[0.15, 0.2], [0.25, 0.2]]))["p"]
    scale = 2.0 / (MEAN_VELOCITY**2 * DIAMETER)
    return {
        "cells": mesh.t.shape[1],
        "unknowns": sum(solution.dofs().values()),
        "c_D": scale * fx,
        "c_L": scale * fy,
        "Δp": float(p[0] - p[1]),
        "iterations": solution.info["iterations"],
        "wall_s": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meshes", nargs="+", default=list(MESHES), help="SIZE:REFINED pairs (cell sizes)")
    args = parser.parse_args()
    print("| size | on cylinder | cells | unknowns | c_D | err | c_L | err | Δp | err | Newton+Picard | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for pair in args.meshes:
        size, refined = (float(s) for s in pair.split(":"))
        row = cylinder(size, refined)
        errors = {k: (row[k] - v) / v for k, v in PUBLISHED.items()}
        mark = " (default)" if pair == DEFAULT else ""
        print(
            f"| {size:g}{mark} | {refined:g} | {row['cells']} | {row['unknowns']} | {row['c_D']:.6f} | "
            f"{errors['c_D']:+.2e} | {row['c_L']:.6f} | {errors['c_L']:+.2e} | {row['Δp']:.6f} | "
            f"{errors['Δp']:+.2e} | {row['iterations']} | {row['wall_s']:.1f} |"
        )


if __name__ == "__main__":
    main()
