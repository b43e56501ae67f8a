"""Tensor Gauss–Legendre quadrature (deterministic) on boxes, their faces and products of those."""

from __future__ import annotations

import math

import numpy as np
import torch

from samplers.quadrature import Quadrature, Rule, check_count

Tensor = torch.Tensor


def legendre_grid(m: int, dim: int) -> tuple[Tensor, Tensor]:
    """The ``m^dim`` tensor Gauss–Legendre nodes on ``[0, 1]^dim`` and weights summing to 1.

    Exact for every polynomial of degree at most ``2m − 1`` in each coordinate.
    """
    nodes, weights = np.polynomial.legendre.leggauss(m)
    u1 = torch.from_numpy((nodes + 1) / 2)
    w1 = torch.from_numpy(weights / 2)
    if dim == 0:
        return torch.empty(1, 0, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    u = torch.cartesian_prod(*[u1] * dim).reshape(-1, dim)
    w = torch.cartesian_prod(*[w1] * dim).reshape(-1, dim).prod(dim=1)
    return u, w


def _pieces(region) -> list | None:
    return getattr(region, "pieces", None)


def _factors(region) -> tuple | None:
    first, second = getattr(region, "first", None), getattr(region, "second", None)
    return None if first is None or second is None else (first, second)


def point_count(region, m: int) -> int:
    """Number of points of the rule with ``m`` nodes per axis on ``region``."""
    if hasattr(region, "gauss_points"):
        return len(region.gauss_points(2 * m - 1)[1])
    if (pieces := _pieces(region)) is not None:
        return sum(point_count(p, m) for p in pieces)
    if (factors := _factors(region)) is not None:
        return point_count(factors[0], m) * point_count(factors[1], m)
    return m**region.cube_dim


def gauss_rule(region, m: int) -> tuple[Tensor, Tensor]:
    """Points and weights (summing to 1) with ``m`` Gauss–Legendre nodes per axis.

    A union is integrated piece by piece (weights by the pieces' measures), a product
    ``A × B`` as the tensor product of the rules of A and B, and any other region
    through its unit-cube map, which must be affine and measure-preserving. A mesh
    (``pdes.meshes.MeshRegion`` and its boundary parts) gives its own per-cell rule of degree
    ``2m − 1`` (``gauss_points``).
    """
    if hasattr(region, "gauss_points"):
        return region.gauss_points(2 * m - 1)
    if (pieces := _pieces(region)) is not None:
        rules = [gauss_rule(p, m) for p in pieces]
        x = torch.cat([x for x, _ in rules])
        w = torch.cat([w * (p.measure / region.measure) for p, (_, w) in zip(pieces, rules)])
        return x, w
    if (factors := _factors(region)) is not None:
        (xa, wa), (xb, wb) = gauss_rule(factors[0], m), gauss_rule(factors[1], m)
        x = torch.cat([xa.repeat_interleave(len(xb), dim=0), xb.repeat(len(xa), 1)], dim=1)
        return x, torch.outer(wa, wb).reshape(-1)
    check_affine(region)
    u, w = legendre_grid(m, region.cube_dim)
    x, _ = region.from_unit_cube(u)
    return x, w


def check_affine(region) -> None:
    """Raise unless ``region``'s unit-cube map is ``x = x0 + J u`` with unit weight and image of measure ``|region|``.

    That rules out curved maps (balls, spheres) and rejection (differences), where a
    tensor Gauss rule would not integrate the region mean.
    """
    k = region.cube_dim
    if k == 0:
        return
    corners = torch.cat([torch.zeros(1, k, dtype=torch.float64), torch.eye(k, dtype=torch.float64)])
    probes, _ = legendre_grid(3, k)
    x, w = region.from_unit_cube(torch.cat([corners, probes]))
    origin, jacobian = x[0], (x[1 : k + 1] - x[0]).T
    affine = origin + probes @ jacobian.T
    scale = max(1.0, float(x.abs().max()))
    volume = math.sqrt(max(float(torch.linalg.det(jacobian.T @ jacobian)), 0.0))
    if (
        not torch.allclose(x[k + 1 :], affine, rtol=0, atol=1e-12 * scale)
        or not torch.all(w == 1)
        or not math.isclose(volume, region.measure, rel_tol=1e-9)
    ):
        raise ValueError(
            f"gauss works on boxes, box faces, points and products of those; {type(region).__name__} "
            "has a curved map or rejection weights, so use another sampler"
        )


class Gauss(Rule):
    """Deterministic tensor Gauss–Legendre: the largest rule with at most ``n`` points.

    ``m`` nodes per axis, ``m`` as large as the region's point count allows (a box in
    ``d`` dimensions gets ``m^d ≤ n`` points; a boundary ``m^(d-1)`` per face). Exact for
    polynomials of degree ``≤ 2m − 1`` in each coordinate. The same points every step.
    """

    name = "gauss"
    randomized = False

    def draw(self, region, n: int, generator: torch.Generator) -> Quadrature:
        check_count(n)
        if point_count(region, 1) > n:
            raise ValueError(f"gauss needs at least {point_count(region, 1)} points on this region, got n={n}")
        m = 1
        while point_count(region, m) < point_count(region, m + 1) <= n:
            m += 1
        return Quadrature(*gauss_rule(region, m))
