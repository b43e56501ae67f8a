"""Domains given by simplex meshes, read with meshio or made with gmsh (the only package that imports those two).

- ``region``: ``MeshRegion`` (cells, boundary facets grouped by name) and ``MeshBoundaryPart``;
- ``simplices``: ``Simplices``, a union of k-simplices as a Region: the exact uniform map, the
  conical Gauss rule per simplex and point location;
- ``files``: mesh files read by meshio (``MeshRegion.from_file``);
- ``generate``: meshes made by gmsh (``MeshRegion.from_gmsh``, ``MeshRegion.from_stl``).

A mesh region works with every unit-cube rule (``samplers.get("sobol").draw(domain, n, generator)``:
a cell by its measure, a point in it by the exact simplex map). Its deterministic rule is
``domain.gauss_points(degree)``: ``(points, weights)``, exact per cell for polynomials of that
degree, e.g. ``samplers.Quadrature(*domain.gauss_points(4))``; boundary parts have it too.
gmsh and meshio are imported only when a mesh is read or made.
"""

from pdes.meshes.region import MeshBoundaryPart, MeshRegion
from pdes.meshes.simplices import Simplices

__all__ = ["MeshBoundaryPart", "MeshRegion", "Simplices"]
