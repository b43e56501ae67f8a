"""How accurate is heat2d_varcoef's FEM reference? Self-convergence in space and time.

Solves heat2d_varcoef (``pdes.heat_problems.heat2d_varcoef_fem``, P2, BDF2) on a ladder of meshes and
step counts, evaluates each at the same 4000 random space-time points, and prints wall time
and the relative L2 and max differences to the finest solution. The difference of the
default (32 cells, 200 steps) to the finest bounds its error up to the finest's own.

    nice -n 10 python benchmarks/fem_heat_reference.py
"""

from __future__ import annotations

import time

import numpy as np

from pdes.heat_problems import heat2d_varcoef_fem

LADDER = ((16, 100), (32, 200), (32, 400), (64, 200), (64, 400), (96, 600))


def main() -> None:
    points = np.random.default_rng(0).random((4000, 3))
    values, walls = {}, {}
    for resolution, steps in LADDER:
        start = time.perf_counter()
        solution = heat2d_varcoef_fem(resolution, steps)
        walls[resolution, steps] = time.perf_counter() - start
        values[resolution, steps] = solution.evaluate(points)["u"]
    finest = values[LADDER[-1]]
    print("| cells | steps | wall s | rel. L2 diff. to finest | max diff. to finest |")
    print("|---|---|---|---|---|")
    for key in LADDER:
        d = values[key] - finest
        rel = np.linalg.norm(d) / np.linalg.norm(finest)
        print(f"| {key[0]} | {key[1]} | {walls[key]:.1f} | {rel:.2e} | {np.abs(d).max():.2e} |")


if __name__ == "__main__":
    main()
