"""Pictures of a run (pinn.plot): the files and formats, the CLI, and the figures' artists — every map
with labelled axes, ticks and a colorbar whose labels lie inside the figure, one colour range per
field over all times, 3D slices, velocity streamlines, masks of non-box domains, short histories."""

import math
import warnings

import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection
from PIL import Image

import pdes
import pinn
import pinn.plot
from pdes.geometry import Ball, Box, Difference, SpaceTime, TimeInterval
from pdes.problem import Problem, Term
from pdes.reference import AnalyticReference
from pdes.transforms import ZeroDirichlet
from pinn.cli import main
from pinn.plot import TIME_COUNT, field_figures, history_figure, plot_result
from pinn.state import empty_history

SHORT = {"steps": 30, "batch": 64, "width": 16, "depth": 2, "eval_points": 256, "replicates": 2, "progress": False}
SMALL = 24
"""Grid points per map axis in these tests (the pictures use pinn.plot.MAP_RESOLUTION)."""


def heat3d(alpha: float = 0.1) -> Problem:
    """``u_t = α Δu`` on the unit cube, zero Dirichlet data imposed exactly, one decaying sine mode."""
    domain = SpaceTime(Box([0, 0, 0], [1, 1, 1]), TimeInterval(0, 1))

    def initial(x, y, z):
        return torch.sin(math.pi * x) * torch.sin(math.pi * y) * torch.sin(math.pi * z)

    def solution(x, y, z, t):
        return {"u": initial(x, y, z) * torch.exp(-3 * alpha * math.pi**2 * t)}

    pde = Term("pde", domain, lambda f: f.u_t - alpha * f.laplacian("u", "xyz"))
    reference = AnalyticReference(("x", "y", "z", "t"), solution)
    transform = ZeroDirichlet(domain, initial)
    return Problem("heat3d", ("x", "y", "z", "t"), ("u",), domain, [pde], reference, transform=transform)


@pytest.fixture(scope="module")
def heat1d_dir(tmp_path_factory):
    """A short heat1d run in a directory, with L-BFGS steps and quadrature statistics in its history."""
    out = tmp_path_factory.mktemp("heat1d")
    pinn.solve(pdes.get("heat1d"), out=out, lbfgs_steps=3, eval_every=10, statistics_every=10, **SHORT)
    return out


@pytest.fixture(scope="module")
def heat2d():
    return pinn.solve(pdes.get("heat2d"), lbfgs_steps=0, **SHORT)


@pytest.fixture(scope="module")
def cavity():
    """A short cavity run against a coarse FEM reference (4 cells per side)."""
    problem = pdes.get("cavity")
    problem.reference = problem.reference.with_resolution(4)
    return pinn.solve(problem, lbfgs_steps=0, **SHORT)


def map_axes(figure) -> list:
    """``[(axes, colorbar)]`` of every map of ``figure`` (axes whose colour mesh has a colorbar)."""
    found = []
    for axes in figure.axes:
        colorbars = [c.colorbar for c in axes.collections if getattr(c, "colorbar", None) is not None]
        if colorbars:
            found.append((axes, colorbars[0]))
    return found


def inside(box, figure_box, slack: float = 1.0) -> bool:
    return (
        box.x0 >= figure_box.x0 - slack
        and box.x1 <= figure_box.x1 + slack
        and box.y0 >= figure_box.y0 - slack
        and box.y1 <= figure_box.y1 + slack
    )


def check_maps(figure, coordinates) -> list:
    """Every map has axis labels from ``coordinates``, tick labels and a colorbar whose tick labels
    (those drawn) and label lie inside the figure; so does every axes; returns the maps."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    maps = map_axes(figure)
    assert maps
    for axes in figure.axes:
        assert inside(axes.get_tightbbox(renderer), figure.bbox), axes.get_title()
    for axes, colorbar in maps:
        assert axes.get_xlabel() in coordinates and axes.get_ylabel() in coordinates
        assert axes.get_xlabel() != axes.get_ylabel()
        for ticks in (axes.get_xticklabels(), axes.get_yticklabels()):
            assert len([t for t in ticks if t.get_text()]) >= 2
        lo, hi = sorted(colorbar.ax.get_ylim())
        drawn = [t for t, at in zip(colorbar.ax.get_yticklabels(), colorbar.ax.get_yticks()) if lo <= at <= hi]
        assert len(drawn) >= 2 and all(t.get_text() for t in drawn)
        assert len({t.get_text() for t in drawn}) == len(drawn)  # distinct labels
        for text in [*drawn, colorbar.ax.yaxis.label]:
            assert inside(text.get_window_extent(renderer), figure.bbox), text.get_text()
        assert colorbar.ax.get_ylabel()
    return maps


def by_role(maps) -> dict[str, list]:
    """The maps grouped by the first word of their title: prediction, reference, |error|."""
    groups: dict[str, list] = {}
    for axes, colorbar in maps:
        groups.setdefault(axes.get_title().split(",")[0].split(" ")[0], []).append((axes, colorbar))
    return groups


def pixels_vary(path) -> bool:
    image = np.asarray(Image.open(path).convert("L"), dtype=float)
    return image.std() > 20 and len(np.unique(image)) > 50


def test_result_plot_writes_history_and_fields_into_dir_plots(heat1d_dir):
    written = pinn.load(heat1d_dir).plot()
    assert written == [heat1d_dir / "plots" / "history.png", heat1d_dir / "plots" / "u.png"]
    assert all(pixels_vary(path) for path in written)


def test_cli_plot_writes_every_format_and_refuses_a_bad_one(heat1d_dir, tmp_path, capsys):
    out = tmp_path / "pictures"
    assert main(["plot", str(heat1d_dir), "--format", "png,pdf,svg", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote 6 files to {out}\n"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.{f}" for n in ("history", "u") for f in pinn.plot.FORMATS
    )
    assert (out / "u.pdf").read_bytes().startswith(b"%PDF") and b"<svg" in (out / "u.svg").read_bytes()
    assert main(["plot", str(heat1d_dir), "--format", "png,jpg", "--out", str(tmp_path / "bad")]) == 2
    error = capsys.readouterr().err
    assert error == "pinn: error: unknown plot format 'jpg'; valid formats: png, pdf, svg\n"
    assert not (tmp_path / "bad").exists()


def test_history_marks_lbfgs_and_draws_every_recorded_kind(heat1d_dir):
    result = pinn.load(heat1d_dir)
    figure = history_figure(result)
    titles = [axes.get_title() for axes in figure.axes if axes.get_title()]
    expected = ["loss per term", "relative L2 error", "relative L2 error against wall time", "quadrature noise"]
    assert titles == [*expected, "gradient SNR", "learning rate"]
    loss = figure.axes[0]
    assert {line.get_label() for line in loss.lines} == {"total", "pde", "L-BFGS starts"}
    mark = next(line for line in loss.lines if line.get_label() == "L-BFGS starts")
    assert mark.get_xdata()[0] == 30  # the last Adam step
    assert all(axes.get_yscale() == "log" for axes in figure.axes if axes.get_title())


def test_a_one_step_run_without_reference_and_an_empty_history_are_drawn():
    domain = Box([0.0, 0.0], [1.0, 1.0])
    problem = Problem("bare", ("x", "y"), ("u",), domain, [Term("pde", domain, lambda f: f.u_xx + f.u_yy - 1)])
    result = pinn.solve(problem, **{**SHORT, "steps": 1, "lbfgs_steps": 0})
    titles = [axes.get_title() for axes in history_figure(result).axes if axes.get_title()]
    assert "relative L2 error" not in titles and "loss per term" in titles
    figure = field_figures(result, SMALL)["u"]
    assert [axes.get_title() for axes, _ in check_maps(figure, ("x", "y"))] == ["prediction"]
    result.history, result.report = empty_history(problem), None
    empty = history_figure(result)
    assert [text.get_text() for text in empty.axes[0].texts] == ["the history holds no steps"]


def test_heat2d_maps_share_one_colour_range_per_field_over_all_times(heat2d, tmp_path):
    figure = field_figures(heat2d, SMALL)["u"]
    groups = by_role(check_maps(figure, ("x", "y")))
    assert [len(groups[role]) for role in ("prediction", "reference", "|error|")] == [TIME_COUNT] * 3
    assert [axes.get_title() for axes, _ in groups["prediction"]] == [
        "prediction, t = 0",
        "prediction, t = 0.333",
        "prediction, t = 0.667",
        "prediction, t = 1",
    ]
    values = {c.mappable.get_clim() for _, c in groups["prediction"] + groups["reference"]}
    errors = {c.mappable.get_clim() for _, c in groups["|error|"]}
    assert len(values) == 1 and len(errors) == 1
    (lo, hi), (zero, top) = values.pop(), errors.pop()
    shown = [c.mappable.get_array() for _, c in groups["prediction"] + groups["reference"]]
    assert lo == pytest.approx(min(a.min() for a in shown)) and hi == pytest.approx(max(a.max() for a in shown))
    assert shown[-1].max() < 0.5 * hi  # the reference at the last time alone would have a narrower range
    assert zero == 0 and top > 0
    assert pinn.plot.save_figure(figure, tmp_path / "u") == [tmp_path / "u.png"] and pixels_vary(tmp_path / "u.png")


def test_3d_fields_are_drawn_as_slices_through_the_middle_of_z_and_x(monkeypatch):
    monkeypatch.setattr(pinn.plot, "TIME_COUNT", 2)  # t0 and t1: 4 rows of slices
    result = pinn.solve(heat3d(), lbfgs_steps=0, **SHORT)
    maps = check_maps(field_figures(result, SMALL)["u"], ("x", "y", "z"))
    groups = by_role(maps)
    assert len(groups["prediction"]) == 2 * 2
    assert {(axes.get_xlabel(), axes.get_ylabel()) for axes, _ in maps} == {("x", "y"), ("y", "z")}
    titles = [axes.get_title() for axes, _ in groups["prediction"][:2]]
    assert titles == ["prediction, t = 0, z = 0.5", "prediction, t = 0, x = 0.5"]
    assert len({c.mappable.get_clim() for _, c in groups["prediction"] + groups["reference"]}) == 1


def test_cavity_gets_maps_of_u_v_p_and_velocity_streamlines_over_the_speed(cavity):
    figures = field_figures(cavity, SMALL)
    assert list(figures) == ["u", "v", "p", "velocity"]
    for name in ("u", "v", "p"):
        check_maps(figures[name], ("x", "y"))
    assert [axes.get_title() for axes, _ in map_axes(figures["p"])][1] == "reference + const."
    velocity = check_maps(figures["velocity"], ("x", "y"))
    assert [axes.get_title() for axes, _ in velocity] == ["prediction", "reference"]
    for axes, colorbar in velocity:
        assert colorbar.ax.get_ylabel() == "speed"
        assert any(isinstance(c, LineCollection) and len(c.get_segments()) > 10 for c in axes.collections)


def test_points_outside_a_non_box_domain_are_blank_and_never_evaluated():
    domain = Difference(Box([-1.0, -1.0], [1.0, 1.0]), [Ball([0.0, 0.0], 0.5)])
    problem = Problem("holed", ("x", "y"), ("u",), domain, [Term("pde", domain, lambda f: f.u_xx + f.u_yy)])
    result = pinn.solve(problem, **{**SHORT, "steps": 2, "lbfgs_steps": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Result.predict warns of points outside the domain
        figure = field_figures(result, SMALL)["u"]
    (axes, colorbar) = check_maps(figure, ("x", "y"))[0]
    values = colorbar.mappable.get_array()
    assert np.ma.is_masked(values)
    masked = np.ma.getmaskarray(values).reshape(SMALL, SMALL)
    assert masked[SMALL // 2, SMALL // 2] and not masked[0, 0]


def test_bad_formats_and_a_result_without_directory_are_one_line_errors(heat2d, tmp_path):
    with pytest.raises(ValueError, match=r"^unknown plot format 'eps'; valid formats: png, pdf, svg$"):
        plot_result(heat2d, tmp_path, formats=("eps",))
    with pytest.raises(ValueError, match="no run directory"):
        heat2d.plot()
    assert not list(tmp_path.iterdir())


def test_a_few_spikes_do_not_set_the_colour_range_and_the_colorbar_marks_them():
    bulk = np.linspace(-1.0, 1.0, 1000)
    spiked = np.concatenate([bulk, [50.0, -40.0]])  # e.g. a pressure singularity at two corners
    assert pinn.plot.value_limits(bulk) == (-1.0, 1.0)
    lo, hi = pinn.plot.value_limits(spiked)
    assert -1.0 <= lo < -0.95 and 0.95 < hi <= 1.0
    assert pinn.plot.error_limits(np.abs(bulk)) == (0.0, 1.0)
    assert pinn.plot.error_limits(np.abs(spiked))[1] <= 1.0
    assert pinn.plot.value_limits(np.full(10, 2.0)) == (1.9, 2.1) and pinn.plot.error_limits(np.zeros(3)) == (0, 1)
    x, y = np.meshgrid(np.linspace(0, 1, 32), np.linspace(0, 1, 32))
    plane = pinn.plot.Plane("x", "y", x.ravel(), y.ravel(), (32, 32))
    values = np.linspace(-1.0, 1.0, x.size)
    values[0] = 50.0
    panel = pinn.plot.Panel(plane, values, "spiked", "p", pinn.plot.value_limits(values))
    [(axes, colorbar)] = check_maps(pinn.plot.panel_figure([[panel]]), ("x", "y"))
    assert colorbar.extend == "max"
