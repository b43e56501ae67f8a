"""The bugs of issue 16's table, planted one at a time in a copy of the repository: does the suite catch each?

    python benchmarks/planted_bugs.py [--record]

For each bug: the working tree (tracked and untracked files that git does not ignore) is
copied to a temporary folder, one edit is made there, and ``python -m pytest -q -x`` runs the
test files that exercise the edited code (a subset of the suite, so a failure there is a
failure of ``python -m pytest -q``). A bug is caught when those tests fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import recorder


@dataclass(frozen=True)
class Plant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


LAPLACIAN_TESTS = ("tests/test_layer_jets.py", "tests/test_forward_engine.py", "tests/test_norms.py")
PLANTS = [
    Plant(
        "`field_errors`: relative L2 error squared",
        "pinn/report.py",
        '"rel_l2": float(diff.norm() / (len(diff) ** 0.5 if zero else scale)),',
        '"rel_l2": float((diff.norm() / (len(diff) ** 0.5 if zero else scale)) ** 2),',
        ("tests/test_report_errors.py",),
    ),
    Plant(
        "`field_errors`: `up_to_constant` ignored",
        "pinn/report.py",
        "        if name in up_to_constant:\n            diff = diff - diff.mean()\n",
        "",
        ("tests/test_report_errors.py",),
    ),
    Plant(
        "FEM `l2_error` returns the squared norm",
        "pdes/fem/solution.py",
        "return float(np.sqrt(max(total, 0.0)))",
        "return float(max(total, 0.0))",
        ("tests/test_fem_l2_error.py",),
    ),
    Plant(
        "`atomic_write` writes in place",
        "pdes/files.py",
        "        write(Path(tmp))\n        os.chmod(tmp, created_mode())\n        os.replace(tmp, path)\n",
        "        write(path)\n        os.chmod(path, created_mode())\n        Path(tmp).unlink()\n",
        ("tests/test_files.py",),
    ),
    Plant(
        "`atomic_write` leaves its temp file on failure",
        "pdes/files.py",
        "    except BaseException:\n        Path(tmp).unlink(missing_ok=True)\n",
        "    except BaseException:\n",
        ("tests/test_files.py",),
    ),
    Plant(
        "RAD `importance_density`: `a/mean + c` → `a + c`",
        "samplers/adaptive.py",
        "q = (a / mean if mean > 0 else torch.zeros_like(a)) + c",
        "q = (a if mean > 0 else torch.zeros_like(a)) + c",
        ("tests/test_adaptive_exact.py",),
    ),
    Plant(
        "RAR: `restart_epoch()` removed after the pool grows",
        "samplers/adaptive.py",
        "        self.pool = Quadrature(points, equal_weights(len(points)))\n        self.restart_epoch()\n",
        "        self.pool = Quadrature(points, equal_weights(len(points)))\n",
        ("tests/test_adaptive_exact.py",),
    ),
    Plant(
        "RAD importance correction dropped",
        "samplers/adaptive.py",
        "weights = self.candidate_set.weights[rows] / (n * self.probability[rows])",
        "weights = torch.full((n,), 1.0 / n, dtype=torch.float64)",
        ("tests/test_adaptive_exact.py", "tests/test_samplers_stateful.py"),
    ),
    Plant(
        "quadrature weights `base*w` → `base*(w>0)`",
        "samplers/quadrature.py",
        "return Quadrature(x, base * w)",
        "return Quadrature(x, base * (w > 0))",
        ("tests/test_samplers.py",),
    ),
    Plant(
        "forward Laplacian channel keeping one pair (eager)",
        "pinn/jets.py",
        "squares = [pair_products(jet, jet, pairs) for pairs in layout.pairs]",
        "squares = [pair_products(jet, jet, pairs[:1]) for pairs in layout.pairs]",
        LAPLACIAN_TESTS,
    ),
    Plant(
        "the same Laplacian bug in the compiled branch of `jets.elementwise`",
        "pinn/jets.py",
        "s2 * pair_products(jet, jet, pairs) for k, pairs in enumerate(layout.pairs)]",
        "s2 * pair_products(jet, jet, pairs[:1]) for k, pairs in enumerate(layout.pairs)]",
        ("tests/test_forward_engine_compile.py",),
    ),
]


def copy_of_tree(destination: Path) -> None:
    """The files git tracks or would track (untracked but not ignored) copied to ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=recorder.REPOSITORY,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = recorder.REPOSITORY / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def caught(plant: Plant) -> tuple[bool, float, str]:
    """Plant ``plant`` in a fresh copy and run its tests: (caught, seconds, last line of pytest)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder)
        copy_of_tree(copy)
        target = copy / plant.path
        text = target.read_text()
        if text.count(plant.old) != 1:
            raise SystemExit(f"planted_bugs: the text to replace for {plant.name!r} is not once in {plant.path}")
        target.write_text(text.replace(plant.old, plant.new))
        environment = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *plant.tests],
            cwd=copy,
            env=environment,
            capture_output=True,
            text=True,
        )
        lines = done.stdout.strip().splitlines()
        return done.returncode != 0, time.perf_counter() - started, lines[-1] if lines else done.stderr.strip()[-200:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="write the table to RESULTS.md through recorder.py")
    args = parser.parse_args()
    rows = ["| planted bug | file | tests run | caught | pytest |", "|---|---|---|---|---|"]
    missed = 0
    for plant in PLANTS:
        hit, seconds, last = caught(plant)
        missed += not hit
        tests = ", ".join(f"`{Path(t).name}`" for t in plant.tests)
        rows.append(
            f"| {plant.name} | `{plant.path}` | {tests} | {'yes' if hit else '**no**'} | {last} ({seconds:.0f} s) |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    if args.record:
        recorder.record(
            "planted_bugs",
            "planted_bugs",
            "python benchmarks/planted_bugs.py --record",
            f"Each bug of issue 16's table planted alone in a copy of the working tree.\n\n{table}\n",
            {"planted_bugs": (f"{len(PLANTS) - missed} of {len(PLANTS)} caught", recorder.status(missed == 0))},
            title="Planted bugs",
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
