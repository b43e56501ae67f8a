"""Pictures of a finished run (matplotlib, Agg canvas, no display): its history and its fields.

    pinn.plot.plot_run("runs/heat2d")                  # runs/heat2d/plots/history.png, u.png
    pinn.plot.plot_result(result, "pictures", formats=("png", "pdf"))
    pinn plot runs/heat2d --format png,svg             # the same from the command line

Writes into ``out``, each figure in every requested format (``FORMATS``), atomically:

- ``history.<fmt>``: the loss of each term (and the total) against the step, where L-BFGS starts
  marked; the relative L2 error of each field against the step and against the wall time; the
  quadrature noise (std_error / estimate) and the gradient SNR of each term (from the history's
  statistics, else report.json's final values as single points); the learning rate; the
  balancing weights. Panels without data are left out.
- ``<field>.<fmt>`` for each field: prediction, reference and ``|error|`` side by side, one colour
  range per field over all rows (prediction and reference share it; the error has its own).
  Time-dependent problems get a row per time (``TIME_COUNT`` from t0 to t1); 3D space, a row per
  slice through the middle of z and of x (for each time); 1D space, line plots of the prediction
  over the reference at those times, and their error. A field known up to a constant
  (``reference.up_to_constant``) is shown with the reference shifted by the mean difference. A
  range that a few spikes (e.g. a corner singularity) stretch is that of the other values, the
  colorbar's arrows marking the clipped ones (``value_limits``).
  Points of the bounding box outside a non-box domain (``contains``) are left blank.
- ``velocity.<fmt>`` for problems with velocity fields (u, v[, w]): the speed as colour under
  streamlines of the in-plane velocity, prediction beside reference.

The drawing itself (``Plane``, ``Panel``, ``Curves``, ``panel_figure``, ``save_figure``) also
renders ``pinn export-vtk --png`` (``pinn.vtk``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import torch
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.tri import LinearTriInterpolator, Triangulation

from pdes.geometry import SpaceTime
from pinn import io
from pinn.report import coefficient_error

if TYPE_CHECKING:
    from pinn.solver import Result

FORMATS = ("png", "pdf", "svg")
"""The file formats a figure can be written in."""

TIME_COUNT = 4
"""Times shown of a time-dependent problem, equally spaced from t0 to t1."""

MAP_RESOLUTION = 96
"""Grid points along the longer axis of a map."""

LINE_RESOLUTION = 201
"""Points of a line plot (1D space)."""

CLIP_QUANTILE = 0.005
"""Colour ranges leave out this fraction of the values at each end where those few are spikes (``value_limits``)."""

DPI = 100
VALUE_CMAP, ERROR_CMAP, SPEED_CMAP = "viridis", "magma", "YlGnBu"
VELOCITY = ("u", "v", "w")
"""Fields that make up the velocity vector, in axis order."""


def plot_run(directory: str | Path, out: str | Path | None = None, formats: Sequence[str] = ("png",)) -> list[Path]:
    """The pictures of the run in ``directory`` (``pinn.load``) into ``out``, by default ``directory/plots``;
    returns the files written (module docstring)."""
    from pinn.loading import load

    check_formats(formats)
    out = Path(directory) / "plots" if out is None else Path(out)
    return plot_result(load(directory), out, formats)


def plot_result(result: Result, out: str | Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """The pictures of ``result`` into the folder ``out``: history and field maps (module docstring);
    returns the files written."""
    formats = check_formats(formats)
    out = io.ensure_writable_dir(Path(out))
    written = save_figure(history_figure(result), out / "history", formats)
    for name, figure in field_figures(result).items():
        written += save_figure(figure, out / name, formats)
    return written


def check_formats(formats: Sequence[str] | str) -> tuple[str, ...]:
    """``formats`` as a tuple, each one of ``FORMATS``; anything else is a one-line ValueError."""
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if not formats:
        raise ValueError(f"no plot format given; valid formats: {', '.join(FORMATS)}")
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown plot format '{fmt}'; valid formats: {', '.join(FORMATS)}")
    return formats


def save_figure(figure: Figure, base: Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write ``figure`` as ``base.<fmt>`` for every format, atomically, then release it; returns the paths."""
    paths = []
    for fmt in check_formats(formats):
        path = base.with_name(f"{base.name}.{fmt}")
        io.atomic_write(path, lambda tmp, fmt=fmt: figure.savefig(tmp, format=fmt, dpi=DPI))
        paths.append(path)
    figure.clear()  # an Agg Figure is not registered with pyplot: clearing it frees its artists
    return paths


def new_figure(width: float, height: float) -> Figure:
    """A Figure on its own Agg canvas (no pyplot state), laid out by matplotlib's "compressed" layout
    (constrained layout that also packs equal-aspect maps, keeping every label inside the figure)."""
    figure = Figure(figsize=(width, height), layout="compressed")
    FigureCanvasAgg(figure)
    return figure


# ---------------------------------------------------------------------------------------------------------------
# history


@dataclass
class HistoryPanel:
    """One panel of the history figure: named ``(x, y)`` series on a log y axis, vertical ``marks``."""

    title: str
    xlabel: str
    ylabel: str
    series: dict[str, tuple[list[float], list[float]]]
    marks: list[float] = field(default_factory=list)
    note: str = ""


def history_figure(result: Result) -> Figure:
    """The history figure of ``result`` (module docstring); a note when the history holds nothing to draw."""
    panels = history_panels(result.history, result.report)
    columns = min(3, max(len(panels), 1))
    rows = max(1, math.ceil(len(panels) / columns))
    figure = new_figure(5.2 * columns, 3.9 * rows)
    figure.suptitle(f"{result.problem.name}: training history")
    if not panels:
        axes = figure.subplots()
        axes.set_axis_off()
        axes.text(0.5, 0.5, "the history holds no steps", ha="center", va="center", transform=axes.transAxes)
        return figure
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes, panel in zip(grid.flat, panels):
        draw_history_panel(axes, panel)
    for axes in list(grid.flat)[len(panels) :]:
        axes.set_axis_off()
    return figure


def history_panels(history: dict, report: dict | None) -> list[HistoryPanel]:
    """The panels of the history figure that have data, in order (module docstring)."""
    steps, phases = history.get("step", []), history.get("phase", [])
    adam_end = lbfgs_start(steps, phases)
    marks = [adam_end] if adam_end is not None else []
    panels = []
    loss = {"total": (steps, history.get("loss", []))}
    loss.update({name: (steps, values) for name, values in history.get("terms", {}).items()})
    panels.append(HistoryPanel("loss per term", "step", "loss", loss, marks))
    evaluations = history.get("eval", [])
    fields = sorted({name for e in evaluations for name in e["errors"]})
    by_step, by_wall = {}, {}
    for name in fields:
        kept = [e for e in evaluations if name in e["errors"]]
        by_step[name] = ([e["step"] for e in kept], [e["errors"][name]["rel_l2"] for e in kept])
        by_wall[name] = ([e["wall_s"] for e in kept], [e["errors"][name]["rel_l2"] for e in kept])
    wall_marks = []
    if adam_end is not None:
        before = [e["wall_s"] for e in evaluations if e["step"] <= adam_end]
        wall_marks = before[-1:]
    panels.append(HistoryPanel("relative L2 error", "step", "rel L2 error", by_step, marks))
    panels.append(
        HistoryPanel("relative L2 error against wall time", "wall time (s)", "rel L2 error", by_wall, wall_marks)
    )
    panels.append(HistoryPanel("inferred coefficients", "step", "rel error, or value", unknown_series(history, report)))
    panels += quadrature_panels(history.get("quadrature", []), report, steps, marks)
    adam = [(s, lr) for s, lr, phase in zip(steps, history.get("lr", []), phases) if phase == "adam"]
    lr = {"Adam": ([s for s, _ in adam], [lr for _, lr in adam])}
    panels.append(HistoryPanel("learning rate", "step", "learning rate", lr))
    weights = history.get("weights", [])
    names = sorted({name for w in weights for name in w["weights"]})
    series = {}
    for n in names:
        kept = [w for w in weights if n in w["weights"]]
        series[n] = ([w["step"] for w in kept], [w["weights"][n] for w in kept])
    panels.append(HistoryPanel("balancing weights λ", "step", "λ", series, marks))
    return [p for p in panels if p.note or any(positive_points(x, y) for x, y in p.series.values())]


def unknown_series(history: dict, report: dict | None) -> dict[str, tuple[list[float], list[float]]]:
    """Each unknown coefficient at every evaluation: its relative error where the report gives its true value
    (``|value − true| / |true|``), else its value."""
    truths = {name: u.get("true") for name, u in (report or {}).get("unknowns", {}).items()}
    kept = [e for e in history.get("eval", []) if "unknowns" in e]
    series = {}
    for name in sorted({name for e in kept for name in e["unknowns"]}):
        true = truths.get(name)
        steps = [e["step"] for e in kept if name in e["unknowns"]]
        values = [e["unknowns"][name] for e in kept if name in e["unknowns"]]
        if true is not None and true != 0:
            series[f"{name} rel error"] = (steps, [coefficient_error(v, true) for v in values])
        else:
            series[name] = (steps, values)
    return series


def quadrature_panels(
    entries: list[dict], report: dict | None, steps: list[float], marks: list[float]
) -> list[HistoryPanel]:
    """Quadrature noise and gradient SNR per term: from the history's statistics, else report.json's final values."""
    final = ""
    if not entries and report and report.get("quadrature"):
        entries = [{"step": steps[-1] if steps else 0, "terms": report["quadrature"]}]
        final = " (final, report.json)"
    names = sorted({name for e in entries for name in e["terms"]})
    noise, snr = {}, {}
    for name in names:
        kept = [(e["step"], e["terms"][name]) for e in entries if name in e["terms"]]
        noise[name] = ([s for s, _ in kept], [relative(q.get("std_error"), q.get("estimate")) for _, q in kept])
        snr[name] = ([s for s, _ in kept], [number(q.get("grad_snr")) for _, q in kept])
    deterministic = names and not any(positive_points(*xy) for xy in noise.values())
    note = "std_error 0 or not finite (a deterministic rule gives 0)" if deterministic else ""
    return [
        HistoryPanel("quadrature noise" + final, "step", "std error / estimate", noise, marks, note),
        HistoryPanel("gradient SNR" + final, "step", "‖ḡ‖ / sqrt(tr Cov(g)/B)", snr, marks),
    ]


def number(value: object) -> float:
    """``value`` as a float; NaN for None (report.json's non-finite numbers) or anything else not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def relative(value: object, scale: object) -> float:
    """``value / |scale|``, NaN where either is missing or the scale is 0."""
    value, scale = number(value), abs(number(scale))
    return value / scale if scale > 0 else math.nan


def lbfgs_start(steps: Sequence[float], phases: Sequence[str]) -> float | None:
    """The step where L-BFGS takes over (the last Adam step before the first L-BFGS one), or None."""
    for i, phase in enumerate(phases):
        if phase == "lbfgs":
            return steps[i - 1] if i > 0 else steps[i]
    return None


def positive_points(x: Sequence[float], y: Sequence[float]) -> list[tuple[float, float]]:
    """The ``(x, y)`` pairs with a finite x and a finite, positive y (what a log axis can show)."""
    pairs = ((number(a), number(b)) for a, b in zip(x, y))
    return [(a, b) for a, b in pairs if math.isfinite(a) and 0 < b < math.inf]


def draw_history_panel(axes, panel: HistoryPanel) -> None:
    """One history panel: a line per series (markers where it has few points), log y, the L-BFGS marks."""
    for label, (x, y) in panel.series.items():
        points = positive_points(x, y)
        if points:
            style = {"marker": "o", "markersize": 4} if len(points) <= 30 else {"linewidth": 1.2}
            if label == "total":
                style.update(color="k", linewidth=2.2, alpha=0.45)
            axes.plot(*zip(*points), label=label, **style)
    for mark in panel.marks:
        axes.axvline(mark, color="0.4", linestyle="--", linewidth=1, label="L-BFGS starts")
    axes.set(yscale="log", title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
    axes.yaxis.set_major_formatter(ticker.LogFormatter())  # plain text: mathtext labels are slow to lay out
    axes.yaxis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    axes.grid(True, which="both", alpha=0.3)
    if panel.note:
        axes.text(0.02, 0.02, panel.note, transform=axes.transAxes, fontsize="small", color="0.3")
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        axes.legend(fontsize="small", ncols=2 if len(handles) > 6 else 1)


# ---------------------------------------------------------------------------------------------------------------
# drawing maps and curves (also pinn.vtk's pictures)


@dataclass
class Plane:
    """Where a map is drawn: points ``(x, y)`` of a plane, either a regular grid stored row by row
    (``shape`` = (ny, nx), x varying fastest) or the vertices of ``triangles`` (M, 3).

    ``where`` says which slice it is (e.g. "z = 0.5"); ``axes`` are the space axes the plane spans.
    """

    xlabel: str
    ylabel: str
    x: np.ndarray
    y: np.ndarray
    shape: tuple[int, int] | None = None
    triangles: np.ndarray | None = None
    where: str = ""
    axes: tuple[int, int] = (0, 1)

    def aspect(self) -> str:
        """Equal scales unless the plane is more than 4 times wider than high (or higher than wide)."""
        width, height = np.ptp(self.x), np.ptp(self.y)
        return "equal" if width > 0 and height > 0 and 0.25 <= height / width <= 4 else "auto"

    def height_ratio(self) -> float:
        """Height over width, kept within [0.5, 1.5]: the relative height of the plane's row in a figure."""
        width, height = np.ptp(self.x), np.ptp(self.y)
        return float(np.clip(height / width, 0.5, 1.5)) if width > 0 and height > 0 else 1.0


@dataclass
class Panel:
    """One map: ``values`` at the plane's points coloured in ``limits`` with a colorbar labelled ``label``;
    with ``arrows`` (the two in-plane velocity components) streamlines drawn over them."""

    plane: Plane
    values: np.ndarray
    title: str
    label: str
    limits: tuple[float, float]
    cmap: str = VALUE_CMAP
    arrows: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class Curves:
    """One line plot: ``lines`` of ``(x, y, style)`` (matplotlib keywords: label, color, linestyle …)."""

    xlabel: str
    ylabel: str
    title: str
    lines: list[tuple[np.ndarray, np.ndarray, dict]]
    limits: tuple[float, float] | None = None


class TickFormatter(ticker.Formatter):
    """Compact tick labels: the fewest significant digits (2 to 6) that tell the ticks apart, ``%g`` style."""

    digits = 3

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        locs = [v for v in locs if math.isfinite(v)]
        self.span = max((abs(v) for v in locs), default=1.0)
        for self.digits in range(2, 7):
            labels = [self(v) for v in locs]
            if len(set(labels)) == len(labels):
                break

    def __call__(self, x: float, pos: int | None = None) -> str:
        if abs(x) < 1e-9 * getattr(self, "span", 1.0):
            return "0"
        return f"{x:.{self.digits}g}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def panel_figure(rows: Sequence[Sequence[Panel | Curves | None]], title: str = "") -> Figure:
    """A figure of ``rows`` of panels (None leaves a cell empty), each map with axes, labels and a colorbar."""
    columns = max(len(row) for row in rows)
    heights = [max((p.plane.height_ratio() for p in row if isinstance(p, Panel)), default=0.8) for row in rows]
    figure = new_figure(4.6 * columns, sum(2.9 * h + 0.9 for h in heights) + (0.4 if title else 0))
    if title:
        figure.suptitle(title)
    grid = figure.subplots(len(rows), columns, squeeze=False, gridspec_kw={"height_ratios": heights})
    for row, axes_row in zip(rows, grid):
        for column, axes in enumerate(axes_row):
            panel = row[column] if column < len(row) else None
            if isinstance(panel, Panel):
                draw_panel(figure, axes, panel)
            elif isinstance(panel, Curves):
                draw_curves(axes, panel)
            else:
                axes.set_axis_off()
    return figure


def draw_panel(figure: Figure, axes, panel: Panel) -> None:
    """A map: colour by value (masked where NaN), streamlines when it has arrows, a colorbar with compact ticks."""
    plane, lo, hi = panel.plane, *panel.limits
    values = np.ma.masked_invalid(np.asarray(panel.values, dtype=np.float64))
    if plane.triangles is not None:
        triangulation = Triangulation(plane.x, plane.y, plane.triangles)
        filled = values.filled(np.nan)
        if np.isnan(filled).any():  # a triangle with a blank vertex is left out
            triangulation.set_mask(np.isnan(filled[plane.triangles]).any(axis=1))
        mappable = axes.tripcolor(
            triangulation, values.filled(lo), shading="gouraud", cmap=panel.cmap, vmin=lo, vmax=hi
        )
    else:
        x, y, v = (np.reshape(a, plane.shape) for a in (plane.x, plane.y, values))
        shading = "nearest" if np.ma.is_masked(v) else "gouraud"
        mappable = axes.pcolormesh(x, y, v, shading=shading, cmap=panel.cmap, vmin=lo, vmax=hi, rasterized=True)
    if panel.arrows is not None:
        draw_streamlines(axes, plane, *panel.arrows)
    axes.set(title=panel.title, xlabel=plane.xlabel, ylabel=plane.ylabel, aspect=plane.aspect())
    axes.set_xlim(np.nanmin(plane.x), np.nanmax(plane.x))
    axes.set_ylim(np.nanmin(plane.y), np.nanmax(plane.y))
    axes.xaxis.set_major_locator(ticker.MaxNLocator(5))
    axes.yaxis.set_major_locator(ticker.MaxNLocator(5))
    shown = values.compressed()
    below, above = bool(shown.size and shown.min() < lo), bool(shown.size and shown.max() > hi)
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max", (True, True): "both"}
    colorbar = figure.colorbar(mappable, ax=axes, label=panel.label, extend=extend[below, above])
    colorbar.locator = ticker.MaxNLocator(5)
    colorbar.formatter = TickFormatter()
    colorbar.update_ticks()


def draw_streamlines(axes, plane: Plane, u: np.ndarray, v: np.ndarray) -> None:
    """Streamlines of the in-plane velocity ``(u, v)`` (on a grid interpolated from triangles if need be)."""
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if plane.triangles is not None:
        triangulation = Triangulation(plane.x, plane.y, plane.triangles)
        xs = np.linspace(plane.x.min(), plane.x.max(), 48)
        ys = np.linspace(plane.y.min(), plane.y.max(), 48)
        gx, gy = np.meshgrid(xs, ys)
        gu = LinearTriInterpolator(triangulation, np.nan_to_num(u))(gx, gy)
        gv = LinearTriInterpolator(triangulation, np.nan_to_num(v))(gx, gy)
    else:
        gx, gy = (np.reshape(a, plane.shape) for a in (plane.x, plane.y))
        xs, ys = gx[0], gy[:, 0]
        gu, gv = (np.ma.masked_invalid(np.reshape(a, plane.shape)) for a in (u, v))
    speed = np.ma.sqrt(gu**2 + gv**2)
    if not np.ma.count(speed) or not np.ma.max(speed) > 0:
        return  # nothing flows
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        axes.streamplot(xs, ys, gu, gv, color="0.1", density=1.1, linewidth=0.7, arrowsize=0.9, broken_streamlines=True)


def draw_curves(axes, panel: Curves) -> None:
    """A line plot with labels, ticks, a legend and, if given, the y limits."""
    for x, y, style in panel.lines:
        axes.plot(x, y, **style)
    axes.set(title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
    if panel.limits is not None:
        lo, hi = panel.limits
        pad = 0.05 * (hi - lo)
        axes.set_ylim(lo - pad, hi + pad)
    axes.yaxis.set_major_formatter(TickFormatter())
    axes.grid(True, alpha=0.3)
    if any(style.get("label") for _, _, style in panel.lines):  # beside the axes, clear of the lines
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def finite_values(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """The finite values of all ``arrays``, flat."""
    flat = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    values = np.concatenate(flat) if flat else np.zeros(0)
    return values[np.isfinite(values)]


def value_limits(*arrays: np.ndarray) -> tuple[float, float]:
    """One colour range for all ``arrays``: their finite minimum and maximum, widened when they are equal.

    Where a few spikes (e.g. a corner singularity) span more than twice the range of all but the
    ``CLIP_QUANTILE`` lowest and highest values, the range ends where the rest ends (at the end or
    ends that have the spikes); the maps then mark the clipped values by the colorbar's arrows.
    """
    values = finite_values(arrays)
    if not values.size:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    low, high = (float(q) for q in np.quantile(values, [CLIP_QUANTILE, 1 - CLIP_QUANTILE]))
    if high > low and high - low < 0.5 * (hi - lo):  # clip the end(s) where the spikes are
        spread = high - low
        lo, hi = (low if low - lo > 0.1 * spread else lo), (high if hi - high > 0.1 * spread else hi)
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        pad = 0.05 * max(abs(lo), abs(hi)) or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


def error_limits(*arrays: np.ndarray) -> tuple[float, float]:
    """The colour range of errors (and other magnitudes): 0 to their finite maximum (1 when that is 0),
    or to the ``1 − CLIP_QUANTILE`` quantile where that is below half the maximum (as in ``value_limits``)."""
    values = finite_values(arrays)
    if not values.size or not values.max() > 0:
        return 0.0, 1.0
    top, high = float(values.max()), float(np.quantile(values, 1 - CLIP_QUANTILE))
    return 0.0, high if 0 < high < 0.5 * top else top


# ---------------------------------------------------------------------------------------------------------------
# field maps of a result


@dataclass
class Section:
    """A plane of space with its points ``(P, space_dim)`` and which of them lie in the domain."""

    plane: Plane
    points: np.ndarray
    inside: np.ndarray


@dataclass
class Row:
    """One row of the field figures: a section at time ``t`` (None: steady) and the values there
    (NaN outside the domain); ``shifted`` names the reference fields moved by their mean difference."""

    section: Section
    t: float | None
    prediction: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    error: dict[str, np.ndarray]
    shifted: set[str]

    def when(self) -> str:
        parts = [] if self.t is None else [f"t = {self.t:.3g}"]
        return ", ".join(parts + ([self.section.plane.where] if self.section.plane.where else []))


def plot_times(result: Result) -> list[float | None]:
    """The times shown: ``TIME_COUNT`` from t0 to t1 for a time-dependent problem, else ``[None]``."""
    domain = result.problem.domain
    if not isinstance(domain, SpaceTime):
        return [None]
    return np.linspace(domain.time.t0, domain.time.t1, TIME_COUNT).tolist()


def space_of(result: Result):
    domain = result.problem.domain
    return domain.space if isinstance(domain, SpaceTime) else domain


def sections(result: Result, resolution: int = MAP_RESOLUTION) -> list[Section]:
    """The planes a field is mapped on: the space itself in 2D; in 3D the slices z = middle and x = middle."""
    space = space_of(result)
    names = result.problem.coordinates[: space.dim]
    lower, upper = space.bounds.numpy()
    middle = (lower + upper) / 2
    if space.dim == 2:
        spans = [((0, 1), {})]
    else:
        spans = [((0, 1), {2: middle[2]}), ((1, 2), {0: middle[0]})]
    found = []
    for (a, b), fixed in spans:
        extent = max(upper[a] - lower[a], upper[b] - lower[b])
        nx, ny = (max(16, round(resolution * (upper[k] - lower[k]) / extent)) for k in (a, b))
        gx, gy = np.meshgrid(np.linspace(lower[a], upper[a], nx), np.linspace(lower[b], upper[b], ny))
        points = np.empty((gx.size, space.dim))
        points[:, a], points[:, b] = gx.ravel(), gy.ravel()
        for axis, value in fixed.items():
            points[:, axis] = value
        where = ", ".join(f"{names[axis]} = {value:.3g}" for axis, value in fixed.items())
        plane = Plane(names[a], names[b], gx.ravel(), gy.ravel(), (ny, nx), where=where, axes=(a, b))
        found.append(Section(plane, points, inside_mask(space, points)))
    return found


def inside_mask(space, points: np.ndarray) -> np.ndarray:
    """Which ``points`` lie in the region ``space`` (all of them for a region without ``contains``)."""
    try:
        return space.contains(torch.as_tensor(points, dtype=torch.float64)).numpy()
    except NotImplementedError:
        return np.ones(len(points), dtype=bool)


def sample(result: Result, section: Section, t: float | None) -> Row:
    """Prediction, reference and error at the section's points inside the domain, at time ``t``."""
    problem = result.problem
    inside = section.inside
    points = section.points[inside]
    if t is not None:
        points = np.column_stack([points, np.full(len(points), t)])
    tensor = torch.as_tensor(points, dtype=torch.float64)

    def full(values: torch.Tensor) -> np.ndarray:
        array = np.full(len(section.points), np.nan)
        array[inside] = values.detach().to("cpu", torch.float64).numpy()
        return array

    prediction = {name: full(v) for name, v in result.predict(tensor).items()} if len(points) else {}
    reference, error, shifted = {}, {}, set()
    if problem.reference is not None and len(points):
        for name, ref in problem.reference.evaluate(tensor).items():
            if name not in prediction:
                continue
            ref = full(torch.as_tensor(ref))
            if name in problem.reference.up_to_constant:
                ref = ref + np.nanmean(prediction[name] - ref)
                shifted.add(name)
            reference[name], error[name] = ref, np.abs(prediction[name] - ref)
    return Row(section, t, prediction, reference, error, shifted)


def field_figures(result: Result, resolution: int = MAP_RESOLUTION) -> dict[str, Figure]:
    """``{name: Figure}``: one figure per field and, with velocity fields, ``velocity`` (module docstring).

    A problem of more than 3 space dimensions gets none (with a warning).
    """
    space = space_of(result)
    if space.dim == 1:
        return {name: line_figure(result, name) for name in result.problem.fields}
    if space.dim > 3:
        warnings.warn(f"no field maps of a {space.dim}-dimensional space; only the history is drawn", stacklevel=2)
        return {}
    rows = [sample(result, section, t) for t in plot_times(result) for section in sections(result, resolution)]
    figures = {name: map_figure(result, rows, name) for name in result.problem.fields}
    velocity = [name for name in VELOCITY[: space.dim] if name in result.problem.fields]
    if len(velocity) == space.dim and "velocity" not in figures:
        figures["velocity"] = velocity_figure(result, rows, velocity)
    return figures


def error_note(result: Result, name: str) -> str:
    """`` (rel L2 …)`` from report.json, if it has the field's error."""
    errors = (result.report or {}).get("errors", {})
    return f" (rel L2 {errors[name]['rel_l2']:.2e})" if name in errors else ""


def map_figure(result: Result, rows: Sequence[Row], name: str) -> Figure:
    """Prediction | reference | |error| of field ``name`` on each row, one colour range per column kind."""
    shown = [r.prediction[name] for r in rows] + [r.reference[name] for r in rows if name in r.reference]
    values = value_limits(*shown)
    errors = error_limits(*(r.error[name] for r in rows if name in r.error))
    grid = []
    for row in rows:
        plane, when = row.section.plane, row.when()
        suffix = f", {when}" if when else ""
        panels: list[Panel | None] = [Panel(plane, row.prediction[name], f"prediction{suffix}", name, values)]
        if name in row.reference:
            shifted = " + const." if name in row.shifted else ""
            panels.append(Panel(plane, row.reference[name], f"reference{shifted}{suffix}", name, values))
            panels.append(Panel(plane, row.error[name], f"|error|{suffix}", f"|{name} error|", errors, ERROR_CMAP))
        grid.append(panels)
    return panel_figure(grid, f"{result.problem.name}: {name}{error_note(result, name)}")


def velocity_figure(result: Result, rows: Sequence[Row], components: Sequence[str]) -> Figure:
    """The speed under streamlines of the in-plane velocity, prediction beside reference, one range for all."""

    def speed(values: dict[str, np.ndarray]) -> np.ndarray:
        return np.sqrt(sum(values[c] ** 2 for c in components))

    sources = {"prediction": [row.prediction for row in rows]}
    if all(c in rows[0].reference for c in components):
        sources["reference"] = [row.reference for row in rows]
    limits = error_limits(*(speed(values) for column in sources.values() for values in column))
    grid = []
    for index, row in enumerate(rows):
        plane, when = row.section.plane, row.when()
        a, b = (components[axis] for axis in plane.axes)
        suffix = f", {when}" if when else ""
        panels: list[Panel | None] = []
        for role, column in sources.items():
            v = column[index]
            panels.append(Panel(plane, speed(v), role + suffix, "speed", limits, SPEED_CMAP, (v[a], v[b])))
        grid.append(panels)
    return panel_figure(grid, f"{result.problem.name}: velocity ({', '.join(components)}) over the speed")


def line_figure(result: Result, name: str) -> Figure:
    """1D space: the prediction (solid) over the reference (dashed) at the plotted times, and their error."""
    space = space_of(result)
    x_name = result.problem.coordinates[0]
    lower, upper = space.bounds.numpy()[:, 0]
    x = np.linspace(lower, upper, LINE_RESOLUTION)
    section = Section(Plane(x_name, name, x, np.zeros_like(x)), x[:, None], inside_mask(space, x[:, None]))
    rows = [sample(result, section, t) for t in plot_times(result)]
    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.85, len(rows)))
    values, errors = [], []
    for row, color in zip(rows, colors):
        label = row.when() or "prediction"
        values.append((x, row.prediction[name], {"color": color, "label": label}))
        if name in row.reference:
            values.append((x, row.reference[name], {"color": color, "linestyle": "--"}))
            errors.append((x, row.error[name], {"color": color, "label": row.when() or None}))
    if errors:  # one legend entry for all the dashed lines
        values.append((x[:0], x[:0], {"color": "0.3", "linestyle": "--", "label": "reference"}))
    limits = value_limits(*(line[1] for line in values))
    panels: list[Curves | None] = [Curves(x_name, name, "prediction and reference", values, limits)]
    if errors:
        panels.append(Curves(x_name, f"|{name} error|", "|error|", errors, error_limits(*(e[1] for e in errors))))
    return panel_figure([panels], f"{result.problem.name}: {name}{error_note(result, name)}")
