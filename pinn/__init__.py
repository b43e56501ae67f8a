"""How it is solved: backbones, derivative engines, training, reports and run files.

result = pinn.solve(problem, steps=5000, batch=4096, sampler="sobol")
result.report            # the report.json dictionary
result.predict(points)   # {"u": (N,), …}
result = pinn.load("runs/heat2d")
"""

from __future__ import annotations

from pinn.config import Config
from pinn.load import load
from pinn.solver import Diverged, Result, solve

__all__ = ["Config", "Diverged", "Result", "load", "solve"]
