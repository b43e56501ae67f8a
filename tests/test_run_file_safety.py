"""Run files are data: no pickle is ever read, every array is checksummed, old pickle files are converted on trust."""

import io as bytes_io
import json
import os
import pickle

import h5py
import numpy as np
import pytest
import torch

import pdes
import pinn
import samplers
from pinn import io, tree
from pinn.cli import main
from pinn.config import Config
from pinn.state import batches_from_state, batches_state
from samplers.quadrature import Quadrature

SETTINGS = dict(steps=40, batch=32, width=8, depth=1, eval_every=20, eval_points=64, replicates=2, seed=5)


class Payload:
    """Unpickling this creates ``marker``: proof that a pickle from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def pickled(marker) -> np.void:
    return np.void(pickle.dumps(Payload(marker)))


def solved(path, **settings):
    pinn.solve(pdes.get("heat1d"), out=path, progress=False, **{**SETTINGS, **settings})
    return path


def refuses(argv, capsys):
    """The command exits 2 with one line on stderr and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pinn: error: ") and "Traceback" not in err
    return err


def test_a_tree_round_trips_tensors_numbers_containers_and_int_keys():
    state = {
        "adam": {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(4, dtype=torch.float64)}}},
        "groups": [{"betas": (0.9, 0.999), "params": [0, 1], "fused": True, "name": None}],
        "stream": torch.Generator().manual_seed(1).get_state(),
        "loss": float("nan"),
        "empty": [],
    }
    back = tree.join(*tree.split(state))
    assert back["adam"]["state"][0]["exp_avg"].dtype == torch.float64
    assert torch.equal(back["adam"]["state"][0]["exp_avg"], state["adam"]["state"][0]["exp_avg"])
    assert back["groups"] == state["groups"] and isinstance(back["groups"][0]["betas"], tuple)
    assert torch.equal(back["stream"], state["stream"]) and back["stream"].dtype == torch.uint8
    assert np.isnan(back["loss"]) and back["empty"] == []


@pytest.mark.parametrize("node", [object(), {1.5: 0}, torch.zeros(2, dtype=torch.complex64)], ids=str)
def test_a_tree_refuses_anything_but_data(node):
    with pytest.raises(TypeError, match="^a run file "):
        tree.split({"x": node})


def test_malformed_tree_text_is_a_value_error():
    with pytest.raises(ValueError, match="^malformed"):
        tree.join('{"tensor": 3, "dtype": "float32"}', [])
    with pytest.raises(ValueError, match="^malformed"):
        tree.join('{"pickle": "x"}', [])


@pytest.mark.parametrize("name", ["pool", "rar", "rad"])
def test_a_stateful_rule_continues_from_its_state_dict(name):
    region = pdes.get("heat1d").domain
    options = {"pool": dict(size=64), "rar": dict(size=64, every=2, candidates=32, add=4), "rad": dict(every=2)}
    rule, generator = samplers.get(name, **options[name]), torch.Generator().manual_seed(0)
    residual = lambda x: x.sum(dim=1).sin()  # noqa: E731
    for step in range(3):
        rule.refresh(region, residual, step, generator)
        rule.draw(region, 16, generator)
    copy = samplers.get(name, **options[name])
    copy.load_state_dict(tree.join(*tree.split(rule.state_dict())))
    twin = torch.Generator().manual_seed(9)
    generator.manual_seed(9)
    for step in range(3, 6):
        for r, g in ((rule, generator), (copy, twin)):
            r.refresh(region, residual, step, g)
        a, b = rule.draw(region, 16, generator), copy.draw(region, 16, twin)
        assert torch.equal(a.points, b.points) and torch.equal(a.weights, b.weights)


def test_a_file_of_pickles_everywhere_is_refused_and_runs_nothing(tmp_path, capsys):
    """Every dataset and every attribute of a real run file replaced by a pickle that would create a folder."""
    run = solved(tmp_path / "run")
    marker = tmp_path / "payload_ran"
    with h5py.File(run / "run.h5", "r+") as h5:
        names = []
        h5.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
        for name in names:
            del h5[name]
            h5[name] = pickled(marker)
        for name in list(h5.attrs):
            h5.attrs[name] = pickled(marker)
    for keep_format in (False, True):
        if keep_format:
            with h5py.File(run / "run.h5", "r+") as h5:
                h5.attrs["format"] = io.FORMAT
        before = (run / "run.h5").read_bytes()
        with pytest.raises(io.CorruptRunFile):
            pinn.load(run)
        refuses(["solve", "heat1d", "--resume", str(run)], capsys)
        refuses(["solve", "heat1d", "--warm-start", str(run), "--steps", "2", "--out", str(tmp_path / "w")], capsys)
        assert not marker.exists() and not (tmp_path / "w").exists()
        assert (run / "run.h5").read_bytes() == before


def test_an_old_pickle_file_is_refused_with_the_way_to_convert_it(tmp_path, capsys):
    path = old_format_copy(solved(tmp_path / "run"))
    err = refuses(["solve", "heat1d", "--resume", str(path.parent)], capsys)
    assert "old format pinn-run-1" in err and f"pinn convert-run {path.parent} --trust" in err
    with pytest.raises(io.CorruptRunFile, match="old format pinn-run-1"):
        pinn.load(path.parent)


def test_convert_run_needs_trust_then_resumes_exactly(tmp_path, capsys, interrupted_solve):
    problem = pdes.get("heat1d")
    settings = dict(SETTINGS, sampler="rad", refresh_every=10, candidates=128, lbfgs_steps=30)
    whole = pinn.solve(problem, out=tmp_path / "whole", progress=False, **settings)
    interrupted_solve(20, problem, out=tmp_path / "cut", **settings)
    path = old_format_copy(tmp_path / "cut")
    before = path.read_bytes()
    refuses(["convert-run", str(path.parent)], capsys)
    assert path.read_bytes() == before
    assert main(["convert-run", str(path.parent), "--trust"]) == 0
    assert "converted" in capsys.readouterr().out
    assert (path.parent / "run.h5.pinn-run-1").read_bytes() == before
    refuses(["convert-run", str(path.parent), "--trust"], capsys)  # the kept old file is never overwritten
    resumed = pinn.solve(problem, out=path.parent, progress=False, resume=True)
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_changed_weights_fail_the_checksum(tmp_path, capsys):
    """400 bytes overwritten inside a weight array on disk, and a value changed through h5py."""
    run = solved(tmp_path / "run", width=16, depth=2)
    with h5py.File(run / "run.h5", "r") as h5:
        name = next(n for n, d in h5["model"].items() if d.nbytes >= 400)
        offset = h5["model"][name].id.get_offset()
    with open(run / "run.h5", "r+b") as f:
        f.seek(offset)
        f.write(bytes(range(200)) * 2)
    with pytest.raises(io.CorruptRunFile, match=rf"fails its checksum at 'model/{name}': it was changed or damaged"):
        pinn.load(run)
    assert "fails its checksum" in refuses(["export-vtk", str(run)], capsys)

    other = solved(tmp_path / "other", steps=5)
    with h5py.File(other / "run.h5", "r+") as h5:
        h5.attrs["step"] = json.dumps(4)
    with pytest.raises(io.CorruptRunFile, match="fails its checksum at 'attrs/step'"):
        io.load_run(other / "run.h5")


def test_pinn_load_names_problem_for_an_unregistered_or_wrong_problem(tmp_path):
    run = solved(tmp_path / "run", steps=5)
    with h5py.File(run / "run.h5", "r") as h5:
        attrs = dict(h5.attrs)
    assert json.loads(attrs["problem"]) == "heat1d"
    with pytest.raises(ValueError, match=r"^the run in '.*' is of heat1d \{.*\}, not heat2d "):
        pinn.load(run, problem=pdes.get("heat2d"))
    with pytest.raises(ValueError, match=r"^the run in '.*' is of heat1d \{.*'alpha': 0.4.*\}, not heat1d \{.*0.3"):
        pinn.load(run, problem=pdes.get("heat1d", alpha=0.3))


def old_format_copy(directory):
    """Rewrite ``directory/run.h5`` in the old ``pinn-run-1`` layout: attributes as before, and the training
    state (rules and L-BFGS batches as objects) as a torch pickle in the dataset ``optimizer``."""
    path = directory / "run.h5"
    run = io.load_run(path)
    config = Config(**run["config"])

    def objects(part):
        rules = {}
        for name, state in part["rules"].items():
            rules[name] = samplers.get(config.sampler, **config.sampler_options())
            rules[name].load_state_dict(state)
        batches = part["lbfgs_batches"]
        return {**part, "rules": rules, "lbfgs_batches": None if batches is None else batches_from_state(batches)}

    state = objects(run["training_state"])
    buffer = bytes_io.BytesIO()
    torch.save(state, buffer)
    with h5py.File(path, "w") as h5:
        h5.attrs.update(
            format="pinn-run-1",
            problem=run["problem"],
            params=json.dumps(run["params"]),
            config=json.dumps(run["config"]),
            reference=json.dumps(run["reference"]),
            step=run["step"],
            complete=run["complete"],
        )
        for name, tensor in run["model_state"].items():
            h5[f"model/{name}"] = tensor.numpy()
        h5["optimizer"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
        h5["history"] = json.dumps(run["history"])
        if run["report"] is not None:
            h5["report"] = json.dumps(run["report"])
    return path


def test_a_quadrature_shared_by_terms_is_stored_once_and_comes_back_shared():
    shared = Quadrature(torch.rand(4, 2, dtype=torch.float64), torch.full((4,), 0.25, dtype=torch.float64))
    own = Quadrature(torch.rand(3, 2, dtype=torch.float64), torch.full((3,), 1 / 3, dtype=torch.float64))
    text, arrays = tree.split(batches_state({"u": shared, "v": shared, "pde": own}))
    assert len(arrays) == 4  # points and weights of two quadratures
    back = batches_from_state(tree.join(text, arrays))
    assert back["u"] is back["v"] and back["pde"] is not back["u"]
    assert torch.equal(back["u"].points, shared.points) and torch.equal(back["pde"].weights, own.weights)
