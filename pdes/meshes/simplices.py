"""Unions of k-simplices in R^d (the cells of a mesh, or the facets of its boundary) as regions.

A k-simplex with vertices ``v_0 … v_k`` is ``{Σ λ_i v_i : λ_i ≥ 0, Σ λ_i = 1}``; its measure is
``sqrt(det(EᵀE)) / k!`` with ``E = [v_1 − v_0, …, v_k − v_0]`` (a 0-simplex, a point, measures 1).

**Uniform map** (conical, sorting-free). Radii ``s_j = u_j^(1/(k−j))``, ``j = 0 … k−1``, give

    λ = (1 − s_0,  s_0 (1 − s_1),  s_0 s_1 (1 − s_2),  …,  s_0 s_1 ⋯ s_(k−1)):

the point ``(1 − s_0) v_0 + s_0 y`` with ``y`` on the facet opposite ``v_0`` (itself placed by
``s_1 …``). The slice at ``s_0`` is that facet scaled by ``s_0``, of measure ∝ ``s_0^(k−1)``, so
``s_0`` has the CDF ``s_0^k`` and ``s_0 = u_0^(1/k)`` is its inverse; by induction the map takes
the uniform measure of ``[0, 1]^k`` to the uniform measure of the simplex (its Jacobian
determinant is the constant ``k! |T|``; ``tests/test_mesh_region.py`` checks it). For a
triangle it is the square-root map ``(1 − √u_0, √u_0 (1 − u_1), √u_0 u_1)``.

**Gauss per simplex** (conical product rule, Stroud): the same map with the radii at the nodes
of the ``n``-point Gauss–Jacobi rule for the weight ``s^(k−j−1)`` on ``[0, 1]``. A polynomial of
degree ``p`` in x is, times the Jacobian, a polynomial of degree ``≤ p`` in each radius, so
``n = ⌈(p + 1)/2⌉`` points per radius (``n^k`` per simplex, all weights positive) integrate it
exactly.
"""

from __future__ import annotations

import math
from functools import cached_property
from itertools import chain

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import roots_jacobi

from pdes.geometry import Region

Tensor = torch.Tensor

CHUNK = 8192
"""Points located per batch of candidate tests."""

DEGENERATE = 1e-12
"""A simplex whose measure is below this fraction of ``diameter^k`` is refused as degenerate."""

NEAREST = 8
"""Simplices of the nearest centroids tried first when locating a point."""


def simplex_measures(vertices: np.ndarray) -> np.ndarray:
    """Measures ``sqrt(det(EᵀE)) / k!`` of simplices ``vertices (S, k+1, d)`` (a point: 1)."""
    edges = vertices[:, 1:] - vertices[:, :1]  # (S, k, d)
    k = edges.shape[1]
    gram = np.einsum("sid,sjd->sij", edges, edges)
    return np.sqrt(np.clip(np.linalg.det(gram), 0.0, None)) / math.factorial(k)


def check_nondegenerate(measures: np.ndarray, vertices: np.ndarray) -> None:
    """Refuse simplices of measure below ``DEGENERATE · diameter^k`` (repeated or aligned vertices)."""
    corners = vertices.reshape(-1, vertices.shape[2])
    scale = float(np.linalg.norm(corners.max(axis=0) - corners.min(axis=0))) ** (vertices.shape[1] - 1)
    flat = int((measures <= DEGENERATE * scale).sum())
    if flat:
        raise ValueError(f"the mesh has {flat} degenerate cell(s) of zero measure (repeated or aligned vertices)")


def radii_from_unit_cube(u: Tensor) -> Tensor:
    """The conical radii ``s_j = u_j^(1/(k−j))`` of ``u (N, k)`` (module docstring)."""
    k = u.shape[1]
    powers = 1.0 / torch.arange(k, 0, -1, dtype=u.dtype, device=u.device)
    return u**powers


def barycentric_from_radii(s: Tensor) -> Tensor:
    """Barycentric coordinates ``(N, k+1)`` of the conical radii ``s (N, k)``:
    ``λ_0 = 1 − s_0``, ``λ_j = s_0 ⋯ s_(j−1) (1 − s_j)``, ``λ_k = s_0 ⋯ s_(k−1)``."""
    ones = torch.ones(s.shape[0], 1, dtype=s.dtype, device=s.device)
    prefix = torch.cat([ones, torch.cumprod(s, dim=1)], dim=1)  # s_0 ⋯ s_(j−1), j = 0 … k
    return prefix * torch.cat([1 - s, ones], dim=1)


def conical_gauss_radii(k: int, degree: int) -> tuple[Tensor, Tensor]:
    """Radii ``(n^k, k)`` and weights summing to 1 of the conical Gauss rule exact to ``degree`` (module docstring)."""
    n = max(1, math.ceil((degree + 1) / 2))
    nodes, weights = [], []
    for j in range(k):
        x, w = roots_jacobi(n, 0.0, float(k - j - 1))  # weight (1 + x)^(k−j−1) on [−1, 1]
        nodes.append(torch.from_numpy((1 + x) / 2))
        weights.append(torch.from_numpy(w / w.sum()))
    if k == 0:
        return torch.empty(1, 0, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    radii = torch.cartesian_prod(*nodes).reshape(-1, k)
    return radii, torch.cartesian_prod(*weights).reshape(-1, k).prod(dim=1)


class Simplices(Region):
    """The union of the k-simplices ``points[simplices]`` in R^d, sampled exactly.

    ``from_unit_cube(u)``, ``u (N, 1 + k)``: ``u_0`` picks a simplex by the inverse CDF of the
    cumulative measures (so stratified and QMC rules stratify over the simplices), ``u_1 …``
    place the point in it by the uniform map (module docstring); every weight is 1.
    ``contains(x, tol)``: ``x`` within ``tol`` of a simplex (each face moved out by ``tol``).
    """

    def __init__(self, points: np.ndarray, simplices: np.ndarray):
        self.points = np.asarray(points, dtype=np.float64)
        self.simplices = np.asarray(simplices, dtype=np.int64)
        self.vertices = self.points[self.simplices]  # (S, k+1, d)
        self.dim = self.points.shape[1]
        self.simplex_dim = self.simplices.shape[1] - 1
        self.cube_dim = 1 + self.simplex_dim
        self.measures = simplex_measures(self.vertices)
        check_nondegenerate(self.measures, self.vertices)
        self.measure = float(self.measures.sum())
        cumulative = np.concatenate([[0.0], np.cumsum(self.measures) / self.measure])
        cumulative[-1] = 1.0
        self._cumulative = torch.from_numpy(cumulative)
        self._vertex_tensor = torch.from_numpy(self.vertices)

    @property
    def bounds(self) -> Tensor:
        corners = self.vertices.reshape(-1, self.dim)
        return torch.from_numpy(np.stack([corners.min(axis=0), corners.max(axis=0)]))

    def simplex_index(self, u0: Tensor) -> Tensor:
        """The simplex that unit-cube coordinate ``u0`` picks: ``i`` with ``F_i ≤ u0 < F_(i+1)``, ``F`` the
        cumulative measure fractions."""
        inner = self._cumulative.to(u0)[1:-1].contiguous()
        return torch.bucketize(u0.contiguous(), inner, right=True)

    def place(self, index: Tensor, barycentric: Tensor) -> Tensor:
        """The points ``Σ_i λ_i v_i`` of simplices ``index (N,)`` at barycentric coordinates ``(N, k+1)``."""
        vertices = self._vertex_tensor.to(barycentric)[index]
        return torch.einsum("nk,nkd->nd", barycentric, vertices)

    def from_unit_cube(self, u: Tensor) -> tuple[Tensor, Tensor]:
        self._check_cube(u)
        index = self.simplex_index(u[:, 0])
        x = self.place(index, barycentric_from_radii(radii_from_unit_cube(u[:, 1:])))
        return x, torch.ones(u.shape[0], dtype=u.dtype, device=u.device)

    def gauss_points(self, degree: int) -> tuple[Tensor, Tensor]:
        """Points ``(S·n^k, d)`` and weights summing to 1 of the conical Gauss rule on every simplex
        (module docstring): ``Σ w_i f(x_i)`` is the exact mean over the region of every polynomial
        ``f`` of degree ``≤ degree``. Deterministic; ``samplers.Quadrature(*region.gauss_points(p))``."""
        if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
            raise ValueError(f"gauss_points needs a polynomial degree ≥ 0, got {degree!r}")
        radii, weights = conical_gauss_radii(self.simplex_dim, degree)
        barycentric = barycentric_from_radii(radii)
        count, per_simplex = len(self.simplices), len(weights)
        index = torch.arange(count).repeat_interleave(per_simplex)
        x = self.place(index, barycentric.repeat(count, 1))
        fractions = torch.from_numpy(self.measures / self.measure)
        return x, (fractions[:, None] * weights[None, :]).reshape(-1)

    # -- locating points ----------------------------------------------------------------------------------------

    @cached_property
    def _affine(self) -> tuple[np.ndarray, np.ndarray]:
        """Per simplex: origin ``v_0 (S, d)`` and the pseudo-inverse ``E⁺ (S, k, d)`` of its edges
        ``E = [v_1 − v_0, …]``, so that ``λ_(1…k) = E⁺ (x − v_0)`` on the simplex's affine hull."""
        edges = np.transpose(self.vertices[:, 1:] - self.vertices[:, :1], (0, 2, 1))
        return self.vertices[:, 0], np.linalg.pinv(edges)

    @cached_property
    def barycentric_gradients(self) -> np.ndarray:
        """``∇λ_i`` in each simplex's affine hull, ``(S, k+1, d)``: the rows of ``E⁺``, and ``−Σ`` of them for λ_0."""
        inverse = self._affine[1]
        return np.concatenate([-inverse.sum(axis=1, keepdims=True), inverse], axis=1)

    def barycentric(self, x: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Barycentric coordinates ``(N, k+1)`` of each point ``x[i]``'s projection onto simplex ``index[i]``'s hull."""
        origin, inverse = self._affine
        local = np.einsum("nkd,nd->nk", inverse[index], x - origin[index])
        return np.concatenate([1 - local.sum(axis=1, keepdims=True), local], axis=1)

    @cached_property
    def _tree(self) -> tuple[cKDTree, float]:
        """A k-d tree of the simplex centroids and the reach: the largest centroid-to-vertex distance."""
        centroids = self.vertices.mean(axis=1)
        reach = float(np.linalg.norm(self.vertices - centroids[:, None], axis=2).max())
        return cKDTree(centroids), reach

    @cached_property
    def _face_gradient_norms(self) -> np.ndarray:
        """``|∇λ_j|`` per simplex and vertex ``(S, k+1)``: the inverse heights."""
        return np.linalg.norm(self.barycentric_gradients, axis=2)

    def gaps(self, x: np.ndarray, index: np.ndarray) -> np.ndarray:
        """How far each point ``x[i]`` lies outside simplex ``index[i]``: the largest of its distances
        past the face planes (``−λ_j / |∇λ_j|``) and its distance off the affine hull; 0 inside."""
        barycentric = self.barycentric(x, index)
        gap = np.zeros(len(x))
        if self.simplex_dim < self.dim:  # the distance to the projection Σ λ_j v_j
            gap = np.linalg.norm(x - np.einsum("nk,nkd->nd", barycentric, self.vertices[index]), axis=1)
        if self.simplex_dim == 0:
            return gap
        past_faces = (-barycentric / self._face_gradient_norms[index]).max(axis=1)
        return np.maximum(np.maximum(past_faces, gap), 0.0)

    def locate(self, x: np.ndarray, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
        """For each point of ``x (N, d)``: a simplex within ``tol`` of it (``gaps``) if there is one, else the
        one of smallest gap among those whose centroid is within reach; and that gap (``-1``, ``inf``: none).

        The simplices of the ``NEAREST`` nearest centroids are tried first; the points they leave
        outside, against every simplex within reach (a point within ``tol`` of a simplex lies within
        reach + ``tol`` of its centroid).
        """
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.dim)
        index = np.full(len(x), -1, dtype=np.int64)
        gap = np.full(len(x), np.inf)
        tree, reach = self._tree
        for start in range(0, len(x), CHUNK):
            rows = np.arange(start, min(start + CHUNK, len(x)))
            nearest = tree.query(x[rows], min(NEAREST, len(self.simplices)))[1].reshape(len(rows), -1)
            owners = np.repeat(rows, nearest.shape[1])
            self._keep_nearest(x, owners, nearest.reshape(-1), index, gap)
            rows = rows[gap[rows] > tol]
            lists = tree.query_ball_point(x[rows], reach + tol)
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            candidates = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
            self._keep_nearest(x, np.repeat(rows, counts), candidates, index, gap)
        return index, gap

    def _keep_nearest(
        self, x: np.ndarray, owners: np.ndarray, candidates: np.ndarray, index: np.ndarray, gap: np.ndarray
    ) -> None:
        """Set ``index[p]``, ``gap[p]`` to each point's candidate of smallest gap where it beats the one kept."""
        if not len(owners):
            return
        gaps = self.gaps(x[owners], candidates)
        order = np.lexsort((gaps, owners))  # by point, nearest first
        first = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
        better = gaps[first] < gap[owners[first]]
        index[owners[first][better]] = candidates[first][better]
        gap[owners[first][better]] = gaps[first][better]

    def contains(self, x: Tensor, tol: float = 1e-9) -> Tensor:
        _, gap = self.locate(x.detach().to("cpu", torch.float64).numpy(), tol)
        return torch.from_numpy(gap <= tol).to(x.device)
