"""Mutation testing of the modules whose bugs matter most: the score per module, recorded.

    python benchmarks/mutation.py [--run] [--record]

``--run`` first runs ``mutmut run`` (configured in pyproject.toml's ``[tool.mutmut]``: the
modules, the test files); it resumes where an earlier run stopped and reruns only the mutants
of changed functions. Without it, the results of the last run are read (``mutmut results``).
The score of a module is ``detected / (mutants − equivalent)``: a mutant is detected when a
test fails (killed) or the tests run past mutmut's time limit (timeout); the equivalent
mutants, which change no behaviour any test could see, are listed with their reasons in
``benchmarks/mutation_equivalent.txt``. Target: ≥ 85% on every module (issue 16).
Slow (about an hour on 2 cores) and outside CI.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
from pathlib import Path

import recorder

HERE = Path(__file__).resolve().parent
EQUIVALENT = HERE / "mutation_equivalent.txt"
TARGET = 0.85
DETECTED = ("killed", "timeout")


def module_of(mutant: str) -> str:
    """The file of a mutant: ``samplers.pool.xǁPoolǁdraw__mutmut_4`` → ``samplers/pool.py``,
    ``samplers.x_get__mutmut_1`` → ``samplers/__init__.py``."""
    dotted = mutant.split(".x", 1)[0] if ".x" in mutant else mutant.rsplit(".", 1)[0]
    path = Path(*dotted.split("."))
    return f"{path}.py" if (recorder.REPOSITORY / f"{path}.py").is_file() else f"{path}/__init__.py"


def results() -> dict[str, str]:
    """``{mutant: status}`` of every mutant, from ``mutmut results --all true``."""
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=recorder.REPOSITORY, check=True, capture_output=True, text=True
    ).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            statuses[name] = status.strip()
    return statuses


def equivalent_mutants(path: Path = EQUIVALENT) -> dict[str, str]:
    """``{mutant: reason}``: each line of ``path`` is a mutant's name, whitespace, then why it is equivalent."""
    listed = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.strip().partition(" ")
            listed[name] = reason.strip()
    return listed


def scores(statuses: dict[str, str], equivalent: dict[str, str]) -> dict[str, collections.Counter]:
    """Per module: the count of mutants by status, with ``equivalent`` the listed survivors."""
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in statuses.items():
        counts = table[module_of(name)]
        counts["mutants"] += 1
        counts["equivalent" if name in equivalent and status not in DETECTED else status] += 1
    return dict(table)


def score(counts: collections.Counter) -> float:
    return sum(counts[s] for s in DETECTED) / max(counts["mutants"] - counts["equivalent"], 1)


def markdown(table: dict[str, collections.Counter]) -> str:
    rows = ["| module | mutants | killed | timeout | survived | no tests | equivalent | score |", "|---" * 8 + "|"]
    unchecked = sum(counts["not checked"] for counts in table.values())
    if unchecked:
        rows.insert(0, f"{unchecked} mutants not checked yet: the scores below are incomplete.\n")
    total: collections.Counter = collections.Counter()
    for module in sorted(table):
        counts = table[module]
        total.update(counts)
        mark = "" if score(counts) >= TARGET else " (below 85%)"
        rows.append(
            f"| `{module}` | {counts['mutants']} | {counts['killed']} | {counts['timeout']} | {counts['survived']} "
            f"| {counts['no tests']} | {counts['equivalent']} | {score(counts):.1%}{mark} |"
        )
    rows.append(
        f"| all | {total['mutants']} | {total['killed']} | {total['timeout']} | {total['survived']} "
        f"| {total['no tests']} | {total['equivalent']} | {score(total):.1%} |"
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="store_true", help="run mutmut first (resumes; slow)")
    parser.add_argument("--record", action="store_true", help="write the table to RESULTS.md through recorder.py")
    args = parser.parse_args()
    if args.run:
        environment = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        subprocess.run(["mutmut", "run", "--max-children", "2"], cwd=recorder.REPOSITORY, env=environment, check=False)
    statuses = results()
    if not statuses:
        print("mutation: no mutmut results; run with --run first", file=sys.stderr)
        return 2
    equivalent = equivalent_mutants()
    table = scores(statuses, equivalent)
    survivors = sorted(n for n, s in statuses.items() if s not in DETECTED and n not in equivalent)
    body = (
        markdown(table)
        + "\n\nSurviving mutants, not listed as equivalent:\n\n"
        + "\n".join(f"- `{n}`" for n in survivors)
    )
    print(body)
    if args.record:
        below = [m for m, counts in table.items() if score(counts) < TARGET]
        worst = min(table, key=lambda m: score(table[m]))
        overall = score(sum(table.values(), collections.Counter()))
        value = f"lowest {score(table[worst]):.1%} (`{worst}`); all modules {overall:.1%}"
        recorder.record(
            "mutation",
            "mutation",
            "python benchmarks/mutation.py --run --record",
            f"mutmut 3 over the modules and test files of pyproject.toml's [tool.mutmut]; equivalent mutants and "
            f"their reasons in benchmarks/mutation_equivalent.txt ({len(equivalent)} listed).\n\n{body}\n",
            {"mutation": (value, recorder.status(not below))},
            title="Mutation testing",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
