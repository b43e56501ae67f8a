"""The finite element reference of a problem description, on a gmsh mesh of its own domain.

``MeshFEMReference`` meshes the description's 2D space domain (``pdes.meshes.MeshRegion.from_gmsh``,
cells of about ``diagonal / resolution`` with the ``refine`` sizes near named boundary parts; a
domain that is already a MeshRegion is used as it is), converts it to scikit-fem
(``pdes.fem.mesh.from_mesh_region``) and calls the description's ``solve(mesh)``. The solution is
cached like every FEM reference (``pdes.reference.CachedFEMReference``), keyed by the
description's fingerprint (its data evaluated at fixed points, its conditions and settings), the
mesh's arrays, and the code of ``pdes.fem`` and of the builder that wrote ``solve``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property

import numpy as np

from pdes.geometry import Region
from pdes.reference import CachedFEMReference, ReferenceFailed
from pdes.reference_cache import cache_key, package_version, plain

DEFAULT_RESOLUTION = 40
"""Cells across the bounding-box diagonal of the domain in a reference mesh without a resolution given."""


class MeshFEMReference(CachedFEMReference):
    """The FEM reference of a description (module docstring).

    ``solve(mesh) -> FEMSolution`` with ``fields``; ``builder`` is the module that wrote it (its source
    is part of the key); ``fingerprint`` identifies the description (its data evaluated at fixed points);
    ``settings`` (JSON: element, time steps …) and ``description`` (JSON: the equation, its coefficients,
    the kind of each condition) are recorded in the report.
    """

    def __init__(
        self,
        problem: str,
        space: Region,
        coordinates: Sequence[str],
        fields: Sequence[str],
        solve: Callable[..., object],
        builder: str,
        fingerprint: str,
        settings: Mapping[str, object],
        resolution: int = DEFAULT_RESOLUTION,
        refine: Mapping[str, float] | None = None,
        up_to_constant: Sequence[str] = (),
        description: Mapping[str, object] | None = None,
    ):
        check_resolution(resolution)
        self.problem, self.space = problem, space
        self.coordinates, self.fields = tuple(coordinates), tuple(fields)
        self.solve, self.builder, self.fingerprint = solve, builder, fingerprint
        self.settings = plain(dict(settings))
        self.resolution = int(resolution)
        self.refine = dict(refine or {})
        self.up_to_constant = tuple(up_to_constant)
        self.description = plain(dict(description or {}))

    def with_resolution(self, resolution: int) -> MeshFEMReference:
        """The same reference on a mesh of another resolution."""
        return MeshFEMReference(
            self.problem, self.space, self.coordinates, self.fields, self.solve, self.builder, self.fingerprint,
            self.settings, resolution, self.refine, self.up_to_constant, self.description,
        )  # fmt: skip

    @property
    def size(self) -> float:
        """The largest cell size asked of gmsh: the bounding-box diagonal over ``resolution``."""
        low, high = self.space.bounds.numpy()
        return float(np.linalg.norm(high - low)) / self.resolution

    @cached_property
    def mesh(self):
        """The scikit-fem mesh, its boundaries named by the domain's parts; ReferenceFailed if gmsh cannot make it."""
        from pdes.fem.mesh import from_mesh_region
        from pdes.meshes import MeshRegion

        region = self.space
        try:
            if not isinstance(region, MeshRegion):
                region = MeshRegion.from_gmsh(region, size=self.size, refine=self.refine or None)
            return from_mesh_region(region)
        except ValueError as error:
            raise ReferenceFailed(f"the reference mesh of {self.problem} could not be made ({error})") from None

    @cached_property
    def key(self) -> str:
        identity = {
            "problem": self.problem,
            "fingerprint": self.fingerprint,
            "settings": plain(self.settings, numbers_as_floats=True),
            "mesh": mesh_digest(self.mesh),
        }
        return cache_key(identity, self.builder)

    def compute(self):
        """The FEM solution on ``mesh``; ReferenceFailed, in one line, where the solver fails (a Newton iteration
        that does not converge, a mesh part without a condition …)."""
        try:
            return self.solve(self.mesh)
        except (ValueError, RuntimeError, ArithmeticError) as error:
            raise ReferenceFailed(
                f"the finite element reference of {self.problem} failed ({type(error).__name__}: {error})"
            ) from None

    def cache_attributes(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "settings": json.dumps(self.settings),
            "mesh": json.dumps(self.mesh_info()),
        }

    def mesh_info(self) -> dict[str, object]:
        """What report.json says about the mesh: cells, vertices, sizes asked and got, named parts, generator."""
        mesh = self.mesh
        areas = _cell_areas(mesh.p, mesh.t)
        return {
            "generator": "given" if self._given_mesh else f"gmsh {package_version('gmsh')}",
            "resolution": None if self._given_mesh else self.resolution,
            "size": None if self._given_mesh else self.size,
            "refine": self.refine,
            "cells": int(mesh.t.shape[1]),
            "vertices": int(mesh.p.shape[1]),
            "h_max": float(math.sqrt(2 * areas.max())),
            "h_min": float(math.sqrt(2 * areas.min())),
            "parts": sorted(mesh.boundaries),
        }

    @property
    def _given_mesh(self) -> bool:
        from pdes.meshes import MeshRegion

        return isinstance(self.space, MeshRegion)

    def metadata(self) -> dict:
        return {
            **super().metadata(),
            "builder": self.builder,
            "description": self.description,
            "fingerprint": self.fingerprint,
            "resolution": None if self._given_mesh else self.resolution,
            "settings": self.settings,
            "mesh": self.mesh_info(),
        }


def check_resolution(resolution: object) -> None:
    """Refuse a mesh resolution that is not a positive integer (cells across the domain's diagonal)."""
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer) or resolution < 2:
        raise ValueError(
            f"resolution must be an integer of at least 2 (cells across the domain's diagonal), got {resolution!r}"
        )


def mesh_digest(mesh) -> str:
    """SHA-256 of a scikit-fem mesh's points, cells and named boundary facets."""
    digest = hashlib.sha256()
    for array in (mesh.p, mesh.t):
        digest.update(np.ascontiguousarray(array).tobytes())
    for name in sorted(mesh.boundaries or {}):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(mesh.boundaries[name]).tobytes())
    return digest.hexdigest()


def _cell_areas(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    a, b, c = (points[:, cells[k]] for k in range(3))
    return 0.5 * np.abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
