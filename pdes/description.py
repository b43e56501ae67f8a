"""What the physics-level builders (``pdes.heat``, ``pdes.navier_stokes``) share.

A description is a space domain, an optional time interval, data (``pdes.given``) and conditions
on named boundary parts (``pdes.conditions``). This module turns the first two into the
problem's domain and coordinates, draws the fixed points data are checked and fingerprinted
on, and says whether the finite element reference can take the domain.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from pdes.geometry import Region, SpaceTime, TimeInterval
from pdes.given import Given
from pdes.reference import described

Tensor = torch.Tensor

PROBE_POINTS = 256
"""Points of each region at which data are checked and fingerprinted (scrambled Sobol', seed 0)."""

SPACE_COORDINATES = ("x", "y", "z")


@dataclass(frozen=True)
class Setting:
    """The domain of a description: ``space``, ``time`` (a TimeInterval or None), ``domain`` (space or
    space-time), ``coordinates`` and ``boundary`` (the lateral boundary in space-time)."""

    equation: str
    space: Region
    time: TimeInterval | None
    domain: Region
    coordinates: tuple[str, ...]

    @property
    def dim(self) -> int:
        return self.space.dim

    @property
    def space_coordinates(self) -> tuple[str, ...]:
        return self.coordinates[: self.dim]

    @property
    def boundary(self):
        return self.domain.boundary

    def given(self, name: str, value: object, components: int = 1, time: bool = True) -> Given:
        """The datum ``name`` of this description; ``time=False`` for data that may not depend on t."""
        return Given(name, value, self.dim, time and self.time is not None, components)


def setting(equation: str, domain: object, time: object) -> Setting:
    """The Setting of ``domain`` (a space Region of 1 to 3 dimensions) and ``time`` (None or ``(t0, T)``)."""
    if not isinstance(domain, Region):
        raise TypeError(
            f"{equation}: domain must be a pdes.geometry Region such as Rectangle(...), got {described(domain)}"
        )
    if isinstance(domain, SpaceTime):
        raise ValueError(f"{equation}: give the space domain and time=(t0, T), not a SpaceTime")
    if not 1 <= domain.dim <= 3:
        raise ValueError(f"{equation}: the domain must have 1 to 3 dimensions, got {domain.dim}")
    coordinates = SPACE_COORDINATES[: domain.dim]
    if time is None:
        return Setting(equation, domain, None, domain, coordinates)
    if not isinstance(time, tuple | list) or len(time) != 2 or not all(_finite(t) for t in time) or time[0] >= time[1]:
        raise ValueError(f"{equation}: time must be None (steady) or (t0, T) with finite t0 < T, got {time!r}")
    interval = TimeInterval(float(time[0]), float(time[1]))
    return Setting(equation, domain, interval, SpaceTime(domain, interval), (*coordinates, "t"))


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def sobol_points(region: Region, n: int) -> tuple[Tensor, Tensor]:
    """``n`` fixed float64 points of ``region`` and their weights (scrambled Sobol', seed 0): the same points in
    every run, for checks, fingerprints and quantities. A region of ``cube_dim`` 0 (a point) gives its one point."""
    if region.cube_dim == 0:
        return region.from_unit_cube(torch.empty(1, 0, dtype=torch.float64))
    engine = torch.quasirandom.SobolEngine(region.cube_dim, scramble=True, seed=0)
    return region.from_unit_cube(engine.draw(n, dtype=torch.float64))


def probe_points(region: Region, n: int = PROBE_POINTS) -> Tensor:
    """``n`` fixed points of ``region`` (``sobol_points``; rejected ones left out)."""
    x, w = sobol_points(region, n)
    return x[w > 0]


def checked(datum: Given, region: Region, sign: str | None = None) -> str:
    """Check ``datum`` on ``region``'s probe points (``Given.check``; ``sign`` "positive" or "non-negative") and
    return its fingerprint there."""
    points = probe_points(region)
    datum.check(points, sign)
    return datum.fingerprint(points)


def initial_datum(where: Setting, initial: object, components: int = 1) -> Given | None:
    """The initial data of a description with time (required there, refused in a steady one); they may not
    depend on t."""
    example = "u0" if components == 1 else "(u0, v0)"
    if where.time is None:
        if initial is not None:
            raise ValueError(f"{where.equation}: a steady problem (time=None) takes no initial data; give time=(t0, T)")
        return None
    if initial is None:
        raise ValueError(
            f"{where.equation}: a problem with time needs initial={example}, numbers or a function of the space "
            "coordinates"
        )
    return where.given("initial", initial, components=components, time=False)


def fingerprint(description: dict) -> str:
    """24 hex digits of the SHA-256 of a JSON-able ``description`` (with the data's fingerprints)."""
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:24]


def fem_unsupported(space: Region) -> str | None:
    """Why the FEM reference cannot take the space domain ``space``, or None: it solves 2D domains meshed by
    gmsh (boxes, balls, polygons and their CSG) or given as a triangle MeshRegion."""
    from pdes.meshes import MeshRegion

    if space.dim != 2:
        return f"the finite element reference solves 2D domains; this one is {space.dim}D"
    if isinstance(space, MeshRegion):
        return None
    from pdes.meshes.generate import gmsh_session, occ_shapes

    try:
        with gmsh_session(f"a {type(space).__name__}") as gmsh:
            occ_shapes(gmsh, space)
    except ValueError as error:
        return f"gmsh cannot mesh the domain for the finite element reference ({error})"
    return None


def check_mesh_settings(where: Setting, resolution: object, refine: object, time_steps: object) -> None:
    """Refuse, in one line, reference mesh settings that cannot be used: a resolution that is no integer ≥ 2,
    ``refine`` that is not ``{part: positive size}`` of the domain's parts (or given for a mesh domain, which is
    used as it is), time steps that are no positive integer."""
    from pdes.mesh_reference import check_resolution
    from pdes.meshes import MeshRegion

    check_resolution(resolution)
    if refine is not None:
        if isinstance(where.space, MeshRegion):
            raise ValueError(f"{where.equation}: refine applies to a domain gmsh meshes; a MeshRegion is used as it is")
        if not isinstance(refine, Mapping):
            raise ValueError(f"{where.equation}: refine must be a dict {{part: cell size}}, got {described(refine)}")
        for part, size in refine.items():
            if part not in where.space.boundary.names:
                valid = ", ".join(where.space.boundary.names)
                raise ValueError(f"{where.equation}: refine names the part {part!r}; the domain's parts: {valid}")
            if not _finite(size) or size <= 0:
                raise ValueError(f"{where.equation}: refine['{part}'] must be a positive cell size, got {size!r}")
    if isinstance(time_steps, bool) or not isinstance(time_steps, numbers.Integral) or time_steps < 1:
        raise ValueError(f"{where.equation}: time_steps must be a positive integer, got {time_steps!r}")


def check_term_names(equation: str, keys: list[str], taken: tuple[str, ...], suffixes: tuple[str, ...]) -> None:
    """Refuse condition keys whose terms (``key`` + each of ``suffixes``) would take the name of one of the
    equation's own terms (``taken``)."""
    for key in keys:
        clash = next((key + s for s in suffixes if key + s in taken), None)
        if clash is not None:
            raise ValueError(
                f"{equation}: the condition on '{key}' would make the term '{clash}', which is a term of the equation "
                "itself; rename that boundary part"
            )
