"""WARC files that cannot lie: a full disk, failed fsyncs and closes, symbolic
links planted in the WARC folder, and a killed writer under each fsync policy.

The full disk is simulated: ``os.write`` to files under the test folder
writes only what still fits in a fixed capacity, then fails with ENOSPC, as
a real filesystem does (a short write, then the error).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from twisted.internet import task
from warcio.archiveiterator import ArchiveIterator

from crawler.archive.storage import ArchivePathError
from crawler.extensions.warcwriter import _IntervalSync, shared_writer
from crawler.warc.index import build_index
from crawler.warc.records import request_record, response_record
from crawler.warc.recovery import recover_open_files
from crawler.warc.validate import complete_length
from crawler.warc.writer import RotatingWarcWriter, WarcWriteError
from tests.conftest import ROOT
from tests.test_warc import assert_warcio_check_ok
from tests.test_warcindex import project_crawler

BODY = ("<html><body>" + "<p>Markets weigh the artificial intelligence boom.</p>" * 40 + "</body></html>").encode()


def _pair(writer, i):
    url = f"https://example.org/story-{i}"
    resp = response_record(writer.builder, HtmlResponse(url, status=200, body=BODY + str(i).encode(),
                                                        headers={"Content-Type": "text/html"},
                                                        request=Request(url)))
    req = request_record(writer.builder, Request(url), concurrent_to=resp.rec_headers.get_header("WARC-Record-ID"))
    return resp, req


class Disk:
    """A disk of ``capacity`` bytes below ``root``; other files are not limited."""

    def __init__(self, root: Path, capacity: int, monkeypatch):
        self.root, self.capacity = str(root), capacity
        self.real_write = os.write
        self.fail_truncate = False
        monkeypatch.setattr(os, "write", self.write)
        real_ftruncate = os.ftruncate

        def ftruncate(fd, length):
            if self.fail_truncate and self._ours(fd):
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return real_ftruncate(fd, length)

        monkeypatch.setattr(os, "ftruncate", ftruncate)

    def _ours(self, fd) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(self.root)
        except OSError:
            return False

    def used(self) -> int:
        return sum(p.stat().st_size for p in Path(self.root).rglob("*") if p.is_file() and not p.is_symlink())

    def write(self, fd, data):
        if not self._ours(fd):
            return self.real_write(fd, data)
        free = self.capacity - self.used()
        if free <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.real_write(fd, bytes(data[:free]))


def assert_clean_archive(warc_dir: Path) -> list[Path]:
    """No file is left open, and every file with a final name reads whole to
    its end: gzip -t, warcio check, and whole records up to the last byte."""
    assert not sorted(warc_dir.glob("*.open")), "a file is still open"
    finals = sorted(warc_dir.glob("*.warc.gz"))
    for path in finals:
        assert complete_length(path) == path.stat().st_size, f"{path.name} ends inside a record"
        gz = subprocess.run(["gzip", "-t", str(path)], capture_output=True, text=True)
        assert gz.returncode == 0, f"gzip -t {path.name}: {gz.stderr}"
        assert_warcio_check_ok(path)
    return finals


def read_uris(path: Path) -> list[tuple[int, str, str]]:
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        return [(it.get_record_offset(), r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in it]


# --- a full disk -------------------------------------------------------------

def test_a_full_disk_rolls_back_each_failed_group_and_the_writer_goes_on(tmp_path, monkeypatch):
    warc_dir = tmp_path / "warc"
    writer = RotatingWarcWriter(warc_dir, prefix="t")
    written = {0: writer.write(*_pair(writer, 0))}
    name = writer.filename
    open_path = warc_dir / (name + ".open")
    group = open_path.stat().st_size  # warcinfo and one group: more than a group
    disk = Disk(warc_dir, open_path.stat().st_size + int(2.5 * group), monkeypatch)
    errors = []
    for i in range(1, 8):
        before = open_path.stat().st_size
        try:
            written[i] = writer.write(*_pair(writer, i))
        except WarcWriteError as exc:
            errors.append(exc)
            assert open_path.stat().st_size == before, "the failed group was not cut off"
            assert complete_length(open_path) == before
    assert len(written) >= 3 and errors, (len(written), errors)
    for exc in errors:
        assert isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        assert "WARC write failed (No space left on device): record rolled back" in str(exc)
    assert writer.filename == name, "a rolled-back write must not give up the file"

    disk.capacity *= 10  # space freed: the same writer writes on, into the same file
    written[8] = writer.write(*_pair(writer, 8))
    assert writer.filename == name
    writer.close()
    [path] = assert_clean_archive(warc_dir)
    records = read_uris(path)
    assert len(records) == 1 + 2 * len(written)
    by_offset = {offset: (kind, uri) for offset, kind, uri in records}
    for i, where in written.items():
        assert where["warc_file"] == name
        assert by_offset[where["offset"]] == ("response", f"https://example.org/story-{i}")


def test_a_full_disk_at_a_new_file_leaves_no_broken_file(tmp_path, monkeypatch):
    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    disk = Disk(warc_dir, 100, monkeypatch)  # not even a warcinfo record fits
    writer = RotatingWarcWriter(warc_dir, prefix="t")
    with pytest.raises(WarcWriteError, match=r"WARC file could not be started \(No space left on device\)") as failed:
        writer.write(*_pair(writer, 0))
    assert failed.value.errno == errno.ENOSPC
    assert list(warc_dir.iterdir()) == []
    disk.capacity = 10**9
    writer.write(*_pair(writer, 1))
    writer.close()
    assert_clean_archive(warc_dir)


def test_a_roll_back_that_cannot_cut_gives_up_the_file_for_recovery(tmp_path, monkeypatch):
    warc_dir = tmp_path / "warc"
    writer = RotatingWarcWriter(warc_dir, prefix="t")
    writer.write(*_pair(writer, 0))
    first = writer.filename
    disk = Disk(warc_dir, (warc_dir / (first + ".open")).stat().st_size + 500, monkeypatch)
    disk.fail_truncate = True
    with pytest.raises(WarcWriteError, match=r"No space left on device.*left for the next crawl's recovery"):
        writer.write(*_pair(writer, 1))
    assert writer.filename is None
    assert (warc_dir / (first + ".open")).stat().st_size > complete_length(warc_dir / (first + ".open"))
    disk.fail_truncate, disk.capacity = False, 10**9
    writer.write(*_pair(writer, 2))  # a new file
    second = writer.filename
    assert second != first
    writer.close()
    assert not (warc_dir / first).exists(), "a cut-off file got its final name"
    assert recover_open_files(warc_dir) == [first]  # the next crawl
    assert_clean_archive(warc_dir)
    # recovery keeps whole records: the first group, and perhaps the response
    # of the group that failed (a true capture whose request record was cut)
    kept = [uri for _, kind, uri in read_uris(warc_dir / first) if kind == "response"]
    assert kept in (["https://example.org/story-0"], ["https://example.org/story-0", "https://example.org/story-1"])


@pytest.mark.parametrize("step", ["fsync", "close", "replace"])
def test_a_file_whose_close_breaks_keeps_its_open_name(tmp_path, monkeypatch, step):
    warc_dir = tmp_path / "warc"
    writer = RotatingWarcWriter(warc_dir, prefix="t", fsync="interval", fsync_interval=3600)
    writer.write(*_pair(writer, 0))
    name, fd = writer.filename, writer._fd
    real = getattr(os, step)

    def broken(*args):
        if step in ("fsync", "close") and args[0] != fd:
            return real(*args)
        if step == "close":
            real(*args)  # the descriptor is gone, as after a real close error
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, step, broken)
    with pytest.raises(WarcWriteError, match=r"WARC close failed \(Input/output error\)"):
        writer.close()
    monkeypatch.undo()
    assert (warc_dir / (name + ".open")).exists() and not (warc_dir / name).exists()
    assert recover_open_files(warc_dir) == [name]  # the next crawl; the lock was let go
    assert_clean_archive(warc_dir)


def test_the_next_crawl_indexes_everything_a_full_disk_crawl_left(tmp_path, monkeypatch):
    warc_dir = tmp_path / "warc"
    writer = RotatingWarcWriter(warc_dir, prefix="t", max_size=3000)
    writer.write(*_pair(writer, 0))
    disk = Disk(warc_dir, 9000, monkeypatch)
    written, given_up = {"https://example.org/story-0"}, set()
    for i in range(1, 20):
        try:
            writer.write(*_pair(writer, i))
            written.add(f"https://example.org/story-{i}")
        except WarcWriteError as exc:
            if "left for the next crawl's recovery" in str(exc):
                given_up.add(f"https://example.org/story-{i}")
        if i == 12:
            disk.fail_truncate = True  # one roll-back fails: that file is given up
        if i == 14:
            disk.fail_truncate = False
            disk.capacity = 30000
    try:
        writer.close()
    except WarcWriteError:
        pass
    monkeypatch.undo()
    for path in warc_dir.glob("*.warc.gz"):  # nothing broken ever got a final name
        assert complete_length(path) == path.stat().st_size, path.name
    recover_open_files(warc_dir)  # the next crawl starts
    result = build_index(tmp_path)
    assert result.damaged == {}
    finals = assert_clean_archive(warc_dir)
    responses = {uri for path in finals for _, kind, uri in read_uris(path) if kind == "response"}
    assert given_up and len(finals) >= 3, "the scenario did not give up a file or rotate"
    assert written <= responses <= written | given_up
    index = (tmp_path / "index.cdxj").read_text()
    assert all(uri in index for uri in responses)


# --- fsync policy and gzip level --------------------------------------------

def _count_fsyncs(monkeypatch, writer) -> list:
    calls, real = [], os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd == writer._fd), real(fd)))
    return calls


def test_record_policy_syncs_every_group(tmp_path, monkeypatch):
    writer = RotatingWarcWriter(tmp_path, prefix="t", fsync="record")
    writer.write(*_pair(writer, 0))
    calls = _count_fsyncs(monkeypatch, writer)
    for i in range(5):
        writer.write(*_pair(writer, i))
    assert calls.count(True) == 5


def test_interval_policy_syncs_when_due_and_at_close(tmp_path, monkeypatch):
    writer = RotatingWarcWriter(tmp_path, prefix="t", fsync="interval", fsync_interval=3600)
    writer.write(*_pair(writer, 0))
    calls = _count_fsyncs(monkeypatch, writer)
    for i in range(5):
        writer.write(*_pair(writer, i))
    assert calls.count(True) == 0
    writer.sync()
    writer.sync()  # nothing new written: no second fsync
    assert calls.count(True) == 1
    writer.fsync_interval = 0
    writer.write(*_pair(writer, 9))
    assert calls.count(True) == 2
    writer.fsync_interval = 3600
    writer.write(*_pair(writer, 10))
    writer.close()
    assert len(calls) >= 3


def test_interval_sync_runs_on_the_clock(tmp_path, monkeypatch):
    writer = RotatingWarcWriter(tmp_path, prefix="t", fsync="interval", fsync_interval=2)
    writer.write(*_pair(writer, 0))
    writer.write(*_pair(writer, 1))
    calls = _count_fsyncs(monkeypatch, writer)
    clock = task.Clock()
    syncer = _IntervalSync(writer, clock=clock)
    syncer.start()
    clock.advance(1)
    assert calls.count(True) == 0
    clock.advance(1)
    assert calls.count(True) == 1
    syncer.close()
    assert not syncer.loop.running and writer.closed_files


def test_gzip_level_is_applied(tmp_path):
    sizes = {}
    for level in (1, 9):
        writer = RotatingWarcWriter(tmp_path / str(level), prefix="t", gzip_level=level)
        for i in range(3):
            writer.write(*_pair(writer, i))
        writer.close()
        [path] = assert_clean_archive(tmp_path / str(level))
        sizes[level] = path.stat().st_size
    assert sizes[9] < sizes[1]


def test_shared_writer_takes_the_settings(tmp_path):
    defaults = shared_writer(project_crawler(ARCHIVE_DIR=str(tmp_path)))
    assert (defaults.builder.level, defaults.fsync) == (6, "record")
    crawler = project_crawler(ARCHIVE_DIR=str(tmp_path), WARC_GZIP_LEVEL=2, WARC_FSYNC="interval",
                              WARC_FSYNC_INTERVAL=5)
    writer = shared_writer(crawler)
    assert (writer.builder.level, writer.fsync, writer.fsync_interval) == (2, "interval", 5.0)
    assert shared_writer(crawler) is writer
    with pytest.raises(ValueError, match="WARC_FSYNC"):
        shared_writer(project_crawler(ARCHIVE_DIR=str(tmp_path), WARC_FSYNC="sometimes"))


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.test_warc_failures import _pair
    from crawler.warc.writer import RotatingWarcWriter
    writer = RotatingWarcWriter({folder!r}, prefix="k", fsync={policy!r}, fsync_interval=3600)
    for i in range({n}):
        writer.write(*_pair(writer, i))
    print(writer.filename, flush=True)
    time.sleep(60)
""")


@pytest.mark.parametrize("policy", ["record", "interval"])
def test_kill_9_loses_no_written_record_under_either_policy(tmp_path, policy):
    n = 25
    code = KILLED_WRITER.format(root=str(ROOT), folder=str(tmp_path), policy=policy, n=n)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        name = proc.stdout.readline().strip()
        assert name, "the writer did not get to its records"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert recover_open_files(tmp_path) == [name]
    [path] = assert_clean_archive(tmp_path)
    uris = [uri for _, kind, uri in read_uris(path) if kind == "response"]
    assert uris == [f"https://example.org/story-{i}" for i in range(n)]


# --- recovery never follows a link out of the WARC folder -------------------

ORPHAN = b"these bytes are not a WARC, and not the archive's"


def test_recovery_leaves_symbolic_links_and_their_targets_alone(tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim, old_victim = outside / "precious.bin", outside / "old.bin"
    victim.write_bytes(ORPHAN)
    old_victim.write_bytes(ORPHAN)
    os.utime(old_victim, (1, 1))
    warc_dir = tmp_path / "archive" / "warc"
    warc_dir.mkdir(parents=True)
    (warc_dir / "t-20240101000000000-00001-h.warc.gz.open").symlink_to(victim)
    (warc_dir / ".new-abc.warc.gz.tmp").symlink_to(old_victim)
    os.mkfifo(warc_dir / "t-20240101000000000-00002-h.warc.gz.open")  # must not block
    linked = warc_dir / "t-20240101000000000-00003-h.warc.gz.open"
    os.link(victim, linked)  # a hard link: the same bytes as the outside file
    os.utime(linked, (1, 1))
    with caplog.at_level(logging.WARNING):
        assert recover_open_files(warc_dir) == []
    assert victim.read_bytes() == ORPHAN and old_victim.read_bytes() == ORPHAN
    assert sorted(p.name for p in warc_dir.iterdir()) == [
        ".new-abc.warc.gz.tmp", "t-20240101000000000-00001-h.warc.gz.open",
        "t-20240101000000000-00002-h.warc.gz.open", "t-20240101000000000-00003-h.warc.gz.open"]
    log = caplog.text
    assert "t-20240101000000000-00001-h.warc.gz.open is a symbolic link; left alone" in log
    assert ".new-abc.warc.gz.tmp is a symbolic link; left alone" in log
    assert "t-20240101000000000-00002-h.warc.gz.open is not a regular file; left alone" in log
    assert "t-20240101000000000-00003-h.warc.gz.open has 2 hard links" in log


def test_the_crawl_refuses_a_warc_folder_leading_out_of_the_archive(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "warc").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ArchivePathError):
        shared_writer(project_crawler(ARCHIVE_DIR=str(tmp_path / "archive")))


def test_recovery_refuses_a_warc_folder_that_is_a_symbolic_link(tmp_path, caplog):
    elsewhere = tmp_path / "elsewhere"
    writer = RotatingWarcWriter(elsewhere, prefix="t")
    writer.write(*_pair(writer, 0))
    name = writer.filename
    os.close(writer._fd)  # its writer died: an orphan, but not the archive's
    orphan = elsewhere / (name + ".open")
    orphan.write_bytes(orphan.read_bytes() + b"\x1f\x8b cut")
    before = orphan.read_bytes()
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "warc").symlink_to(elsewhere)
    with caplog.at_level(logging.WARNING):
        assert recover_open_files(archive / "warc") == []
    assert orphan.read_bytes() == before and not (elsewhere / name).exists()
    assert "is a symbolic link or not a folder" in caplog.text
