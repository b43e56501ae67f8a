"""Reference solvers by the finite element method, on scikit-fem (the only package that imports it).

Modules (import them explicitly; importing ``pdes.fem`` alone loads nothing heavy):

- ``mesh``: triangle meshes of rectangles and an L-shape with named boundaries;
- ``linalg``: sparse direct solves with a nested-dissection ordering;
- ``solution``: ``FEMSolution``, nodal values on a mesh, evaluated anywhere by probes;
- ``heat``: ``u_t = ∇·(κ∇u) + s`` with P1/P2 elements and BDF2;
- ``navier_stokes``: steady (Newton, Re continuation) and unsteady (BDF2) Taylor–Hood solvers;
- ``references``: ready-made cached references (cavity, Kovasznay, Taylor–Green).

The closed forms that PINN problems and these solvers share (lid profiles, Kovasznay and
Taylor–Green flows), written once for numpy arrays and torch tensors alike, are
``pdes.closed_forms``; the reference cache is ``pdes.reference_cache``.
"""
