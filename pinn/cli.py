"""The ``pinn`` command, a thin layer over the Python API.

    pinn list
    pinn solve PROBLEM [--param k=v] [--steps N] [--lbfgs-steps M] [--batch B] [--sampler S]
                       [--norm N] [--width W] [--depth D] [--activation A] [--lr LR]
                       [--device auto|cpu|cuda] [--dtype float32|float64] [--seed S] [--out DIR]

Bad input prints one line ``pinn: error: …`` and exits with code 2.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable, Sequence

import pdes
import pinn
from pinn.config import DEVICES, DTYPES

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line instead of usage plus message."""

    def error(self, message: str) -> None:
        raise UsageError(message)


def parse_params(items: Sequence[str]) -> dict[str, object]:
    """``["re=100", "lid=smooth"]`` → ``{"re": 100, "lid": "smooth"}`` (Python literals, else text)."""
    params: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param expects key=value, got '{item}'")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    return params


def add_solver_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``pinn solve`` (and of studies, which run many solves)."""
    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="problem parameter")
    parser.add_argument("--steps", type=int, help="Adam steps")
    parser.add_argument("--lbfgs-steps", type=int, help="L-BFGS iterations after Adam")
    parser.add_argument("--batch", type=int, help="points per term per step")
    parser.add_argument("--sampler", help="quadrature rule")
    parser.add_argument("--norm", help="normalization layer")
    parser.add_argument("--width", type=int, help="hidden units per layer")
    parser.add_argument("--depth", type=int, help="hidden layers")
    parser.add_argument("--activation", help="tanh, sin or gelu")
    parser.add_argument("--lr", type=float, help="initial Adam learning rate")
    parser.add_argument("--device", choices=DEVICES)
    parser.add_argument("--dtype", choices=list(DTYPES))
    parser.add_argument("--seed", type=int)


def solver_settings(args: argparse.Namespace) -> dict[str, object]:
    """The Config fields given on the command line."""
    names = (
        "steps",
        "lbfgs_steps",
        "batch",
        "sampler",
        "norm",
        "width",
        "depth",
        "activation",
        "lr",
        "device",
        "dtype",
        "seed",
    )
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def results_table(report: dict) -> str:
    """A short table of the errors per field and the run's cost."""
    lines = [f"{'field':<8} {'rel_l2':>10} {'max_abs':>10}"]
    for name, e in report["errors"].items():
        lines.append(f"{name:<8} {e['rel_l2']:>10.3e} {e['max_abs']:>10.3e}")
    lines.append(
        f"wall {report['wall_time_s']:.1f} s, {report['steps_per_s']:.1f} steps/s, "
        f"peak memory {report['peak_memory_mb']:.0f} MB, device {report['device']}"
    )
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    for name in pdes.names():
        params = ", ".join(f"{k}={v}" for k, v in pdes.parameters(name).items())
        print(f"{name:<16} {params}")
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    problem = pdes.get(args.problem, **parse_params(args.param))
    result = pinn.solve(problem, out=args.out, **solver_settings(args))
    print(results_table(result.report))
    if args.out is not None:
        print(f"wrote {args.out}/report.json and {args.out}/run.h5")
    return 0


def build_parser() -> Parser:
    parser = Parser(prog="pinn", description="Physics-informed neural network solver")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    commands.add_parser("list", help="list the registered problems").set_defaults(run=cmd_list)
    solve = commands.add_parser("solve", help="train a PINN for a problem")
    solve.add_argument("problem")
    add_solver_options(solve)
    solve.add_argument("--out", help="directory for report.json and run.h5")
    solve.set_defaults(run=cmd_solve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except (UsageError, ValueError) as error:
        print(f"pinn: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except pinn.Diverged as error:
        print(f"pinn: stopped: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
