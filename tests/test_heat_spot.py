"""heat_spot: Ein against quadrature, the closed form solves the problem, the transform holds u = 0 on the circle."""

import numpy as np
import pytest
import torch
from scipy.integrate import quad

import pdes
from pdes.heat_spot import DiskZeroDirichlet, ein, spot_solution


@pytest.mark.parametrize("z", [0.0, 1e-7, 0.3, 0.999, 1.0, 4.0, 1250.0])
def test_ein_is_its_integral(z):
    integral = quad(lambda t: -np.expm1(-t) / t if t > 0 else 1.0, 0.0, z, limit=400)[0]
    assert float(ein(np.array(z))) == pytest.approx(integral, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("width", [0.02, 0.1])
def test_the_closed_form_solves_the_equation_and_vanishes_on_the_circle(width):
    """−Δu = s by central differences at points in the core, at its edge and in the tail; u = 0 at r = 1."""
    problem = pdes.get("heat_spot", width=width)
    solution = spot_solution(width)
    h = width * 1e-3
    for x, y in [(0.1 * width, 0.05 * width), (width, 0.5 * width), (0.3, 0.2)]:
        xs = torch.tensor([x, x + h, x - h, x, x], dtype=torch.float64)
        ys = torch.tensor([y, y, y, y + h, y - h], dtype=torch.float64)
        u = solution(xs, ys)["u"]
        laplacian = float(u[1:].sum() - 4 * u[0]) / h**2
        source = 2 / width**2 * np.exp(-(x * x + y * y) / (2 * width**2))
        assert -laplacian == pytest.approx(source, rel=1e-4, abs=1e-6 / width**2)
    angle = torch.linspace(0, 2 * torch.pi, 7, dtype=torch.float64)
    assert solution(torch.cos(angle), torch.sin(angle))["u"].abs().max() < 1e-12
    assert problem.reference.evaluate(torch.zeros(1, 2, dtype=torch.float64))["u"][0] == pytest.approx(
        float(ein(np.array(1 / (2 * width**2))))
    )


def test_the_transform_is_zero_on_the_circle_and_one_at_the_centre():
    angle = torch.linspace(0, 2 * torch.pi, 9, dtype=torch.float64)
    points = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    raw = torch.randn(9, 1, dtype=torch.float64)
    assert DiskZeroDirichlet()(points, raw).abs().max() < 1e-12
    assert DiskZeroDirichlet()(torch.zeros(1, 2, dtype=torch.float64), raw[:1]) == raw[:1]


@pytest.mark.parametrize("width,message", [(0.0, "width"), (0.3, "width must be at most 0.25")])
def test_bad_widths_are_refused(width, message):
    with pytest.raises(ValueError, match=message):
        pdes.get("heat_spot", width=width)
