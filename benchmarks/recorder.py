"""The one recorder of the benchmarks: every run to results/, its question's section of RESULTS.md replaced.

``record(benchmark, section, command, body, targets)`` does two things:

1. It writes the run to ``benchmarks/results/<benchmark>/<date>-<commit>.md`` (``-<section>``
   added to the name when the section is not the benchmark's own, ``-2``, ``-3`` … for a
   repeat at the same date and commit): a header line, the machine line, the command and the
   body. ``results/`` is the whole history; nothing there is ever overwritten.
2. It replaces the section ``section`` of ``benchmarks/RESULTS.md``, which lies between

       <!-- section: ID | benchmark: NAME | date: DATE | commit: COMMIT | run: results/… -->
       …
       <!-- end section: ID -->

   by the new run (a section not yet in the file is appended at its end), and updates the
   rows of the targets table (between ``<!-- targets -->`` and ``<!-- end targets -->``,
   keyed by the id in their first column) given in ``targets``: the latest value, the status
   when one is given, the date and the commit. The old section's run is kept: if its ``run:``
   file is missing it is written to results/ first (a placeholder marked ``commit: none``
   holds no run and is not). Everything outside the replaced section and rows is left byte
   for byte as it was, hand-written readings included.

The commit is ``git rev-parse --short HEAD``, with ``-dirty`` when tracked files other than
RESULTS.md and results/ differ from it. Paths, date and commit are parameters (tests use
temporary copies). benchmarks/ is not a package: scripts run from it import ``recorder``
directly, tests load it by path.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "RESULTS.md"
RESULTS_DIR = HERE / "results"
REPOSITORY = HERE.parent

TARGETS_BEGIN = "<!-- targets -->"
TARGETS_END = "<!-- end targets -->"
SECTION = re.compile(r"^<!-- section: (?P<id>[\w.-]+)(?P<attributes>(?: \| [\w]+: [^|>]*?)*) -->$", re.MULTILINE)
STATUSES = ("met", "not met", "not measured", "no level set")


def machine() -> str:
    """One line: date, CPU (or GPU), cores, torch and its threads, load average."""
    import torch

    cpu = platform.processor() or platform.machine()
    model = Path("/proc/cpuinfo")
    if model.is_file():
        names = [
            line.split(":", 1)[1].strip() for line in model.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (
        f"{datetime.date.today()}, {cpu}, {os.cpu_count()} cores{gpu}, torch {torch.__version__} "
        f"with {torch.get_num_threads()} thread(s), load average {load}"
    )


def commit(repository: Path = REPOSITORY) -> str:
    """``git rev-parse --short HEAD``, ``-dirty`` when tracked code differs from it; ``unknown`` without git."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repository), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git(
            "status", "--porcelain", "--untracked-files=no", "--", ".",
            ":(exclude)benchmarks/RESULTS.md", ":(exclude)benchmarks/results",
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if changed else head


def table_rows(table: str) -> list[dict[str, str]]:
    """The rows of the first markdown table in ``table``, as dicts from header to (stripped) cell."""
    lines = [line.strip() for line in table.splitlines()]
    for i in range(len(lines) - 1):
        if lines[i].startswith("|") and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1]):
            headers = split_row(lines[i])
            rows = []
            for line in lines[i + 2 :]:
                if not line.startswith("|"):
                    break
                rows.append(dict(zip(headers, split_row(line))))
            return rows
    return []


def target_rows(text: str) -> dict[str, dict[str, str]]:
    """The rows of the targets table of ``text`` (a RESULTS.md), by their id (without its backticks)."""
    begin, end = text.find(TARGETS_BEGIN), text.find(TARGETS_END)
    rows = table_rows(text[begin:end]) if 0 <= begin < end else []
    return {row["id"].strip("`"): row for row in rows if "id" in row}


def split_row(line: str) -> list[str]:
    """The cells of one markdown table row."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def record(
    benchmark: str,
    section: str,
    command: str,
    body: str,
    targets: Mapping[str, str | tuple[str, str]] | None = None,
    *,
    title: str | None = None,
    results_md: Path = RESULTS_MD,
    results_dir: Path = RESULTS_DIR,
    date: str | None = None,
    revision: str | None = None,
    machine_line: str | None = None,
) -> Path:
    """Record one run of ``benchmark``: write it to results/, replace ``section`` of RESULTS.md, update ``targets``.

    ``body`` is the run's note and tables (markdown); ``targets`` maps a target id of the
    targets table to its latest value, or to ``(value, status)`` with a status of
    ``STATUSES``. ``title`` heads a section that RESULTS.md does not have yet. ``date``,
    ``revision`` (the commit) and ``machine_line`` default to today, ``commit()`` and
    ``machine()``. Returns the path of the run's file in ``results_dir``.
    """
    results_md, results_dir = Path(results_md), Path(results_dir)
    date = date or datetime.date.today().isoformat()
    revision = revision or commit()
    machine_line = machine_line or machine()
    content = f"Machine: {machine_line}.\nCommand:\n\n    {command}\n\n{body.strip()}\n"
    header = f"Run of {benchmark} ({section}), {date}, commit {revision}; written by benchmarks/recorder.py."
    run = write_run(results_dir / benchmark, f"{date}-{revision}", section, benchmark, f"{header}\n\n{content}")
    if not results_md.exists():
        results_md.write_text("# Benchmark results\n")
    text = results_md.read_text()
    text = replace_section(text, section, benchmark, date, revision, run, content, results_md, title)
    for target, update in (targets or {}).items():
        value, status = (update, None) if isinstance(update, str) else update
        text = update_target(text, target, value, status, date, revision)
    results_md.write_text(text)
    return run


def write_run(folder: Path, stem: str, section: str, benchmark: str, text: str) -> Path:
    """``text`` as a new file of ``folder``, named ``stem[-section][-n].md``; an identical file is reused."""
    folder.mkdir(parents=True, exist_ok=True)
    base = stem if section == benchmark else f"{stem}-{section}"
    for n in range(1, 1000):
        path = folder / (f"{base}.md" if n == 1 else f"{base}-{n}.md")
        if not path.exists():
            path.write_text(text)
            return path
        if path.read_text() == text:
            return path
    raise RuntimeError(f"too many runs named {base} in {folder}")


def section_span(text: str, section: str) -> tuple[int, int, dict[str, str]] | None:
    """Start and end offsets of ``section`` (markers included) in ``text``, and its marker's attributes."""
    for match in SECTION.finditer(text):
        if match.group("id") != section:
            continue
        attributes = dict(
            item.split(": ", 1) for item in (part.strip() for part in match.group("attributes").split("|")) if item
        )
        end_marker = f"<!-- end section: {section} -->"
        end = text.find(end_marker, match.end())
        if end < 0:
            raise ValueError(f"section {section!r} has no '{end_marker}'")
        return match.start(), end + len(end_marker), attributes
    return None


def replace_section(
    text: str,
    section: str,
    benchmark: str,
    date: str,
    revision: str,
    run: Path,
    content: str,
    results_md: Path,
    title: str | None,
) -> str:
    """``text`` with ``section`` replaced by the new run (appended if absent); the old run archived if it was not."""
    link = os.path.relpath(run, results_md.parent)
    block = (
        f"<!-- section: {section} | benchmark: {benchmark} | date: {date} | commit: {revision} | run: {link} -->\n"
        f"Latest run: {date}, commit `{revision}` ([{link}]({link})).\n"
        f"{content}"
        f"<!-- end section: {section} -->"
    )
    span = section_span(text, section)
    if span is None:
        heading = f"\n## {title or section}\n\n"
        return text.rstrip("\n") + "\n" + heading + block + "\n"
    start, end, attributes = span
    archive_old(text[start:end], attributes, section, benchmark, results_md)
    return text[:start] + block + text[end:]


def archive_old(old: str, attributes: dict[str, str], section: str, benchmark: str, results_md: Path) -> None:
    """Write the replaced section to results/ unless the run its marker names is there."""
    named = attributes.get("run")
    if (named and (results_md.parent / named).is_file()) or attributes.get("commit") == "none":
        return  # archived already, or a placeholder that never held a run
    inner = old.split("\n", 1)[1].rsplit("\n", 1)[0] if "\n" in old else ""
    old_date, old_commit = attributes.get("date", "undated"), attributes.get("commit", "unknown")
    folder = (results_md.parent / named).parent if named else results_md.parent / "results" / benchmark
    header = f"Run of {benchmark} ({section}), {old_date}, commit {old_commit}; moved from RESULTS.md by the recorder."
    write_run(folder, f"{old_date}-{old_commit}", section, benchmark, f"{header}\n\n{inner}\n")


def update_target(text: str, target: str, value: str, status: str | None, date: str, revision: str) -> str:
    """``text`` with the targets row ``target`` given ``value`` (and ``status``), ``date`` and ``revision``.

    Rows are ``| `id` | target | latest value | status | date | commit |``; a target not in
    the table is added as a new row (its text is the id until someone writes it).
    """
    if status is not None and status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {STATUSES}")
    begin, end = text.find(TARGETS_BEGIN), text.find(TARGETS_END)
    if begin < 0 or end < begin:
        raise ValueError(f"no targets table ('{TARGETS_BEGIN}' … '{TARGETS_END}') in RESULTS.md")
    lines = text[begin:end].split("\n")
    cell = value.replace("|", "/").replace("\n", " ")
    for i, line in enumerate(lines):
        cells = split_row(line) if line.startswith("|") else []
        if len(cells) >= 6 and cells[0].strip("`") == target:
            cells[2], cells[4], cells[5] = cell, date, f"`{revision}`"
            if status is not None:
                cells[3] = status
            lines[i] = "| " + " | ".join(cells) + " |"
            break
    else:
        last = max(i for i, line in enumerate(lines) if line.startswith("|"))
        row = f"| `{target}` | {target} | {cell} | {status or 'no level set'} | {date} | `{revision}` |"
        lines.insert(last + 1, row)
    return text[:begin] + "\n".join(lines) + text[end:]


def span(values: list[float], digits: int = 0) -> str:
    """``"lo–hi"`` of ``values`` (one number if they agree at ``digits``), ``"-"`` for none."""
    if not values:
        return "-"
    lo, hi = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    return lo if lo == hi else f"{lo}–{hi}"


def status(met: bool) -> str:
    """``met`` or ``not met``."""
    return "met" if met else "not met"
