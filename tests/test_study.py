"""Studies: the grid of solves, skipping finished runs, the norm study's results, a study's own directory."""

import json
import math
import shutil

import h5py
import pytest

import pdes
import pinn
from pinn.cli import main
from pinn.studies import density_study, norm_study
from pinn.studies.grid import (
    DIVERGED,
    FINISHED,
    SKIPPED,
    GridRun,
    log_ticks,
    markdown_table,
    run_grid,
    write_columns,
)

TINY = {"steps": 3, "lbfgs_steps": 0, "width": 4, "depth": 1, "eval_points": 64, "replicates": 2}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A 2 × 2 norm study of heat1d and its output directory."""
    out = tmp_path_factory.mktemp("norms")
    rows = norm_study(pdes.get("heat1d"), ["none", "batch"], [4, 8], out, progress=False, **TINY)
    return out, rows


def test_norm_study_runs_every_pair_and_writes_its_results(study):
    out, rows = study
    assert [(r["norm"], r["batch"], r["status"]) for r in rows] == [
        ("none", 4, FINISHED),
        ("none", 8, FINISHED),
        ("batch", 4, FINISHED),
        ("batch", 8, FINISHED),
    ]
    for r in rows:
        report = json.loads((out / f"{r['norm']}-b{r['batch']}" / "report.json").read_text())
        assert report["config"]["norm"] == r["norm"] and report["config"]["batch"] == r["batch"]
        assert r["rel_l2/u"] == report["errors"]["u"]["rel_l2"]
        assert math.isnan(r["gap_ratio"]) == (r["norm"] != "batch")
    assert json.loads((out / "study.json").read_text()) == {
        "format": "pinn-study-1",
        "kind": "norms",
        "problem": "heat1d",
        "params": pdes.get("heat1d").params,
    }
    with h5py.File(out / "study.h5") as h5:
        assert [s.decode() for s in h5["norm"][()]] == ["none", "none", "batch", "batch"]
        assert list(h5["batch"][()]) == [4, 8, 4, 8]
        assert list(h5["rel_l2/u"][()]) == [r["rel_l2/u"] for r in rows]
        assert json.loads(h5.attrs["settings"])["steps"] == TINY["steps"]
    text = (out / "study.md").read_text()
    assert "| norm | batch 4 | batch 8 |" in text and "Train/eval gap" in text
    assert f"| batch | {rows[2]['rel_l2/u']:.3g} | {rows[3]['rel_l2/u']:.3g} |" in text
    assert (out / "study_error.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(out.glob("results*")) and not (out / "norms.png").exists()


def test_rerun_skips_finished_runs(study):
    out, rows = study
    stamps = {p: p.stat().st_mtime_ns for p in [*out.glob("*/run.h5"), out / "study.json"]}
    again = norm_study(pdes.get("heat1d"), ["none", "batch"], [4, 8], out, progress=False, **TINY)
    assert {r["status"] for r in again} == {SKIPPED}
    assert [r["rel_l2/u"] for r in again] == [r["rel_l2/u"] for r in rows]
    assert stamps == {p: p.stat().st_mtime_ns for p in [*out.glob("*/run.h5"), out / "study.json"]}


def test_finished_run_with_other_settings_is_not_reused(study):
    out, _ = study
    with pytest.raises(ValueError, match="was made with steps=3, not 4"):
        norm_study(pdes.get("heat1d"), ["none"], [4], out, progress=False, **{**TINY, "steps": 4})


def test_finished_run_without_report_json_is_read_from_its_run_file(tmp_path):
    problem = pdes.get("heat1d")
    runs = [GridRun("a", {**TINY, "batch": 4})]
    first = run_grid(problem, runs, tmp_path, progress=False)[0]
    (tmp_path / "a" / "report.json").unlink()
    again = run_grid(problem, runs, tmp_path, progress=False)[0]
    assert again.status == SKIPPED and again.report == json.loads(json.dumps(first.report))


def test_diverged_run_is_recorded_the_grid_goes_on_and_a_rerun_resumes_it(tmp_path):
    problem = pdes.get("heat1d")
    runs = [GridRun("wild", {**TINY, "batch": 4, "lr": 1e30}), GridRun("calm", {**TINY, "batch": 4})]
    outcomes = run_grid(problem, runs, tmp_path, progress=False)
    assert [o.status for o in outcomes] == [DIVERGED, FINISHED]
    assert outcomes[0].report["status"] == "diverged" and "became" in outcomes[0].message
    assert [o.status for o in run_grid(problem, runs, tmp_path, progress=False)] == [DIVERGED, SKIPPED]


def test_every_setting_is_checked_before_any_run(tmp_path):
    with pytest.raises(ValueError, match="needs batch >= 2"):
        norm_study(pdes.get("heat1d"), ["none", "batch"], [8, 1], tmp_path / "s", progress=False, **TINY)
    assert not (tmp_path / "s").exists()
    with pytest.raises(ValueError, match="sets 'norm' itself"):
        norm_study(pdes.get("heat1d"), ["none"], [8], tmp_path / "s", progress=False, norm="layer")


def test_markdown_table_and_columns(tmp_path):
    table = markdown_table(["a", "b"], [["x", 0.000123456], ["y", float("nan")]])
    assert table == "| a | b |\n|---|---|\n| x | 0.000123 |\n| y | — |\n"
    write_columns(tmp_path / "t.h5", {"name": ["p", "q"], "group/value": [1.5, 2.5]}, {"note": {"k": 1}})
    with h5py.File(tmp_path / "t.h5") as h5:
        assert list(h5["group/value"][()]) == [1.5, 2.5] and json.loads(h5.attrs["note"]) == {"k": 1}


def test_cli_norm_study(tmp_path, capsys):
    args = ["study", "norms", "heat1d", "--norms", "none,rms", "--batch", "4", "--steps", "2", "--lbfgs-steps", "0"]
    args += ["--width", "4", "--depth", "1", "--replicates", "2", "--out", str(tmp_path)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| rms |" in printed
    assert printed.splitlines()[-1] == f"wrote {tmp_path}/study.json, study.h5, study.md, study_error.png"
    assert (tmp_path / "rms-b4" / "report.json").is_file()
    assert main(["study", "norms", "heat1d", "--norms", "bn", "--out", str(tmp_path)]) == 2
    assert "unknown norm 'bn'" in capsys.readouterr().err


def snapshot(directory):
    """Every file and folder under ``directory``: its bytes (None for a folder) and modification time."""
    paths = [directory, *sorted(directory.rglob("*"))]
    return {p: (None if p.is_dir() else p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


@pytest.fixture(scope="module")
def solve_run(tmp_path_factory):
    """A directory holding a finished ``pinn solve`` run of heat1d (report.json, run.h5, config.toml)."""
    out = tmp_path_factory.mktemp("solve")
    pinn.solve(pdes.get("heat1d"), out=out, progress=False, batch=4, **TINY)
    assert (out / "run.h5").is_file() and (out / "report.json").is_file()
    return out


DENSITY = {"arms": ["fresh-uniform"], "batches": [4]}


def run_study(kind, out, problem="heat1d"):
    """The norm or density study of ``problem`` into ``out`` (a tiny grid)."""
    if kind == "norms":
        return norm_study(pdes.get(problem), ["none"], [4], out, progress=False, **TINY)
    return density_study(pdes.get(problem), out=out, progress=False, **DENSITY, **TINY)


@pytest.mark.parametrize("kind", ["norms", "density"])
def test_study_refuses_a_directory_holding_a_solve_run_and_changes_nothing(solve_run, kind):
    before = snapshot(solve_run)
    with pytest.raises(ValueError, match=r"holds a solve run \(run\.h5\); give the \w+ study its own directory"):
        run_study(kind, solve_run)
    assert snapshot(solve_run) == before


@pytest.mark.parametrize("kind", ["norms", "density"])
def test_cli_refuses_a_directory_holding_a_solve_run_in_one_line(solve_run, kind, capsys):
    before = snapshot(solve_run)
    extra = ["--norms", "none"] if kind == "norms" else ["--arms", "fresh-uniform"]
    assert main(["study", kind, "heat1d", *extra, "--batch", "4", "--steps", "2", "--out", str(solve_run)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"pinn: error: '{solve_run}' holds a solve run (run.h5); give the {kind} study its own directory"]
    assert snapshot(solve_run) == before


def test_a_report_alone_is_a_solve_run_too_even_in_a_study(study, tmp_path):
    (tmp_path / "report.json").write_text("{}")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"holds a solve run \(report\.json\)"):
        run_study("norms", tmp_path)
    assert snapshot(tmp_path) == before
    out, _ = study
    shutil.copy(out / "study.json", tmp_path / "study.json")  # a solve written into the study's own directory
    with pytest.raises(ValueError, match=r"holds a solve run \(report\.json\)"):
        run_study("norms", tmp_path)


def test_density_study_refuses_a_norm_study_and_changes_nothing(study):
    out, _ = study
    before = snapshot(out)
    with pytest.raises(ValueError, match="holds a norms study, not a density study"):
        run_study("density", out)
    assert snapshot(out) == before


def test_study_of_another_problem_or_a_folder_of_other_files_is_refused(study, tmp_path):
    out, _ = study
    before = snapshot(out)
    with pytest.raises(ValueError, match="holds a norms study of heat1d .*, not of heat2d"):
        run_study("norms", out, problem="heat2d")
    assert snapshot(out) == before
    (tmp_path / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="holds files but no study.json: it is not a norms study"):
        run_study("norms", tmp_path)
    assert snapshot(tmp_path) == before
    (tmp_path / "study.json").write_text("not json")
    with pytest.raises(ValueError, match="is not a study's marker"):
        run_study("norms", tmp_path)


@pytest.mark.parametrize(
    "values,ticks",
    [
        ([256, 1024, 4096, 1024], [256, 1024, 4096]),  # few: the values themselves
        ([64, 128], [64, 128]),  # within a decade: still labelled (matplotlib labels 6e1, 7e1 … 1e2 too)
        ([1024, 8192, 65536, 78848, 287744], None),  # values too close to label: the powers of ten
        ([100, 110, 120, 200, 300, 400, 500, 600, 700], [100, 200, 300, 500, 700]),  # thinned within a decade
        ([], None),
    ],
)
def test_log_axis_ticks_are_few_and_apart(values, ticks):
    assert log_ticks(values) == ticks
