"""Data files (``pdes.data_files``): round trips through CSV, HDF5 and .vtu, and one-line refusals of bad input."""

from __future__ import annotations

import h5py
import meshio
import numpy as np
import pytest
import torch

from pdes.data import Data
from pdes.data_files import read_data, write_data

XY = ("x", "y")
XYT = ("x", "y", "t")


def _data(n: int = 7, dim: int = 2, noise=None, seed: int = 0) -> Data:
    generator = np.random.default_rng(seed)
    points = generator.random((n, dim)) * 3 - 1  # floats with full mantissas: repr precision matters
    values = {"u": generator.standard_normal(n), "v": generator.random(n) * 1e-7, "p": generator.random(n) * 1e9}
    return Data(torch.from_numpy(points), {k: torch.from_numpy(v) for k, v in values.items()}, noise)


def _same(a: Data, b: Data) -> None:
    assert torch.equal(a.points, b.points)
    assert a.names == b.names
    for name in a.names:
        assert torch.equal(a.values[name], b.values[name])
    assert a.noise == b.noise


# --- round trips


@pytest.mark.parametrize("suffix", [".csv", ".h5", ".hdf5"])
def test_round_trip_is_exact_with_noise(tmp_path, suffix):
    data = _data(noise={"u": 0.01, "v": 0.0, "p": 2.5})
    path = tmp_path / f"obs{suffix}"
    write_data(data, path, XY)
    _same(read_data(path, XY), data)


@pytest.mark.parametrize("suffix", [".csv", ".h5"])
def test_round_trip_without_noise_in_three_coordinates(tmp_path, suffix):
    data = _data(dim=3)
    path = tmp_path / f"obs{suffix}"
    write_data(data, path, ("x", "y", "z"))
    back = read_data(path, ("x", "y", "z"))
    _same(back, data)
    assert back.noise is None


def test_vtu_round_trip_2d_is_a_point_cloud_with_z_zero(tmp_path):
    data = _data()
    path = tmp_path / "obs.vtu"
    write_data(data, path, XY)
    mesh = meshio.read(path)
    assert mesh.points.shape == (7, 3) and np.all(mesh.points[:, 2] == 0)
    assert [block.type for block in mesh.cells] == ["vertex"] and len(mesh.cells[0].data) == 7
    _same(read_data(path, XY), data)


def test_space_time_vtu_drops_its_one_time_and_reads_back_with_time(tmp_path):
    spatial = _data()
    points = torch.cat([spatial.points, torch.full((7, 1), 0.375, dtype=torch.float64)], dim=1)
    data = Data(points, spatial.values)
    path = tmp_path / "snapshot.vtu"
    write_data(data, path, XYT)
    assert meshio.read(path).points.shape == (7, 3)
    _same(read_data(path, XYT, time=0.375), data)
    with pytest.raises(ValueError, match=r"without 't'; pass time="):
        read_data(path, XYT)


def test_space_time_csv_and_hdf5_keep_their_t(tmp_path):
    data = _data(dim=3)
    for suffix in (".csv", ".h5"):
        path = tmp_path / f"st{suffix}"
        write_data(data, path, XYT)
        _same(read_data(path, XYT), data)
        with pytest.raises(ValueError, match=r"has its own 't' coordinate; time= is only for files without one"):
            read_data(path, XYT, time=0.5)


def test_time_fills_t_for_a_csv_or_hdf5_file_in_space(tmp_path):
    data = _data()
    for suffix in (".csv", ".h5"):
        path = tmp_path / f"space{suffix}"
        write_data(data, path, XY)
        back = read_data(path, XYT, time=2.0)
        assert torch.equal(back.points[:, :2], data.points) and torch.all(back.points[:, 2] == 2.0)
        with pytest.raises(ValueError, match=r"pass time= to give every observation one time"):
            read_data(path, XYT)


def test_mesh_file_with_vectors_and_3d_points(tmp_path):
    n = 5
    points = np.random.default_rng(1).random((n, 3))
    cells = [("vertex", np.arange(n).reshape(-1, 1))]
    point_data = {"T": np.arange(n, dtype=float), "q": np.ones((n, 1)), "velocity": np.zeros((n, 3))}
    path = tmp_path / "mesh.vtk"
    meshio.write(path, meshio.Mesh(points, cells, point_data=point_data))
    data = read_data(path, ("x", "y", "z"))
    assert data.names == ("T", "q")  # the vector array is skipped
    assert torch.equal(data.points, torch.from_numpy(points))
    assert torch.equal(data.values["T"], torch.arange(n, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"'velocity' has shape \(5, 3\), not \(5,\); only 1-D arrays"):
        read_data(path, ("x", "y", "z"), ["T", "velocity"])
    with pytest.raises(ValueError, match=r"nonzero z but the problem has 2 coordinates in space"):
        read_data(path, XY)


def test_mesh_file_without_scalar_point_data_is_refused(tmp_path):
    path = tmp_path / "vectors.vtu"
    points = np.zeros((3, 3))
    meshio.write(path, meshio.Mesh(points, [("vertex", np.arange(3).reshape(-1, 1))], {"w": np.zeros((3, 2))}))
    with pytest.raises(ValueError, match=r"no 1-D point data arrays \(3,\) to read as values; found w \(3, 2\)"):
        read_data(path, XY)


# --- names


@pytest.mark.parametrize("suffix", [".csv", ".h5", ".vtu"])
def test_names_select_values_in_order(tmp_path, suffix):
    data = _data(noise={"u": 0.1, "v": 0.2, "p": 0.3} if suffix != ".vtu" else None)
    path = tmp_path / f"obs{suffix}"
    write_data(data, path, XY)
    back = read_data(path, XY, ["p", "u"])
    assert back.names == ("p", "u")
    _same(back, data.select(["p", "u"]))
    with pytest.raises(ValueError, match=r"has no values named 'w'; it has u, v, p$"):
        read_data(path, XY, ["u", "w"])


def test_bad_names_arguments(tmp_path):
    path = tmp_path / "obs.csv"
    write_data(_data(), path, XY)
    with pytest.raises(TypeError, match=r"names must be a sequence of value names"):
        read_data(path, XY, "u")
    with pytest.raises(ValueError, match=r"'x' is a coordinate, not a value"):
        read_data(path, XY, ["x"])
    with pytest.raises(ValueError, match=r"names must differ"):
        read_data(path, XY, ["u", "u"])
    with pytest.raises(TypeError, match=r"coordinates must be a sequence of names"):
        read_data(path, "xy")


# --- CSV refusals


def _csv(tmp_path, text: str):
    path = tmp_path / "obs.csv"
    path.write_text(text)
    return path


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_csv_missing_coordinate_names_it_and_lists_the_columns(tmp_path):
    path = _csv(tmp_path, "x,u\n0,1\n")
    with pytest.raises(ValueError, match=r"no coordinate 'y' \(the problem's coordinates: x, y\); it has x, u$") as e:
        read_data(path, XY)
    _one_line(e)


def test_csv_header_spaces_column_order_and_comments(tmp_path):
    path = _csv(tmp_path, "# measured on 1 May\n u , y, x\n\n1.5, 0.25, 0.5\n-2, 1e-3, 0\n")
    data = read_data(path, XY)
    assert torch.equal(data.points, torch.tensor([[0.5, 0.25], [0.0, 1e-3]], dtype=torch.float64))
    assert torch.equal(data.values["u"], torch.tensor([1.5, -2.0], dtype=torch.float64))


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"is empty; a CSV data file has a header row"),
        ("# only a comment\n\n", r"is empty"),
        ("x,y,u\n", r"has a header \(x, y, u\) but no observations"),
        ("x,y,u\n0,0,abc\n", r"line 2, column 'u' holds 'abc', which is not a number"),
        ("x,y,u\n0,0,1\n0,,1\n", r"line 3, column 'y' is empty"),
        ("x,y,u\n0,0\n", r"line 2 has 2 cells but the header names 3 columns"),
        ("0,0,1\n1,1,2\n", r"the first row must be a header naming the columns, found numbers"),
        ("x,y,u,u\n0,0,1,1\n", r"the header names the column 'u' twice"),
        ("x,y\n0,0\n", r"holds no values, only the coordinates x, y"),
        ("# noise: [1]\nx,y,u\n0,0,1\n", r"the noise \(line 1\) must be JSON of \{name: standard deviation\}"),
    ],
)
def test_bad_csv_is_refused_in_one_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message) as e:
        read_data(_csv(tmp_path, text), XY)
    assert str(tmp_path / "obs.csv") in _one_line(e)


def test_nan_and_bad_names_are_refused_by_data_with_the_file_name(tmp_path):
    path = _csv(tmp_path, "x,y,u\n0,0,1\n1,1,nan\n")
    with pytest.raises(ValueError, match=r"obs\.csv': observed values 'u' must be finite, but 1 of 2 are not") as e:
        read_data(path, XY)
    _one_line(e)
    path = _csv(tmp_path, "x,y,2u\n0,0,1\n")
    with pytest.raises(ValueError, match=r"obs\.csv': observed value names are letters"):
        read_data(path, XY)


# --- paths, suffixes, time


def test_missing_file_unknown_suffix_and_directory(tmp_path):
    with pytest.raises(ValueError, match=r"data file '.*nothing\.csv' does not exist"):
        read_data(tmp_path / "nothing.csv", XY)
    with pytest.raises(
        ValueError, match=r"unknown data file suffix '\.txt'; valid suffixes: \.csv, \.h5, \.hdf5 or a mesh file"
    ):
        read_data(tmp_path / "obs.txt", XY)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match=r"is not a file"):
        read_data(tmp_path / "dir.csv", XY)
    with pytest.raises(TypeError, match=r"must be a str or Path"):
        read_data(3, XY)


def test_time_is_refused_without_a_time_coordinate_or_when_not_a_number(tmp_path):
    path = tmp_path / "obs.csv"
    write_data(_data(), path, XY)
    with pytest.raises(ValueError, match=r"time= is only for space-time problems \(last coordinate 't'\)"):
        read_data(path, XY, time=0.0)
    with pytest.raises(TypeError, match=r"time must be a number, got '1'"):
        read_data(path, XYT, time="1")
    with pytest.raises(ValueError, match=r"time must be a finite number"):
        read_data(path, XYT, time=float("inf"))


# --- HDF5 refusals


def test_hdf5_layout(tmp_path):
    path = tmp_path / "obs.h5"
    write_data(_data(noise=0.5), path, XY)
    with h5py.File(path, "r") as f:
        assert f["points"].shape == (7, 2) and f["points"].attrs["coordinates"] == "x,y"
        assert list(f["values"]) == ["u", "v", "p"]
        assert f.attrs["format"] == "pinn-data-1" and len(f.attrs["checksum"]) == 64
        assert f.attrs["noise"] == '{"u": 0.5, "v": 0.5, "p": 0.5}'


def test_hdf5_coordinates_must_be_the_problems(tmp_path):
    path = tmp_path / "obs.h5"
    write_data(_data(), path, ("x", "z"))
    with pytest.raises(ValueError, match=r"holds points in coordinates \(x, z\) but the problem's are \(x, y\)$"):
        read_data(path, XY)
    with pytest.raises(ValueError, match=r"coordinates \(x, z\) but the problem's are \(z, x\)"):
        read_data(path, ("z", "x"))


@pytest.mark.parametrize("change", ["value", "attribute", "noise"])
def test_hdf5_changed_without_its_checksum_is_corrupt(tmp_path, change):
    path = tmp_path / "obs.h5"
    write_data(_data(noise=0.1), path, XY)
    with h5py.File(path, "r+") as f:
        if change == "value":
            f["values/u"][3] = 1.0
        elif change == "attribute":
            f["points"].attrs["coordinates"] = "y,x"
        else:
            f.attrs["noise"] = '{"u": 0.2}'
    with pytest.raises(
        ValueError,
        match=r"obs\.h5' is corrupt: its checksum does not match its contents; write it again with write_data$",
    ) as e:
        read_data(path, XY)
    _one_line(e)


def test_hdf5_with_flipped_bytes_is_corrupt(tmp_path):
    path = tmp_path / "obs.h5"
    write_data(_data(n=200), path, XY)
    with h5py.File(path, "r") as f:
        offset = f["values/u"].id.get_offset()
    raw = bytearray(path.read_bytes())
    for k in range(offset + 10, offset + 20):
        raw[k] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"obs\.h5' is corrupt") as e:
        read_data(path, XY)
    _one_line(e)


def test_not_an_hdf5_file_or_another_layout(tmp_path):
    path = tmp_path / "obs.h5"
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match=r"obs\.h5' is corrupt or not an HDF5 file \(h5py: ") as e:
        read_data(path, XY)
    _one_line(e)
    with h5py.File(path, "w") as f:
        f["u"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"not a data file of write_data's layout: it has no 'points' dataset"):
        read_data(path, XY)
    with h5py.File(path, "w") as f:
        f["points"] = np.zeros((3, 2))
        f["points"].attrs["coordinates"] = "x,y"
        f["values/u"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"has no checksum attribute; write it with pdes.data_files.write_data"):
        read_data(path, XY)


# --- writing


def test_write_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "obs.h5"
    write_data(_data(seed=1), path, XY)
    with pytest.raises(ValueError, match=r"already exists; pass overwrite=True to replace it"):
        write_data(_data(seed=2), path, XY)
    _same(read_data(path, XY), _data(seed=1))
    write_data(_data(seed=2), path, XY, overwrite=True)
    _same(read_data(path, XY), _data(seed=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obs.h5"]  # no temporary file left


def test_write_refusals(tmp_path):
    data = _data()
    with pytest.raises(ValueError, match=r"write_data writes \.csv, \.h5, \.hdf5, \.vtu files, not '\.msh'"):
        write_data(data, tmp_path / "obs.msh", XY)
    with pytest.raises(ValueError, match=r"the data have 2 coordinates per point but 3 coordinate names"):
        write_data(data, tmp_path / "obs.csv", XYT)
    with pytest.raises(ValueError, match=r"the value 'u' has the name of a coordinate"):
        write_data(data, tmp_path / "obs.csv", ("x", "u"))
    with pytest.raises(TypeError, match=r"writes a pdes.data.Data, got dict"):
        write_data({"u": 1}, tmp_path / "obs.csv", XY)
    with pytest.raises(ValueError, match=r"a \.vtu file cannot hold the data's noise"):
        write_data(_data(noise=0.1), tmp_path / "obs.vtu", XY)
    with pytest.raises(ValueError, match=r"a \.vtu file holds one time, but the points have 7 times"):
        write_data(_data(dim=3), tmp_path / "obs.vtu", XYT)
    assert list(tmp_path.iterdir()) == []
