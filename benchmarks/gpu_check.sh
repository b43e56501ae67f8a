#!/usr/bin/env bash
# The GPU check, under 6 minutes on one H100/H200: the tests marked `cuda`, the engine benchmark
# at GPU size (width 256, batch 65536, shared points) and the utilization of that step; the run
# goes through benchmarks/recorder.py to benchmarks/results/gpu_check/<date>-<commit>.md and the
# gpu_check section and GPU target rows of benchmarks/RESULTS.md.
#
#     bash benchmarks/gpu_check.sh
#
# Without a CUDA device it prints one line and exits 0. Exit status 1: a step failed, ran out of
# its time, or was skipped because its benchmark has no --device flag yet (the run is recorded
# all the same, saying so).
set -uo pipefail
cd "$(dirname "$0")/.."

if ! python -c "import torch" 2>/dev/null; then
    echo "gpu_check: torch cannot be imported by $(command -v python)" >&2
    exit 1
fi
if ! python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: no CUDA device (torch.cuda.is_available() is False); nothing to do"
    exit 0
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=0

# step NAME SECONDS COMMAND...: run COMMAND with a time limit, its output to $logs/NAME.out, its status to $logs/NAME.rc
step() {
    local name=$1 seconds=$2
    shift 2
    echo "gpu_check: $name: $*"
    timeout --kill-after=10 "$seconds" "$@" >"$logs/$name.out" 2>&1
    local rc=$?
    echo "$rc" >"$logs/$name.rc"
    tail -n 3 "$logs/$name.out"
    [ "$rc" -eq 0 ] || failed=1
}

# skipped NAME SCRIPT: a benchmark without --device cannot run on the GPU; say so in the record
has_device_flag() { python "$1" --help 2>/dev/null | grep -q -- "--device"; }
skipped() {
    echo "gpu_check: $1: skipped, $2 has no --device flag yet"
    echo "$2 has no --device flag yet" >"$logs/$1.out"
    echo 2 >"$logs/$1.rc"
    failed=1
}

step tests 120 python -m pytest -q -m cuda -p no:cacheprovider

engine=(benchmarks/engine_speed.py --problems cavity,heat2d --widths 256 --batches 65536 --shared-points
    --rounds 3 --device cuda)
if has_device_flag benchmarks/engine_speed.py; then step engine 150 python "${engine[@]}"; else skipped engine benchmarks/engine_speed.py; fi

utilization=(benchmarks/utilization.py --problems cavity,heat2d --widths 256 --batches 65536 --peak-size 8192
    --device cuda)
if has_device_flag benchmarks/utilization.py; then
    step utilization 60 python "${utilization[@]}"
else
    skipped utilization benchmarks/utilization.py
fi

python - "$logs" "${engine[*]}" "${utilization[*]}" <<'EOF'
"""Record the check: each step's status and table (the last markdown table it printed)."""
import sys
from pathlib import Path

sys.path.insert(0, "benchmarks")
from recorder import record, status, table_rows  # noqa: E402

logs, engine, utilization = Path(sys.argv[1]), sys.argv[2], sys.argv[3]


def outcome(name: str) -> tuple[int, str]:
    return int((logs / f"{name}.rc").read_text()), (logs / f"{name}.out").read_text()


def last_table(text: str) -> str:
    """The last markdown table of ``text``: the line above its last separator row, that row and the rows below."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if i and line.startswith("|") and set(line) <= set("|-: ")]
    if not rules:
        return ""
    end = rules[-1] + 1
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[rules[-1] - 1 : end])


def said(rc: int) -> str:
    return {0: "passed", 2: "skipped", 124: "ran out of its time", 137: "killed after its time"}.get(rc, f"exit {rc}")


parts, targets = [], {}
rc, out = outcome("tests")
summary = next((line for line in reversed(out.splitlines()) if line.strip()), "no output")
parts.append(f"**Tests marked cuda** (`python -m pytest -q -m cuda`): {said(rc)}; `{summary.strip('= ')}`.")
targets["gpu_cuda_tests"] = (summary.strip("= "), status(rc == 0))

for name, command, column, target, level in (
    ("engine", engine, "forward speed-up", "engine_gpu", 3.0),
    ("utilization", utilization, "utilization", "utilization_gpu", 30.0),
):
    rc, out = outcome(name)
    table = last_table(out) if rc == 0 else ""
    why = f" ({out.strip()})" if rc == 2 else ""
    parts.append(f"**{name}** (`python {command}`): {said(rc)}{why}." + (f"\n\n{table}" if table else ""))
    if rc != 0 and rc != 2:
        parts.append("    " + "\n    ".join(out.splitlines()[-5:]))
    values = [
        float(r[column].rstrip("%"))
        for r in table_rows(table)
        if (r.get("problem"), r.get("width"), r.get("batch")) == ("cavity", "256", "65536")
        and r.get("engine", "forward") == "forward"
        and column in r
    ]
    if values:
        shown = f"{min(values):.2f}×" if name == "engine" else f"forward {min(values):.0f}%"
        targets[target] = (f"{shown} (cavity)", status(min(values) >= level))

run = record("gpu_check", "gpu_check", "bash benchmarks/gpu_check.sh", "\n\n".join(parts), targets,
             title="GPU check (benchmarks/gpu_check.sh)")  # fmt: skip
print(f"gpu_check: recorded {run}")
EOF
[ $? -eq 0 ] || failed=1
exit "$failed"
