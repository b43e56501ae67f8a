"""The density study: its arms, what each trains on, its error rule, its files, reruns, bad input, memory."""

import json
import math
import re
import shutil

import h5py
import numpy as np
import pytest
import torch

import pdes
from pdes.fem.solution import FEMSolution
from pdes.geometry import Box
from pdes.problem import Problem, Term
from pinn.cli import main
from pinn.config import Config
from pinn.step import next_batches, setup
from pinn.studies import density_study, norm_study
from pinn.studies.density import Cell, minibatch_gradient_variance, parse_arm, probe_training
from pinn.studies.density_report import OUTPUTS, by_cell, selection_false_positive, separation_power, spread
from pinn.studies.errors import ErrorRule, integrated_errors
from pinn.studies.memory import PeakMemory

TINY = {"steps": 4, "width": 4, "depth": 1, "eval_points": 64, "eval_every": 2, "replicates": 2, "lbfgs_steps": 2}
GRID = {"arms": ["full-sobol", "pool4", "fresh-uniform", "full-sobol+lbfgs"], "batches": [16, 64], "seeds": [0, 1]}
NAMES = [f"{arm}-b{b}-n4-s{s}" for arm in GRID["arms"] for b in GRID["batches"] for s in GRID["seeds"]]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A study of heat1d: four arms × batches 16, 64 × seeds 0, 1, two runs at a time."""
    out = tmp_path_factory.mktemp("density")
    rows = density_study(pdes.get("heat1d"), out=out, progress=False, workers=2, **GRID, **TINY)
    return out, rows


def test_study_runs_every_arm_batch_and_seed(study):
    out, rows = study
    assert [r["run"] for r in rows] == NAMES
    assert {r["status"] for r in rows} == {"finished"}
    for name, row in zip(NAMES, rows):
        report = json.loads((out / name / "report.json").read_text())
        config = report["config"]
        assert config["seed"] == row["seed"] and config["batch"] == row["batch"] and config["steps"] == 4
        assert config["lbfgs_steps"] == (2 if row["arm"].endswith("+lbfgs") else 0)
        expected_pool = {"full-sobol": row["batch"], "pool4": 4 * row["batch"], "fresh-uniform": "fresh"}
        expected_pool["full-sobol+lbfgs"] = row["batch"]
        assert config["pool"] == expected_pool[row["arm"]]
        assert config["base_sampler"] == ("uniform" if "uniform" in row["arm"] else "sobol")
        errors = json.loads((out / name / "errors.json").read_text())
        probe = json.loads((out / name / "probe.json").read_text())
        assert probe["key"]["batch"] == row["batch"] and "steps" not in probe["key"]
        assert errors["rule"] == "sobol" and row["rel_l2/u"] == errors["fields"]["u"]["rel_l2"]
        assert 0 < row["rel_l2_se/u"] < row["rel_l2/u"]
        correction = 1.0 if config["pool"] == "fresh" else 1 - row["batch"] / config["pool"]
        trace = report["quadrature"]["pde"]["grad_var_trace"]
        assert row["batch_grad_var/pde"] == pytest.approx(trace / row["batch"] * correction, rel=1e-12)
    assert [r["distinct_points"] for r in rows[:8]] == [16, 16, 64, 64, 64, 64, 256, 256]
    assert [r["distinct_points"] for r in rows[8:12]] == [64, 64, 256, 256]  # fresh: steps × batch
    seeds = {r["seed"]: r["rel_l2/u"] for r in rows if r["arm"] == "pool4" and r["batch"] == 16}
    assert seeds[0] != seeds[1]  # the seed reaches the network and the points


def test_study_files(study):
    out, rows = study
    assert json.loads((out / "study.json").read_text())["kind"] == "density"
    with h5py.File(out / "study.h5") as h5:
        assert [s.decode() for s in h5["arm"][()]] == [r["arm"] for r in rows]
        assert list(h5["seed"][()]) == [r["seed"] for r in rows]
        assert list(h5["rel_l2/u"][()]) == [r["rel_l2/u"] for r in rows]
        history = json.loads(h5[f"history/{NAMES[0]}/json"][0])
        assert list(h5[f"history/{NAMES[0]}/eval_wall_s"][()]) == [e["wall_s"] for e in history["eval"]]
        assert json.loads(h5.attrs["settings"])["steps"] == 4
        assert json.loads(h5.attrs["format"]) == "pinn-density-2"
    text = (out / "study.md").read_text()
    cells = {
        (arm, b): spread([r["rel_l2/u"] for r in rows if r["arm"] == arm and r["batch"] == b])
        for arm in GRID["arms"]
        for b in GRID["batches"]
    }
    assert f"| pool4 | {cells['pool4', 16]} | {cells['pool4', 64]} |" in text
    for heading in ("at equal steps", "Minibatching against full batch", "Convergence", "Power", "full-sobol+lbfgs"):
        assert heading in text
    for name in OUTPUTS:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_rerun_skips_finished_runs(study):
    out, rows = study
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/run.h5")}
    again = density_study(pdes.get("heat1d"), out=out, progress=False, **GRID, **TINY)
    assert [r["status"] for r in again] == ["skipped"] * len(NAMES)
    assert [r["rel_l2/u"] for r in again] == [r["rel_l2/u"] for r in rows]
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/run.h5")}


def test_interrupted_study_goes_on_where_it_stopped(study, tmp_path, capsys):
    out, rows = study
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    shutil.rmtree(tmp_path / NAMES[-1])
    again = density_study(pdes.get("heat1d"), out=tmp_path, **GRID, **TINY)
    assert [r["status"] for r in again] == ["skipped"] * (len(NAMES) - 1) + ["finished"]
    assert again[-1]["rel_l2/u"] == rows[-1]["rel_l2/u"]  # the same seed gives the same run
    err = capsys.readouterr().err
    assert f"{len(NAMES) - 1} of {len(NAMES)} runs done earlier; 1 to run" in err
    assert f"run 1 of 1: {NAMES[-1]} finished" in err


def batches_of_steps(arm: str, batch: int, steps: int) -> list[torch.Tensor]:
    """The points of heat1d's pde batch at each of ``steps`` Adam steps of ``arm`` (no training in between)."""
    problem = pdes.get("heat1d")
    cell = Cell(parse_arm(arm), batch, 0, steps)
    run, state = setup(problem, Config.build(problem.defaults, {**TINY, **cell.settings(0)}))
    points = []
    for _ in range(steps):
        points.append(next_batches(run, state)["pde"].points.clone())
        state.step += 1
    return points


def rows_of(points: torch.Tensor) -> set[tuple[float, ...]]:
    return {tuple(p) for p in points.tolist()}


def test_the_full_batch_arm_trains_on_one_fixed_set():
    steps = batches_of_steps("full-sobol", 32, 5)
    assert all(len(p) == 32 and rows_of(p) == rows_of(steps[0]) for p in steps)
    fresh = batches_of_steps("fresh-sobol", 32, 2)
    assert rows_of(fresh[0]) != rows_of(fresh[1])


def test_a_pool_arm_serves_its_pool_without_replacement_within_an_epoch():
    steps = batches_of_steps("pool4", 16, 8)  # two epochs of four minibatches from 64 points
    for epoch in (steps[:4], steps[4:]):
        seen = [row for p in epoch for row in rows_of(p)]
        assert len(seen) == 64 and len(set(seen)) == 64
    assert rows_of(torch.cat(steps[:4])) == rows_of(torch.cat(steps[4:]))


@pytest.mark.parametrize(
    "name,kind,base,multiple,lbfgs",
    [
        ("full-uniform", "full", "uniform", 1, False),
        ("pool16", "pool", "sobol", 16, False),
        ("pool64-uniform", "pool", "uniform", 64, False),
        ("fresh-sobol", "fresh", "sobol", 1, False),
        ("full-uniform+lbfgs", "full", "uniform", 1, True),
        ("rad", "rad", "sobol", 1, False),
    ],
)
def test_arm_names(name, kind, base, multiple, lbfgs):
    arm = parse_arm(name)
    assert (arm.name, arm.kind, arm.base, arm.multiple, arm.lbfgs) == (name, kind, base, multiple, lbfgs)


def test_an_arm_has_one_name_and_aliases_are_repeats(tmp_path):
    assert parse_arm("pool16-sobol").name == "pool16"
    with pytest.raises(ValueError, match="repeat under other names: pool16, pool16-sobol are pool16, pool16"):
        density_study(pdes.get("heat1d"), ["pool16", "pool16-sobol"], [8], tmp_path, progress=False, **TINY)


@pytest.mark.parametrize("name", ["pool64+lbfgs", "fresh-sobol+lbfgs", "rad+lbfgs"])
def test_lbfgs_follows_only_a_full_batch_arm(name):
    with pytest.raises(ValueError, match=re.escape(f"arm '{name}': +lbfgs follows only a full-batch arm")):
        parse_arm(name)


def test_a_pool_larger_than_the_steps_can_serve_counts_what_was_served():
    assert parse_arm("pool256").distinct_points(64, 10, 1) == 640
    assert parse_arm("pool256").distinct_points(64, 1000, 1) == 256 * 64


def test_rad_arm_settings_and_distinct_points():
    arm = parse_arm("rad")
    assert arm.settings(64, 100) == {
        "lbfgs_steps": 0,
        "batch": 64,
        "sampler": "rad",
        "base_sampler": "sobol",
        "candidates": 1024,
    }
    assert arm.distinct_points(64, 1000, 500) == 1024 * 2  # candidates drawn at steps 0 and 500


@pytest.mark.parametrize("name", ["pool1", "pool", "full", "fresh-halton", "rad-uniform+", "Full-sobol"])
def test_unknown_arms_are_refused_with_the_valid_forms(name):
    with pytest.raises(ValueError, match=re.escape(f"unknown arm '{name}'; valid: full-sobol, full-uniform, pool<k>")):
        parse_arm(name)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"batch": 8}, "the density study sets 'batch' itself"),
        ({"seed": 3}, "the density study sets 'seed' itself"),
        ({"arms": ["pool"]}, "unknown arm 'pool'"),
        ({"seeds": []}, "the density study needs at least one seed"),
        ({"batches": [16, 16]}, "the density study's batch sizes repeat: 16, 16"),
        ({"workers": 0}, "workers must be a positive number of processes, got 0"),
        ({"batches": [0]}, "batch sizes must be positive integers, got 0"),
        ({"width": -1}, "width"),
        ({"wall_s": 0}, "wall_s must be a positive number of seconds, got 0"),
        ({"wall_s": 1.0}, "arm 'full-sobol+lbfgs': a study at equal wall time runs Adam only"),
        ({"wall_s": 1.0, "until_converged": True, "arms": ["full-sobol"]}, "give either wall_s"),
        ({"max_steps": 8}, "max_steps bounds until_converged"),
        ({"max_steps": 2, "until_converged": True}, "max_steps must be an integer of at least steps (4), got 2"),
        ({"until_converged": True, "arms": ["pool4"]}, "until_converged runs the full-batch arm first"),
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


def test_cli_runs_a_study_and_refuses_bad_lists(tmp_path, capsys):
    args = ["study", "density", "heat1d", "--arms", "fresh-sobol", "--batch", "8", "--seeds", "0", "--steps", "2"]
    assert main([*args, "--width", "4", "--depth", "1", "--replicates", "2", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert (
        "| fresh-sobol |" in out
        and "wrote" in out
        and (tmp_path / "a" / "fresh-sobol-b8-n2-s0" / "errors.json").is_file()
    )
    assert main(["study", "density", "heat1d", "--seeds", "0,x", "--out", str(tmp_path / "b")]) == 2
    assert "expected comma-separated seeds (integers from 0), got '0,x'" in capsys.readouterr().err
    assert main(["study", "density", "heat1d", "--arms", "pool1", "--out", str(tmp_path / "c")]) == 2
    assert "unknown arm 'pool1'" in capsys.readouterr().err
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def smooth_solution(n: int) -> FEMSolution:
    """P2 nodal values of ``sin(πx) cos(πy/2)`` on an n × n mesh of the unit square."""
    from pdes.fem import mesh
    from pdes.fem.solution import dof_locations

    triangles = mesh.rectangle((0.0, 0.0), (1.0, 1.0), n, n)
    x, y = dof_locations(triangles, "P2")
    return FEMSolution(triangles.p, triangles.t, {"u": "P2"}, {"u": np.sin(np.pi * x) * np.cos(np.pi * y / 2)})


def network(points: torch.Tensor) -> dict[str, torch.Tensor]:
    """A smooth stand-in for a network: the reference's function plus a smooth perturbation."""
    x, y = points[:, 0], points[:, 1]
    return {"u": torch.sin(torch.pi * x) * torch.cos(torch.pi * y / 2) + 0.05 * x * y * (1 + torch.sin(3 * x))}


def test_error_on_the_fem_mesh_agrees_with_a_monte_carlo_estimate_within_its_standard_error():
    solution = smooth_solution(16)
    points, weights, values = solution.gauss_rule(4)
    assert weights.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.allclose(values["u"], solution.evaluate(points)["u"], atol=1e-12)  # the FE function at Gauss points
    mesh_rule = ErrorRule(
        torch.as_tensor(points), torch.as_tensor(weights), {"u": torch.as_tensor(values["u"])}, (), "fem mesh"
    )
    on_mesh = integrated_errors(mesh_rule, network)["u"]
    assert on_mesh["std_error"] == 0.0
    generator = torch.Generator().manual_seed(7)
    uniform = torch.rand(200_000, 2, generator=generator, dtype=torch.float64)
    reference = torch.as_tensor(solution.evaluate(uniform.numpy())["u"])
    monte_carlo = ErrorRule(
        uniform, torch.full((len(uniform),), 1 / len(uniform), dtype=torch.float64), {"u": reference}, (), "sobol"
    )
    estimate = integrated_errors(monte_carlo, network)["u"]
    assert 0 < estimate["std_error"] < 0.01 * estimate["rel_l2"]
    assert abs(estimate["rel_l2"] - on_mesh["rel_l2"]) < 3 * estimate["std_error"]


def test_the_mesh_rule_integrates_space_time_exactly_for_polynomials():
    solution = smooth_solution(4)
    steady = solution.values["u"]
    solution = FEMSolution(
        solution.points, solution.cells, {"u": "P2"}, {"u": np.stack([steady, 3 * steady])}, times=np.array([0.0, 2.0])
    )
    points, weights, values = solution.gauss_rule(4, time_nodes=3)
    assert weights.sum() == pytest.approx(2.0, rel=1e-12)
    t = points[:, 2]
    assert np.sum(weights * t**3 * points[:, 0] ** 2) == pytest.approx(4.0 / 3.0, rel=1e-12)  # ∫₀² t³ dt ∫ x² = 4/3
    assert np.allclose(values["u"], solution.evaluate(points)["u"], atol=1e-12)
    with pytest.raises(ValueError, match="needs time_nodes >= 1"):
        solution.gauss_rule(4)


def test_up_to_constant_fields_lose_their_mean_difference():
    points = torch.rand(1000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    weights = torch.full((1000,), 1e-3, dtype=torch.float64)
    rule = ErrorRule(points, weights, {"p": points[:, 0]}, ("p",), "fem mesh")
    assert integrated_errors(rule, lambda x: {"p": x[:, 0] + 5.0})["p"]["rel_l2"] == pytest.approx(0.0, abs=1e-12)


def test_separation_power():
    assert separation_power(0.05, 3, 1.0) == pytest.approx(0.1, abs=0.01)  # 2·3!²/6! for identical cells
    assert separation_power(1e-3, 3) == 1.0
    assert separation_power(1.0, 3) < 0.2
    assert math.isnan(separation_power(math.nan, 3))
    assert str(spread([1.0, 4.0])) == "2 [1, 4]" and spread([]).count == 0
    assert str(spread([1.0, 4.0, math.nan])) == "2 [1, 4] (2 of 3 seeds)"


def test_a_cell_that_lacks_a_seed_neither_separates_nor_counts_a_diverged_run():
    rows = [
        {"arm": arm, "batch": 8, "seed": seed, "status": status, "e": e}
        for arm, seed, status, e in [
            ("a", 0, "finished", 1.0),
            ("a", 1, "finished", 1.1),
            ("b", 0, "finished", 10.0),
            ("b", 1, "diverged", 0.001),
        ]
    ]
    cells = by_cell(rows, lambda r: r["e"])
    assert (cells["b", 8].count, cells["b", 8].runs, cells["b", 8].low) == (1, 2, 10.0)
    assert not cells["a", 8].separates_from(cells["b", 8])
    rows[3]["status"] = "finished"
    rows[3]["e"] = 11.0
    cells = by_cell(rows, lambda r: r["e"])
    assert cells["a", 8].separates_from(cells["b", 8])


def test_choosing_the_best_of_several_arms_raises_the_chance_of_a_false_separation():
    one = selection_false_positive(0.1, 3, 1)
    assert one == pytest.approx(separation_power(0.1, 3, 1.0), abs=0.02)
    assert selection_false_positive(0.1, 3, 9) > 1.5 * one  # 0.19 against 0.10


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


def probe(batch, arm="fresh-uniform"):
    """The probe of a TINY run of heat1d on the CPU, in this process."""
    cell = Cell(parse_arm(arm), batch, 0)
    config = Config.build(pdes.get("heat1d").defaults, {**TINY, **cell.settings(0)})
    return probe_training(pdes.get("heat1d"), config)["train_memory_mb"]


def test_train_memory_is_the_same_measured_twice_and_grows_with_the_batch(study):
    """Byte counts of the same allocations: equal here and in the study's child, 4× batch > 2× memory.

    1% is the tolerance for the same batch: the count is of the allocator's bytes, so it may
    only move by what torch caches on first use. A training step's memory is a + b·batch with
    a ≥ 0 (model, optimizer state): 4× the batch needs at most 4× the memory, and more than 2×
    while the batch's part b·batch dominates.
    """
    _, rows = study
    small, again, large = probe(16), probe(16), probe(64)
    assert again == pytest.approx(small, rel=0.01)
    fresh16, fresh64 = (r["train_memory_mb"] for r in rows if r["arm"] == "fresh-uniform" and r["seed"] == 0)
    assert fresh16 == pytest.approx(small, rel=0.01) and fresh64 == pytest.approx(large, rel=0.01)
    assert 2 * small < large <= 4 * small * 1.01


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


def test_until_converged_doubles_the_budget_until_the_full_batch_arm_converges(tmp_path, monkeypatch):
    import pinn.studies.density as density

    arguments = {**TINY, "arms": ["full-sobol", "pool4"], "batches": [8], "seeds": [0]}
    monkeypatch.setattr(density, "CONVERGED", 0.0)  # any finite ratio has converged
    rows = density_study(pdes.get("heat1d"), out=tmp_path / "a", progress=False, until_converged=True, **arguments)
    assert [r["steps"] for r in rows] == [4, 4]
    monkeypatch.setattr(density, "CONVERGED", math.inf)  # never converged: doubled up to max_steps
    out = tmp_path / "b"
    rows = density_study(pdes.get("heat1d"), out=out, progress=False, until_converged=True, max_steps=16, **arguments)
    assert [r["run"] for r in rows] == ["full-sobol-b8-n16-s0", "pool4-b8-n16-s0"]
    assert [r["steps"] for r in rows] == [16, 16]
    assert {p.name for p in out.iterdir() if p.is_dir()} == {
        "full-sobol-b8-n4-s0",
        "full-sobol-b8-n8-s0",
        "full-sobol-b8-n16-s0",
        "pool4-b8-n16-s0",
    }
    text = (out / "study.md").read_text()
    assert re.search(r"\| u \| 8 \| 4 \|.*\| no \|", text) and re.search(r"\| u \| 8 \| 16 \|.*\| no \|", text)


def test_equal_wall_time_gives_each_run_the_steps_its_probe_says_fit(tmp_path):
    arguments = {**TINY, "arms": ["full-sobol", "fresh-uniform"], "batches": [8, 64], "seeds": [0]}
    rows = density_study(pdes.get("heat1d"), out=tmp_path, progress=False, wall_s=0.2, **arguments)
    for row in rows:
        probe = json.loads((tmp_path / row["run"] / "probe.json").read_text())
        assert row["run"].endswith("-t0.2s-s0")
        assert row["steps"] == max(1, round(0.2 * probe["steps_per_s"])) > 4
    assert "equal wall time (0.2 s of Adam steps each)" in (tmp_path / "study.md").read_text()


def test_a_run_whose_process_dies_fails_alone(tmp_path, capsys):
    arguments = {**TINY, "arms": ["full-sobol"], "batches": [8, 16], "seeds": [0]}
    density_study(pdes.get("heat1d"), out=tmp_path, progress=False, **{**arguments, "batches": [32]})
    (tmp_path / "full-sobol-b8-n4-s0").write_text("in the way")  # the child cannot make its directory
    rows = density_study(pdes.get("heat1d"), out=tmp_path, workers=2, **arguments)
    assert [r["status"] for r in rows] == ["failed", "finished"]
    assert "full-sobol-b8-n4-s0 failed" in capsys.readouterr().err
    assert (tmp_path / "full-sobol-b8-n4-s0").read_text() == "in the way"


def test_a_script_without_a_main_guard_is_told_so(tmp_path, monkeypatch):
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    with pytest.raises(RuntimeError, match='call it under `if __name__ == "__main__":`'):
        density_study(pdes.get("heat1d"), out=tmp_path, progress=False, **GRID, **TINY)
