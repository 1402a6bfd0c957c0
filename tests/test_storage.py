"""The archive door: atomic writes, nothing outside the root."""

import os

import pytest

from crawler.archive.storage import ArchivePathError, ArchiveStore


def test_refuses_paths_that_leave_the_archive(tmp_path):
    store = ArchiveStore(tmp_path / "archive")
    for bad in ("../x.md", "articles/../../x.md", "/etc/passwd"):
        with pytest.raises(ArchivePathError):
            store.write_text(bad, "no")
    assert not (tmp_path / "x.md").exists()


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    store = ArchiveStore(tmp_path)
    store.write_text("a/b.md", "one")
    store.write_text("a/b.md", "two")
    assert store.read_text("a/b.md") == "two"
    assert os.listdir(tmp_path / "a") == ["b.md"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    store = ArchiveStore(tmp_path)
    store.write_text("a.md", "good")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.write_text("a.md", "bad")
    assert store.read_text("a.md") == "good"
    assert os.listdir(tmp_path) == ["a.md"]


def test_a_crash_before_the_rename_leaves_the_old_file_whole(tmp_path, monkeypatch):
    """The new text goes to a temporary file first: until the rename, the
    target is the old file, whole; after a failure no temporary file stays."""
    store = ArchiveStore(tmp_path)
    store.write_text("a.md", "old text")
    seen = {}

    def crash(src, dst):
        seen["target during write"] = (tmp_path / "a.md").read_text()
        seen["temp file"] = open(src).read()
        raise KeyboardInterrupt  # kill -9 is not catchable; an interrupt here is the nearest thing

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.write_text("a.md", "new text")
    assert seen == {"target during write": "old text", "temp file": "new text"}
    assert os.listdir(tmp_path) == ["a.md"] and store.read_text("a.md") == "old text"
