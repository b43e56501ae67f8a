"""Lid-driven cavity by Taylor–Hood FEM: solve times, centreline profiles, mesh refinement.

For each Reynolds number and each resolution (cells per side, uniform mesh), solves the
classic-lid cavity (``pdes.fem.navier_stokes.cavity``; above Re 100, continuation in Re on
the mesh with half the cells, then Newton on the full mesh),
prints the wall time, the Newton iterations of each continuation stage, the extremes of
the centreline profiles u(0.5, y) and v(x, 0.5), and the largest change of each profile
(sampled at 201 points) from the previous resolution. The profiles on the finest mesh are
printed at 17 points and all profiles plotted to ``benchmarks/fem_cavity_re<Re>.png``.

    nice -n 10 python benchmarks/fem_cavity.py --re 100 --resolutions 32 64 128
    nice -n 10 python benchmarks/fem_cavity.py --re 1000 --resolutions 32 48 64 96
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402

from pdes.fem import navier_stokes  # noqa: E402
from pdes.fem.solution import FEMSolution  # noqa: E402

SAMPLES = np.linspace(0.0, 1.0, 201)
PRINTED = np.linspace(0.0, 1.0, 17)


def u_centreline(solution: FEMSolution, y: np.ndarray) -> np.ndarray:
    """u(0.5, y)."""
    return solution.evaluate(np.column_stack([np.full_like(y, 0.5), y]))["u"]


def v_centreline(solution: FEMSolution, x: np.ndarray) -> np.ndarray:
    """v(x, 0.5)."""
    return solution.evaluate(np.column_stack([x, np.full_like(x, 0.5)]))["v"]


def extreme(profile, sign: float) -> tuple[float, float]:
    """``(position, value)`` of the minimum (sign +1) or maximum (sign −1) of a centreline profile."""
    values = sign * profile(SAMPLES)
    k = int(np.argmin(values))
    bracket = (SAMPLES[max(k - 1, 0)], SAMPLES[min(k + 1, len(SAMPLES) - 1)])
    best = minimize_scalar(
        lambda s: sign * profile(np.array([s]))[0], bounds=bracket, method="bounded", options={"xatol": 1e-7}
    )
    return float(best.x), float(sign * best.fun)


def study(re: float, resolutions: list[int]) -> None:
    print(f"\n## Re = {re:g}, classic lid, uniform meshes, Taylor–Hood P2/P1")
    header = "| cells | unknowns | wall s | iterations per stage (Re@cells:its) | u_min (y) | v_max (x) | v_min (x) |"
    header += " max Δu(0.5,y) | max Δv(x,0.5) |"
    print(header)
    print("|" + "---|" * 9)
    profiles = {}
    previous = None
    for n in resolutions:
        start = time.perf_counter()
        solution = navier_stokes.cavity(re=re, lid="classic", resolution=n)
        wall = time.perf_counter() - start
        u, v = u_centreline(solution, SAMPLES), v_centreline(solution, SAMPLES)
        profiles[n] = (u, v, solution)
        y_min, u_min = extreme(lambda y, s=solution: u_centreline(s, y), 1.0)
        x_max, v_max = extreme(lambda x, s=solution: v_centreline(s, x), -1.0)
        x_min, v_min = extreme(lambda x, s=solution: v_centreline(s, x), 1.0)
        stages = ", ".join(f"{s['re']:.0f}@{s['cells']}:{s['iterations']}" for s in solution.info["continuation"])
        changes = "– | –"
        if previous is not None:
            changes = f"{np.abs(u - previous[0]).max():.1e} | {np.abs(v - previous[1]).max():.1e}"
        unknowns = 2 * solution.dofs()["u"] + solution.dofs()["p"]
        print(
            f"| {n} | {unknowns} | {wall:.1f} | {stages} | {u_min:.5f} ({y_min:.4f}) | {v_max:.5f} ({x_max:.4f}) "
            f"| {v_min:.5f} ({x_min:.4f}) | {changes} |",
            flush=True,
        )
        previous = (u, v)
    finest = resolutions[-1]
    solution = profiles[finest][2]
    print(f"\nCentreline profiles on the {finest}×{finest} mesh:")
    print("| s | u(0.5, s) | v(s, 0.5) |")
    print("|---|---|---|")
    for s, u, v in zip(PRINTED, u_centreline(solution, PRINTED), v_centreline(solution, PRINTED)):
        print(f"| {s:.4f} | {u:+.5f} | {v:+.5f} |")
    plot(re, profiles)


def plot(re: float, profiles: dict) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    for n, (u, v, _) in profiles.items():
        left.plot(u, SAMPLES, label=f"{n}×{n}")
        right.plot(SAMPLES, v, label=f"{n}×{n}")
    left.set(xlabel="u(0.5, y)", ylabel="y", title=f"Re = {re:g}: u on the vertical centreline")
    right.set(xlabel="x", ylabel="v(x, 0.5)", title=f"Re = {re:g}: v on the horizontal centreline")
    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.legend(title="cells")
    fig.tight_layout()
    path = Path(__file__).parent / f"fem_cavity_re{re:g}.png"
    fig.savefig(path, dpi=120)
    print(f"\nplot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--re", type=float, nargs="+", default=[100.0, 1000.0])
    parser.add_argument("--resolutions", type=int, nargs="+", default=[32, 64])
    args = parser.parse_args()
    for re in args.re:
        study(re, args.resolutions)


if __name__ == "__main__":
    main()
