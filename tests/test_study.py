"""Studies: the grid of solves, skipping finished runs, and the norm study's results."""

import json
import math

import h5py
import pytest

import pdes
from pinn.cli import main
from pinn.studies import norm_study
from pinn.studies.grid import DIVERGED, FINISHED, SKIPPED, GridRun, markdown_table, run_grid, write_columns

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
    with h5py.File(out / "results.h5") as h5:
        assert [s.decode() for s in h5["norm"][()]] == ["none", "none", "batch", "batch"]
        assert list(h5["batch"][()]) == [4, 8, 4, 8]
        assert list(h5["rel_l2/u"][()]) == [r["rel_l2/u"] for r in rows]
        assert json.loads(h5.attrs["settings"])["steps"] == TINY["steps"]
    text = (out / "results.md").read_text()
    assert "| norm | batch 4 | batch 8 |" in text and "Train/eval gap" in text
    assert f"| batch | {rows[2]['rel_l2/u']:.3g} | {rows[3]['rel_l2/u']:.3g} |" in text
    assert (out / "norms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_skips_finished_runs(study):
    out, rows = study
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/run.h5")}
    again = norm_study(pdes.get("heat1d"), ["none", "batch"], [4, 8], out, progress=False, **TINY)
    assert {r["status"] for r in again} == {SKIPPED}
    assert [r["rel_l2/u"] for r in again] == [r["rel_l2/u"] for r in rows]
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/run.h5")}


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
    assert outcomes[0].report is None and "became" in outcomes[0].message
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
    assert "| rms |" in printed and "results.h5" in printed
    assert (tmp_path / "rms-b4" / "report.json").is_file()
    assert main(["study", "norms", "heat1d", "--norms", "bn", "--out", str(tmp_path)]) == 2
    assert "unknown norm 'bn'" in capsys.readouterr().err
