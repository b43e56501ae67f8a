"""benchmarks/recorder.py on temporary copies: a section replaced in place, the old run kept, target rows updated."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_recorder():
    """benchmarks/ is not a package: the recorder is loaded from its file."""
    spec = importlib.util.spec_from_file_location("recorder", BENCHMARKS / "recorder.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("recorder", module)
    spec.loader.exec_module(module)
    return module


recorder = load_recorder()

RESULTS = """# Benchmark results

<!-- targets -->
| id | target | latest value | status | date | commit |
|---|---|---|---|---|---|
| `speed` | forward ≥ 3× autograd | 1.19× | not met | 2026-01-01 | `aaaaaaa` |
| `memory` | memory flat in the pool | 170 MB | met | 2026-01-01 | `aaaaaaa` |
<!-- end targets -->

## Speed

<!-- section: engine_speed | benchmark: engine_speed | date: 2026-01-01 | commit: aaaaaaa -->
Latest run: 2026-01-01, commit `aaaaaaa`.
Machine: old machine.
Command:

    python benchmarks/engine_speed.py --record

| problem | forward speed-up |
|---|---|
| cavity | 1.19 |
<!-- end section: engine_speed -->

Reading (aaaaaaa): written by hand, kept as it is.

## Memory

<!-- section: memory | date: 2026-01-01 | commit: aaaaaaa | run: results/memory/2026-01-01-aaaaaaa.md -->
Latest run: 2026-01-01, commit `aaaaaaa`.

| batch | peak MB |
|---|---|
| 4096 | 170 |
<!-- end section: memory -->

Reading of memory.
"""

NEW_BODY = "| problem | forward speed-up |\n|---|---|\n| cavity | 3.45 |"


@pytest.fixture
def copy(tmp_path):
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text(RESULTS)
    (tmp_path / "results" / "memory").mkdir(parents=True)
    (tmp_path / "results" / "memory" / "2026-01-01-aaaaaaa.md").write_text("the memory run as recorded\n")
    return results_md, tmp_path / "results"


def record(copy, section="engine_speed", benchmark="engine_speed", body=NEW_BODY, targets=None, **settings):
    results_md, results_dir = copy
    settings = {"date": "2026-12-01", "revision": "bbbbbbb", "machine_line": "new machine", **settings}
    return recorder.record(
        benchmark, section, "python benchmarks/engine_speed.py --record", body, targets,
        results_md=results_md, results_dir=results_dir, **settings,
    )  # fmt: skip


def span(text, section):
    start, end, _ = recorder.section_span(text, section)
    return text[start:end]


def test_the_section_is_replaced_not_appended(copy):
    record(copy, targets={"speed": ("3.45×", "met")})
    text = copy[0].read_text()
    assert text.count("<!-- section: engine_speed ") == 1
    assert text.count("<!-- end section: engine_speed -->") == 1
    new = span(text, "engine_speed")
    assert "| cavity | 3.45 |" in new and "1.19 |" not in new
    assert "date: 2026-12-01 | commit: bbbbbbb | run: results/engine_speed/2026-12-01-bbbbbbb.md" in new
    assert "Machine: new machine." in new
    # the section stays where it was: between the Speed heading and its reading
    assert text.index("## Speed") < text.index("| cavity | 3.45 |") < text.index("Reading (aaaaaaa)")


def test_the_new_and_the_old_run_are_in_results(copy):
    run = record(copy)
    results_dir = copy[1]
    assert run == results_dir / "engine_speed" / "2026-12-01-bbbbbbb.md"
    assert "| cavity | 3.45 |" in run.read_text() and "new machine" in run.read_text()
    old = results_dir / "engine_speed" / "2026-01-01-aaaaaaa.md"  # its marker named no run file: archived now
    assert "| cavity | 1.19 |" in old.read_text() and "Machine: old machine." in old.read_text()


def test_an_archived_old_run_is_not_written_twice(copy):
    results_md, results_dir = copy
    record(copy, section="memory", benchmark="memory", body="| batch | peak MB |\n|---|---|\n| 4096 | 160 |")
    assert sorted(p.name for p in (results_dir / "memory").iterdir()) == [
        "2026-01-01-aaaaaaa.md",
        "2026-12-01-bbbbbbb.md",
    ]
    assert (results_dir / "memory" / "2026-01-01-aaaaaaa.md").read_text() == "the memory run as recorded\n"


def test_a_repeat_at_the_same_commit_gets_its_own_file(copy):
    first = record(copy)
    second = record(copy, body=NEW_BODY.replace("3.45", "3.50"))
    again = record(copy, body=NEW_BODY.replace("3.45", "3.50"))
    assert first.name == "2026-12-01-bbbbbbb.md" and second.name == "2026-12-01-bbbbbbb-2.md"
    assert again == second  # the very same run is not stored twice
    assert "| cavity | 3.50 |" in span(copy[0].read_text(), "engine_speed")


def test_the_targets_row_gets_the_new_value_date_and_commit(copy):
    record(copy, targets={"speed": ("3.45×", "met")})
    rows = recorder.target_rows(copy[0].read_text())
    assert rows["speed"] == {
        "id": "`speed`", "target": "forward ≥ 3× autograd", "latest value": "3.45×", "status": "met",
        "date": "2026-12-01", "commit": "`bbbbbbb`",
    }  # fmt: skip
    assert rows["memory"]["latest value"] == "170 MB" and rows["memory"]["commit"] == "`aaaaaaa`"


def test_a_value_alone_keeps_the_status_and_an_unknown_target_is_added(copy):
    record(copy, targets={"speed": "2.0×", "new_target": ("1 s", "not measured")})
    rows = recorder.target_rows(copy[0].read_text())
    assert rows["speed"]["latest value"] == "2.0×" and rows["speed"]["status"] == "not met"
    assert rows["new_target"]["status"] == "not measured" and rows["new_target"]["latest value"] == "1 s"
    with pytest.raises(ValueError, match="status"):
        record(copy, targets={"speed": ("2.0×", "almost")})


def test_everything_else_is_byte_identical(copy):
    before = copy[0].read_text()
    record(copy, targets={"speed": ("3.45×", "met")})
    after = copy[0].read_text()
    old_row, new_row = (next(line for line in t.splitlines() if line.startswith("| `speed`")) for t in (before, after))
    masked = [
        t.replace(span(t, "engine_speed"), "SECTION").replace(row, "ROW")
        for t, row in ((before, old_row), (after, new_row))
    ]
    assert masked[0] == masked[1]
    assert span(before, "memory") == span(after, "memory")


def test_a_missing_section_is_appended_with_its_title(copy):
    record(copy, section="gpu_check", benchmark="gpu_check", body="all good", title="GPU check")
    text = copy[0].read_text()
    assert text.startswith(RESULTS.rstrip("\n"))
    assert text.rstrip().endswith("<!-- end section: gpu_check -->") and "## GPU check" in text


def test_the_repository_results_file_parses():
    """Every section of benchmarks/RESULTS.md has its end marker and a run file; the targets table has its columns."""
    text = (BENCHMARKS / "RESULTS.md").read_text()
    ids = re.findall(r"^<!-- section: ([\w.-]+) ", text, flags=re.MULTILINE)
    assert len(ids) == len(set(ids)) > 10
    for section in ids:
        _, _, attributes = recorder.section_span(text, section)
        assert attributes["commit"] == "none" or (BENCHMARKS / attributes["run"]).is_file(), section
    rows = recorder.target_rows(text)
    assert len(rows) > 10 and all(r["status"] in recorder.STATUSES for r in rows.values())
    assert len(rows) == text.split("<!-- end targets -->")[0].count("\n| `")  # ids are unique


def test_machine_and_commit():
    assert "cores" in recorder.machine() and "torch" in recorder.machine()
    assert re.fullmatch(r"[0-9a-f]{4,40}(-dirty)?|unknown", recorder.commit())
