"""End to end against DeepXDE (pytorch backend) on Kovasznay flow: steps/s and wall time to relative L2 1e-2.

Both sides train the same problem with DeepXDE's Kovasznay example settings: Re = 20 on
[−0.5, 1] × [−0.5, 1.5], a 4 × 50 tanh network (Glorot normal), Adam at learning rate 1e-3,
float32, 2601 points in the domain and 400 on the boundary.

- DeepXDE: its example as published (``dde.data.PDE`` with ``num_domain=2601``,
  ``num_boundary=400``, fixed points; Dirichlet u, v on the boundary and p on the outflow).
- pinn: ``pdes.get("kovasznay")`` (velocity on the boundary, pressure pinned at the center)
  trained by the solver's step (``pinn.step.adam_step`` with ``--engines``, fused Adam at a constant rate):
  every step draws fresh Halton points (DeepXDE's default rule is Hammersley): 2601 in the
  domain, shared by the three equation terms as DeepXDE shares its points (the solver's
  ``--shared-points``; ``--separate-points`` gives each equation its own 2601), 400 for
  each boundary term, one for the pressure gauge. The problem is pinn's default Kovasznay
  problem: velocity imposed exactly by the output transform, so there are no boundary terms.

The contestants train in turns of ``--chunk`` Adam steps in this process; after each turn
each is measured on the same 10000 fixed uniform points: error = max(rel L2 of u, rel L2
of v). Training seconds are CPU seconds of this process (one torch thread; the machine may
be shared) and exclude these measurements (DeepXDE's include its own end-of-turn test
loss). Steps/s is the median over turns; time to 1e-2 is the training time at the end of
the first turn whose error is ≤ 1e-2. Needs ``pip install '.[bench]'`` (DeepXDE).

    nice -n 10 python benchmarks/peer_deepxde.py --budget-s 400 --engines auto,autograd --record
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
from recorder import record, status
from speed_common import markdown_table

import pdes
from pdes.closed_forms import kovasznay, kovasznay_lambda
from pinn.config import Config
from pinn.step import adam_step, setup

RE = 20.0
LOWER, UPPER = (-0.5, -0.5), (1.0, 1.5)
DOMAIN_POINTS, BOUNDARY_POINTS = 2601, 400
WIDTH, DEPTH, LR = 50, 4, 1e-3
TARGET = 1e-2
TEST_POINTS = 10000


def exact(points: np.ndarray) -> np.ndarray:
    """``(N, 3)`` exact u, v, p (``pdes.closed_forms.kovasznay``)."""
    x, y = torch.as_tensor(points[:, 0], dtype=torch.float64), torch.as_tensor(points[:, 1], dtype=torch.float64)
    return torch.stack(kovasznay(x, y, RE), dim=1).numpy()


def velocity_error(prediction: np.ndarray, reference: np.ndarray) -> float:
    """max over u, v of ``‖pred − ref‖ / ‖ref‖``."""
    return max(
        float(np.linalg.norm(prediction[:, k] - reference[:, k]) / np.linalg.norm(reference[:, k])) for k in (0, 1)
    )


class DeepXDE:
    """DeepXDE's Kovasznay example (module docstring), trained ``chunk`` steps per turn."""

    def __init__(self, seed: int):
        os.environ.setdefault("DDE_BACKEND", "pytorch")
        import deepxde as dde

        dde.config.set_random_seed(seed)
        dde.config.set_default_float("float32")
        lam = kovasznay_lambda(RE)

        def pde(x, u):
            u_vel, v_vel = u[:, 0:1], u[:, 1:2]
            u_x, u_y = dde.grad.jacobian(u, x, i=0, j=0), dde.grad.jacobian(u, x, i=0, j=1)
            v_x, v_y = dde.grad.jacobian(u, x, i=1, j=0), dde.grad.jacobian(u, x, i=1, j=1)
            p_x, p_y = dde.grad.jacobian(u, x, i=2, j=0), dde.grad.jacobian(u, x, i=2, j=1)
            u_xx, u_yy = dde.grad.hessian(u, x, component=0, i=0, j=0), dde.grad.hessian(u, x, component=0, i=1, j=1)
            v_xx, v_yy = dde.grad.hessian(u, x, component=1, i=0, j=0), dde.grad.hessian(u, x, component=1, i=1, j=1)
            return [
                u_vel * u_x + v_vel * u_y + p_x - (u_xx + u_yy) / RE,
                u_vel * v_x + v_vel * v_y + p_y - (v_xx + v_yy) / RE,
                u_x + v_y,
            ]

        def on_outflow(x, on_boundary):
            return on_boundary and np.isclose(x[0], UPPER[0])

        def component(k):
            def values(x):
                e = np.exp(lam * x[:, 0:1])
                return [1 - e * np.cos(2 * np.pi * x[:, 1:2]), lam / (2 * np.pi) * e * np.sin(2 * np.pi * x[:, 1:2]),
                        0.5 * (1 - e * e)][k]  # fmt: skip

            return values

        box = dde.geometry.Rectangle(xmin=list(LOWER), xmax=list(UPPER))
        conditions = [
            dde.icbc.DirichletBC(box, component(0), lambda _, on_boundary: on_boundary, component=0),
            dde.icbc.DirichletBC(box, component(1), lambda _, on_boundary: on_boundary, component=1),
            dde.icbc.DirichletBC(box, component(2), on_outflow, component=2),
        ]
        data = dde.data.PDE(box, pde, conditions, num_domain=DOMAIN_POINTS, num_boundary=BOUNDARY_POINTS)
        net = dde.nn.FNN([2] + DEPTH * [WIDTH] + [3], "tanh", "Glorot normal")
        self.model = dde.Model(data, net)
        self.model.compile("adam", lr=LR)

    def train(self, steps: int) -> None:
        self.model.train(iterations=steps, display_every=10**9, verbose=0)

    def predict(self, points: np.ndarray) -> np.ndarray:
        return self.model.predict(points.astype(np.float32))


class Pinn:
    """pinn's solver step on ``pdes.get("kovasznay")`` with DeepXDE's point counts (module docstring)."""

    def __init__(self, seed: int, engine: str, shared: bool):
        config = Config(width=WIDTH, depth=DEPTH, lr=LR, lr_decay=1.0, sampler="halton", shared_points=shared,
                        engine=engine, seed=seed, device="cpu")  # fmt: skip
        self.run, self.state = setup(pdes.get("kovasznay", re=RE), config)
        self.model = self.state.model

    def points_of(self, term) -> int:
        if term.region is self.run.problem.domain:
            return DOMAIN_POINTS
        return 1 if term.name == "gauge" else BOUNDARY_POINTS

    def train(self, steps: int) -> None:
        rules, generators = self.state.rules, self.state.generators
        for _ in range(steps):
            batches = {}
            for group in self.run.plan.groups:
                owner = group.owner
                q = rules[owner.name].draw(owner.region, self.points_of(owner), generators[owner.name])
                batches.update(dict.fromkeys((t.name for t in group.terms), q.to("cpu", torch.float32)))
            adam_step(self.run, self.state, batches)

    def predict(self, points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.model(torch.as_tensor(points, dtype=torch.float32)).numpy()


def race(contestants: dict, chunk: int, budget_s: float, test: np.ndarray) -> dict[str, dict]:
    """Train the contestants in turns of ``chunk`` steps until each reaches TARGET or spends ``budget_s``."""
    reference = exact(test)
    state = {name: {"seconds": 0.0, "steps": 0, "turns": [], "reached_s": math.nan, "reached_steps": 0}
             for name in contestants}  # fmt: skip
    running = set(contestants)
    while running:
        for name in [n for n in contestants if n in running]:
            s = state[name]
            start = time.process_time()
            contestants[name].train(chunk)
            elapsed = time.process_time() - start
            s["seconds"] += elapsed
            s["steps"] += chunk
            s["turns"].append(chunk / elapsed)
            s["error"] = velocity_error(contestants[name].predict(test), reference)
            print(f"{name:>10} step {s['steps']:>6}  {s['seconds']:7.1f} s  error {s['error']:.3e}", flush=True)
            if s["error"] <= TARGET and math.isnan(s["reached_s"]):
                s["reached_s"], s["reached_steps"] = s["seconds"], s["steps"]
            if not math.isnan(s["reached_s"]) or s["seconds"] >= budget_s:
                running.discard(name)
    return state


def faster_to_target(base: dict, contestant: dict) -> float | str:
    """DeepXDE's time to TARGET over the contestant's; a lower bound ``≥ r`` when only the contestant reached it."""
    if math.isnan(contestant["reached_s"]):
        return math.nan
    if math.isnan(base["reached_s"]):
        return f"≥ {base['seconds'] / contestant['reached_s']:.3g}"
    return base["reached_s"] / contestant["reached_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=200, help="Adam steps per turn")
    parser.add_argument("--budget-s", type=float, default=600.0, help="training seconds allowed to each contestant")
    parser.add_argument("--engines", default="auto", help="pinn contestants: comma-separated derivative engines")
    parser.add_argument("--separate-points", action="store_true", help="each pinn equation term its own points")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    test = np.random.default_rng(args.seed).uniform(LOWER, UPPER, size=(TEST_POINTS, 2))
    contestants = {"deepxde": DeepXDE(args.seed)}
    contestants.update({f"pinn-{e}": Pinn(args.seed, e, not args.separate_points) for e in args.engines.split(",")})
    state = race(contestants, args.chunk, args.budget_s, test)
    base = state["deepxde"]
    rows = []
    for name, s in state.items():
        speed = statistics.median(s["turns"])
        speedup = statistics.median(b / a for a, b in zip(base["turns"], s["turns"]))
        faster = faster_to_target(base, s)
        reached = (
            f"{s['reached_s']:.0f} s ({s['reached_steps']} steps)" if not math.isnan(s["reached_s"]) else "not reached"
        )
        rows.append([name, speed, speedup, f"{s['error']:.2e} at {s['steps']} steps", reached, faster])
    headers = ["contestant", "steps/s", "steps/s vs deepxde", "last error", "time to 1e-2", "faster to 1e-2"]
    table = markdown_table(headers, rows)
    print(table)
    if args.record:
        note = (
            f"Turns of {args.chunk} Adam steps, alternating; budget {args.budget_s:.0f} training seconds each; "
            "error = max(rel L2 u, rel L2 v) on 10000 uniform points; 'steps/s vs deepxde' is the median over "
            "turns of the ratio of the two turns' speeds; 'faster to 1e-2' is DeepXDE's time over the contestant's "
            "(≥: DeepXDE's whole training time over the contestant's, DeepXDE not having reached it; NaN: the "
            "contestant did not reach it)."
        )
        targets = {}
        for name, _, speedup, _, reached, faster in rows:
            if name == "pinn-auto":
                bound = float(str(faster).removeprefix("≥ "))  # NaN (not reached) is not met
                shown = faster if isinstance(faster, str) else f"{faster:.3g}"
                targets["peer_steps"] = (f"{speedup:.2f}×", status(speedup >= 3))
                targets["peer_time"] = (f"{shown}× (pinn {reached}, DeepXDE {rows[0][4]})", status(bound >= 3))
        record("peer_deepxde", "peer_deepxde", "python " + " ".join(sys.argv), f"{note}\n\n{table}", targets,
               title="Peer: DeepXDE on Kovasznay (benchmarks/peer_deepxde.py)")  # fmt: skip


if __name__ == "__main__":
    main()
