"""Second-order Taylor arithmetic (pdes.taylor) and the Dirichlet transform's Taylors against autograd."""

import pytest
import torch

import pdes
from pdes.geometry import Box, TimeInterval
from pdes.taylor import Taylor
from pdes.transforms import BoxDirichlet

TOL = dict(rtol=1e-10, atol=1e-12)


def autograd_taylor(function, points):
    """Value ``(m, N)``, gradient ``(d, m, N)``, Hessian ``(d, d, m, N)`` of ``function (N, d) -> (m, N)``."""
    x = points.detach().requires_grad_(True)
    out = function(x)
    gradients, hessians = [], []
    for c in range(out.shape[0]):
        (g,) = torch.autograd.grad(out[c].sum(), x, create_graph=True)
        rows = [torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(x.shape[1])]
        gradients.append(g.T)
        hessians.append(torch.stack([row.T for row in rows]))
    return out.detach(), torch.stack(gradients, dim=1).detach(), torch.stack(hessians, dim=2)


def assert_taylor_matches(taylor, function, points):
    value, gradient, hessian = autograd_taylor(function, points)
    n = points.shape[0]
    torch.testing.assert_close(taylor.value.expand(-1, n), value, **TOL)
    torch.testing.assert_close(taylor.gradient.expand(-1, -1, n), gradient, **TOL)
    torch.testing.assert_close(taylor.hessian.expand(-1, -1, -1, n), hessian, **TOL)


def points(n=20, d=3, seed=0):
    return torch.rand(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_arithmetic_follows_the_sum_and_product_rules():
    p = points()
    x, y, t = (Taylor.coordinate(p, i) for i in range(3))
    f = (1 - x) * y * y / 3 + 2 * x * t - (y - 0.5) * x * t + 4

    def exact(q):
        x, y, t = q.T
        return ((1 - x) * y * y / 3 + 2 * x * t - (y - 0.5) * x * t + 4)[None]

    assert_taylor_matches(f, exact, p)


def test_of_differentiates_a_function_with_several_components():
    p = points(d=2)

    def function(q):
        x, y = q.T
        return torch.stack([torch.exp(x) * torch.sin(3 * y), x * x * y, torch.zeros_like(x) + 2.0])

    assert_taylor_matches(Taylor.of(function, p, 3), function, p)


def test_embedded_puts_derivatives_on_the_given_axes():
    p = points(d=3)

    def of_y_and_t(q):
        return torch.stack([torch.cos(q[:, 0]) * q[:, 1] ** 3])

    embedded = Taylor.of(of_y_and_t, p[:, [1, 2]], 1).embedded([1, 2], 3)
    assert_taylor_matches(embedded, lambda q: of_y_and_t(q[:, [1, 2]]), p)


def kovasznay_transform():
    return pdes.get("kovasznay").transform


def space_time_transform():
    box = Box([0.0, -1.0], [2.0, 1.0])

    def data(x, y, t):
        return torch.exp(-t) * torch.sin(x) * y, x * y + t * t

    def initial(x, y):
        return torch.sin(x) * y + x * x, x * y

    return BoxDirichlet(box, data, fields=(0, 2), time=TimeInterval(0.0, 1.0), initial=initial)


@pytest.mark.parametrize("make", [kovasznay_transform, space_time_transform])
def test_dirichlet_taylors_match_autograd_of_the_transform(make):
    transform = make()
    lower, upper = torch.tensor(transform.box.lower), torch.tensor(transform.box.upper)
    p = points(d=3 if transform.time is not None else 2)
    p[:, :2] = lower + (upper - lower) * p[:, :2]
    offset, scale = transform.affine_taylor(p)
    assert_taylor_matches(offset, lambda q: transform.affine(q)[0], p)
    assert_taylor_matches(scale, lambda q: transform.affine(q)[1], p)
    raw = torch.randn(p.shape[0], 3, dtype=torch.float64)
    expected = raw.clone()
    expected[:, transform.fields] = (offset.value + scale.value * raw[:, transform.fields].T).T
    torch.testing.assert_close(transform(p, raw), expected, **TOL)
