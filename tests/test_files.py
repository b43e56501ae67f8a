"""The project's one atomic writer (pdes.files.atomic_write): temp file beside the path, rename, umask mode."""

import os
import stat

import pytest

import pinn.io
from pdes.files import atomic_write


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_appears_only_when_written_whole(tmp_path):
    target = tmp_path / "report.json"
    seen = {}

    def write(tmp):
        seen["tmp"] = tmp
        seen["target existed"] = target.exists()
        tmp.write_text("new")

    atomic_write(target, write)
    assert seen["target existed"] is False
    assert seen["tmp"] != target and seen["tmp"].parent == target.parent
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_an_existing_file_keeps_its_content_until_the_rename(tmp_path):
    target = tmp_path / "run.h5"
    target.write_text("old")

    def write(tmp):
        assert target.read_text() == "old"
        tmp.write_text("new")
        assert target.read_text() == "old"

    atomic_write(target, write)
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]


@pytest.mark.parametrize("error", [ValueError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, error):
    target = tmp_path / "cache.h5"
    target.write_text("old")

    def write(tmp):
        tmp.write_text("half")
        raise error

    with pytest.raises(type(error)):
        atomic_write(target, write)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.h5"]


def test_a_failed_first_write_leaves_nothing(tmp_path):
    def write(tmp):
        raise OSError("no space left")

    with pytest.raises(OSError, match="no space left"):
        atomic_write(tmp_path / "study.md", write)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask,expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_every_file_written_has_the_mode_the_users_umask_gives(tmp_path, umask, expected):
    """As a file created normally: 0666 less the umask, also where an older file had another mode."""
    old = os.umask(umask)
    try:
        new = tmp_path / "new.txt"
        atomic_write(new, lambda tmp: tmp.write_text("x"))
        other = tmp_path / "other.txt"
        other.write_text("old")
        other.chmod(0o640)
        atomic_write(other, lambda tmp: tmp.write_text("x"))
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    assert mode(new) == mode(other) == mode(plain) == expected


def test_missing_parent_directories_are_created(tmp_path):
    target = tmp_path / "a" / "b" / "file.txt"
    atomic_write(target, lambda tmp: tmp.write_text("x"))
    assert target.read_text() == "x"


def test_pinn_io_uses_the_same_writer():
    assert pinn.io.atomic_write is atomic_write


def test_the_temporary_file_is_hidden_beside_the_target_and_named_after_it(tmp_path):
    """``.<name>.<random>.tmp``: hidden from listings, recognisable after a crash, ignored by git (``*.tmp``)."""
    seen = []
    atomic_write(tmp_path / "report.json", lambda tmp: seen.append(tmp) or tmp.write_text("x"))
    assert seen[0].name.startswith(".report.json.") and seen[0].name.endswith(".tmp")


def test_a_write_that_removed_its_temporary_file_fails_with_its_own_error(tmp_path):
    def write(tmp):
        tmp.unlink()
        raise ValueError("the writer's own error")

    with pytest.raises(ValueError, match="the writer's own error"):
        atomic_write(tmp_path / "run.h5", write)
    assert list(tmp_path.iterdir()) == []
