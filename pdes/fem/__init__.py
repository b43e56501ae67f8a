"""Reference solvers by the finite element method, on scikit-fem (the only package that imports it).

Modules (import them explicitly; importing ``pdes.fem`` alone loads nothing heavy):

- ``mesh``: triangle meshes with named boundaries: rectangles, an L-shape, and any 2D
  ``pdes.meshes.MeshRegion`` (``from_mesh_region``: gmsh meshes of Regions keep their part names);
- ``linalg``: sparse direct solves with a nested-dissection ordering;
- ``solution``: ``FEMSolution``, nodal values on a mesh (with its named boundary parts), evaluated
  anywhere by probes;
- ``heat``: ``u_t = ∇·(κ∇u) + s`` (``solve``, BDF2) and ``−∇·(κ∇u) = s`` (``solve_steady``) with P1/P2
  elements and a Dirichlet, Neumann or Robin condition per named part;
- ``navier_stokes``: Taylor–Hood steady (Newton, Re continuation) and unsteady (BDF2) solvers, with a
  velocity or an outflow (do-nothing, pressure p0) condition per named part and a body force
  (``solve_steady``, ``solve_unsteady``), and the cases cavity, Kovasznay, Taylor–Green;
- ``quantities``: the force of a flow on a body (``force_on``, weak form) and heat fluxes through parts
  (``heat_flux``);
- ``references``: ready-made cached references (cavity, Kovasznay, Taylor–Green).

The closed forms that PINN problems and these solvers share (lid profiles, Kovasznay and
Taylor–Green flows), written once for numpy arrays and torch tensors alike, are
``pdes.closed_forms``; the reference cache is ``pdes.reference_cache``.
"""
