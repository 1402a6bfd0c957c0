"""The archive door: atomic writes, nothing outside the root."""

import os

import pytest

from crawler.storage import ArchivePathError, ArchiveStore


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
