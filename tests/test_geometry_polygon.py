"""Polygons, segments and arcs, named boundaries, ``|`` and ``where``: exact measures, maps and normals.

Statistical checks use fixed seeds and allow ``Z = 4.5`` standard errors (a false failure has
probability about 1e-5 per check); closed-form checks are to 1e-12.
"""

import math

import numpy as np
import pytest
import torch

import samplers
from pdes.geometry import (
    Arc,
    Ball,
    Boundary,
    Box,
    Difference,
    Disk,
    Face,
    Interval,
    Point,
    Polygon,
    Rectangle,
    Segment,
    SpaceTime,
    TimeInterval,
    Triangles,
    Union,
)

Z = 4.5
L_CORNERS = [(-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (-1.0, 1.0)]
"""The L of examples/l_shape.py: (−1, 1)² minus [0, 1] × [−1, 0], area 3, perimeter 8."""


def draw(region, n, seed=0):
    u = torch.rand(n, region.cube_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return region.from_unit_cube(u)


def polygon_distance(vertices, x):
    """Distance from points ``x`` to the closed polygon's edges (independent of the library)."""
    v = torch.tensor(vertices, dtype=torch.float64)
    a, d = v, torch.roll(v, -1, dims=0) - v
    s = (((x[:, None] - a[None]) * d[None]).sum(dim=2) / (d * d).sum(dim=1)).clamp(0, 1)
    return (x[:, None] - a[None] - s[..., None] * d[None]).norm(dim=2).min(dim=1).values


def regular_polygon(n, radius=1.0, clockwise=False):
    angles = [2 * math.pi * k / n for k in range(n)]
    vertices = [(radius * math.cos(a), radius * math.sin(a)) for a in angles]
    return vertices[::-1] if clockwise else vertices


@pytest.mark.parametrize("clockwise", [False, True])
def test_polygon_measures_are_exact(clockwise):
    """Regular 7-gon: area ``n/2 r² sin(2π/n)``, perimeter ``2nr sin(π/n)``; the L: 3 and 8."""
    heptagon = Polygon(regular_polygon(7, 2.0, clockwise))
    assert heptagon.measure == pytest.approx(7 / 2 * 4 * math.sin(2 * math.pi / 7), rel=1e-12)
    assert heptagon.boundary.measure == pytest.approx(2 * 7 * 2 * math.sin(math.pi / 7), rel=1e-12)
    assert heptagon.triangles.measure == pytest.approx(heptagon.measure, rel=1e-12)
    corners = L_CORNERS[::-1] if clockwise else L_CORNERS
    shape = Polygon(corners)
    assert abs(shape.measure - 3) < 1e-12 and abs(shape.boundary.measure - 8) < 1e-12
    assert len(shape.triangles.triangles) == 4


def test_polygon_with_collinear_vertices_triangulates():
    """A square with a vertex in the middle of each side: area 1, eight edges of length 1/2."""
    square = Polygon([(0, 0), (0.5, 0), (1, 0), (1, 0.5), (1, 1), (0.5, 1), (0, 1), (0, 0.5)])
    assert abs(square.measure - 1) < 1e-12 and abs(square.triangles.measure - 1) < 1e-12
    assert [square.boundary[f"edge{k}"].measure for k in range(8)] == [0.5] * 8


def test_polygon_quadrature_is_unbiased_with_unit_weights():
    """``x² + y`` over the L: mean ``1/3 + 1/6 = 1/2``, within Z standard errors for 3 seeds; weights exactly 1."""
    shape = Polygon(L_CORNERS)
    for seed in range(3):
        x, w = draw(shape, 20_000, seed)
        assert torch.all(w == 1)
        values = x[:, 0] ** 2 + x[:, 1]
        se = values.std().item() / math.sqrt(len(values))
        assert abs(values.mean().item() - 0.5) <= Z * se
        assert shape.contains(x).all()
        assert not ((x[:, 0] > 1e-12) & (x[:, 1] < -1e-12)).any()  # nothing in the missing quadrant


def test_triangles_stratify_by_area():
    """Stratified first coordinates put ``n·area/total`` points (±1) in each triangle."""
    shape = Polygon(L_CORNERS)
    n = 1200
    u = torch.rand(n, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    u[:, 0] = (torch.arange(n, dtype=torch.float64) + u[:, 0]) / n
    x, _ = shape.from_unit_cube(u)
    triangles = Triangles(shape.triangles.triangles[:1])
    inside_first = triangles.contains(x, 1e-12).sum().item()
    expected = n * triangles.measure / shape.measure
    assert abs(inside_first - expected) <= 1


def test_polygon_contains():
    shape = Polygon(L_CORNERS)
    points = torch.tensor([[-0.5, -0.5], [0.5, 0.5], [0.5, -0.5], [1.5, 0.0], [0.0, -0.5]], dtype=torch.float64)
    assert shape.contains(points).tolist() == [True, True, False, False, True]
    assert shape.contains(points, -1e-3).tolist() == [True, True, False, False, False]


@pytest.mark.parametrize("clockwise", [False, True])
def test_polygon_boundary_points_lie_on_edges_with_outward_normals(clockwise):
    corners = L_CORNERS[::-1] if clockwise else L_CORNERS
    shape = Polygon(corners)
    x, w = draw(shape.boundary, 4000)
    n = shape.boundary.normal(x)
    assert torch.all(w == 1)
    assert polygon_distance(corners, x).max() <= 1e-12
    assert torch.allclose(n.norm(dim=1), torch.ones(len(x), dtype=torch.float64))
    assert not shape.contains(x + 1e-6 * n, 0.0).any()
    assert shape.contains(x - 1e-6 * n, 0.0).all()


def test_edge_lengths_are_sampled_in_proportion():
    """The L's edge 0 (length 1) holds 1/8 of a boundary batch: binomial bound at 8000 points."""
    shape = Polygon(L_CORNERS)
    x, _ = draw(shape.boundary, 8000, seed=2)
    share = shape.boundary["edge0"].contains(x).double().mean().item()
    assert abs(share - 1 / 8) <= Z * math.sqrt(1 / 8 * 7 / 8 / 8000)


def test_polygon_edge_names():
    square = Polygon([(0, 0), (2, 0), (2, 1), (0, 1)], names=["wall", "outlet", "wall", "inlet"])
    boundary = square.boundary
    assert boundary.names == ("wall", "outlet", "inlet")
    assert boundary["wall"].measure == 4.0 and boundary["inlet"].measure == 1.0
    x, _ = draw(boundary["wall"], 500)
    assert torch.all((x[:, 1] == 0) | (x[:, 1] == 1))
    n = boundary["inlet"].normal(torch.zeros(3, 2, dtype=torch.float64))
    assert n.tolist() == [[-1.0, 0.0]] * 3
    with pytest.raises(ValueError, match=r"^unknown boundary part 'walls'; valid names: wall, outlet, inlet$"):
        boundary["walls"]
    with pytest.raises(ValueError, match=r"^Polygon names must be 4 non-empty strings, one per edge"):
        Polygon([(0, 0), (2, 0), (2, 1), (0, 1)], names=["a", "b"])


@pytest.mark.parametrize(
    "vertices,message",
    [
        ([(0, 0), (1, 1), (1, 0), (0, 1)], r"^Polygon edges 0 and 2 meet: a polygon must be simple"),
        ([(0, 0), (2, 0), (2, 2), (1, -1), (0, 2)], r"^Polygon edges \d and \d meet"),
        ([(0, 0), (2, 0), (1, 0), (1, 1)], r"^Polygon edges \d and \d meet"),
        ([(0, 0), (1, 0), (2, 0)], r"^a Polygon needs a positive area, got collinear vertices$"),
        ([(0, 0), (1, 0), (1, 0), (0, 1)], r"^Polygon vertex 2 repeats vertex 1: edges need a positive length$"),
        ([(0, 0), (1, 0)], r"^a Polygon needs three or more 2D vertices, got an array of shape \(2, 2\)$"),
        ([(0, 0), (1, float("nan")), (0, 1)], r"^a Polygon needs finite vertices$"),
    ],
)
def test_bad_polygons_are_one_sentence_errors(vertices, message):
    with pytest.raises(ValueError, match=message) as caught:
        Polygon(vertices)
    assert "\n" not in str(caught.value)


def test_rectangle_and_disk_are_box_and_ball():
    assert isinstance(Rectangle([0, 0], [2, 1]), Box) and isinstance(Disk([0, 0], 1), Ball)
    assert Disk([1, 2], 0.5).boundary.names == ("circle",)
    assert Ball([0, 0, 0], 1).boundary.names == ("sphere",)
    assert Ball([0.0], 1).boundary.measure == 2  # two end points
    with pytest.raises(ValueError, match="Rectangle needs 2D corners"):
        Rectangle([0, 0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="Disk needs a 2D center"):
        Disk([0, 0, 0], 1)


def test_box_face_names_and_normals():
    assert Interval(0, 1).boundary.names == ("left", "right")
    assert isinstance(Interval(0, 1).boundary["right"], Point)
    assert Box([0, 0], [1, 1]).boundary.names == ("left", "right", "bottom", "top")
    box = Box([0, 0, 0], [1, 2, 3])
    assert box.boundary.names == ("left", "right", "bottom", "top", "back", "front")
    for name, axis, side in [("left", 0, -1), ("top", 1, 1), ("back", 2, -1), ("front", 2, 1)]:
        face = box.boundary[name]
        assert isinstance(face, Face) and (face.axis, face.side) == (axis, side) and face.name == name
    assert box.boundary["front"].bounds[:, 2].tolist() == [3.0, 3.0]
    assert Box([0] * 4, [1] * 4).boundary.names[6:] == ("x3_low", "x3_high")


def test_or_joins_named_parts_into_a_boundary():
    b = Box([0, 0], [2, 1]).boundary
    walls = b["left"] | b["right"] | b["bottom"]
    assert isinstance(walls, Boundary) and walls.name == "left|right|bottom"
    assert walls.names == ("left", "right", "bottom") and walls.measure == 4.0
    assert (b["top"] | b["top"]).names == ("top",)
    x, _ = draw(walls, 2000)
    assert not b["top"].contains(x[x[:, 1] > 0.5]).any()
    assert (walls | b["top"]).measure == 6.0
    named = Boundary({"walls": walls, "lid": b["top"]})
    assert (named["walls"] | named["lid"]).names == ("walls", "lid")
    other = Box([0, 0], [1, 1]).boundary
    with pytest.raises(ValueError, match="^both sides have a different part named 'top'"):
        b["top"] | other["top"]


def test_or_of_unnamed_regions_is_a_union():
    a = Segment([0, 0], [1, 0])
    both = a | Segment([1, 0], [1, 1])
    assert isinstance(both, Union) and both.measure == 2.0 and both.has_normal
    assert isinstance(Disk([0, 0], 1) | Disk([1, 0], 1), Union)


def test_union_of_faces_samples_as_before():
    """Today's ``Union([left, right, bottom])`` (Kovasznay, cavity) maps the unit cube exactly as the named join."""
    b = Box([0, 0], [1, 1]).boundary
    u = torch.rand(300, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x1, w1 = Union([b["left"], b["right"], b["bottom"]]).from_unit_cube(u)
    x2, w2 = (b["left"] | b["right"] | b["bottom"]).from_unit_cube(u)
    assert torch.equal(x1, x2) and torch.equal(w1, w2)
    assert [type(p).__name__ for p in b.pieces] == ["Face"] * 4


def test_where_on_plane_curves_is_exact():
    """``x < 0.5`` on the boundary of [0, 2] × [0, 1]: the left edge and halves of bottom and top, length 2."""
    boundary = Box([0, 0], [2, 1]).boundary
    left = boundary.where(lambda x: x[:, 0] < 0.5)
    assert left.names == ("left", "bottom", "top")
    assert abs(left.measure - 2.0) < 1e-12 and left.measure_error == 0
    x, w = draw(left, 2000)
    assert torch.all(w == 1) and torch.all(x[:, 0] <= 0.5 + 1e-12)
    circle = Disk([0, 0], 1).boundary.where(lambda x: x[:, 1] > 0.5)  # the arc above y = 1/2: angle 2π/3
    assert abs(circle.measure - 2 * math.pi / 3) < 1e-12
    x, _ = draw(circle, 1000)
    assert torch.all(x[:, 1] >= 0.5 - 1e-12)
    assert torch.allclose(circle.normal(x), x)


def test_where_elsewhere_is_rejection_with_an_honest_measure():
    """On the unit cube's faces, ``|x − c| < 0.3`` about a point of the top face: a disk of area 0.09π."""
    boundary = Box([0, 0, 0], [1, 1, 1]).boundary
    centre = torch.tensor([0.5, 0.5, 1.0], dtype=torch.float64)
    spot = boundary.where(lambda x: (x - centre).norm(dim=1) < 0.3)
    assert spot.names == ("front",)
    assert abs(spot.measure - 0.09 * math.pi) <= Z * spot.measure_error and 0 < spot.measure_error < 1e-3
    x, w = draw(spot, 4000)
    assert torch.all(w[(x - centre).norm(dim=1) >= 0.3] == 0)
    assert abs(w.mean().item() - 1) <= Z * w.std().item() / math.sqrt(len(w)) + 0.01


def test_where_nowhere_is_an_error():
    with pytest.raises(ValueError, match="^the predicate holds nowhere on this boundary$"):
        Box([0, 0], [1, 1]).boundary.where(lambda x: x[:, 0] > 2)


def test_segment_and_arc_flux_give_the_enclosed_area():
    """``½ ∮ x·n ds`` over a half disk's arc and diameter is ``πr²/2``."""
    arc = Arc([1.0, 2.0], 1.5, 0.0, math.pi)
    diameter = Segment([-0.5, 2.0], [2.5, 2.0], [0.0, -1.0])
    assert 0.5 * (arc.flux() + diameter.flux()) == pytest.approx(math.pi * 1.5**2 / 2, rel=1e-12)
    x, _ = draw(arc, 200)
    assert arc.contains(x).all() and not arc.contains(torch.tensor([[1.0, 0.5]], dtype=torch.float64)).any()


@pytest.mark.parametrize("name", ["sobol", "stratified", "halton", "uniform"])
def test_samplers_draw_on_a_polygon(name):
    shape = Polygon(L_CORNERS)
    q = samplers.get(name).draw(shape, 512, torch.Generator().manual_seed(0))
    assert q.points.shape == (512, 2) and shape.contains(q.points).all()
    assert float(q.weights.sum()) == pytest.approx(1.0, rel=1e-12)
    q = samplers.get(name).draw(shape.boundary, 256, torch.Generator().manual_seed(0))
    assert polygon_distance(L_CORNERS, q.points).max() <= 1e-12


def test_space_time_boundary_keeps_the_names():
    domain = SpaceTime(Polygon(L_CORNERS, names=["a", "b", "c", "d", "e", "f"]), TimeInterval(0.0, 2.0))
    assert domain.boundary.names == ("a", "b", "c", "d", "e", "f")
    x, _ = draw(domain.boundary["c"], 100)
    assert torch.all(x[:, 1] == 0) and torch.all((x[:, 2] >= 0) & (x[:, 2] <= 2))
    assert domain.boundary.measure == pytest.approx(16.0, rel=1e-12)
    n = domain.boundary.normal(x)
    assert np.allclose(n.numpy(), [[0.0, -1.0, 0.0]] * 100)


def test_the_gauss_sampler_integrates_polynomials_exactly_on_polygons_and_polygonal_csg():
    """x²y over the L-shape [0,2]² minus [1,2]² (mean 11/18), as a Polygon and as a Difference of boxes;
    a difference with a disk has no exact cells and is refused in one line."""
    polygon = Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])
    boxes = Difference(Box([0, 0], [2, 2]), [Box([1, 1], [2, 2])])
    for region in (polygon, boxes):
        q = samplers.get("gauss").draw(region, 500, torch.Generator().manual_seed(0))
        assert float(q.mean(q.points[:, 0] ** 2 * q.points[:, 1])) == pytest.approx(11 / 18, rel=1e-12)
    with pytest.raises(ValueError, match="^gauss needs a region cut into exact cells"):
        samplers.get("gauss").draw(Difference(Box([0, 0], [2, 2]), [Disk([2, 2], 0.5)]), 500, None)
