"""Transient heat in a plate with a hot and a cold hole: errors against the FEM reference, heat fluxes.

The problem is ``pdes.get("heat_plate")`` (``pdes/heat_plate.py``: a rectangle less two disks,
written with ``pdes.heat``, Robin conditions on the holes and insulated edges). The script trains it
with its defaults, prints the error table and the heat taken in through each hole beside the FEM
reference's, and writes the fields at five times on the reference mesh for ParaView
(``fields.pvd``).

    python examples/heat_plate.py
"""

import time

import pdes
import pinn
import pinn.vtk

if __name__ == "__main__":
    problem = pdes.get("heat_plate")
    out = f"runs/heat_plate-{time.strftime('%Y%m%d-%H%M%S')}"
    result = pinn.solve(problem, out=out)
    print(f"relative L2 error of u: {result.report['errors']['u']['rel_l2']:.2e}")
    for name, q in result.report["quantities"].items():
        print(f"{name}: PINN {q['value']:.5g}, FEM {q['reference']:.5g} (rel error {q['rel_error']:.1e})")
    files = pinn.vtk.export(result, f"{out}/vtk")
    print(f"wall time: {result.report['wall_time_s']:.1f} s; ParaView: {files[-1]}")
