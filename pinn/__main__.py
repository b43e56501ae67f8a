"""``python -m pinn`` is the ``pinn`` command (and what ``torchrun -m pinn`` starts)."""

import sys

from pinn.cli import main

sys.exit(main())
