"""The ``pinn`` command, a thin layer over the Python API.

    pinn list
    pinn solve PROBLEM [--config FILE.toml] [--param k=v] [--steps N] [--lbfgs-steps M] [--batch B]
                       [--sampler S] [--norm N] [--width W] [--depth D] [--activation A] [--lr LR]
                       [--lr-decay F] [--device auto|cpu|cuda] [--dtype float32|float64] [--seed S]
                       [--eval-every M] [--eval-points N] [--out DIR]
                       [--pool N|fresh] [--base-sampler S] [--refresh-every M] [--candidates C]
                       [--rad-k K] [--rad-c C] [--rar-add A] [--replicates R] [--statistics-every M]
                       [--fourier-features] [--fourier-scale SIGMA] [--modified-mlp]
                       [--balance-every M] [--local-norm-stats] [--shared-points]
                       [--engine auto|forward|autograd] [--compile] [--warm-start DIR] [--vtk]
      (a flag for each field of pinn.Config, same name with - for _; --no-FLAG for a bool)
      PROBLEM: a registered name (pinn list), or a user's FILE.py:FUNCTION or MODULE:FUNCTION
    pinn solve [PROBLEM] --resume DIR [--steps N]   (the run file names its problem)
    torchrun --nproc_per_node=N -m pinn solve PROBLEM …   (several processes, pinn.distributed)
    pinn reference PROBLEM [--param k=v] [--resolution N]
    pinn data PROBLEM --points N [--noise 0.01] [--seed S] [--fields u,v] --out FILE.h5|.csv
    pinn solve PROBLEM --data FILE [--data-field u,v] [--data-outside refuse|drop] [--data-time T]
                       [--infer NAME[=X0],…]   (observations to fit, coefficients to infer)
    pinn study norms PROBLEM [--norms none,layer,…] [--batch 8,64,1024] [solve options] --out DIR
    pinn study density PROBLEM [--arms full-sobol,pool16,fresh-sobol,…] [--batch 256,1024,4096]
                       [--seeds 0,1,2] [--workers N] [--steps N] [--until-converged [--max-steps N] | --wall-s S]
                       [solve options] --out DIR
    pinn export-vtk DIR [--times t1,t2,…] [--resolution N] [--png] [--problem SOURCE]
    pinn plot DIR [--format png,pdf,svg] [--out PLOTDIR]
    pinn convert-run DIR --trust    (a run file of the old pickle format, from a source you trust)

Bad input prints one line ``pinn: error: …`` and exits with code 2.

Only the command given has its options built, and each command imports what it needs when it
runs: ``pinn --help`` imports neither torch nor matplotlib.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pinn.choices import NORMS

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
    """The options of ``pinn solve`` (and of studies, which run many solves): ``--param`` and a flag per Config field.

    A field ``lr_decay`` gives ``--lr-decay``, its doc the help; a bool field gives ``--flag``/``--no-flag``,
    a field with fixed choices lists them as its metavar (Config checks the value).
    """
    from pinn.config import SETTING_TYPES, Config, choices_of

    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="problem parameter")
    for field in dataclasses.fields(Config):
        options: dict[str, object] = {"help": field.metadata["doc"]}
        kinds = SETTING_TYPES[field.name]
        if kinds == (bool,):
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = FLAG_TYPES[kinds]
            choices = choices_of(field)
            metavar = "{" + ",".join(choices) + "}" if choices is not None else field.metadata["metavar"]
            if metavar is not None:
                options["metavar"] = metavar
        parser.add_argument("--" + field.name.replace("_", "-"), **options)


def pool_size(text: str) -> int | str:
    """``--pool`` value: a positive integer or ``fresh``."""
    if text == "fresh":
        return text
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--pool expects a number of points or 'fresh', got '{text}'") from None


FLAG_TYPES: dict[tuple[type, ...], Callable[[str], object]] = {
    (int,): int,
    (float,): float,
    (str,): str,
    (int, str): pool_size,
}
"""The types of Config fields (``pinn.config.SETTING_TYPES``) → the parser of their flag's value."""


def solver_settings(args: argparse.Namespace) -> dict[str, object]:
    """The Config fields given on the command line."""
    from pinn.config import Config

    names = (field.name for field in dataclasses.fields(Config))
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def file_and_flags(args: argparse.Namespace) -> tuple[dict[str, object], dict[str, object]]:
    """The settings and problem parameters of ``--config FILE`` (if given), overridden by the flags and ``--param``."""
    from pinn.config import read_toml

    settings, params = read_toml(args.config) if args.config is not None else ({}, {})
    return {**settings, **solver_settings(args)}, {**params, **parse_params(args.param)}


def results_table(report: dict) -> str:
    """A short table of the errors per field and the run's cost."""
    lines = [f"{'field':<8} {'rel_l2':>10} {'max_abs':>10}"]
    for name, e in report["errors"].items():
        lines.append(f"{name:<8} {number(e['rel_l2']):>10} {number(e['max_abs']):>10}")
    if report["reference"]["kind"] == "none":
        lines.append(f"no reference: {report['reference'].get('reason', 'none given')}")
    for name, q in report.get("quantities", {}).items():
        lines.append(quantity_line(name, q))
    for name, u in report.get("unknowns", {}).items():
        if u["kind"] == "coefficient":
            truth = "" if u.get("true") is None else f" (true {u['true']:.6g}, rel error {number(u['rel_error'])})"
            lines.append(f"inferred {name} = {u['value']:.6g}{truth}, from {u['initial']:.6g}")
    lines.append(
        f"wall {report['wall_time_s']:.1f} s, {report['steps_per_s']:.1f} steps/s, "
        f"peak memory {report['peak_memory_mb']:.0f} MB, device {report['device']}"
    )
    return "\n".join(lines)


def quantity_line(name: str, q: dict) -> str:
    """``drag = 5.5 (reference 5.58, rel error 1.4e-02; published 5.58, rel error …)``."""
    beside = []
    if q["reference"] is not None:
        beside.append(f"reference {q['reference']:.6g}, rel error {number(q['rel_error'])}")
    if q["published"] is not None:
        beside.append(f"published {q['published']:.6g}, rel error {number(q['published_rel_error'])}")
    return f"{name} = {q['value']:.6g}" + (f" ({'; '.join(beside)})" if beside else "")


def number(value: float | None) -> str:
    """A report's number as the results table prints it (``null`` where report.json has one)."""
    return "null" if value is None else f"{value:.3e}"


def cmd_list(args: argparse.Namespace) -> int:
    import pdes

    for name in pdes.names():
        params = ", ".join(f"{k}={v}" for k, v in pdes.parameters(name).items())
        print(f"{name:<16} {params}")
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    import pdes
    import pinn
    import pinn.distributed
    import pinn.vtk

    settings, params = file_and_flags(args)
    params.update(inverse_params(args))
    if args.problem is None and args.resume is None:
        raise UsageError("name the problem to solve (pinn list shows them), or --resume DIR")
    problem = pdes.get(args.problem, **params) if args.problem is not None else resumed_problem(args.resume, params)
    if args.resume is not None and args.out not in (None, args.resume):
        raise UsageError("--resume DIR continues the run in DIR; leave out --out or give the same directory")
    out = args.resume if args.resume is not None else args.out
    if args.vtk and out is None:
        raise UsageError("--vtk writes into the run's directory; give --out DIR")
    warm_start = pinn.load(args.warm_start).model.state_dict() if args.warm_start is not None else None
    result = pinn.solve(problem, out=out, resume=args.resume is not None, warm_start=warm_start, **settings)
    if not pinn.distributed.current().main:
        return 0
    print(results_table(result.report))
    if out is not None:
        print(f"wrote {out}/report.json and {out}/run.h5")
    if args.vtk:
        files = pinn.vtk.export(result, Path(out) / "vtk")
        print(f"wrote {len(files)} VTK files to {out}/vtk")
    return 0


def inverse_params(args: argparse.Namespace) -> dict[str, object]:
    """``data`` and ``infer`` problem parameters (``pdes.inverse.applied``) from ``--data …`` and ``--infer …``."""
    params: dict[str, object] = {}
    if args.data is not None:
        params["data"] = {"file": args.data, "fields": args.data_field, "outside": args.data_outside}
        if args.data_time is not None:
            params["data"]["time"] = args.data_time
    elif args.data_field is not None or args.data_time is not None:
        raise UsageError("--data-field and --data-time describe the observations of --data FILE; give --data")
    if args.infer is not None:
        params["infer"] = args.infer
    return params


DEFAULT_GUESS = 1.0
"""The first guess of a coefficient ``--infer`` names without one (that of ``pdes.infer``)."""


def infer_list(text: str) -> dict[str, float]:
    """``--infer nu`` or ``--infer nu=0.1,re=50`` → ``{"nu": 1.0}`` / ``{"nu": 0.1, "re": 50.0}`` (first guesses)."""
    guesses: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not name:
            raise UsageError(f"--infer expects NAME or NAME=INITIAL, comma-separated, got '{text}'")
        if name in guesses:
            raise UsageError(f"--infer names '{name}' twice; give each coefficient once")
        try:
            guesses[name] = float(value) if sep else DEFAULT_GUESS
        except ValueError:
            raise UsageError(f"--infer {name}={value}: the initial guess must be a number") from None
    return guesses


def resumed_problem(directory: str, params: dict[str, object]):
    """The problem of the run in ``directory`` (``pinn.loading.problem_of_run``); ``--param`` must agree."""
    from pinn import io
    from pinn.loading import problem_of_run

    run = io.load_run(Path(directory) / "run.h5")
    if params and {**run["params"], **params} != run["params"]:
        raise UsageError(f"--param differs from the resumed run's parameters {run['params']}")
    return problem_of_run(run, directory)


def cmd_reference(args: argparse.Namespace) -> int:
    import pdes
    from pinn.quantities import reference_value

    problem = pdes.get(args.problem, **parse_params(args.param))
    reference = problem.reference
    reference_kind = "no" if reference is None or reference.kind == "none" else reference.kind
    if reference_kind != "fem":
        if args.resolution is not None:
            raise UsageError(f"--resolution is for FEM references; problem '{args.problem}' has a {reference_kind} one")
        reason = getattr(reference, "reason", None)
        print(f"{args.problem}: {reference_kind} reference, nothing to compute" + (f" ({reason})" if reason else ""))
        return 0
    if args.resolution is not None:
        problem.reference = reference = reference.with_resolution(args.resolution)
    print(reference_summary(reference.summary()))
    for name in problem.quantities:
        value, missing = reference_value(problem, problem.quantities[name])
        print(f"{name} = {value:.8g}" if missing is None else f"{name}: {missing}")
    return 0


def reference_summary(summary: dict) -> str:
    """The lines ``pinn reference`` prints: problem, mesh, dofs, steps, solve time, cache path."""
    dofs = ", ".join(f"{name} {n}" for name, n in summary["dofs"].items())
    steps = "steady" if summary["time_steps"] is None else f"{summary['time_steps']} time steps"
    origin = "computed now" if summary["source"] == "computed" else f"loaded in {summary['load_time_s']:.2f} s"
    lines = [f"{summary['problem']} ({summary['kind']}), resolution {summary.get('resolution')}, {steps}"]
    mesh = summary.get("mesh")
    if mesh is not None:
        lines.append(
            f"mesh: {mesh['cells']} triangles, {mesh['vertices']} vertices, h {mesh['h_min']:.3g}–{mesh['h_max']:.3g} "
            f"({mesh['generator']}), parts {', '.join(mesh['parts'])}"
        )
    lines += [f"dofs: {dofs}", f"solve time: {summary['solve_time_s']:.2f} s ({origin})", f"cache: {summary['path']}"]
    return "\n".join(lines)


def cmd_data(args: argparse.Namespace) -> int:
    import pdes
    from pdes.data_files import write_data

    if Path(args.out).exists():
        raise UsageError(f"'{args.out}' already exists; pinn data never replaces a file: choose another --out")
    problem = pdes.get(args.problem, **parse_params(args.param))
    data = pdes.synthetic_data(problem, args.points, args.noise, args.seed, args.fields)
    write_data(data, args.out, problem.coordinates)
    noise = ", ".join(f"{name} σ={sigma:.3g}" for name, sigma in data.noise.items())
    print(f"wrote {len(data)} observations of {problem.name} ({noise}) to {args.out}")
    return 0


COMMANDS = {
    "list": "list the registered problems",
    "solve": "train a PINN for a problem",
    "data": "write synthetic observations of a problem's reference (for inverse problems)",
    "study": "run a grid of solves and tabulate the results",
    "export-vtk": "write a run's fields as VTK files (and PNGs) into DIR/vtk",
    "plot": "draw a run's history and fields (pinn.plot) into DIR/plots",
    "reference": "compute or load a problem's reference solution",
    "convert-run": "rewrite an old-format (pickle) run file as data",
}
"""The commands and their one-line help."""


def build_parser(command: str | None = None) -> Parser:
    """The parser of every command, or (``command`` given) of that one alone: the others are listed
    with their help but get no options (``""``: none, as for ``pinn --help``)."""
    parser = Parser(prog="pinn", description="Physics-informed neural network solver")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, help in COMMANDS.items():
        sub = commands.add_parser(name, help=help, conflict_handler="resolve")
        if command is None or command == name:
            ADD_OPTIONS[name](sub)
    return parser


def command_of(argv: Sequence[str]) -> str:
    """The command named in ``argv`` (its first word that is not an option), or ``""``."""
    return next((word for word in argv if not word.startswith("-")), "")


def add_list_options(parser: argparse.ArgumentParser) -> None:
    """``pinn list``."""
    parser.set_defaults(run=cmd_list)


def add_solve_options(solve: argparse.ArgumentParser) -> None:
    """``pinn solve PROBLEM [options]``; PROBLEM is a registered name or FILE.py:FUNCTION / MODULE:FUNCTION,
    and may be left out with ``--resume DIR`` (the run file names it)."""
    solve.add_argument(
        "problem", nargs="?", help="a registered problem (pinn list), or FILE.py:FUNCTION or MODULE:FUNCTION"
    )
    solve.add_argument(
        "--config", metavar="FILE", help="TOML file of settings (the flags' names) and [params]; flags override it"
    )
    add_solver_options(solve)
    solve.add_argument("--out", help="directory for report.json and run.h5")
    solve.add_argument(
        "--resume", metavar="DIR", help="continue the run in DIR; with more --steps or --lbfgs-steps, extend it"
    )
    solve.add_argument("--warm-start", metavar="DIR", help="start from the parameters of the run in DIR")
    solve.add_argument(
        "--data", metavar="FILE", help="observations to fit (.csv, .h5 as pinn data writes it, or a mesh file: .vtu …)"
    )
    solve.add_argument("--data-field", type=name_list, metavar="U,V", help="the observed fields to fit (default: all)")
    solve.add_argument(
        "--data-outside", choices=("refuse", "drop"), default="refuse", help="observations outside the domain"
    )
    solve.add_argument("--data-time", type=float, metavar="T", help="the time of a mesh file's observations")
    solve.add_argument(
        "--infer", type=infer_list, metavar="NAME[=X0]", help="coefficients to infer (comma-separated), from X0 or 1"
    )
    solve.add_argument("--vtk", action="store_true", help="also export VTK files of the result to OUT/vtk")
    solve.set_defaults(run=cmd_solve)


def add_study_options(study: argparse.ArgumentParser) -> None:
    """``pinn study norms|density …``."""
    studies = study.add_subparsers(dest="study", required=True, parser_class=Parser)
    add_norm_study(studies)
    add_density_study(studies)


def add_data_options(data: argparse.ArgumentParser) -> None:
    """``pinn data PROBLEM --points N [--noise σ] [--seed S] [--fields u,v] --out FILE``."""
    data.add_argument("problem")
    data.add_argument("--param", action="append", default=[], metavar="K=V", help="problem parameter")
    data.add_argument("--points", type=positive_int, required=True, help="number of observations")
    data.add_argument(
        "--noise", type=float, default=0.0, help="Gaussian noise, relative to each field's RMS (0.01: 1%%)"
    )
    data.add_argument("--seed", type=int, default=0, help="seed of the points and the noise")
    data.add_argument("--fields", type=name_list, help="the fields to observe (default: the reference's)")
    data.add_argument("--out", required=True, help="the file to write: .h5 or .csv (they keep the noise)")
    data.set_defaults(run=cmd_data)


def positive_int(text: str) -> int:
    """A positive integer flag value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"expected a positive integer, got '{text}'")
    return value


def add_reference_options(reference: argparse.ArgumentParser) -> None:
    """``pinn reference PROBLEM [--param k=v] [--resolution N]``."""
    reference.add_argument("problem")
    reference.add_argument("--param", action="append", default=[], metavar="K=V", help="problem parameter")
    reference.add_argument(
        "--resolution",
        type=int,
        help="cells per side of the FEM mesh (of a described problem: cells across its diagonal)",
    )
    reference.set_defaults(run=cmd_reference)


def add_norm_study(studies: argparse._SubParsersAction) -> None:
    """``pinn study norms``: the solve options, with ``--batch`` (resolved over the solver's) a list."""
    norms = studies.add_parser(
        "norms", help="error and train/eval gap per norm and batch size", conflict_handler="resolve"
    )
    norms.add_argument("problem")
    add_solver_options(norms)
    norms.add_argument("--norms", type=name_list, default=list(NORMS), help="comma-separated norms (default: all)")
    norms.add_argument("--batch", type=count_list, default=[8, 64, 1024], help="comma-separated batch sizes")
    norms.add_argument(
        "--out", required=True, help="the study's directory: new, empty or this study's (study.json); runs and results"
    )
    norms.set_defaults(run=cmd_study_norms)


def add_density_study(studies: argparse._SubParsersAction) -> None:
    """``pinn study density``: the solve options, with ``--arms``, ``--batch`` and ``--seeds`` lists."""
    from pinn.studies.density import ARM_FORMS, ARMS

    density = studies.add_parser(
        "density",
        help="error, noise and cost of ways to choose collocation points (arms) at equal memory and steps",
        conflict_handler="resolve",
    )
    density.add_argument("problem")
    add_solver_options(density)
    density.add_argument("--arms", type=name_list, default=list(ARMS), help=f"comma-separated arms: {ARM_FORMS}")
    density.add_argument("--batch", type=count_list, default=[256, 1024, 4096], help="comma-separated batch sizes")
    density.add_argument("--seeds", type=seed_list, default=[0, 1, 2], help="comma-separated seeds, one run each")
    density.add_argument("--workers", type=int, default=1, help="runs at a time, each in its own process")
    density.add_argument(
        "--until-converged",
        action="store_true",
        help="double each batch's steps, from --steps, until the full-batch arm's error has stopped falling",
    )
    density.add_argument("--max-steps", type=int, help="the most steps --until-converged gives (8 × --steps)")
    density.add_argument(
        "--wall-s", type=float, help="equal wall time: each run takes the steps its probe says fit in this many seconds"
    )
    density.add_argument(
        "--out", required=True, help="the study's directory: new, empty or this study's (study.json); runs and results"
    )
    density.set_defaults(run=cmd_study_density)


def add_export_vtk_options(export: argparse.ArgumentParser) -> None:
    """``pinn export-vtk DIR [--times …] [--resolution N] [--png]``."""
    import pinn.vtk

    export.add_argument("directory", metavar="DIR")
    export.add_argument("--times", type=time_list, help="comma-separated times (default: 11 from t0 to t1)")
    export.add_argument("--resolution", type=int, default=pinn.vtk.DEFAULT_RESOLUTION, help="grid points per axis")
    export.add_argument("--png", action="store_true", help="also render every field to DIR/vtk/png")
    add_problem_option(export)
    export.set_defaults(run=cmd_export_vtk)


def add_problem_option(parser: argparse.ArgumentParser) -> None:
    """``--problem FILE.py:FUNCTION``: the problem of a run, for a user's problem not run here before."""
    parser.add_argument(
        "--problem", metavar="SOURCE", help="the run's problem (FILE.py:FUNCTION or MODULE:FUNCTION); runs that code"
    )


def loaded(args: argparse.Namespace):
    """The run in ``args.directory`` as a Result, its problem from ``--problem`` when given."""
    import pinn

    return pinn.load(args.directory, source=args.problem)


def add_plot_options(plot: argparse.ArgumentParser) -> None:
    """``pinn plot DIR [--format png,pdf,svg] [--out PLOTDIR]``."""
    plot.add_argument("directory", metavar="DIR")
    plot.add_argument(
        "--format", type=name_list, default=["png"], help="comma-separated formats: png, pdf, svg (default: png)"
    )
    plot.add_argument("--out", metavar="PLOTDIR", help="folder for the pictures (default: DIR/plots)")
    add_problem_option(plot)
    plot.set_defaults(run=cmd_plot)


def add_convert_run_options(convert: argparse.ArgumentParser) -> None:
    """``pinn convert-run DIR --trust``."""
    convert.add_argument("directory", metavar="DIR")
    convert.add_argument("--trust", action="store_true", help="required: reading the old file runs any code it holds")
    convert.set_defaults(run=cmd_convert_run)


def cmd_convert_run(args: argparse.Namespace) -> int:
    import pinn.io

    path = pinn.io.convert_run(Path(args.directory), trust=args.trust)
    print(f"converted {path}; the old file is kept as {path.name}.{pinn.io.PICKLE_FORMAT}")
    return 0


def seed_list(text: str) -> list[int]:
    """``"0,1,2"`` → ``[0, 1, 2]``: integers from 0."""
    try:
        values = [int(item) for item in name_list(text)]
    except ValueError:
        raise UsageError(f"expected comma-separated seeds (integers from 0), got '{text}'") from None
    if not values or min(values) < 0:
        raise UsageError(f"expected comma-separated seeds (integers from 0), got '{text}'")
    return values


def time_list(text: str) -> list[float]:
    """``"0,0.5"`` → ``[0.0, 0.5]``."""
    try:
        return [float(item) for item in name_list(text)]
    except ValueError:
        raise UsageError(f"--times expects comma-separated numbers, got '{text}'") from None


def name_list(text: str) -> list[str]:
    """``"a,b"`` → ``["a", "b"]``."""
    return [item.strip() for item in text.split(",") if item.strip()]


def count_list(text: str) -> list[int]:
    """``"8,64"`` → ``[8, 64]``: positive integers."""
    try:
        values = [int(item) for item in name_list(text)]
    except ValueError:
        raise UsageError(f"expected comma-separated positive integers, got '{text}'") from None
    if not values or min(values) < 1:
        raise UsageError(f"expected comma-separated positive integers, got '{text}'")
    return values


def cmd_study_norms(args: argparse.Namespace) -> int:
    import pdes
    import pinn.studies

    problem = pdes.get(args.problem, **parse_params(args.param))
    settings = solver_settings(args)
    batches = settings.pop("batch")
    pinn.studies.norm_study(problem, args.norms, batches, args.out, **settings)
    print(Path(args.out, pinn.studies.grid.SUMMARY).read_text(), end="")
    print(f"wrote {args.out}/{', '.join(pinn.studies.norms.OUTPUTS)}")
    return 0


def cmd_study_density(args: argparse.Namespace) -> int:
    import pdes
    import pinn.studies
    from pinn.studies.density_report import OUTPUTS

    problem = pdes.get(args.problem, **parse_params(args.param))
    settings = solver_settings(args)
    batches = settings.pop("batch")
    pinn.studies.density_study(
        problem,
        args.arms,
        batches,
        args.out,
        seeds=args.seeds,
        workers=args.workers,
        until_converged=args.until_converged,
        max_steps=args.max_steps,
        wall_s=args.wall_s,
        **settings,
    )
    print(Path(args.out, pinn.studies.grid.SUMMARY).read_text(), end="")
    print(f"wrote {args.out}/{', '.join(OUTPUTS)}")
    return 0


def cmd_export_vtk(args: argparse.Namespace) -> int:
    import pinn.vtk

    files = pinn.vtk.export(loaded(args), Path(args.directory) / "vtk", args.times, args.resolution, args.png)
    print(f"wrote {len(files)} files to {Path(args.directory) / 'vtk'}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    import pinn.plot  # matplotlib is slow to import; only this command needs it

    out = Path(args.out) if args.out is not None else Path(args.directory) / "plots"
    files = pinn.plot.plot_result(loaded(args), out, args.format)
    print(f"wrote {len(files)} files to {out}")
    return 0


ADD_OPTIONS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "list": add_list_options,
    "solve": add_solve_options,
    "data": add_data_options,
    "study": add_study_options,
    "export-vtk": add_export_vtk_options,
    "plot": add_plot_options,
    "reference": add_reference_options,
    "convert-run": add_convert_run_options,
}
"""Each command's options (``build_parser``)."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(command_of(argv)).parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except (UsageError, ValueError) as error:
        print(f"pinn: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as error:
        from pdes.reference import ReferenceFailed
        from pinn.callbacks import Diverged

        if isinstance(error, ReferenceFailed):  # pinn reference on a description its solver cannot take
            print(f"pinn: failed: {error}", file=sys.stderr)
            return EXIT_FAILED
        if not isinstance(error, Diverged):
            raise
        result = error.result
        written = f"; its report (status diverged) is {result.out / 'report.json'}" if result and result.out else ""
        print(f"pinn: stopped: {error}{written}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
