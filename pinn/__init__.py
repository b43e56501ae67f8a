"""How it is solved: backbones, derivative engines, the training step and its callbacks, reports and run files.

result = pinn.solve(problem, steps=5000, batch=4096, sampler="sobol")
result.report            # the report.json dictionary
result.predict(points)   # {"u": (N,), …}
result = pinn.load("runs/heat2d")
pinn.solve(problem, model=my_module, callbacks=[pinn.CSVLogger("losses.csv")])
"""

from __future__ import annotations

import importlib

EXPORTS = {
    "CSVLogger": "pinn.callbacks",
    "Callback": "pinn.callbacks",
    "Config": "pinn.config",
    "Diverged": "pinn.callbacks",
    "Result": "pinn.solver",
    "TensorBoardLogger": "pinn.callbacks",
    "load": "pinn.loading",
    "solve": "pinn.solver",
}
"""The package's names and their modules, imported on first use (``import pinn`` alone does not
import torch, so that ``pinn --help`` answers at once)."""

__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> object:
    if name not in EXPORTS:
        raise AttributeError(f"module 'pinn' has no attribute '{name}'")
    value = getattr(importlib.import_module(EXPORTS[name]), name)
    globals()[name] = value
    return value
