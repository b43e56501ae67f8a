"""FEMReference: computed once, cached in HDF5, checked on load, recomputed when the file is unusable."""

import shutil

import h5py
import numpy as np
import pytest
import torch

from pdes.fem import references
from pdes.reference import FEMReference
from pdes.reference_cache import CacheWarning, load_arrays


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny():
    return references.kovasznay(re=20.0, resolution=3)


POINTS = torch.tensor([[0.1, 0.2], [-0.4, 1.4], [0.9, -0.3]], dtype=torch.float64)


def test_first_use_computes_and_writes_a_complete_file(cache):
    reference = tiny()
    values = reference.evaluate(POINTS)
    assert reference.source == "computed" and reference.path.parent == cache
    arrays, attributes = load_arrays(reference.path)
    assert {"mesh/points", "mesh/cells", "values/u", "values/v", "values/p"} <= set(arrays)
    for name in ("key", "problem", "params", "resolution", "settings", "versions", "description"):
        assert name in attributes
    with h5py.File(reference.path, "r") as f:
        assert len(f.attrs["checksum"]) == 64
    assert attributes["resolution"] == "3" and '"re": 20.0' in attributes["params"]
    assert '"tolerance": 1e-10' in attributes["settings"] and "scikit-fem" in attributes["versions"]
    assert set(values) == {"u", "v", "p"} and values["u"].shape == (3,)
    assert [p.name for p in cache.iterdir()] == [reference.path.name]  # no temporary files left


def test_second_use_loads_the_same_values():
    first = tiny().evaluate(POINTS)
    again = tiny()
    second = again.evaluate(POINTS)
    assert again.source == "cache"
    for name in first:
        assert torch.equal(first[name], second[name])


def test_values_follow_the_dtype_of_the_points():
    values = tiny().evaluate(POINTS.float())
    assert values["u"].dtype == torch.float32
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\) for coordinates \('x', 'y'\)"):
        tiny().evaluate(torch.zeros(4, 3))


def corrupt_values(path):
    with h5py.File(path, "r+") as f:
        f["values/u"][0] += 1e-9


def corrupt_attribute(path):
    with h5py.File(path, "r+") as f:
        f.attrs["resolution"] = "4"


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def overwrite_with_text(path):
    path.write_text("not an HDF5 file")


@pytest.mark.parametrize(
    "damage,reason",
    [
        (corrupt_values, "checksum mismatch"),
        (corrupt_attribute, "checksum mismatch"),
        (truncate, "unreadable"),
        (overwrite_with_text, "unreadable"),
    ],
)
def test_a_damaged_file_is_reported_and_recomputed(damage, reason):
    expected = tiny().evaluate(POINTS)
    reference = tiny()
    damage(reference.path)
    with pytest.warns(CacheWarning, match=f"is unusable \\({reason}.*recomputing"):
        values = reference.evaluate(POINTS)
    assert reference.source == "computed"
    for name in expected:
        assert torch.equal(values[name], expected[name])
    load_arrays(reference.path)  # the file was rewritten whole


def test_a_file_of_another_reference_is_not_used():
    other = references.kovasznay(re=10.0, resolution=3)
    other.evaluate(POINTS)
    reference = tiny()
    reference.path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(other.path, reference.path)
    with pytest.warns(CacheWarning, match="it holds another reference"):
        reference.evaluate(POINTS)
    assert reference.source == "computed"


def test_the_key_depends_on_what_determines_the_solution():
    base = tiny()
    assert references.kovasznay(re=20, resolution=3).key == base.key  # 20 and 20.0 are one value
    assert references.kovasznay(re=21.0, resolution=3).key != base.key
    assert base.with_resolution(4).key != base.key
    changed = FEMReference(
        "kovasznay",
        base.solver,
        base.coordinates,
        base.fields,
        3,
        params=base.params,
        settings={"tolerance": 1e-9},
    )
    assert changed.key != base.key


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown lid 'wavy'"):
        references.cavity(lid="wavy")
    with pytest.raises(ValueError, match="re must lie in"):
        references.cavity(re=5000.0)
    with pytest.raises(ValueError, match="resolution must be a positive integer"):
        tiny().with_resolution(0)
    bad = FEMReference("kovasznay", "pdes.fem.navier_stokes:kovasznay", ("x", "y"), ("u", "v", "p"), 3, {"mu": 1})
    with pytest.raises(ValueError, match="unexpected keyword argument 'mu'"):
        bad.evaluate(POINTS)


def test_unsteady_reference_is_evaluated_in_space_and_time():
    reference = references.taylor_green(nu=0.1, t_end=0.2, resolution=4, steps=2)
    x = torch.tensor([[1.0, 2.0, 0.0], [3.0, 1.0, 0.1], [5.0, 5.0, 0.2]], dtype=torch.float64)
    values = reference.evaluate(x)
    assert values["u"].shape == (3,) and reference.up_to_constant == ("p",)
    assert np.isfinite(values["p"].numpy()).all()
    summary = reference.summary()
    assert summary["time_steps"] == 2 and summary["dofs"] == {"u": 81, "v": 81, "p": 25}
