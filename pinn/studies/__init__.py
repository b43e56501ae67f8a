"""Studies: grids of solves of one problem, measured and tabulated (``pinn study …``).

``norm_study`` (norms × batch sizes) lives in ``pinn.studies.norms``, ``density_study`` (arms ×
batch sizes × seeds) in ``pinn.studies.density``; the shared machinery
(running the grid, skipping finished runs, HDF5 results, tables, plots) in ``pinn.studies.grid``.
"""

from __future__ import annotations

from pinn.studies.density import density_study
from pinn.studies.norms import norm_study

__all__ = ["density_study", "norm_study"]
