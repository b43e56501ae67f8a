"""A heat problem and a flow problem a user writes in ≤ 15 lines with the builders: ``pinn solve file.py:problem``
reports FEM errors, quadrature statistics and quantities with no extra code; a bad description exits 2 in one
line; ``pinn reference`` computes the reference on the domain's mesh at the resolution asked."""

import json
import textwrap

import pytest

from pinn.cli import main

SHORT = ["--steps", "20", "--lbfgs-steps", "0", "--batch", "64", "--width", "8", "--depth", "2", "--eval-points",
         "256", "--replicates", "3"]  # fmt: skip

HEAT = """\
    import torch
    import pdes
    from pdes.geometry import Difference, Disk, Rectangle


    def problem(resolution=16):
        plate = Difference(Rectangle([0, 0], [2, 1]), Disk([1.0, 0.5], 0.2))
        return pdes.heat(
            plate,
            conductivity=lambda x, y: 1 + 0.5 * x,
            source=lambda x, y: torch.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2)),
            conditions={"left|right": pdes.Dirichlet(0.0), "bottom|top": pdes.Neumann(), "hole0": pdes.Robin(2.0, 1.0)},
            quantities={"heat_in": pdes.Flux("hole0")},
            resolution=resolution,
        )
"""

FLOW = """\
    import pdes
    from pdes.geometry import Difference, Disk, Rectangle


    def problem(resolution=12):
        channel = Difference(Rectangle([0, 0], [2, 1]), Disk([0.6, 0.5], 0.15))
        return pdes.navier_stokes(
            channel,
            nu=0.05,
            conditions={"left": pdes.Velocity(lambda x, y: (4 * y * (1 - y), 0 * y)), "bottom|top|hole0": pdes.NoSlip(),
                        "right": pdes.Outflow()},
            quantities={"drag": pdes.Force("hole0", "x")},
            resolution=resolution,
        )
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert len(lines) <= 15, len(lines)
    return path


@pytest.mark.parametrize(
    "source,fields,quantity", [(HEAT, ["u"], "heat_in"), (FLOW, ["u", "v", "p"], "drag")], ids=["heat", "flow"]
)
def test_a_users_problem_reports_fem_errors_statistics_and_quantities(tmp_path, capsys, source, fields, quantity):
    path = write(tmp_path, "mine.py", source)
    out = tmp_path / "run"
    assert main(["solve", f"{path}:problem", "--out", str(out), *SHORT]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["reference"]["kind"] == "fem" and report["reference"]["mesh"]["cells"] > 50
    assert sorted(report["errors"]) == sorted(fields)
    assert all(0 < e["rel_l2"] < 10 for e in report["errors"].values())
    assert all(q["std_error"] is not None and q["std_error"] > 0 for q in report["quadrature"].values())
    entry = report["quantities"][quantity]
    assert entry["reference"] is not None and entry["rel_error"] is not None and entry["value"] is not None
    assert f"{quantity} = " in capsys.readouterr().out


def test_pinn_reference_meshes_a_users_domain_at_the_resolution_asked(tmp_path, capsys):
    path = write(tmp_path, "mine.py", HEAT)
    assert main(["reference", f"{path}:problem"]) == 0
    coarse = capsys.readouterr().out
    assert main(["reference", f"{path}:problem", "--resolution", "24"]) == 0
    fine = capsys.readouterr().out
    cells = [int(text.split("mesh: ")[1].split(" triangles")[0]) for text in (coarse, fine)]
    assert "resolution 16" in coarse and "resolution 24" in fine and cells[1] > 1.5 * cells[0]
    assert main(["reference", f"{path}:problem", "--param", "resolution=24"]) == 0
    assert "computed now" not in capsys.readouterr().out  # the same mesh: the cached solution


@pytest.mark.parametrize(
    "change,message",
    [
        (("pdes.Neumann()", "pdes.NoSlip()"), "conditions['bottom|top'] must be one of Dirichlet, Neumann, Robin"),
        (('"hole0": pdes.Robin(2.0, 1.0)', '"hole": pdes.Robin(2.0, 1.0)'), "names the part 'hole'"),
        (("1 + 0.5 * x", "0.5 - x"), "conductivity must be positive"),
        (("plate,", "[plate],"), "domain must be a pdes.geometry Region"),
    ],
)
def test_a_bad_description_exits_2_in_one_line(tmp_path, capsys, change, message):
    path = write(tmp_path, "bad.py", HEAT.replace(*change))
    out = tmp_path / "run"
    assert main(["solve", f"{path}:problem", "--out", str(out), *SHORT]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and not out.exists()


def test_a_users_run_resumes_and_loads_with_its_parameters(tmp_path):
    """The run file records the factory's own parameters (not the description), so resume, load and export-vtk
    rebuild the problem as it was trained, on the same reference mesh."""
    path = write(tmp_path, "mine.py", HEAT)
    out = tmp_path / "run"
    assert main(["solve", f"{path}:problem", "--param", "resolution=12", "--out", str(out), *SHORT]) == 0
    first = json.loads((out / "report.json").read_text())
    assert first["params"] == {"resolution": 12} and first["reference"]["mesh"]["resolution"] == 12
    assert main(["solve", "--resume", str(out), "--steps", "30"]) == 0
    resumed = json.loads((out / "report.json").read_text())
    assert resumed["steps_done"] == 30 and resumed["reference"]["key"] == first["reference"]["key"]
    assert main(["export-vtk", str(out)]) == 0 and (out / "vtk" / "fields.vtu").exists()


def test_pinn_reference_prints_the_quantities_and_a_failing_solver_in_one_line(tmp_path, capsys):
    path = write(tmp_path, "mine.py", HEAT)
    assert main(["reference", f"{path}:problem"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("heat_in = ")
    closed = write(tmp_path, "closed.py", """\
        import pdes
        from pdes.geometry import Rectangle


        def problem():
            return pdes.navier_stokes(Rectangle([0, 0], [1, 1]), nu=1e-5, resolution=8, conditions={
                "top": pdes.Velocity((1.0, 0.0)), "left|right|bottom": pdes.NoSlip()})
    """)  # fmt: skip
    assert main(["reference", f"{closed}:problem"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("pinn: failed: the finite element reference of navier_stokes failed") and "\n" not in error
