"""Flow past a cylinder (Schäfer–Turek 2D-1, Re = 20): errors against the FEM reference, drag, lift and Δp.

The problem is ``pdes.get("cylinder")`` (``pdes/cylinder.py``: a channel less a disk, written with
``pdes.navier_stokes`` and its conditions on the named boundary parts). The script trains it with
its defaults, prints the error table and each quantity beside the FEM reference's and the
published value, and writes the fields on the reference mesh for ParaView.

    python examples/cylinder.py
"""

import time

import pdes
import pinn
import pinn.vtk

if __name__ == "__main__":
    problem = pdes.get("cylinder")
    out = f"runs/cylinder-{time.strftime('%Y%m%d-%H%M%S')}"
    result = pinn.solve(problem, out=out)
    for name, error in result.report["errors"].items():
        print(f"relative L2 error of {name}: {error['rel_l2']:.2e}")
    for name, q in result.report["quantities"].items():
        print(
            f"{name}: PINN {q['value']:.5g}, FEM {q['reference']:.5g} (rel error {q['rel_error']:.1e}), "
            f"published {q['published']:.5g} (rel error {q['published_rel_error']:.1e})"
        )
    files = pinn.vtk.export(result, f"{out}/vtk")
    print(f"wall time: {result.report['wall_time_s']:.1f} s; ParaView: {files[0]}")
