"""CSG regions (Union, Intersection, Difference): measures against closed forms, boundaries, normals, quadrature.

Closed forms are checked to 1e-12 where the library computes them exactly (polygons and boxes,
and plane regions bounded by segments and arcs); estimated measures (away from the plane) to
``Z = 4.5`` of their own standard error ``measure_error``. Quadrature means allow ``Z`` standard
errors for each of 3 fixed seeds (a false failure has probability about 1e-5 per check).
"""

import math

import pytest
import torch

import samplers
from pdes.geometry import Ball, Box, Difference, Disk, Intersection, Interval, Polygon, Rectangle, Union

Z = 4.5
EPS = 1e-6
"""Step along the normal: x + EPS n lies outside the region, x − EPS n inside."""


def draw(region, n, seed=0):
    u = torch.rand(n, region.cube_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return region.from_unit_cube(u)


def segments_distance(segments, x):
    """Distance from points ``x`` to the nearest of ``segments`` [(a, b), …] (independent of the library)."""
    best = torch.full((len(x),), math.inf, dtype=torch.float64)
    for a, b in segments:
        a, d = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64) - torch.tensor(a)
        s = (((x - a) @ d) / (d @ d)).clamp(0, 1)
        best = torch.minimum(best, (x - a - s[:, None] * d).norm(dim=1))
    return best


def box_boundary_distance(lower, upper, x):
    """Distance from points of a box (or its surface) to the box's surface."""
    lo, hi = torch.tensor(lower, dtype=torch.float64), torch.tensor(upper, dtype=torch.float64)
    outside = torch.maximum(lo - x, x - hi).clamp_min(0).norm(dim=1)
    inside = torch.minimum(x - lo, hi - x).min(dim=1).values.clamp_min(0)
    return torch.where(outside > 0, outside, inside)


def sphere_distance(center, radius, x):
    return ((x - torch.tensor(center, dtype=torch.float64)).norm(dim=1) - radius).abs()


def check_boundary(region, distance, n=4000, seed=0):
    """Every boundary point with weight > 0 lies on the boundary (distance ≤ 1e-9) with the outward unit normal."""
    boundary = region.boundary
    x, w = draw(boundary, n, seed)
    x = x[w > 0]
    normal = boundary.normal(x)
    assert distance(x).max() <= 1e-9
    assert torch.allclose(normal.norm(dim=1), torch.ones(len(x), dtype=torch.float64))
    assert not region.contains(x + EPS * normal, 0.0).any()
    assert region.contains(x - EPS * normal, 0.0).all()
    return x


def check_unbiased(region, f, exact, n=20_000):
    """``Σ w f / n`` within Z standard errors of the exact mean for seeds 0, 1, 2; points with weight > 0 inside."""
    for seed in range(3):
        x, w = draw(region, n, seed)
        values = w * f(x)
        se = values.std().item() / math.sqrt(n)
        assert abs(values.mean().item() - exact) <= Z * se + 1e-12, (seed, values.mean().item(), exact, se)
        assert region.contains(x[w > 0]).all()


L_SHAPE_EDGES = [((0, 0), (1, 0)), ((1, 0), (1, 0.5)), ((1, 0.5), (0.5, 0.5)), ((0.5, 0.5), (0.5, 1))]
L_SHAPE_EDGES += [((0.5, 1), (0, 1)), ((0, 1), (0, 0))]


def l_shape():
    """The issue's L: the unit square minus its upper right quarter, area 3/4, perimeter 4."""
    return Difference(Box([0, 0], [1, 1]), [Box([0.5, 0.5], [1, 1])])


def test_l_shape_is_exact():
    region = l_shape()
    assert abs(region.measure - 0.75) < 1e-12 and abs(region.boundary.measure - 4.0) < 1e-12
    assert region.boundary.names == ("left", "right", "bottom", "top", "hole0")
    assert region.boundary["right"].measure == pytest.approx(0.5, abs=1e-12)
    assert region.boundary["hole0"].measure == pytest.approx(1.0, abs=1e-12)
    x = check_boundary(region, lambda x: segments_distance(L_SHAPE_EDGES, x), n=8000)
    assert not ((x[:, 0] > 0.5 + 1e-9) & (x[:, 1] > 0.5 + 1e-9)).any()  # the (1.0, 0.56) is gone
    x, w = draw(region, 8000)
    assert torch.all(w == 1) and not ((x[:, 0] > 0.5) & (x[:, 1] > 0.5)).any()
    check_unbiased(region, lambda x: x[:, 0] ** 2 + x[:, 1], (1 / 3 - 7 / 48 + 0.5 - 3 / 16) / 0.75)


def test_l_shape_as_difference_equals_the_polygon():
    """(−1, 1)² minus [0, 1] × [−1, 0] is examples/l_shape.py's polygon: area 3, perimeter 8."""
    difference = Difference(Box([-1, -1], [1, 1]), [Box([0, -1], [1, 0])])
    polygon = Polygon([(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)])
    assert difference.measure == pytest.approx(polygon.measure, abs=1e-12)
    assert difference.boundary.measure == pytest.approx(polygon.boundary.measure, abs=1e-12)


def test_disk_hole_crossing_an_edge():
    """A disk of radius 1/4 centred on the right edge: area ``1 − π/32``, boundary ``4 − 1/2 + π/4``."""
    region = Difference(Box([0, 0], [1, 1]), [Disk([1.0, 0.5], 0.25)])
    assert abs(region.measure - (1 - math.pi / 32)) < 1e-12
    assert abs(region.boundary.measure - (3.5 + math.pi / 4)) < 1e-12
    assert region.boundary["hole0"].measure == pytest.approx(math.pi / 4, abs=1e-12)

    def distance(x):
        return torch.minimum(box_boundary_distance([0, 0], [1, 1], x), sphere_distance([1, 0.5], 0.25, x))

    x = check_boundary(region, distance)
    assert not ((x - torch.tensor([1.0, 0.5], dtype=torch.float64)).norm(dim=1) < 0.25 - 1e-9).any()
    assert (x[:, 0] <= 1 + 1e-12).all()
    disk_second_moment = math.pi * 0.25**4 / 4 / 2  # ∫ (x−1)² over the half disk inside
    exact = (1 / 3 - disk_second_moment) / (1 - math.pi / 32)
    check_unbiased(region, lambda x: (x[:, 0] - 1) ** 2, exact)


def test_disk_hole_at_a_corner_and_tangent_to_an_edge():
    corner = Difference(Box([0, 0], [1, 1]), [Disk([1.0, 1.0], 0.5)])
    assert abs(corner.measure - (1 - math.pi / 16)) < 1e-12
    assert abs(corner.boundary.measure - (3 + math.pi / 4)) < 1e-12
    tangent = Difference(Box([0, 0], [1, 1]), [Disk([0.5, 0.25], 0.25)])
    assert abs(tangent.measure - (1 - math.pi / 16)) < 1e-12
    assert abs(tangent.boundary.measure - (4 + math.pi / 2)) < 1e-12


def test_union_and_intersection_of_disks():
    """Unit disks a distance 1 apart: the lens has area ``2π/3 − √3/2`` and boundary ``4π/3``."""
    lens_area = 2 * math.pi / 3 - math.sqrt(3) / 2
    a, b = Disk([0, 0], 1), Disk([1, 0], 1)
    union, lens = Union([a, b]), Intersection([a, b])
    assert abs(lens.measure - lens_area) < 1e-12 and abs(lens.boundary.measure - 4 * math.pi / 3) < 1e-12
    assert abs(union.measure - (2 * math.pi - lens_area)) < 1e-12
    assert abs(union.boundary.measure - 8 * math.pi / 3) < 1e-12
    assert union.boundary.names == ("region0.circle", "region1.circle")

    def distance(x):
        return torch.minimum(sphere_distance([0, 0], 1, x), sphere_distance([1, 0], 1, x))

    check_boundary(union, distance)
    check_boundary(lens, distance)
    check_unbiased(lens, lambda x: (x[:, 0] - 0.5) ** 2, _lens_second_moment() / lens_area)
    x, w = draw(union, 4000)
    assert torch.all(w > 0)  # overlap is weighted, not rejected
    check_unbiased(union, lambda x: torch.ones_like(x[:, 0]), 1.0)
    check_unbiased(union, lambda x: x[:, 0], 0.5)  # symmetric about x = 1/2


def _lens_second_moment():
    """``∫ (x − 1/2)²`` over the lens, by the midpoint rule in x on 20 000 strips (error ~1e-10)."""
    m = 20_000
    x = (torch.arange(m, dtype=torch.float64) + 0.5) / m  # lens spans x ∈ [0, 1]
    half_height = torch.sqrt(1 - torch.maximum(x, 1 - x) ** 2)
    return float((2 * half_height * (x - 0.5) ** 2).sum() / m)


def test_half_disk_as_intersection():
    half = Intersection([Disk([0, 0], 1), Rectangle([-2, 0], [2, 2])])
    assert abs(half.measure - math.pi / 2) < 1e-12
    assert abs(half.boundary.measure - (math.pi + 2)) < 1e-12
    check_boundary(half, lambda x: torch.minimum(sphere_distance([0, 0], 1, x), x[:, 1].abs()))
    check_unbiased(half, lambda x: x[:, 1], 4 / (3 * math.pi))


def test_polygon_unions_are_triangles_with_exact_boundaries():
    """Overlapping rectangles sharing their bottom and top lines: [0, 3] × [0, 1] (coincident edges counted once)."""
    strip = Union([Box([0, 0], [2, 1]), Box([1, 0], [3, 1])])
    assert abs(strip.measure - 3) < 1e-12 and abs(strip.boundary.measure - 8) < 1e-12
    assert strip.cube_dim == 3  # a triangle and the simplex map
    check_boundary(strip, lambda x: box_boundary_distance([0, 0], [3, 1], x))
    cross = Union([Rectangle([-1, -0.25], [1, 0.25]), Polygon([(-0.25, -1), (0.25, -1), (0.25, 1), (-0.25, 1)])])
    assert abs(cross.measure - 1.75) < 1e-12 and abs(cross.boundary.measure - 8) < 1e-12
    x, w = draw(cross, 4000)
    assert torch.all(w == 1) and cross.contains(x).all()


def test_polygon_intersection_and_difference():
    triangle = Polygon([(0, 0), (2, 0), (0, 2)])
    square = Rectangle([0, 0], [1, 1])
    assert abs(Intersection([triangle, square]).measure - 1) < 1e-12
    assert abs(Intersection([triangle, square]).boundary.measure - 4) < 1e-12
    notch = Difference(triangle, [Rectangle([0.5, -1], [1, 0.5])])  # a notch in the bottom edge
    assert abs(notch.measure - 1.75) < 1e-12
    assert abs(notch.boundary.measure - (5 + 2 * math.sqrt(2))) < 1e-12
    corners = [(0, 0), (0.5, 0), (0.5, 0.5), (1, 0.5), (1, 0), (2, 0), (0, 2)]
    edges = [(corners[k], corners[(k + 1) % len(corners)]) for k in range(len(corners))]
    check_boundary(notch, lambda x: segments_distance(edges, x))


def test_a_hole_touching_the_base_from_outside_changes_nothing():
    region = Difference(Box([0, 0], [1, 1]), [Box([1, 0], [2, 1])])
    assert region.measure == pytest.approx(1, abs=1e-12) and region.boundary.measure == pytest.approx(4, abs=1e-12)
    assert region.boundary.names == ("left", "right", "bottom", "top")


def test_nested_differences_number_their_holes():
    inner = Difference(Box([0, 0], [1, 1]), [Disk([0.3, 0.3], 0.1)])
    region = Difference(inner, [Disk([0.7, 0.7], 0.1), Box([0.9, 0.9], [2, 2])])
    assert region.boundary.names == ("left", "right", "bottom", "top", "hole0", "hole1", "hole2")
    assert abs(region.measure - (1 - 2 * math.pi * 0.01 - 0.01)) < 1e-12
    assert abs(region.boundary.measure - (4 + 4 * math.pi * 0.1)) < 1e-12


def test_a_disk_hole_inside_keeps_todays_map():
    """A hole strictly inside: the base's map with rejection, parts as before (a Sphere flipped inward)."""
    region = Difference(Box([0, 0], [1, 1]), [Ball([0.5, 0.5], 0.25)])
    assert region.boundary["hole0"].inward and region.cube_dim == 2
    x, w = draw(region, 8000)
    wasted = (w == 0).double().mean().item()
    p = math.pi / 16
    assert abs(wasted - p) <= Z * math.sqrt(p * (1 - p) / 8000)
    assert torch.allclose(w[w > 0], torch.full_like(w[w > 0], 1 / (1 - p)))


def test_three_dimensional_ball_hole_crossing_a_face_is_exact():
    """A ball of radius 1/4 centred on the cube's right face: half of it removed, its disk cut from the face."""
    r = 0.25
    region = Difference(Box([0, 0, 0], [1, 1, 1]), [Ball([1.0, 0.5, 0.5], r)])
    assert region.measure_error == 0 and abs(region.measure - (1 - 2 / 3 * math.pi * r**3)) < 1e-12
    boundary = region.boundary
    assert boundary.measure_error == 0 and abs(boundary.measure - (6 + math.pi * r**2)) < 1e-12
    assert boundary["right"].measure == pytest.approx(1 - math.pi * r**2, abs=1e-12)
    assert boundary["hole0"].measure == pytest.approx(2 * math.pi * r**2, abs=1e-12)

    def distance(x):
        return torch.minimum(box_boundary_distance([0] * 3, [1] * 3, x), sphere_distance([1.0, 0.5, 0.5], r, x))

    check_boundary(region, distance)
    half_ball_x = 2 / 3 * math.pi * r**3 - math.pi * r**4 / 4  # ∫ x over the half ball: V (1 − 3r/8)
    check_unbiased(region, lambda x: x[:, 0], (0.5 - half_ball_x) / region.measure)
    check_unbiased(boundary, lambda x: torch.ones_like(x[:, 0]), 1.0)


def test_three_dimensional_ball_hole_over_an_edge_is_estimated():
    """A ball of radius 1/4 centred on the edge x = y = 1: a quarter removed (volume π r³/3), estimated."""
    r = 0.25
    region = Difference(Box([0, 0, 0], [1, 1, 1]), [Ball([1.0, 1.0, 0.5], r)])
    exact = 1 - math.pi * r**3 / 3
    assert 0 < region.measure_error < 1e-4 and abs(region.measure - exact) <= Z * region.measure_error
    boundary = region.boundary
    exact_boundary = 6 - 2 * math.pi * r**2 / 2 + math.pi * r**2  # two half disks off faces, a quarter sphere on
    assert 0 < boundary.measure_error < 1e-3 and abs(boundary.measure - exact_boundary) <= Z * boundary.measure_error
    assert boundary["left"].measure == 1.0 and boundary["left"].measure_error == 0  # apart from the ball: exact

    def distance(x):
        return torch.minimum(box_boundary_distance([0] * 3, [1] * 3, x), sphere_distance([1.0, 1.0, 0.5], r, x))

    check_boundary(region, distance)
    check_unbiased(region, lambda x: torch.ones_like(x[:, 0]), exact / region.measure)


def test_three_dimensional_union_of_overlapping_balls():
    """Unit balls a distance 1 apart: ``|A ∪ B| = 8π/3 − 5π/12`` (two caps of height 1/2)."""
    region = Union([Ball([0, 0, 0], 1), Ball([1, 0, 0], 1)])
    exact = 8 * math.pi / 3 - 5 * math.pi / 12
    assert abs(region.measure - exact) <= Z * region.measure_error and region.measure_error < 1e-3
    x, w = draw(region, 8000)
    assert torch.all(w > 0) and region.contains(x).all()


def test_one_dimensional_difference_has_exact_end_points():
    region = Difference(Interval(0.0, 1.0), [Interval(0.5, 2.0)])
    assert region.measure == 0.5 and region.boundary.names == ("left", "hole0")
    x, _ = region.boundary.from_unit_cube(torch.tensor([[0.1], [0.9]], dtype=torch.float64))
    assert x.flatten().tolist() == [0.0, 0.5]
    assert region.boundary.normal(x).flatten().tolist() == [-1.0, 1.0]


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: Difference(Disk([0, 0], 1), [Rectangle([-2, -2], [2, 2])]), "the holes of this Difference cover"),
        (lambda: Difference(Box([0, 0], [1, 1]), [Box([0, 0], [0.5, 1]), Box([0.5, 0], [1, 1])]), "cover its base"),
        (lambda: Intersection([Disk([0, 0], 1), Disk([3, 0], 1)]), "this Intersection is empty"),
        (lambda: Intersection([Rectangle([0, 0], [1, 1]), Polygon([(1, 0), (2, 0), (2, 1)])]), "is empty"),
        (lambda: Difference(Disk([0, 0], 1), [Ball([0, 0, 0], 2)]), "one dimension, got dimensions 2, 3"),
        (lambda: Union([Disk([0, 0], 1), Box([0, 0], [1, 1]).boundary]), "all solid regions or all boundary"),
        (lambda: Difference(Box([0, 0], [1, 1]).boundary, [Disk([0, 0], 1)]), "needs solid regions"),
        (lambda: Difference(Box([0, 0], [1, 1]), []), "one or more holes"),
    ],
)
def test_bad_geometry_is_a_one_sentence_error(build, message):
    with pytest.raises(ValueError, match=message) as caught:
        build()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["sobol", "stratified", "halton", "uniform"])
def test_samplers_draw_on_csg_regions(name):
    for region in [l_shape(), Difference(Box([0, 0], [1, 1]), [Disk([1.0, 0.5], 0.25)])]:
        rule = samplers.get(name)
        q = rule.draw(region, 512, torch.Generator().manual_seed(0))
        assert region.contains(q.points[q.weights > 0]).all()
        assert abs(float(q.weights.sum()) - 1) < 0.1
        q = rule.draw(region.boundary, 256, torch.Generator().manual_seed(0))
        assert float(q.weights.sum()) == pytest.approx(1.0, rel=1e-12)
