"""The FEM reference of ``cylinder`` (Schäfer–Turek 2D-1, Re = 20) against the published drag, lift and Δp.

For each mesh ``RESOLUTION:CELL`` (cells across the channel's diagonal, cell size on the cylinder) it builds
``pdes.get("cylinder", resolution=…, cylinder_cell=…)``, computes its Taylor–Hood reference on the gmsh
mesh (nothing cached: ``$PINN_CACHE`` is a fresh temporary folder) and evaluates the problem's own
quantities on it (``c_D``, ``c_L`` from the weak-form force ``pdes.fem.quantities.force_on``,
``Δp = p(0.15, 0.2) − p(0.25, 0.2)``). Prints a markdown table (cells, unknowns, the three values and their
errors relative to the published ones, Newton iterations, wall seconds of mesh + solve + quantities); the
first row is the registered problem's default mesh. ``--record`` records it (benchmarks/recorder.py).

    OMP_NUM_THREADS=1 python benchmarks/fem_cylinder.py [--meshes 112:0.002 224:0.001 …] [--record]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from recorder import record

import pdes
from pdes import cylinder as registered

MESHES = ("56:0.008", "75:0.004", "112:0.002", "224:0.001", "320:0.0007")
"""``resolution:cylinder_cell`` pairs: cell sizes far away of about 0.04, 0.03, 0.02, 0.01, 0.007."""

LIMITS = {"drag": 5e-3, "lift": 2e-2, "dp": 5e-3}
"""The issue's targets for the default mesh: relative errors against the published values."""

TIME_LIMIT_S = 300.0


def run(resolution: int, cell: float) -> dict[str, float]:
    """The reference on one mesh: cells, unknowns, the quantities, Newton iterations, wall seconds."""
    start = time.perf_counter()
    problem = pdes.get("cylinder", resolution=resolution, cylinder_cell=cell)
    solution = problem.reference.solution()
    row = {name: bound.scale * bound.fem(solution) for name, bound in problem.quantities.items()}
    row["wall_s"] = time.perf_counter() - start
    row["cells"] = problem.reference.mesh_info()["cells"]
    row["unknowns"] = sum(solution.dofs().values())
    row["iterations"] = solution.info["iterations"]
    return row


def table(meshes: list[str]) -> tuple[str, dict[str, tuple[str, str]]]:
    """The markdown table and, for the default mesh, the target rows."""
    lines = [
        "| resolution | cell on cylinder | cells | unknowns | c_D | rel err | c_L | rel err | Δp | rel err | "
        "iterations | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    targets = {}
    for pair in meshes:
        resolution, cell = int(pair.split(":")[0]), float(pair.split(":")[1])
        row = run(resolution, cell)
        errors = {k: (row[k] - v) / v for k, v in registered.PUBLISHED.items()}
        default = resolution == registered.RESOLUTION and cell == registered.CYLINDER_CELL
        lines.append(
            f"| {resolution}{' (default)' if default else ''} | {cell:g} | {row['cells']} | {row['unknowns']} | "
            f"{row['drag']:.6f} | {errors['drag']:+.2e} | {row['lift']:.6f} | {errors['lift']:+.2e} | "
            f"{row['dp']:.6f} | {errors['dp']:+.2e} | {row['iterations']} | {row['wall_s']:.1f} |"
        )
        print(lines[-1], flush=True)
        if default:
            met = all(abs(errors[k]) <= LIMITS[k] for k in LIMITS) and row["wall_s"] <= TIME_LIMIT_S
            value = (
                f"c_D {errors['drag']:+.1e}, c_L {errors['lift']:+.1e}, Δp {errors['dp']:+.1e} in "
                f"{row['wall_s']:.1f} s (wall)"
            )
            targets["fem_cylinder"] = (value, "met" if met else "not met")
    return "\n".join(lines), targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meshes", nargs="+", default=list(MESHES), help="RESOLUTION:CELL pairs")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    os.environ["PINN_CACHE"] = tempfile.mkdtemp(prefix="fem_cylinder_")
    body, targets = table(args.meshes)
    print(body)
    if args.record:
        command = "OMP_NUM_THREADS=1 python benchmarks/fem_cylinder.py " + " ".join(sys.argv[1:])
        reading = (
            "Relative errors against the published values of Schäfer & Turek's 2D-1 benchmark; the default mesh is "
            "the reference of `pinn solve cylinder`. Wall seconds include gmsh, the Newton solve and the quantities."
        )
        record("fem_cylinder", "fem_cylinder", command, f"{reading}\n\n{body}", targets,
               title="FEM reference of the cylinder benchmark (benchmarks/fem_cylinder.py)")  # fmt: skip


if __name__ == "__main__":
    main()
