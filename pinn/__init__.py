"""How it is solved: backbones, derivative engines, the training step and its callbacks, reports and run files.

result = pinn.solve(problem, steps=5000, batch=4096, sampler="sobol")
result.report            # the report.json dictionary
result.predict(points)   # {"u": (N,), …}
result = pinn.load("runs/heat2d")
pinn.solve(problem, model=my_module, callbacks=[pinn.CSVLogger("losses.csv")])
"""

from __future__ import annotations

from pinn.callbacks import Callback, CSVLogger, Diverged, TensorBoardLogger
from pinn.config import Config
from pinn.load import load
from pinn.solver import Result, solve

__all__ = ["CSVLogger", "Callback", "Config", "Diverged", "Result", "TensorBoardLogger", "load", "solve"]
