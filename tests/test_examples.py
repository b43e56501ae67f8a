"""Every script in examples/ runs to its end, as a user runs it, on a few steps instead of thousands.

``pinn.solve`` is wrapped (the ``short_solves`` fixture) so that each solve takes tiny settings; everything else (the
problem, its reference, the printing, the run folder) is the example's own.
"""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
SHORT = dict(steps=3, lbfgs_steps=2, batch=32, width=8, depth=1, eval_points=64, replicates=2, progress=False)


def test_every_example_is_listed():
    assert [p.name for p in EXAMPLES] == [
        "cylinder.py", "heat_1d.py", "heat_2d.py", "heat_plate.py", "infer_viscosity.py", "kovasznay.py", "l_shape.py",
        "lid_driven_cavity.py", "taylor_green.py",
    ]  # fmt: skip


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_writes_its_run(path, tmp_path, monkeypatch, capsys, short_solves):
    short_solves(**SHORT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path)])
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    assert "relative L2 error" in printed, printed
    reports = list((tmp_path / "runs").rglob("report.json"))
    assert reports, "the example wrote no report.json under runs/"
