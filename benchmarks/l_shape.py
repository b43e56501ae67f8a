"""A user's problem from a file: Laplace on the L-shape with the corner singularity (examples/l_shape.py).

    python benchmarks/l_shape.py [--seeds 0,1,2] [--record]

Each seed runs ``pinn solve examples/l_shape.py:problem --seed S`` in a child process, as a user
runs it (the settings are the problem's own defaults, examples/l_shape.py SETTINGS), then
``pinn export-vtk`` on the run and opens the VTK file with pyvista to list its arrays.
Target (issue 17): relative L2 error of u ≤ 1e-2 for every seed.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recorder import record, status

TARGET = 1e-2
SOURCE = str(Path(__file__).resolve().parents[1] / "examples" / "l_shape.py") + ":problem"


def solve_and_export(seed: int) -> dict:
    """One seed: report.json, the process wall time and the arrays of its exported VTK file."""
    import pyvista

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        command = [sys.executable, "-m", "pinn", "solve", SOURCE, "--seed", str(seed), "--out", out]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        subprocess.run([sys.executable, "-m", "pinn", "export-vtk", out], check=True, stdout=subprocess.DEVNULL)
        files = sorted(Path(out, "vtk").glob("fields.vt*"))
        arrays = sorted(pyvista.read(files[0]).point_data.keys()) if files else []
        report = json.loads(Path(out, "report.json").read_text())
    return {"report": report, "wall": wall, "vtk": files[0].name if files else "none", "arrays": arrays}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    rows = [
        "| seed | rel L2 (u) | max abs (u) | solve wall s | process wall s | VTK file | arrays |",
        "|---|---|---|---|---|---|---|",
    ]
    errors = []
    for seed in (int(s) for s in args.seeds.split(",")):
        run = solve_and_export(seed)
        error = run["report"]["errors"]["u"]
        errors.append(error["rel_l2"])
        rows.append(
            f"| {seed} | {error['rel_l2']:.2e} | {error['max_abs']:.2e} | {run['report']['wall_time_s']:.0f} | "
            f"{run['wall']:.0f} | {run['vtk']} | {', '.join(run['arrays'])} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    if args.record:
        met = max(errors) <= TARGET
        value = f"rel L2 {min(errors):.2e}–{max(errors):.2e} over {len(errors)} seeds"
        body = f"Target: rel L2(u) ≤ {TARGET:.0e} for every seed.\n\n{table}"
        command = "python benchmarks/l_shape.py " + " ".join(sys.argv[1:])
        record("l_shape", "l_shape", command, body, {"l_shape": (value, status(met))},
               title="A user's problem from a file: the L-shape (benchmarks/l_shape.py)")  # fmt: skip


if __name__ == "__main__":
    main()
