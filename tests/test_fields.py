"""The Fields view: derivatives by name against central finite differences, and name errors."""

import pytest
import torch

from pdes.geometry import Box, SpaceTime, TimeInterval
from pdes.problem import Fields, UnknownName
from pinn.derivatives import AutogradDerivatives
from pinn.nn import MLP

COORDS = ("x", "y", "t")
FIELDS = ("u", "v")


def model_and_points():
    torch.manual_seed(0)
    bounds = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], dtype=torch.float64)
    model = MLP(bounds, 2, width=16, depth=3, activation="tanh").double()
    points = torch.rand(20, 3, dtype=torch.float64) * torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
    return model, points


def finite_difference(model, points, field, wrt, h):
    """Central differences of order 1 or 2 (mixed too) of output ``field``."""

    def shift(x, i, s):
        x = x.clone()
        x[:, i] += s
        return x

    def value(x):
        return model(x)[:, field].detach()

    if len(wrt) == 1:
        (i,) = wrt
        return (value(shift(points, i, h)) - value(shift(points, i, -h))) / (2 * h)
    i, j = wrt
    if i == j:
        return (value(shift(points, i, h)) - 2 * value(points) + value(shift(points, i, -h))) / h**2
    pp = value(shift(shift(points, i, h), j, h))
    pm = value(shift(shift(points, i, h), j, -h))
    mp = value(shift(shift(points, i, -h), j, h))
    mm = value(shift(shift(points, i, -h), j, -h))
    return (pp - pm - mp + mm) / (4 * h * h)


NAMES = ["u_x", "u_y", "u_t", "v_x", "u_xx", "u_yy", "u_tt", "u_xy", "u_yx", "u_xt", "v_ty", "v_yy"]


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_match_finite_differences(name):
    model, points = model_and_points()
    f = Fields(COORDS, FIELDS, AutogradDerivatives(model, points))
    field, suffix = name.split("_")
    wrt = tuple(COORDS.index(c) for c in suffix)
    h = 1e-5 if len(wrt) == 1 else 1e-4
    expected = finite_difference(model, points, FIELDS.index(field), wrt, h)
    actual = getattr(f, name).detach()
    assert torch.allclose(actual, expected, rtol=1e-5, atol=1e-6 * expected.abs().max())


def test_values_coordinates_and_cache():
    model, points = model_and_points()
    engine = AutogradDerivatives(model, points)
    f = Fields(COORDS, FIELDS, engine)
    assert torch.equal(f.u.detach(), model(points)[:, 0].detach())
    assert torch.equal(f.t.detach(), points[:, 2])
    assert f.u_x is f.u_x  # computed once, then served from the cache
    assert f.u_xy is f.u_yx
    assert f.reads == {"u", "t", "u_x", "u_xy", "u_yx"}


def test_normals_by_coordinate():
    model, _ = model_and_points()
    region = SpaceTime(Box([0, 0], [1, 2]), TimeInterval(0, 1)).boundary
    x, _ = region.from_unit_cube(torch.rand(10, region.cube_dim, dtype=torch.float64))
    f = Fields(COORDS, FIELDS, AutogradDerivatives(model, x), region.normal(x))
    assert torch.equal(f.n_x, region.normal(x)[:, 0])
    assert (f.n_t == 0).all()


@pytest.mark.parametrize("name", ["w", "w_x", "u_z", "u_xxx", "n_x", "u_"])
def test_unknown_names_are_named_in_the_error(name):
    model, points = model_and_points()
    f = Fields(COORDS, FIELDS, AutogradDerivatives(model, points))
    with pytest.raises(UnknownName, match=f"'{name}'"):
        getattr(f, name)


def test_laplacian_is_the_sum_of_pure_second_derivatives_by_finite_differences():
    model, points = model_and_points()
    f = Fields(COORDS, FIELDS, AutogradDerivatives(model, points))
    h = 1e-4
    expected = sum(finite_difference(model, points, 1, (i, i), h) for i in (0, 1))
    torch.testing.assert_close(f.laplacian("v", "yx").detach(), expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(f.laplacian("u", "xyt"), f.u_xx + f.u_yy + f.u_tt)
    assert "v_xx+v_yy" in f.reads and "u_xx+u_yy+u_tt" in f.reads


@pytest.mark.parametrize(
    "field,over,message",
    [("w", "xy", "valid fields are u, v"), ("u", "xz", "among x, y, t"), ("u", "xx", "distinct"), ("u", "", "e.g.")],
)
def test_laplacian_of_unknown_names_says_what_is_valid(field, over, message):
    model, points = model_and_points()
    f = Fields(COORDS, FIELDS, AutogradDerivatives(model, points))
    with pytest.raises(UnknownName, match=message):
        f.laplacian(field, over)
