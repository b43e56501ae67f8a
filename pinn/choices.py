"""The fixed choices of the solver's settings and their checks, importing nothing of the solver.

``pinn.config`` validates a Config with these, and the modules that implement the choices
(``pinn.nn``, ``pinn.derivatives``, ``pinn.plan``, ``pinn.compiled``) name them from here, so
that reading or checking settings never imports the derivative stack.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection

ENGINES = ("auto", "forward", "autograd")
"""Derivative engines (``pinn.plan.StepPlan``; ``auto``: forward where it knows the model)."""
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")
ACTIVATIONS = ("tanh", "sin", "gelu")
"""Names of the activations of ``pinn.nn.ACTIVATIONS``."""
NORMS = ("none", "layer", "rms", "batch", "group", "weight", "rwf")
"""Normalizations of ``pinn.nn.MLP``'s hidden layers."""
BACKBONES = ("mlp", "pirate")
"""Networks of the solver: ``pinn.nn.MLP`` and ``pinn.pirate.PirateNet``."""
PIRATE_NORMS = ("none", "weight", "rwf")
"""The norms a PirateNet takes: none, or a reparametrization of its dense layers."""
BATCH_COUPLED_NORMS = ("batch",)
"""Norms whose output at a point depends on the other points of its batch."""
COMPILERS = ("g++", "clang++", "c++")
"""C++ compilers inductor can use on the CPU when ``CXX`` is not set."""


def check_choice(kind: str, name: str, valid: Collection[str]) -> None:
    """Raise ``ValueError`` naming the valid choices when ``name`` is not one of them."""
    if name not in valid:
        raise ValueError(f"unknown {kind} '{name}'; valid: {', '.join(valid)}")


def check_compile_available(engine: str) -> None:
    """Raise ``ValueError`` (one line) when ``--compile`` cannot work: autograd engine, or no C++ compiler."""
    if engine == "autograd":
        raise ValueError(
            "--compile needs the forward engine (engine auto or forward); autograd's double backward does not compile"
        )
    names = (os.environ["CXX"],) if os.environ.get("CXX") else COMPILERS
    if not any(shutil.which(name) for name in names):
        raise ValueError(
            f"--compile needs a C++ compiler for torch.compile on the CPU (none of {', '.join(names)} found); "
            "install one or run without --compile"
        )
