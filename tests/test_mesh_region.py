"""Mesh regions (pdes.meshes): exact measures and quadrature per cell, named boundary facets with outward normals,
meshes read by meshio and made by gmsh (regions, .geo files, closed STL surfaces), and one-line errors."""

import math
from itertools import product

import meshio
import numpy as np
import pytest
import pyvista as pv
import torch

import samplers
from pdes.geometry import Ball, Box, Difference, Disk, Polygon
from pdes.meshes import MeshRegion, Simplices
from pdes.meshes.grid import grid_mesh
from pdes.meshes.simplices import barycentric_from_radii, radii_from_unit_cube

L_CORNERS = [(-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (-1.0, 1.0)]
SEEDS = (0, 1, 2)

GEO = """SetFactory("OpenCASCADE");
Rectangle(1) = {0, 0, 0, 2, 1};
Disk(2) = {1, 0.5, 0, 0.25};
BooleanDifference(3) = {Surface{1}; Delete;}{Surface{2}; Delete;};
left() = Curve In BoundingBox{-0.1, -0.1, -1, 0.1, 1.1, 1};
right() = Curve In BoundingBox{1.9, -0.1, -1, 2.1, 1.1, 1};
walls() = Curve In BoundingBox{-0.1, -0.1, -1, 2.1, 0.1, 1};
walls() += Curve In BoundingBox{-0.1, 0.9, -1, 2.1, 1.1, 1};
Physical Curve("inlet") = {left()};
Physical Curve("walls") = {walls()};
Physical Curve(7) = {right()};
Physical Surface("channel") = {3};
Mesh.MeshSizeMax = 0.1;
"""
"""A 2 × 1 channel with a hole of radius ¼ at (1, ½): inlet (x = 0), walls (y = 0, 1), an unnamed group (x = 2);
the hole's circle is in no group."""


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    """The GEO channel meshed by gmsh, saved as .msh: (region, path of the .msh)."""
    folder = tmp_path_factory.mktemp("channel")
    (folder / "channel.geo").write_text(GEO)
    region = MeshRegion.from_gmsh(folder / "channel.geo", save=folder / "channel.msh")
    return region, folder / "channel.msh"


@pytest.fixture(scope="module")
def l_shape():
    return MeshRegion.from_gmsh(Polygon(L_CORNERS), size=0.2)


@pytest.fixture(scope="module")
def ball():
    return MeshRegion.from_gmsh(Ball([0.0, 0.0, 0.0], 1.0), size=0.4)


# -- the simplex map and the Gauss rule --------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_simplex_map_has_the_constant_jacobian_of_a_measure_preserving_map(k):
    """u ↦ (λ_1 … λ_k) maps the unit cube onto the standard simplex (volume 1/k!) with |det J| = 1/k! everywhere."""

    def simplex_coordinates(u):
        return barycentric_from_radii(radii_from_unit_cube(u[None]))[0, 1:]

    u = torch.rand(40, k, dtype=torch.float64, generator=torch.Generator().manual_seed(k)) * 0.98 + 0.01
    for point in u:
        jacobian = torch.autograd.functional.jacobian(simplex_coordinates, point)
        assert abs(torch.linalg.det(jacobian)).item() == pytest.approx(1 / math.factorial(k), rel=1e-12)
    lam = barycentric_from_radii(radii_from_unit_cube(u))
    assert (lam >= 0).all() and torch.allclose(lam.sum(dim=1), torch.ones(40, dtype=torch.float64), atol=1e-15)


@pytest.mark.parametrize("mesh", ["l_shape", "ball"])
def test_the_first_coordinate_picks_each_cell_with_the_share_of_its_measure(mesh, request):
    """Cell i gets the interval [F_i, F_(i+1)) of u_0 (F: cumulative measure fractions), as long as its share."""
    region = request.getfixturevalue(mesh)
    edges = np.concatenate([[0.0], np.cumsum(region.measures)]) / region.measure
    inner = torch.from_numpy(np.concatenate([(edges[:-1] + edges[1:]) / 2, edges[1:-1] + 1e-12, edges[1:-1] - 1e-12]))
    count = len(region.cells)
    expected = np.concatenate([np.arange(count), np.arange(1, count), np.arange(count - 1)])
    assert np.array_equal(region.simplex_index(inner).numpy(), expected)
    assert region.measure == pytest.approx(sum(region.measures), rel=1e-15)


def smooth(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(0.7 * x[:, 0]) * torch.cos(1.3 * x[:, 1]) + x[:, -1] ** 2


@pytest.mark.parametrize("sampler", ["uniform", "sobol", "stratified"])
@pytest.mark.parametrize("mesh", ["l_shape", "ball"])
def test_unit_cube_rules_are_unbiased_on_meshes(mesh, sampler, request):
    """For 3 seeds, |Σ w f − mean f| ≤ 4 s/√N (s: the sample standard deviation of f, N = 4096 points): a bias
    of that size fails with probability < 1e-4 per draw. The mean is the degree-12 Gauss rule's (error < 1e-10)."""
    region = request.getfixturevalue(mesh)
    points, weights = region.gauss_points(12)
    exact = float((weights * smooth(points)).sum())
    rule = samplers.get(sampler)
    for seed in SEEDS:
        batch = rule.draw(region, 4096, torch.Generator().manual_seed(seed))
        values = smooth(batch.points)
        assert region.contains(batch.points).all() and torch.all(batch.weights == 1 / 4096)
        assert abs(batch.mean(values).item() - exact) <= 4 * values.std().item() / math.sqrt(4096)


def barycentric_monomials(k: int, degree: int) -> list[tuple[int, ...]]:
    return [a for a in product(range(degree + 1), repeat=k + 1) if sum(a) == degree]


def dirichlet_mean(alpha: tuple[int, ...]) -> float:
    """The mean of ``λ^α`` over a k-simplex: ``k! α! / (k + |α|)!``."""
    k = len(alpha) - 1
    return math.factorial(k) * math.prod(map(math.factorial, alpha)) / math.factorial(k + sum(alpha))


@pytest.mark.parametrize("k, top", [(1, 7), (2, 6), (3, 5)])
def test_gauss_per_cell_is_exact_for_polynomials_of_its_degree(k, top):
    """On a random simplex, the rule of each degree p integrates every λ^α with |α| ≤ p to 1e-13 (Dirichlet
    moments); for odd p (n = (p+1)/2 points per radius) some λ^α of degree p + 1 is off by more than 1e-6."""
    rng = np.random.default_rng(k)
    simplex = Simplices(rng.normal(size=(k + 1, k)), np.arange(k + 1)[None])
    for degree in range(top + 1):
        x, w = simplex.gauss_points(degree)
        lam = simplex.barycentric(x.numpy(), np.zeros(len(x), dtype=np.int64))
        monomials = [a for p in range(degree + 2) for a in barycentric_monomials(k, p)]
        estimates = {a: float((w.numpy() * np.prod(lam**a, axis=1)).sum()) for a in monomials}
        errors = {a: abs(estimate - dirichlet_mean(a)) for a, estimate in estimates.items()}
        assert max(e for a, e in errors.items() if sum(a) <= degree) <= 1e-13
        if degree % 2 == 1:
            assert max(e for a, e in errors.items() if sum(a) == degree + 1) > 1e-6


@pytest.mark.parametrize("dim", [2, 3])
def test_gauss_per_cell_integrates_monomials_over_a_meshed_cube(dim):
    """Kuhn simplices of the unit cube: the mean of x^a y^b (z^c) is Π 1/(a_i + 1), exact to 1e-13 up to degree 5."""
    region = MeshRegion(*grid_mesh(Box([0.0] * dim, [1.0] * dim), 3)[:2])
    assert region.measure == pytest.approx(1.0, abs=1e-14)
    x, w = region.gauss_points(5)
    for powers in product(range(6), repeat=dim):
        if sum(powers) <= 5:
            monomial = torch.prod(x ** torch.tensor(powers, dtype=torch.float64), dim=1)
            assert float((w * monomial).sum()) == pytest.approx(1 / math.prod(p + 1 for p in powers), abs=1e-13)


# -- measures and boundaries ---------------------------------------------------------------------------------------


def divergence_measure(region: MeshRegion) -> float:
    """|Ω| = (1/d) ∮ x·n: exact on a polygonal boundary (x·n is constant on each flat facet)."""
    total = 0.0
    for part in region.boundary.parts.values():
        x, w = part.gauss_points(1)
        total += part.measure * float((w * (x * part.normal(x)).sum(dim=1)).sum())
    return total / region.dim


def test_measures_of_meshed_polygons_are_exact():
    square = MeshRegion.from_gmsh(Box([0.0, 0.0], [1.0, 1.0]), size=0.25)
    assert square.measure == pytest.approx(1.0, abs=1e-12)
    assert {n: p.measure for n, p in square.boundary.parts.items()} == pytest.approx(
        {"left": 1.0, "right": 1.0, "bottom": 1.0, "top": 1.0}, abs=1e-12
    )
    for shape in (Polygon(L_CORNERS), Difference(Box([0, 0], [1, 1]), [Box([0.5, 0.5], [1, 1])])):
        mesh = MeshRegion.from_gmsh(shape, size=0.2)
        assert mesh.measure == pytest.approx(shape.measure, abs=1e-12)
        assert mesh.boundary.names == shape.boundary.names
        for name in shape.boundary.names:
            assert mesh.boundary[name].measure == pytest.approx(shape.boundary[name].measure, abs=1e-12)
        assert divergence_measure(mesh) == pytest.approx(mesh.measure, abs=1e-12)


def test_a_meshed_disk_measures_its_polygon():
    """The disk's mesh is the inscribed polygon of its boundary facets: its area is that polygon's (shoelace, 1e-12),
    within the chord error h²/(8r) · 2πr of π r², and its boundary within h²/(24 r²) · 2πr of 2πr."""
    h, r = 0.2, 1.0
    disk = MeshRegion.from_gmsh(Disk([0.0, 0.0], r), size=h)
    assert disk.boundary.names == ("circle",)
    assert disk.measure == pytest.approx(divergence_measure(disk), abs=1e-12)
    assert 0 < math.pi * r**2 - disk.measure <= h**2 / (8 * r) * 2 * math.pi * r
    assert 0 < 2 * math.pi * r - disk.boundary.measure <= h**2 / (24 * r**2) * 2 * math.pi * r
    corners = disk.points[disk.facets]
    assert np.allclose(np.linalg.norm(corners, axis=2), r, atol=1e-12)


def test_boundary_parts_come_from_physical_groups(channel):
    region, _ = channel
    assert region.boundary.names == ("inlet", "walls", "physical7", "boundary")
    measures = {n: p.measure for n, p in region.boundary.parts.items()}
    assert measures["inlet"] == pytest.approx(1.0, abs=1e-12)
    assert measures["walls"] == pytest.approx(4.0, abs=1e-12)
    assert measures["physical7"] == pytest.approx(1.0, abs=1e-12)
    assert 0 < 2 * math.pi * 0.25 - measures["boundary"] <= 0.1**2 / (24 * 0.25**2) * 2 * math.pi * 0.25  # chords
    assert region.measure == pytest.approx(divergence_measure(region), abs=1e-12)
    assert 0 < region.measure - (2.0 - math.pi / 16) <= 0.1**2 / (8 * 0.25) * 2 * math.pi * 0.25  # sagitta × length
    assert region.boundary.measure == pytest.approx(sum(measures.values()), abs=1e-12)


def test_every_boundary_point_lies_on_its_facet_with_the_outward_normal(channel):
    region, _ = channel
    rule = samplers.get("sobol")
    for name, part in region.boundary.parts.items():
        batch = rule.draw(part, 512, torch.Generator().manual_seed(0))
        x, n = batch.points, part.normal(batch.points)
        assert part.contains(x, 1e-12).all() and region.contains(x).all()
        if name == "inlet":
            assert torch.all(x[:, 0] == 0) and torch.allclose(n, torch.tensor([-1.0, 0.0], dtype=torch.float64))
        if name == "walls":
            expected = torch.stack([torch.zeros_like(x[:, 1]), torch.where(x[:, 1] > 0.5, 1.0, -1.0)], dim=1)
            assert torch.all((x[:, 1] == 0) | (x[:, 1] == 1)) and torch.allclose(n, expected, atol=1e-15)
        if name == "boundary":  # the hole: on a chord of the circle, the normal into the hole
            radial = (x - torch.tensor([1.0, 0.5], dtype=torch.float64)) / 0.25
            distance = radial.norm(dim=1) * 0.25
            assert torch.all(distance <= 0.25 + 1e-12) and torch.all(distance >= 0.25 - 0.1**2 / 8 / 0.25)
            assert torch.all((n * radial).sum(dim=1) < -0.97)  # a chord of ≤ 0.12 turns ≤ asin(0.12 / 0.5) from radial
        assert torch.allclose(n.norm(dim=1), torch.ones(len(n), dtype=torch.float64))


def test_normals_of_a_tetrahedral_mesh_point_out(ball):
    part = ball.boundary["sphere"]
    x, _ = part.from_unit_cube(torch.rand(2000, part.cube_dim, dtype=torch.float64))
    n = part.normal(x)
    assert torch.all((n * x).sum(dim=1) > 0.9) and torch.allclose(n.norm(dim=1), torch.ones(2000, dtype=torch.float64))
    assert divergence_measure(ball) == pytest.approx(ball.measure, abs=1e-12)
    assert 0 < 4 / 3 * math.pi - ball.measure < 0.35


def test_contains_with_a_negative_tolerance_keeps_the_points_deep_inside():
    square = MeshRegion.from_gmsh(Box([0.0, 0.0], [1.0, 1.0]), size=0.25)
    x = torch.tensor([[0.5, 0.5], [0.05, 0.5], [0.2, 0.95], [1.0, 0.5], [1.1, 0.5]], dtype=torch.float64)
    assert square.contains(x).tolist() == [True, True, True, True, False]
    assert square.contains(x, -0.1).tolist() == [True, False, False, False, False]
    assert square.contains(x, 0.2).all()


def test_a_1d_mesh_has_end_points_with_normals():
    line = MeshRegion(np.array([[0.0], [0.5], [2.0]]), np.array([[0, 1], [1, 2]]), {"inlet": np.array([[0]])})
    assert line.measure == 2.0 and line.boundary.names == ("inlet", "boundary") and line.boundary.measure == 2.0
    ends = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    assert (
        line.boundary["inlet"].normal(ends[:1]).item() == -1.0
        and line.boundary["boundary"].normal(ends[1:]).item() == 1.0
    )
    x, _ = line.from_unit_cube(torch.rand(100, 2, dtype=torch.float64))
    assert torch.all((x >= 0) & (x <= 2))


# -- files -----------------------------------------------------------------------------------------------------------


def same_region(a: MeshRegion, b: MeshRegion) -> None:
    assert np.array_equal(a.points, b.points) and np.array_equal(a.cells, b.cells)
    assert a.measure == b.measure and a.boundary.names == b.boundary.names
    for name in a.boundary.names:
        assert np.array_equal(np.sort(a.facet_groups[name], axis=1), np.sort(b.facet_groups[name], axis=1))
        assert a.boundary[name].measure == pytest.approx(b.boundary[name].measure, rel=1e-15)


def test_a_msh_written_by_gmsh_reads_back_through_meshio_as_the_same_region(channel, tmp_path):
    region, msh = channel
    same_region(region, MeshRegion.from_file(msh))
    l_shape = MeshRegion.from_gmsh(Polygon(L_CORNERS), size=0.3, save=tmp_path / "l.msh")
    same_region(l_shape, MeshRegion.from_file(tmp_path / "l.msh"))
    ball = MeshRegion.from_gmsh(Ball([0, 0, 0], 1.0), size=0.6, save=tmp_path / "ball.msh")
    same_region(ball, MeshRegion.from_file(tmp_path / "ball.msh"))


@pytest.mark.parametrize("suffix", [".vtu", ".xdmf"])
def test_vtu_and_xdmf_keep_the_mesh_and_its_groups_by_tag(channel, tmp_path, suffix):
    region, msh = channel
    mesh = meshio.read(msh)
    meshio.write(
        tmp_path / f"m{suffix}",
        meshio.Mesh(mesh.points, mesh.cells, cell_data={"gmsh:physical": mesh.cell_data["gmsh:physical"]}),
    )
    copy = MeshRegion.from_file(tmp_path / f"m{suffix}")
    assert np.array_equal(copy.points, region.points) and np.array_equal(copy.cells, region.cells)
    assert copy.measure == region.measure
    tags = {name: int(tag) for name, (tag, dim) in mesh.field_data.items() if dim == 1}
    assert copy.boundary.names == tuple(f"physical{tags[n]}" for n in ("inlet", "walls")) + ("physical7", "boundary")
    for name in ("inlet", "walls"):
        assert copy.boundary[f"physical{tags[name]}"].measure == pytest.approx(region.boundary[name].measure, rel=1e-15)


def test_a_closed_stl_surface_is_filled_with_tetrahedra(tmp_path):
    pv.Cube().triangulate().save(tmp_path / "cube.stl")
    cube = MeshRegion.from_stl(tmp_path / "cube.stl", size=0.3)
    assert cube.dim == 3 and cube.measure == pytest.approx(1.0, abs=1e-12)
    assert cube.boundary.names == ("boundary",) and cube.boundary.measure == pytest.approx(6.0, abs=1e-12)
    assert len(cube.cells) > 100  # filled at the size asked, not with the STL's 12 triangles
    sphere = pv.Sphere(radius=0.5, theta_resolution=24, phi_resolution=24)
    sphere.save(tmp_path / "sphere.stl")
    meshed = MeshRegion.from_stl(tmp_path / "sphere.stl", size=0.15)
    # re-meshed at h = 0.15: each chord cuts at most the sagitta h²/(8r) off radius r = 0.5, so |V| ≥ (1 − 3h²/(8r²)) V
    assert 1 - 3 * 0.15**2 / (8 * 0.5**2) <= meshed.measure / sphere.volume <= 1 + 1e-12


def test_an_open_stl_surface_is_refused(tmp_path):
    cube = pv.Cube().triangulate()
    cube.extract_cells(range(1, cube.n_cells)).extract_surface(algorithm=None).save(tmp_path / "open.stl")
    with pytest.raises(ValueError, match="is not a closed surface: 3 of its edges") as error:
        MeshRegion.from_stl(tmp_path / "open.stl", size=0.3)
    one_line(error)


# -- bad input ------------------------------------------------------------------------------------------------------


SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
TWO = np.array([[0, 1, 2], [1, 3, 2]])


@pytest.mark.parametrize(
    "points, cells, groups, message",
    [
        (np.zeros((3, 4)), [[0, 1, 2]], None, r"points of shape \(P, d\) with d = 1, 2 or 3"),
        (SQUARE, [[0, 1]], None, r"integer cells of shape \(C, 3\)"),
        (SQUARE, [[0, 1, 7]], None, "refer to points outside 0 … 3"),
        (SQUARE, [[0.0, 1.0, 2.0]], None, "integer cells"),
        ([[0, 0], [1, 0], [2, 0]], [[0, 1, 2]], None, "1 degenerate cell"),
        (np.vstack([SQUARE, [[0.5, -1.0]]]), [[0, 1, 2], [1, 3, 2], [1, 2, 4]], None, "facet.* more than two cells"),
        (SQUARE, TWO, {"inlet": [[1, 2]]}, "'inlet' has 1 facet.* not on the mesh's boundary"),
        (SQUARE, TWO, {"a": [[0, 1]], "b": [[1, 0]]}, "'a' and 'b' share facets"),
        (SQUARE, TWO, {"a": [0, 1]}, r"'a' needs integer facets of shape \(F, 2\)"),
        (SQUARE, TWO, {"": [[0, 1]]}, "non-empty text"),
    ],
)
def test_bad_meshes_are_one_sentence_errors(points, cells, groups, message):
    with pytest.raises(ValueError, match=message) as error:
        MeshRegion(points, cells, groups)
    one_line(error)


def test_bad_files_regions_and_requests_are_one_sentence_errors(tmp_path):
    square = MeshRegion(SQUARE, TWO)
    (tmp_path / "bad.msh").write_text("not a mesh")
    (tmp_path / "bad.geo").write_text("Point(1) = {0, 0, 0\nBad;\n")
    meshio.write(tmp_path / "quad.vtu", meshio.Mesh(np.c_[SQUARE, np.zeros(4)], [("quad", np.array([[0, 1, 3, 2]]))]))
    pv.Sphere().save(tmp_path / "surface.stl")
    cases = [
        (lambda: square.boundary["inlet"], "unknown boundary part 'inlet'; valid names: boundary"),
        (lambda: square.gauss_points(-1), "a polynomial degree ≥ 0"),
        (lambda: MeshRegion.from_file(tmp_path / "missing.msh"), "does not exist"),
        (lambda: MeshRegion.from_file(tmp_path / "bad.msh"), "meshio cannot read .* as a mesh"),
        (
            lambda: MeshRegion.from_file(tmp_path / "quad.vtu"),
            "cells of type quad; a mesh region needs linear simplices",
        ),
        (lambda: MeshRegion.from_file(tmp_path / "surface.stl"), "do not lie in a flat 2D space"),
        (lambda: MeshRegion.from_gmsh(tmp_path / "bad.geo"), "gmsh could not mesh .*syntax error"),
        (lambda: MeshRegion.from_gmsh(tmp_path / "bad.msh"), "is a mesh or a surface, not a geometry"),
        (lambda: MeshRegion.from_gmsh(Box([0, 0], [1, 1]), size=0), "mesh size must be a positive, finite number"),
        (
            lambda: MeshRegion.from_gmsh(Box([0, 0], [1, 1]).where(lambda x: x[:, 0] < 0.5)),
            "gmsh cannot build a Restricted",
        ),
        (lambda: MeshRegion.from_gmsh(Box([0], [1])), "gmsh meshes regions of 2 or 3 dimensions"),
        (lambda: MeshRegion.from_stl(tmp_path / "bad.msh", 0.1), "from_stl needs an .stl file"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as error:
            call()
        one_line(error)


def test_the_gauss_sampler_uses_the_per_cell_rule_of_a_mesh():
    """``samplers.get("gauss")`` on a meshed L-shape integrates x²y exactly (degree 3 ≤ 2m − 1)."""
    l_shape = Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])
    mesh = MeshRegion.from_gmsh(l_shape, size=0.5)
    q = samplers.get("gauss").draw(mesh, 2000, torch.Generator().manual_seed(0))
    exact = (8 / 3 * 1 / 2 + 1 / 3 * 3 / 2) / 3  # ∫ x²y over [0,2]×[0,1] and [0,1]×[1,2], over the area 3
    assert float(q.mean(q.points[:, 0] ** 2 * q.points[:, 1])) == pytest.approx(exact, rel=1e-12)
    assert len(q) <= 2000
