"""Every Python block of README.md runs as pasted, in order, in one namespace (a later block may
use an earlier one's names), with each solve shortened to a few steps."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
SHORT = dict(steps=3, lbfgs_steps=0, batch=32, width=8, depth=1, eval_points=64, replicates=2, progress=False)


def test_the_readme_has_python_blocks_and_no_links_outside_the_repository():
    assert len(BLOCKS) >= 3
    assert "../shared" not in README.read_text()


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch, short_solves):
    short_solves(**SHORT)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(BLOCKS, 1):
        try:
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)
        except Exception as error:  # name the block that failed
            pytest.fail(f"README python block {number} failed: {type(error).__name__}: {error}")
    assert (tmp_path / "runs" / "heat2d" / "report.json").is_file()
    assert (tmp_path / "loss.csv").is_file()
