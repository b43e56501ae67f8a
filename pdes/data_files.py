"""Data files: ``read_data`` reads a ``Data`` from a file, ``write_data`` writes one; the suffix names its format.

- ``.csv``: a header row of column names, then one row of numbers per observation. The columns named like
  the problem's coordinates are the points, every other column is a value. Lines beginning with ``#`` are
  comments, except a first line ``# noise: {"u": 0.01}`` (JSON), which gives the noise. ``write_data``
  writes every number in ``repr`` precision, so that a file reads back to the same floats.
- ``.h5`` / ``.hdf5``: the layout ``write_data`` writes. Dataset ``points`` ``(N, d)`` (float64) with
  attribute ``coordinates`` (the names joined by commas); group ``values`` with one ``(N,)`` dataset per
  name, in order; file attributes ``format`` (``"pinn-data-1"``), optional ``noise`` (JSON of
  ``{name: σ}``) and ``checksum``: the SHA-256 (``pdes.reference_cache.checksum``) over the arrays
  (``points``, ``values/<name>``) and the attributes ``format``, ``coordinates``, ``noise``. A file
  whose checksum does not match is refused as corrupt.
- any mesh file meshio reads (``.vtu``, ``.vtk``, ``.msh``, ``.xdmf``, …), and the VTK XML grids meshio does
  not (``.vts``, ``.vtr``, ``.vti``, ``.vtp``: pyvista reads them, the ``.vts`` of ``pinn export-vtk`` too): the
  points are the mesh's points, in as many coordinates as the problem has in space (meshio gives three;
  those past them must be zero); the values are its 1-D point data arrays (``(N,)``, or ``(N, 1)``), vector arrays are
  skipped (and refused when asked for by name). ``write_data`` writes ``.vtu``: a point cloud, one
  ``vertex`` cell per point, points padded with zeros to three coordinates. A ``.vtu`` file holds no
  noise (``write_data`` refuses data with noise) and no time.

A space-time problem has ``t`` as its last coordinate. A file without a ``t`` (a mesh file; also a CSV
without a ``t`` column or an HDF5 file whose coordinates lack the ``t``) is read with ``time=``: every
observation gets ``t = time``. Space-time data are written to ``.vtu`` only if all points share one
time: ``t`` is dropped, the file holds the points in space, and ``read_data(..., time=t)`` reads them
back; data at several times are refused (write ``.h5`` or ``.csv``).

Every bad input raises one ``ValueError`` (``TypeError`` for an argument of the wrong type) whose message
is one line naming the file, what is wrong and what is valid. ``write_data`` writes atomically
(``pdes.files.atomic_write``) and refuses to replace an existing file unless ``overwrite=True``.
meshio and h5py are imported only when a file of theirs is read or written.
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pdes.data import Data
from pdes.files import atomic_write
from pdes.reference_cache import checksum

FORMAT = "pinn-data-1"
"""The ``format`` attribute of the HDF5 files ``write_data`` writes."""

CSV_SUFFIXES = (".csv",)
HDF5_SUFFIXES = (".h5", ".hdf5")
MESH_WRITE_SUFFIXES = (".vtu",)
WRITE_SUFFIXES = CSV_SUFFIXES + HDF5_SUFFIXES + MESH_WRITE_SUFFIXES
"""The suffixes ``write_data`` writes."""

TIME = "t"
"""The name of the time coordinate: a problem is space-time when its last coordinate has it."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NOISE_COMMENT = "# noise:"


def read_data(
    path: str | Path,
    coordinates: Sequence[str],
    names: Sequence[str] | None = None,
    time: float | None = None,
) -> Data:
    """The observations in the file ``path`` (format by suffix, module docstring) as ``Data``.

    ``coordinates``: the problem's coordinate names in order (``("x", "y")``, ``("x", "t")``); the file's
    points must be in these. ``names``: the values to keep, in this order (None: all the file has).
    ``time``: for a space-time problem (last coordinate ``t``), the time of every observation of a file
    that has no ``t``; refused when the file has one or the problem has no time.
    """
    path = _path(path)
    coordinates = _coordinates(coordinates)
    names = _names(names, coordinates)
    time = _time(time, coordinates)
    suffix = _suffix(path)
    if suffix not in CSV_SUFFIXES + HDF5_SUFFIXES and suffix not in _mesh_suffixes():
        raise ValueError(f"'{path}': unknown data file suffix '{path.suffix}'; valid suffixes: {_read_suffixes()}")
    if not path.exists():
        raise ValueError(f"data file '{path}' does not exist")
    if not path.is_file():
        raise ValueError(f"data file '{path}' is not a file")
    if suffix in CSV_SUFFIXES:
        columns, points, values, noise = _read_csv(path)
    elif suffix in HDF5_SUFFIXES:
        columns, points, values, noise = _read_hdf5(path)
    else:
        columns, points, values, noise = _read_mesh(path, coordinates, time, names)
    if suffix in HDF5_SUFFIXES:
        _check_hdf5_coordinates(path, columns, coordinates, time)
    points = _in_coordinates(path, columns, points, coordinates, time)
    values = {name: value for name, value in values.items() if name not in coordinates}
    values = _selected(path, values, names, coordinates)
    if noise is not None:
        noise = {name: sigma for name, sigma in noise.items() if name in values} or None
    try:
        return Data(points, values, noise)
    except (ValueError, TypeError) as error:
        raise type(error)(f"'{path}': {error}") from None


def write_data(data: Data, path: str | Path, coordinates: Sequence[str], *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` (``.csv``, ``.h5``/``.hdf5`` or ``.vtu``; module docstring), atomically.

    ``coordinates`` names the columns of ``data.points`` (one per column). An existing ``path`` is refused
    unless ``overwrite``. Space-time data go to ``.vtu`` only when all points share one time (it is
    dropped: read the file back with ``time=``); data with noise do not go to ``.vtu``.
    """
    if not isinstance(data, Data):
        raise TypeError(f"write_data writes a pdes.data.Data, got {type(data).__name__}")
    path = _path(path)
    coordinates = _coordinates(coordinates)
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    if len(coordinates) != data.dim:
        raise ValueError(
            f"the data have {data.dim} coordinates per point but {len(coordinates)} coordinate names were given "
            f"({', '.join(coordinates)})"
        )
    clash = [name for name in data.names if name in coordinates]
    if clash:
        raise ValueError(f"the value '{clash[0]}' has the name of a coordinate; coordinates: {', '.join(coordinates)}")
    suffix = _suffix(path)
    if suffix not in WRITE_SUFFIXES:
        raise ValueError(
            f"'{path}': write_data writes {', '.join(WRITE_SUFFIXES)} files, not '{path.suffix or path.name}'"
        )
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory; give a file path ending in {', '.join(WRITE_SUFFIXES)}")
    if path.exists() and not overwrite:
        raise ValueError(f"'{path}' already exists; pass overwrite=True to replace it")
    points = data.points.detach().cpu().numpy().astype(np.float64)
    values = {name: value.detach().cpu().numpy().astype(np.float64) for name, value in data.values.items()}
    if suffix in CSV_SUFFIXES:
        atomic_write(path, lambda tmp: _write_csv(tmp, coordinates, points, values, data.noise))
    elif suffix in HDF5_SUFFIXES:
        atomic_write(path, lambda tmp: _write_hdf5(tmp, coordinates, points, values, data.noise))
    else:
        points = _mesh_points(path, coordinates, points, data.noise)
        atomic_write(path, lambda tmp: _write_vtu(tmp, points, values))


# --- arguments


def _path(path: object) -> Path:
    if not isinstance(path, str | Path):
        raise TypeError(f"a data file path must be a str or Path, got {type(path).__name__}")
    return Path(path)


def _coordinates(coordinates: object) -> tuple[str, ...]:
    if isinstance(coordinates, str) or not isinstance(coordinates, Sequence):
        raise TypeError(f"coordinates must be a sequence of names such as ('x', 'y'), got {coordinates!r}")
    coordinates = tuple(coordinates)
    if not coordinates:
        raise ValueError("coordinates must name at least one coordinate, such as ('x',), got none")
    for name in coordinates:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"coordinate names are letters, digits and '_', starting with a letter, got {name!r}")
    if len(set(coordinates)) != len(coordinates):
        raise ValueError(f"coordinate names must differ, got {', '.join(coordinates)}")
    return coordinates


def _names(names: object, coordinates: tuple[str, ...]) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a sequence of value names such as ['u'] or None, got {names!r}")
    names = tuple(names)
    if not names:
        raise ValueError("names must select at least one value, or be None for all")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"value names must be strings, got {name!r}")
        if name in coordinates:
            raise ValueError(f"'{name}' is a coordinate, not a value; coordinates: {', '.join(coordinates)}")
    if len(set(names)) != len(names):
        raise ValueError(f"names must differ, got {', '.join(names)}")
    return names


def _time(time: object, coordinates: tuple[str, ...]) -> float | None:
    if time is None:
        return None
    if coordinates[-1] != TIME:
        raise ValueError(
            f"time= is only for space-time problems (last coordinate '{TIME}'); "
            f"the coordinates are {', '.join(coordinates)}"
        )
    if not isinstance(time, numbers.Real) or isinstance(time, bool):
        raise TypeError(f"time must be a number, got {time!r}")
    if not math.isfinite(time):
        raise ValueError(f"time must be a finite number, got {time!r}")
    return float(time)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for compound in (".dato.gz", ".post.gz", ".vol.gz"):  # meshio's gzipped formats
        if name.endswith(compound):
            return compound
    return path.suffix.lower()


PYVISTA_SUFFIXES = (".vts", ".vtr", ".vti", ".vtp")
"""VTK XML files meshio does not read (structured, rectilinear and image grids, poly data): read with pyvista,
so that the ``.vts`` of ``pinn export-vtk`` reads back as observations."""


def _mesh_suffixes() -> tuple[str, ...]:
    import meshio

    return tuple(
        sorted((set(meshio.extension_to_filetypes) | set(PYVISTA_SUFFIXES)) - set(HDF5_SUFFIXES + CSV_SUFFIXES))
    )


def _read_suffixes() -> str:
    meshes = ", ".join(_mesh_suffixes())
    return f"{', '.join(CSV_SUFFIXES + HDF5_SUFFIXES)} or a mesh file meshio or pyvista reads ({meshes})"


def _mesh_arrays(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A mesh file's points ``(N, 3)`` and point data: by pyvista for ``PYVISTA_SUFFIXES``, else by meshio."""
    if _suffix(path) not in PYVISTA_SUFFIXES:
        from pdes.meshes.files import meshio_read

        mesh = meshio_read(path, "data file")
        return np.asarray(mesh.points, dtype=np.float64), dict(mesh.point_data)
    import pyvista

    try:
        mesh = pyvista.read(path)
    except Exception as error:  # pyvista raises many kinds for a damaged file
        raise ValueError(f"'{path}' could not be read as a VTK file ({type(error).__name__}: {error})") from None
    return np.asarray(mesh.points, dtype=np.float64), {
        name: np.asarray(mesh.point_data[name]) for name in mesh.point_data
    }


def _in_coordinates(
    path: Path,
    columns: tuple[str, ...] | None,
    points: np.ndarray,
    coordinates: tuple[str, ...],
    time: float | None,
) -> np.ndarray:
    """The file's points in ``coordinates``: its columns rearranged, ``t = time`` added when it has none."""
    if columns is None:  # a mesh file: already in the coordinates in space
        columns = coordinates[:-1] if coordinates[-1] == TIME else coordinates
    space_time = coordinates[-1] == TIME
    if time is not None and TIME in columns:
        raise ValueError(f"'{path}' has its own '{TIME}' coordinate; time= is only for files without one")
    wanted = coordinates[:-1] if time is not None else coordinates
    missing = [name for name in wanted if name not in columns]
    if missing:
        hint = (
            "; pass time= to give every observation one time"
            if space_time and missing == [TIME] and time is None
            else ""
        )
        raise ValueError(
            f"'{path}' has no coordinate '{missing[0]}' (the problem's coordinates: {', '.join(coordinates)}); "
            f"it has {', '.join(columns) or 'no columns'}{hint}"
        )
    points = points[:, [columns.index(name) for name in wanted]]
    if time is not None:
        points = np.hstack([points, np.full((points.shape[0], 1), time)])
    return points


def _selected(
    path: Path, values: dict[str, np.ndarray], names: tuple[str, ...] | None, coordinates: tuple[str, ...]
) -> dict[str, np.ndarray]:
    if names is None:
        if not values:
            raise ValueError(f"'{path}' holds no values, only the coordinates {', '.join(coordinates)}")
        return values
    for name in names:
        if name not in values:
            raise ValueError(f"'{path}' has no values named '{name}'; it has {', '.join(values) or 'none'}")
    return {name: values[name] for name in names}


# --- CSV


def _read_csv(path: Path) -> tuple[tuple[str, ...], np.ndarray, dict[str, np.ndarray], dict | None]:
    """``(columns, points, values, noise)``: every column as a point column; ``_in_coordinates`` picks them."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"'{path}' is not a text (UTF-8) CSV file") from None
    noise = None
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(_NOISE_COMMENT) and not rows:
            noise = _noise_json(path, line[len(_NOISE_COMMENT) :], f"line {number}")
        elif line.strip() and not line.startswith("#"):
            rows.append((number, line))
    if not rows:
        raise ValueError(f"'{path}' is empty; a CSV data file has a header row of names, then one row per observation")
    parsed = list(csv.reader([line for _, line in rows]))
    header = [cell.strip() for cell in parsed[0]]
    if all(_is_number(cell) for cell in header):
        raise ValueError(f"'{path}': the first row must be a header naming the columns, found numbers: {rows[0][1]}")
    if any(not cell for cell in header):
        raise ValueError(f"'{path}': column {header.index('') + 1} of the header has no name")
    if len(set(header)) != len(header):
        twice = next(name for name in header if header.count(name) > 1)
        raise ValueError(f"'{path}': the header names the column '{twice}' twice")
    if len(rows) == 1:
        raise ValueError(f"'{path}' has a header ({', '.join(header)}) but no observations")
    table = np.empty((len(rows) - 1, len(header)))
    for k, ((number, _), cells) in enumerate(zip(rows[1:], parsed[1:])):
        if len(cells) != len(header):
            raise ValueError(
                f"'{path}': line {number} has {len(cells)} cells but the header names {len(header)} columns"
            )
        for j, cell in enumerate(cells):
            try:
                table[k, j] = float(cell)
            except ValueError:
                what = "is empty" if not cell.strip() else f"holds {cell.strip()!r}, which is not a number"
                raise ValueError(f"'{path}': line {number}, column '{header[j]}' {what}") from None
    columns = tuple(header)
    return columns, table, {name: table[:, j].copy() for j, name in enumerate(columns)}, noise


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _write_csv(
    tmp: Path,
    coordinates: tuple[str, ...],
    points: np.ndarray,
    values: dict[str, np.ndarray],
    noise: dict | None,
) -> None:
    table = np.column_stack([points, *values.values()]).tolist()
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        if noise is not None:
            f.write(f"{_NOISE_COMMENT} {json.dumps(noise)}\n")
        f.write(",".join((*coordinates, *values)) + "\n")
        for row in table:
            f.write(",".join(repr(v) for v in row) + "\n")


def _noise_json(path: Path, text: str, where: str) -> dict[str, float]:
    try:
        noise = json.loads(text)
    except json.JSONDecodeError:
        noise = None
    if not isinstance(noise, dict):
        raise ValueError(f"'{path}': the noise ({where}) must be JSON of {{name: standard deviation}}, got {text!r}")
    return noise


# --- HDF5


def _read_hdf5(path: Path) -> tuple[tuple[str, ...], np.ndarray, dict[str, np.ndarray], dict | None]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "points" not in f or not isinstance(f["points"], h5py.Dataset):
                raise ValueError(f"'{path}' is not a data file of write_data's layout: it has no 'points' dataset")
            if "values" not in f or not isinstance(f["values"], h5py.Group):
                raise ValueError(f"'{path}' is not a data file of write_data's layout: it has no 'values' group")
            points = np.asarray(f["points"][()])
            coordinates = f["points"].attrs.get("coordinates")
            values = {}
            for name, item in f["values"].items():
                if not isinstance(item, h5py.Dataset):
                    raise ValueError(f"'{path}': values/{name} is a group, not a dataset of values")
                values[name] = np.asarray(item[()])
            attributes = {name: _text(value) for name, value in f.attrs.items()}
    except ValueError:
        raise
    except (OSError, RuntimeError, KeyError, TypeError) as error:
        raise ValueError(f"'{path}' is corrupt or not an HDF5 file (h5py: {_line(error)})") from None
    stored = attributes.pop("checksum", None)
    if coordinates is None:
        raise ValueError(f"'{path}': the 'points' dataset has no 'coordinates' attribute (comma-joined names)")
    attributes["coordinates"] = _text(coordinates)
    if stored is None:
        raise ValueError(f"'{path}' has no checksum attribute; write it with pdes.data_files.write_data")
    arrays = {"points": points, **{f"values/{name}": value for name, value in values.items()}}
    if stored != checksum(arrays, attributes):
        raise ValueError(
            f"'{path}' is corrupt: its checksum does not match its contents; write it again with write_data"
        )
    if attributes.get("format") != FORMAT:
        raise ValueError(f"'{path}' has format {attributes.get('format')!r}; this version reads {FORMAT!r}")
    if points.ndim != 2:
        raise ValueError(f"'{path}': the 'points' dataset must have shape (N, d), got {points.shape}")
    columns = tuple(attributes["coordinates"].split(","))
    if len(columns) != points.shape[1]:
        raise ValueError(
            f"'{path}': the points have {points.shape[1]} columns but the coordinates attribute names "
            f"{len(columns)} ({attributes['coordinates']})"
        )
    noise = _noise_json(path, attributes["noise"], "attribute 'noise'") if "noise" in attributes else None
    return columns, points.astype(np.float64), values, noise


def _check_hdf5_coordinates(path: Path, columns: tuple[str, ...], coordinates: tuple[str, ...], time) -> None:
    """An HDF5 file's coordinates must be the problem's (or those in space, with ``time=``)."""
    if columns == coordinates:
        return
    if time is not None and columns == coordinates[:-1]:
        return
    hint = "; pass time= to give every observation one time" if columns == coordinates[:-1] else ""
    raise ValueError(
        f"'{path}' holds points in coordinates ({', '.join(columns)}) but the problem's are "
        f"({', '.join(coordinates)}){hint}"
    )


def _write_hdf5(
    tmp: Path,
    coordinates: tuple[str, ...],
    points: np.ndarray,
    values: dict[str, np.ndarray],
    noise: dict | None,
) -> None:
    import h5py

    attributes = {"format": FORMAT, "coordinates": ",".join(coordinates)}
    if noise is not None:
        attributes["noise"] = json.dumps(noise)
    arrays = {"points": points, **{f"values/{name}": value for name, value in values.items()}}
    with h5py.File(tmp, "w") as f:
        f.create_dataset("points", data=points).attrs["coordinates"] = attributes["coordinates"]
        group = f.create_group("values", track_order=True)
        for name, value in values.items():
            group.create_dataset(name, data=value)
        for name, value in attributes.items():
            if name != "coordinates":
                f.attrs[name] = value
        f.attrs["checksum"] = checksum(arrays, attributes)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- mesh files


def _read_mesh(
    path: Path, coordinates: tuple[str, ...], time: float | None, names: tuple[str, ...] | None
) -> tuple[None, np.ndarray, dict[str, np.ndarray], None]:
    space = coordinates[:-1] if coordinates[-1] == TIME else coordinates
    if coordinates[-1] == TIME and time is None:
        raise ValueError(
            f"'{path}' is a mesh file, without '{TIME}'; pass time= to give every observation one time "
            f"(the problem's coordinates: {', '.join(coordinates)})"
        )
    if not space:
        raise ValueError(f"'{path}': a mesh file has points in space, but the coordinates are only {TIME}")
    points, point_data = _mesh_arrays(path)
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"'{path}' holds no mesh points")
    if points.shape[1] < len(space):
        raise ValueError(
            f"'{path}' has points in {points.shape[1]} coordinates but the problem has {len(space)} in space "
            f"({', '.join(space)})"
        )
    extra = points[:, len(space) :]
    if extra.size and np.any(extra != 0):
        axes = "xyz"[len(space) : points.shape[1]]
        raise ValueError(
            f"'{path}' has points with nonzero {'/'.join(axes)} but the problem has {len(space)} coordinates in "
            f"space ({', '.join(space)}); a {len(space)}D problem reads meshes whose other coordinates are 0"
        )
    n = points.shape[0]
    values, vectors = {}, {}
    for name, array in point_data.items():
        array = np.asarray(array)
        if array.shape == (n,) or array.shape == (n, 1):
            values[name] = array.reshape(n)
        else:
            vectors[name] = array.shape
    for name in names or ():
        if name in vectors:
            raise ValueError(
                f"'{path}': the point data '{name}' has shape {vectors[name]}, not ({n},); only 1-D arrays are "
                f"values (1-D arrays in the file: {', '.join(values) or 'none'})"
            )
    if names is None and not values:
        found = ", ".join(f"{name} {shape}" for name, shape in vectors.items())
        raise ValueError(f"'{path}' has no 1-D point data arrays ({n},) to read as values; found {found or 'none'}")
    return None, points[:, : len(space)], values, None


def _mesh_points(path: Path, coordinates: tuple[str, ...], points: np.ndarray, noise: dict | None) -> np.ndarray:
    """The points padded to three coordinates for ``.vtu``, the one time of space-time data dropped."""
    if noise is not None:
        raise ValueError(
            f"'{path}': a .vtu file cannot hold the data's noise; write .h5 or .csv, or Data without noise"
        )
    if coordinates[-1] == TIME:
        times = np.unique(points[:, -1])
        if len(times) > 1:
            raise ValueError(
                f"'{path}': a .vtu file holds one time, but the points have {len(times)} times "
                f"(from {times[0]!r} to {times[-1]!r}); write .h5 or .csv, or one .vtu file per time"
            )
        points = points[:, :-1]
    if not 1 <= points.shape[1] <= 3:
        raise ValueError(f"'{path}': a .vtu file holds points in 1 to 3 coordinates, not {points.shape[1]}")
    return np.hstack([points, np.zeros((points.shape[0], 3 - points.shape[1]))])


def _write_vtu(tmp: Path, points: np.ndarray, values: dict[str, np.ndarray]) -> None:
    import meshio

    cells = [("vertex", np.arange(points.shape[0]).reshape(-1, 1))]
    meshio.write(tmp, meshio.Mesh(points, cells, point_data=values), file_format="vtu")
