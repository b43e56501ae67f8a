"""The density study: its outputs, skipping finished runs, resuming an interrupted study, budgets, bad input."""

import json
import math
import re
import shutil

import h5py
import pytest
import torch

import pdes
from pdes.geometry import Box
from pdes.problem import Problem, Term
from pinn.cli import main
from pinn.config import Config
from pinn.studies import density_study, norm_study
from pinn.studies.density import Combination, minibatch_gradient_variance, probe_training
from pinn.studies.memory import PeakMemory

TINY = {"steps": 4, "width": 4, "depth": 1, "eval_points": 64, "replicates": 2}
GRID = {"pools": [32, "fresh"], "batches": [16, 64], "rules": ["uniform"]}
NAMES = ["uniform-pool32-b16", "uniform-poolfresh-b16", "uniform-poolfresh-b64"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A study of heat1d: pool 32 with batch 16, fresh points with batch 16 and 64 (pool 32 < batch 64 is left out)."""
    out = tmp_path_factory.mktemp("density")
    rows = density_study(pdes.get("heat1d"), out=out, progress=False, **GRID, **TINY)
    return out, rows


def test_study_writes_every_combination(study):
    out, rows = study
    assert [(r["sampler"], r["pool"], r["batch"], r["status"]) for r in rows] == [
        ("uniform", "32", 16, "finished"),
        ("uniform", "fresh", 16, "finished"),
        ("uniform", "fresh", 64, "finished"),
    ]
    for name, row in zip(NAMES, rows):
        report = json.loads((out / name / "report.json").read_text())
        assert report["config"]["sampler"] == "pool" and report["config"]["lbfgs_steps"] == 0
        assert row["rel_l2/u"] == report["errors"]["u"]["rel_l2"]
        assert row["std_error/pde"] == report["quadrature"]["pde"]["std_error"]
        correction = 1.0 if row["pool"] == "fresh" else 1 - 16 / 32
        trace = report["quadrature"]["pde"]["grad_var_trace"]
        assert row["batch_grad_var/pde"] == pytest.approx(trace / row["batch"] * correction, rel=1e-12)
        assert row["steps_per_s"] == report["steps_per_s"] and row["wall_time_s"] == report["wall_time_s"]
        probe = json.loads((out / name / "probe.json").read_text())
        assert row["train_memory_mb"] == probe["train_memory_mb"] and probe["steps_per_s"] > 0
    assert math.isfinite(rows[0]["pool_gap/pde"]) and rows[0]["pool_loss/pde"] > 0
    assert math.isnan(rows[1]["pool_gap/pde"])
    assert [r["distinct_points"] for r in rows] == [32, 16 * 4, 64 * 4]


def test_study_files(study):
    out, rows = study
    assert json.loads((out / "study.json").read_text())["kind"] == "density"
    with h5py.File(out / "study.h5") as h5:
        assert [s.decode() for s in h5["pool"][()]] == ["32", "fresh", "fresh"]
        assert list(h5["rel_l2/u"][()]) == [r["rel_l2/u"] for r in rows]
        for name in NAMES:
            history = json.loads(h5[f"history/{name}/json"][0])
            assert list(h5[f"history/{name}/loss"][()]) == history["loss"] and len(history["loss"]) == 4
        assert json.loads(h5.attrs["settings"])["steps"] == 4
    text = (out / "study.md").read_text()
    assert "| sampler | pool | batch | status | steps | rel L2 u |" in text
    assert "Left out (pool smaller than batch): uniform-pool32-b64." in text
    assert f"| 32 | {rows[0]['rel_l2/u']:.3g} | — |" in text
    for plot in ("study_error.png", "study_noise.png", "study_cost.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(out.glob("density_*"))


def test_rerun_skips_finished_runs(study):
    out, rows = study
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/run.h5")}
    again = density_study(pdes.get("heat1d"), out=out, progress=False, **GRID, **TINY)
    assert [r["status"] for r in again] == ["skipped"] * 3
    assert [r["rel_l2/u"] for r in again] == [r["rel_l2/u"] for r in rows]
    assert [r["train_memory_mb"] for r in again] == [r["train_memory_mb"] for r in rows]
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/run.h5")}


def test_interrupted_study_goes_on_where_it_stopped(study, tmp_path, capsys):
    out, _ = study
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    shutil.rmtree(tmp_path / NAMES[2])
    rows = density_study(pdes.get("heat1d"), out=tmp_path, **GRID, **TINY)
    assert [r["status"] for r in rows] == ["skipped", "skipped", "finished"]
    err = capsys.readouterr().err
    assert "run 1 of 3: uniform-pool32-b16" in err and "run 3 of 3: uniform-poolfresh-b64" in err


def test_budget_sets_the_steps_from_the_probed_speed(tmp_path):
    settings = {k: v for k, v in TINY.items() if k != "steps"}
    grid = {"pools": ["fresh"], "batches": [8], "rules": ["sobol"]}
    [row] = density_study(pdes.get("heat1d"), out=tmp_path, budget_s=0.05, progress=False, **grid, **settings)
    probe = json.loads((tmp_path / "sobol-poolfresh-b8" / "probe.json").read_text())
    assert row["status"] == "finished" and row["steps"] == max(1, int(0.05 * probe["steps_per_s"]))
    [again] = density_study(pdes.get("heat1d"), out=tmp_path, budget_s=0.05, progress=False, **grid, **settings)
    assert again["status"] == "skipped" and again["steps"] == row["steps"]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"batch": 8}, "the density study sets 'batch' itself"),
        ({"budget_s": 5.0}, "give either steps or a time budget, not both"),
        ({"pools": ["many"]}, "pool size must be a positive integer or 'fresh', got 'many'"),
        ({"rules": ["rad"]}, "the base rule of 'pool' must be stateless"),
        ({"pools": [8], "batches": [16, 32]}, "every pool (8) is smaller than every batch"),
    ],
)
def test_bad_settings_are_refused_before_any_run(tmp_path, change, message):
    arguments = {**GRID, **TINY, **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        density_study(pdes.get("heat1d"), out=tmp_path, progress=False, **arguments)
    assert not any(tmp_path.iterdir())


def test_problem_must_be_registered(tmp_path):
    domain = Box([0.0], [1.0])
    problem = Problem("mine", ("x",), ("u",), domain, [Term("pde", domain, lambda f: f.u_xx)])
    with pytest.raises(ValueError, match="'mine' is not registered"):
        density_study(problem, out=tmp_path, progress=False, **GRID, **TINY)


def test_cli_refuses_bad_lists(tmp_path, capsys):
    assert main(["study", "density", "heat1d", "--pool", "10,lots", "--out", str(tmp_path)]) == 2
    assert "--pool expects a number of points or 'fresh', got 'lots'" in capsys.readouterr().err


def test_peak_memory_sees_a_block_that_is_freed_again():
    with PeakMemory("cpu") as memory:
        block = torch.ones(50 * 2**20 // 8, dtype=torch.float64)
        del block
    assert 50 <= memory.mb < 50.01, memory.mb  # the allocator's bytes: 50 MiB and next to nothing else


def test_peak_memory_counts_what_the_block_allocates_not_what_was_held_before():
    held = torch.ones(2**20, dtype=torch.float64)  # 8 MiB
    with PeakMemory("cpu") as memory:
        block = torch.ones(2**17, dtype=torch.float64) + held[: 2**17]  # 1 MiB, beside a 1 MiB temporary
        del block
    assert 2 <= memory.mb < 2.01, memory.mb  # not the 8 MiB held
    with PeakMemory("cpu") as memory:
        pass
    assert memory.mb == 0.0


def probe(batch, pool="fresh"):
    """The probe of a TINY run of heat1d on the CPU, in this process."""
    combination = Combination("uniform", pool, batch)
    config = Config.build(pdes.get("heat1d").defaults, {**TINY, "lbfgs_steps": 0, **combination.settings()})
    return probe_training(pdes.get("heat1d"), config)["train_memory_mb"]


def test_train_memory_is_the_same_measured_twice_and_grows_with_the_batch(study):
    """Byte counts of the same allocations: equal here and in the study's child, 4× batch > 2× memory.

    1% is the tolerance for the same batch: the count is of the allocator's bytes, so it may
    only move by what torch caches on first use, while the resident set it replaced gave
    0.027 and 0.215 MB for batches 64 and 128 of this network and the same 0.21 MB for 128 and 512.
    A training step's memory is a + b·batch with a ≥ 0 (model, optimizer state): 4× the batch
    needs at most 4× the memory, and more than 2× while the batch's part b·batch dominates
    (a is 4% of it at batch 16 here: 0.0077 MiB at batch 16, 0.0301 MiB at 64).
    """
    _, rows = study
    small, again, large = probe(16), probe(16), probe(64)
    assert again == pytest.approx(small, rel=0.01)
    fresh16, fresh64 = rows[1]["train_memory_mb"], rows[2]["train_memory_mb"]
    assert fresh16 == pytest.approx(small, rel=0.01) and fresh64 == pytest.approx(large, rel=0.01)
    assert 2 * small < large <= 4 * small * 1.01
    assert 2 * fresh16 < fresh64 <= 4 * fresh16 * 1.01


def snapshot(directory):
    """Every file and folder under ``directory``: its bytes (None for a folder) and modification time."""
    paths = [directory, *sorted(directory.rglob("*"))]
    return {p: (None if p.is_dir() else p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def test_norm_study_refuses_a_density_study_and_changes_nothing(study, capsys):
    out, _ = study
    before = snapshot(out)
    with pytest.raises(ValueError, match="holds a density study, not a norms study"):
        norm_study(pdes.get("heat1d"), ["none"], [16], out, progress=False, **TINY)
    args = ["study", "norms", "heat1d", "--norms", "none", "--batch", "16", "--steps", "2", "--out", str(out)]
    assert main(args) == 2
    message = f"pinn: error: '{out}' holds a density study, not a norms study; give the norms study its own directory"
    assert capsys.readouterr().err.splitlines() == [message]
    assert snapshot(out) == before


def test_pool_minibatch_variance_has_the_finite_population_factor():
    generator = torch.Generator().manual_seed(0)
    pool, batch = 64, 48
    values = torch.randn(pool, generator=generator, dtype=torch.float64)
    means = torch.stack([values[torch.randperm(pool, generator=generator)[:batch]].mean() for _ in range(4000)])
    expected = minibatch_gradient_variance(float(values.var()), batch, pool)
    assert expected == pytest.approx(float(values.var()) / batch * 0.25)
    assert float(means.var()) == pytest.approx(expected, rel=0.1)
    assert minibatch_gradient_variance(2.0, 8, "fresh") == 0.25 and minibatch_gradient_variance(2.0, 8, 8) == 0.0
