"""Regions: measure-preserving maps (known means within statistical bounds), normals, containment."""

import math

import pytest
import torch

from pdes.geometry import Ball, Boundary, Box, Difference, Interval, SpaceTime, Sphere, TimeInterval

N = 40_000
Z = 4.5  # standard errors allowed: a false failure has probability ~1e-5 per check


def region_mean(region, f, seed=0):
    """Monte Carlo mean of f over region through its unit-cube map, and its standard error."""
    u = torch.rand(N, region.cube_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x, w = region.from_unit_cube(u)
    values = w * f(x)
    return values.mean().item(), values.std().item() / math.sqrt(N), x, w


def r2(center):
    c = torch.tensor(center, dtype=torch.float64)
    return lambda x: ((x - c) ** 2).sum(dim=1)


CASES = [
    # (name, region, integrand, exact mean)
    ("box3d", Box([0, -1, 0], [1, 2, 3]), lambda x: x[:, 0] ** 2 + x[:, 1] * x[:, 2], 1 / 3 + 0.5 * 1.5),
    ("interval", Interval(-1.0, 3.0), lambda x: x[:, 0] ** 3, (3**4 - 1) / 4 / 4),
    ("ball1d", Ball([1.0], 2.0), lambda x: (x[:, 0] - 1) ** 2, 4 / 3),
    ("ball2d", Ball([0.5, -1.0], 2.0), r2([0.5, -1.0]), 4 * 2 / 4),
    ("ball3d", Ball([0.0, 1.0, 2.0], 1.5), r2([0.0, 1.0, 2.0]), 1.5**2 * 3 / 5),
    ("ball5d", Ball([0.0] * 5, 1.0), r2([0.0] * 5), 5 / 7),
    ("sphere3d", Sphere([0.0, 0.0, 0.0], 2.0), lambda x: x[:, 2] ** 2, 4 / 3),
    ("sphere4d", Sphere([0.0] * 4, 1.0), lambda x: x[:, 0] ** 2, 1 / 4),
    (
        "box_minus_ball",
        Difference(Box([0, 0], [1, 1]), [Ball([0.5, 0.5], 0.25)]),
        r2([0.5, 0.5]),
        (1 / 6 - math.pi * 0.25**4 / 2) / (1 - math.pi * 0.25**2),
    ),
    ("box_boundary", Box([0, 0], [2, 1]).boundary, lambda x: x[:, 0] ** 2, 14 / 9),
    ("interval_boundary", Interval(0.0, 1.0).boundary, lambda x: x[:, 0], 0.5),
    (
        "initial_slice",
        SpaceTime(Box([0, 0], [1, 2]), TimeInterval(0.5, 2.0)).initial,
        lambda x: x[:, 1] ** 2 + x[:, 2],
        4 / 3 + 0.5,
    ),
    ("lateral", SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 2.0)).boundary, lambda x: x[:, 1] * x[:, 0], 0.5),
]


@pytest.mark.parametrize("name,region,f,exact", CASES, ids=[c[0] for c in CASES])
def test_map_preserves_measure(name, region, f, exact):
    mean, se, x, w = region_mean(region, f)
    assert abs(mean - exact) <= Z * se + 1e-12, f"{name}: {mean} vs {exact} (se {se})"
    assert region.contains(x[w > 0]).all()


@pytest.mark.parametrize("name,region,f,exact", CASES, ids=[c[0] for c in CASES])
def test_weights_average_to_one(name, region, f, exact):
    mean, se, _, _ = region_mean(region, lambda x: torch.ones(x.shape[0], dtype=x.dtype), seed=1)
    assert abs(mean - 1) <= Z * se + 1e-12


def test_measures():
    assert Box([0, 0, 0], [1, 2, 3]).measure == pytest.approx(6)
    assert Ball([0, 0], 2).measure == pytest.approx(4 * math.pi)
    assert Ball([0, 0, 0], 1).measure == pytest.approx(4 / 3 * math.pi)
    assert Sphere([0, 0, 0], 1).measure == pytest.approx(4 * math.pi)
    assert Box([0, 0], [2, 1]).boundary.measure == pytest.approx(6)
    assert Difference(Box([0, 0], [1, 1]), [Ball([0.5, 0.5], 0.25)]).measure == pytest.approx(1 - math.pi / 16)
    st = SpaceTime(Box([0, 0], [1, 2]), TimeInterval(0, 3))
    assert st.measure == pytest.approx(6)
    assert st.boundary.measure == pytest.approx(18)
    assert st.initial.measure == pytest.approx(2)


def test_box_face_normals_are_outward_unit_axes():
    box = Box([0, 0, 0], [1, 2, 3])
    boundary = box.boundary
    x, _ = boundary.from_unit_cube(torch.rand(4000, boundary.cube_dim, dtype=torch.float64))
    n = boundary.normal(x)
    assert torch.allclose(n.norm(dim=1), torch.ones(len(x), dtype=torch.float64))
    center = torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64)
    # Outward: moving along n leaves the box, and n is an axis direction.
    assert ((x - center) * n).sum(dim=1).gt(0).all()
    assert (n.abs().max(dim=1).values == 1).all()
    assert not box.contains(x + 1e-3 * n).any()


def test_interval_boundary_normals():
    boundary = Interval(0.0, 1.0).boundary
    points = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    assert boundary.normal(points).flatten().tolist() == [-1.0, 1.0]


def test_sphere_and_hole_normals():
    region = Difference(Box([0, 0], [1, 1]), [Ball([0.5, 0.5], 0.25)])
    boundary = region.boundary
    assert isinstance(boundary, Boundary) and boundary.names == ("left", "right", "bottom", "top", "hole0")
    x, _ = boundary.from_unit_cube(torch.rand(4000, boundary.cube_dim, dtype=torch.float64))
    n = boundary.normal(x)
    assert torch.allclose(n.norm(dim=1), torch.ones(len(x), dtype=torch.float64))
    # Outward from the region everywhere: a small step along n leaves it.
    assert not region.contains(x + 1e-3 * n).any()
    assert region.contains(x - 1e-3 * n).all()


def test_lateral_boundary_normal_has_no_time_component():
    st = SpaceTime(Ball([0.0, 0.0], 1.0), TimeInterval(0.0, 1.0))
    x, _ = st.boundary.from_unit_cube(torch.rand(100, st.boundary.cube_dim, dtype=torch.float64))
    n = st.boundary.normal(x)
    assert torch.allclose(n[:, :2], x[:, :2])
    assert (n[:, 2] == 0).all()


def test_bad_regions_are_refused():
    with pytest.raises(ValueError, match="lower < upper"):
        Box([0, 1], [1, 1])
    with pytest.raises(ValueError, match="^the holes of this Difference cover its base region$"):
        Difference(Box([0, 0], [1, 1]), [Ball([0.5, 0.5], 1.0)])
    with pytest.raises(ValueError, match=r"expects \(N, 2\)"):
        Box([0, 0], [1, 1]).from_unit_cube(torch.rand(3, 3))
