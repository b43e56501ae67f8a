"""benchmarks/mutation.py (scores per module) and benchmarks/planted_bugs.py (its plants still apply)."""

import collections
import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    """benchmarks/ is not a package: its scripts are loaded from their files (recorder first)."""
    for module in ("recorder", name):
        if module not in sys.modules:
            spec = importlib.util.spec_from_file_location(module, BENCHMARKS / f"{module}.py")
            sys.modules[module] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(sys.modules[module])
    return sys.modules[name]


mutation = load("mutation")
planted = load("planted_bugs")


@pytest.mark.parametrize(
    "mutant,path",
    [
        ("samplers.pool.xǁPoolǁdraw__mutmut_4", "samplers/pool.py"),
        ("samplers.x_get__mutmut_1", "samplers/__init__.py"),
        ("pdes.fem.linalg.x__bisect__mutmut_1", "pdes/fem/linalg.py"),
        ("pinn.jets.xǁLayoutǁcovering__mutmut_18", "pinn/jets.py"),
    ],
)
def test_a_mutant_is_counted_in_its_file(mutant, path):
    assert mutation.module_of(mutant) == path


def test_the_score_counts_detected_mutants_out_of_those_not_equivalent(tmp_path):
    listed = tmp_path / "equivalent.txt"
    listed.write_text(
        "# a comment\nsamplers.uniform.x_a__mutmut_2 dtype promoted anyway\nsamplers.uniform.x_a__mutmut_1 wrong\n"
    )
    equivalent = mutation.equivalent_mutants(listed)
    assert equivalent == {
        "samplers.uniform.x_a__mutmut_2": "dtype promoted anyway",
        "samplers.uniform.x_a__mutmut_1": "wrong",
    }
    statuses = {f"samplers.uniform.x_a__mutmut_{k}": s for k, s in enumerate(
        ["killed", "killed", "survived", "timeout", "survived", "no tests"]
    )}  # fmt: skip
    counts = mutation.scores(statuses, equivalent)["samplers/uniform.py"]
    # mutant 1 is listed but was killed: it stays killed; mutant 2 is listed and survived: equivalent.
    assert counts == collections.Counter(mutants=6, killed=2, equivalent=1, timeout=1, survived=1, **{"no tests": 1})
    assert mutation.score(counts) == pytest.approx(3 / 5)


def test_the_equivalent_mutants_listed_have_a_reason_each():
    equivalent = mutation.equivalent_mutants()
    assert equivalent and all(len(reason.split()) >= 3 for reason in equivalent.values())


@pytest.mark.parametrize("plant", planted.PLANTS, ids=[p.name for p in planted.PLANTS])
def test_each_planted_bug_still_finds_its_text_once_and_its_tests(plant):
    assert (BENCHMARKS.parent / plant.path).read_text().count(plant.old) == 1
    assert all((BENCHMARKS.parent / test).is_file() for test in plant.tests)
