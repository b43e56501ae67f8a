"""``--compile``: the training loss of a step through ``torch.compile`` (inductor).

The compiled function is ``pinn.batch_statistics.step_losses``; its backward is compiled
with it. Only the forward engine compiles: the autograd engine differentiates the network
twice (``create_graph``), which compiled graphs do not support; so with ``--compile`` the
solver runs every term on the forward engine (``auto`` would give first-order terms to
autograd). The network's jet compiles whole; an output transform's own derivatives stay
eager (``pinn.derivatives``: an affine transform's Taylors, or autograd over any other).

On the CPU inductor writes C++ kernels and builds them with the system's C++ compiler, so
one is required. Compilation happens at the first step and takes about a minute or more
on a small CPU; later runs reuse torch's on-disk cache.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import torch

from pinn.batch_statistics import step_losses

COMPILERS = ("g++", "clang++", "c++")
"""C++ compilers inductor can use on the CPU when ``CXX`` is not set."""


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


def compiled_step_losses(backend: str = "inductor") -> Callable:
    """``step_losses`` compiled by ``torch.compile`` with ``backend`` (the tests use ``aot_eager``)."""
    return torch.compile(step_losses, backend=backend)
