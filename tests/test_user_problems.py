"""A user's problem from a file or module on the command line: solve, resume, export, plot and load it
without passing it again; bad sources in one line; a source read from a run file runs only if trusted."""

import textwrap

import pytest

import pdes
import pinn
from pinn import io
from pinn.cli import main

PROBLEM_FILE = '''
import torch
from pdes import Problem, Term
from pdes.geometry import Interval
from pdes.reference import AnalyticReference


def problem(k=1.0):
    """-u'' = k π² sin(πx) on (0, 1), u = 0 at both ends: u = k sin(πx)."""
    domain = Interval(0.0, 1.0)
    terms = [
        Term("pde", domain, lambda f: f.u_xx + k * torch.pi**2 * torch.sin(torch.pi * f.x)),
        Term("ends", domain.boundary, lambda f: f.u),
    ]
    reference = AnalyticReference(("x",), lambda x: {"u": k * torch.sin(torch.pi * x)})
    return Problem("sine", ("x",), ("u",), domain, terms, reference=reference, params={"k": k})


def not_a_problem():
    return 42
'''

SHORT = ["--steps", "20", "--lbfgs-steps", "0", "--batch", "32", "--width", "8", "--depth", "1", "--eval-points", "64"]


@pytest.fixture
def problem_file(tmp_path):
    path = tmp_path / "my_problem.py"
    path.write_text(textwrap.dedent(PROBLEM_FILE))
    return path


def one_line_error(capsys, argv, message):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pinn: error: ") and message in err, err


def test_a_problem_file_solves_resumes_exports_plots_and_loads_by_its_run_file(problem_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["solve", f"{problem_file}:problem", "--param", "k=2.0", *SHORT, "--out", str(out)]) == 0
    run = io.load_run(out / "run.h5")
    assert run["source"] == f"{problem_file.resolve()}:problem" and run["params"] == {"k": 2.0}
    assert main(["solve", "--resume", str(out), "--steps", "30"]) == 0
    assert io.load_run(out / "run.h5")["history"]["step"][-1] == 30
    assert main(["export-vtk", str(out), "--resolution", "8"]) == 0
    assert main(["plot", str(out)]) == 0 and (out / "plots" / "u.png").is_file()
    result = pinn.load(out)
    assert result.problem.name == "sine" and result.problem.params == {"k": 2.0}
    assert result.report["steps_done"] == 30 and result.history["extensions"][0]["steps"] == [20, 30]


def test_a_module_factory_is_a_problem_source(problem_file, monkeypatch):
    monkeypatch.syspath_prepend(str(problem_file.parent))
    problem = pdes.get("my_problem:problem", k=0.5)
    assert problem.source == "my_problem:problem" and problem.params == {"k": 0.5}


@pytest.mark.parametrize(
    "source,message",
    [
        ("{dir}/missing.py:problem", "no problem file"),
        ("{file}:nothing", "has no function 'nothing'; its functions: not_a_problem, problem"),
        ("{file}:not_a_problem", "must return a pdes.Problem, got int"),
        ("{file}:", "a problem source is FILE.py:FUNCTION or MODULE:FUNCTION"),
        ("no_such_module_anywhere:problem", "cannot import 'no_such_module_anywhere'"),
    ],
)
def test_bad_sources_are_one_line_and_leave_no_folder(problem_file, tmp_path, capsys, source, message):
    spec = source.format(dir=tmp_path, file=problem_file)
    one_line_error(capsys, ["solve", spec, *SHORT, "--out", str(tmp_path / "x")], message)
    assert not (tmp_path / "x").exists()


def test_a_file_that_fails_or_parameters_it_does_not_take_are_one_line(problem_file, tmp_path, capsys):
    one_line_error(capsys, ["solve", f"{problem_file}:problem", "--param", "q=1"], "does not take these parameters")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('oops')\n")
    one_line_error(capsys, ["solve", f"{broken}:problem"], "failed while loading: RuntimeError: oops")


def test_a_source_this_user_never_ran_is_not_run_from_a_run_file(problem_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert main(["solve", f"{problem_file}:problem", *SHORT, "--out", str(out)]) == 0
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "another_user"))  # nothing trusted there
    with pytest.raises(ValueError, match="which you have not run here .*running it runs its code"):
        pinn.load(out)
    one_line_error(capsys, ["export-vtk", str(out)], "--problem")
    assert main(["export-vtk", str(out), "--resolution", "8", "--problem", f"{problem_file}:problem"]) == 0
    assert pinn.load(out).problem.name == "sine"  # named once, trusted from then on
    problem_file.write_text(problem_file.read_text() + "\n# changed\n")
    with pytest.raises(ValueError, match="or which changed since"):
        pinn.load(out)
    assert pinn.load(out, source=f"{problem_file}:problem").problem.name == "sine"  # named by the caller


def test_a_run_file_naming_any_callable_runs_nothing(tmp_path, monkeypatch):
    """A crafted run file whose source is ``os:system`` with a command for parameters is refused."""
    marker = tmp_path / "ran"
    io.save_run(
        tmp_path / "run.h5",
        problem="x",
        source="os:system",
        params={"command": f"touch {marker}"},
        config={},
        reference={},
        model_state={},
        training_state={},
        history={},
        step=0,
        complete=True,
    )
    with pytest.raises(ValueError, match="'os:system', which you have not run here"):
        pinn.load(tmp_path)
    assert not marker.exists()


BAD_GEOMETRY = """
from pdes.geometry import Box, Difference, Polygon


def bowtie():
    return Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])


def unknown_part():
    return Box([0, 0], [1, 1]).boundary["inlet"]


def covered():
    return Difference(Box([0, 0], [1, 1]), [Box([-1, -1], [2, 2])])
"""


@pytest.mark.parametrize(
    "factory,message",
    [
        ("bowtie", "self-intersect"),
        ("unknown_part", "valid names: left, right, bottom, top"),
        ("covered", "cover"),
    ],
)
def test_bad_geometry_in_a_problem_file_is_one_line_on_the_command_line(tmp_path, capsys, factory, message):
    path = tmp_path / "bad_geometry.py"
    path.write_text(BAD_GEOMETRY)
    one_line_error(capsys, ["solve", f"{path}:{factory}", "--out", str(tmp_path / "x")], message)
    assert not (tmp_path / "x").exists()
