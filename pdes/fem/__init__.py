"""Reference solvers by the finite element method, on scikit-fem (the only package that imports it).

Modules (import them explicitly; importing ``pdes.fem`` alone loads nothing heavy):

- ``closed_forms``: functions written once for numpy arrays and torch tensors alike (lid
  profiles, Kovasznay and Taylor–Green flows), shared by PINN problems and FEM solvers;
- ``mesh``: triangle meshes of rectangles and an L-shape with named boundaries;
- ``linalg``: sparse direct solves with a nested-dissection ordering;
- ``solution``: ``FEMSolution``, nodal values on a mesh, evaluated anywhere by probes;
- ``heat``: ``u_t = ∇·(κ∇u) + s`` with P1/P2 elements and BDF2;
- ``navier_stokes``: steady (Newton, Re continuation) and unsteady (BDF2) Taylor–Hood solvers;
- ``references``: ready-made cached references (cavity, Kovasznay, Taylor–Green).
"""
