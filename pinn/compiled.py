"""``--compile``: the term losses of a step through ``torch.compile`` (inductor).

The compiled function is the step plan's ``StepPlan.term_losses`` (``pinn.plan``); its
backward is compiled with it. The plan settles what the residuals read and the engines
eagerly, on the first batch, before the first compiled call. Only the forward engine
compiles: the autograd engine differentiates the network twice (``create_graph``), which
compiled graphs do not support, so under ``compile`` the plan runs every term on the
forward engine (``auto`` would give first-order terms to autograd). The network's jet
compiles whole; an output transform's own derivatives stay eager (``pinn.derivatives``: an
affine transform's Taylors, or autograd over any other).

On the CPU inductor writes C++ kernels and builds them with the system's C++ compiler, so
one is required (``pinn.choices.check_compile_available`` checks, when the Config is made).
Compilation happens at the first step and takes about a minute or more on a small CPU;
later runs reuse torch's on-disk cache.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from pinn.choices import COMPILERS  # re-exported; pinn.choices.check_compile_available uses them

__all__ = ["COMPILERS", "compiled"]


def compiled(function: Callable, backend: str = "inductor") -> Callable:
    """``function`` through ``torch.compile`` with ``backend`` (``inductor``; the tests use ``aot_eager``)."""
    return torch.compile(function, backend=backend)
