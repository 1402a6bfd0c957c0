"""The WARC writer and record builder, unit by unit (no crawl)."""

from __future__ import annotations

import gzip
import os
import stat

from scrapy.http import HtmlResponse, Request
from warcio.archiveiterator import ArchiveIterator

from crawler.archive.storage import ArchiveStore
from crawler.warc.records import request_record, response_record
from crawler.warc.recovery import recover_open_files
from crawler.warc.validate import complete_length
from crawler.warc.writer import RotatingWarcWriter


def _response(headers=None, body=b"<html><body>hi</body></html>", url="https://example.org/a"):
    return HtmlResponse(url, status=200, headers=headers or {"Content-Type": "text/html"}, body=body,
                        request=Request(url), ip_address=None)


def _write_pairs(writer, n):
    for i in range(n):
        resp = response_record(writer.builder, _response(url=f"https://example.org/{i}"))
        req = request_record(writer.builder, Request(f"https://example.org/{i}"),
                             concurrent_to=resp.rec_headers.get_header("WARC-Record-ID"))
        writer.write(resp, req)


def _die(writer):
    """The writer's process dies: its descriptor, and with it the lock, goes."""
    os.close(writer._fd)
    writer._fd = None


def test_complete_length_stops_at_the_last_whole_record(tmp_path):
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 3)
    path = tmp_path / (writer.filename + ".open")
    whole = path.read_bytes()
    assert complete_length(path, chunk_size=7) == len(whole)  # tiny chunks: boundaries inside chunks
    path.write_bytes(whole + gzip.compress(b"WARC/1.0\r\n")[:-5])  # a record cut mid-member
    assert complete_length(path) == len(whole)
    path.write_bytes(whole + b"not gzip at all")
    assert complete_length(path) == len(whole)
    last = gzip.decompress(whole)[-300:]  # the end of the last record
    cut_record = gzip.compress(b"WARC/1.0\r\nContent-Length: 500\r\n\r\n" + last)
    path.write_bytes(whole + cut_record)  # a whole gzip member holding a cut record
    assert complete_length(path) == len(whole)
    path.write_bytes(whole + gzip.compress(b""))  # a member holding no record
    assert complete_length(path) == len(whole)
    whole_record = gzip.compress(b"WARC/1.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n")
    path.write_bytes(whole + whole_record)
    assert complete_length(path) == len(whole) + len(whole_record)
    path.write_bytes(b"")
    assert complete_length(path) == 0
    _die(writer)


def test_recovery_skips_a_file_a_live_writer_holds(tmp_path):
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 1)
    assert recover_open_files(tmp_path) == []
    assert (tmp_path / (writer.filename + ".open")).exists()
    name = writer.filename
    writer.close()
    assert (tmp_path / name).exists() and writer.closed_files == [name]


def test_recovery_cuts_a_partial_record_and_closes_the_file(tmp_path):
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 2)
    name = writer.filename
    open_path = tmp_path / (name + ".open")
    good = open_path.read_bytes()
    _die(writer)  # its lock goes with it
    open_path.write_bytes(good + good[len(good) // 2:][:100])
    assert recover_open_files(tmp_path) == [name]
    assert not open_path.exists()
    assert (tmp_path / name).read_bytes() == good
    assert len(list(ArchiveIterator(open(tmp_path / name, "rb")))) == 5  # warcinfo + 2 pairs


def test_new_files_never_appear_unlocked(tmp_path):
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 1)
    assert [p.name for p in tmp_path.iterdir()] == [writer.filename + ".open"]
    assert recover_open_files(tmp_path) == []
    writer.close()


def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        writer = RotatingWarcWriter(tmp_path, prefix="t")
        _write_pairs(writer, 1)
        writer.close()
        ArchiveStore(tmp_path).write_text("a.md", "x")
    finally:
        os.umask(old)
    for path in (tmp_path / writer.closed_files[0], tmp_path / "a.md"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_header_bytes_are_stored_as_served(tmp_path):
    served = "attachment; filename*=UTF-8''新闻.html".encode("utf-8") + b"; x=\xff"  # not even UTF-8
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    record = response_record(writer.builder, _response({"Content-Type": "text/html", "Content-Disposition": served}))
    writer.write(record)
    writer.close()
    data = gzip.decompress((tmp_path / writer.closed_files[0]).read_bytes())
    assert b"Content-Disposition: " + served + b"\r\n" in data
    # and the record still reads and verifies
    import subprocess
    import sys
    from pathlib import Path
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(tmp_path / writer.closed_files[0])],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_no_peer_address_for_proxied_responses(tmp_path):
    from ipaddress import ip_address

    writer = RotatingWarcWriter(tmp_path, prefix="t")
    response = HtmlResponse("https://example.org/", body=b"x", ip_address=ip_address("127.0.0.1"))
    direct = response_record(writer.builder, response)
    proxied = response_record(writer.builder, response, via_proxy=True)
    assert direct.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert proxied.rec_headers.get_header("WARC-IP-Address") is None
    writer.close()


def test_recovery_removes_temporary_files_of_dead_writers_only(tmp_path):
    dead = tmp_path / ".new-dead.warc.gz.tmp"
    dead.write_bytes(b"")
    os.utime(dead, (1, 1))  # long ago
    young = tmp_path / ".new-young.warc.gz.tmp"  # a writer between creating and locking it
    young.write_bytes(b"")
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 1)
    recover_open_files(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".new-young.warc.gz.tmp", writer.filename + ".open"]
    writer.close()


def test_files_get_their_name_on_filesystems_without_hard_links(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 1)
    name = writer.filename
    assert sorted(p.name for p in tmp_path.iterdir()) == [name + ".open"]
    assert recover_open_files(tmp_path) == []  # still locked by its writer
    writer.close()
    assert len(list(ArchiveIterator(open(tmp_path / name, "rb")))) == 3


def test_close_renames_before_it_lets_go_of_the_lock(tmp_path, monkeypatch):
    import fcntl

    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 1)
    open_path = tmp_path / (writer.filename + ".open")
    events = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(a, b):
        with open(open_path, "rb") as other:  # what another crawl's recovery would try
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                events.append("rename unlocked")
            except BlockingIOError:
                events.append("rename locked")
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    writer.close()
    assert events[:2] == ["fsync", "rename locked"]


def test_a_freshly_reserved_empty_name_is_spared_an_old_one_is_not(tmp_path):
    young = tmp_path / "t-20250101000000000-00001-h.warc.gz.open"
    old = tmp_path / "t-20240101000000000-00001-h.warc.gz.open"
    young.write_bytes(b"")
    old.write_bytes(b"")
    os.utime(old, (1, 1))
    assert recover_open_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [young.name]


def test_recovery_leaves_a_file_its_writer_renamed_meanwhile(tmp_path, monkeypatch):
    import fcntl as fcntl_module

    writer = RotatingWarcWriter(tmp_path, prefix="t")
    _write_pairs(writer, 1)
    name = writer.filename
    _die(writer)  # lock released
    real_flock = fcntl_module.flock

    def rename_then_lock(fd, op):  # another process renames the file under our feet
        os.replace(tmp_path / (name + ".open"), tmp_path / name)
        return real_flock(fd, op)

    monkeypatch.setattr(fcntl_module, "flock", rename_then_lock)
    assert recover_open_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def _member_sizes(tmp_path, response):
    """(stored bytes, uncompressed bytes) of the response record written for ``response``."""
    writer = RotatingWarcWriter(tmp_path, gzip_level=6)
    record = response_record(writer.builder, response)
    member = writer.builder.serialise(record)
    return len(member), len(gzip.decompress(member))


def test_a_payload_compressed_already_is_stored_not_deflated_again(tmp_path):
    html = b"<html><body>" + b"<p>news paragraph words repeat</p>" * 2000 + b"</body></html>"
    encoded = HtmlResponse("https://example.com/a", body=gzip.compress(html),
                           headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    photo = HtmlResponse("https://example.com/p.jpg", body=os.urandom(20_000) + b"\0" * 20_000,
                         headers={"Content-Type": "image/jpeg"})
    plain = HtmlResponse("https://example.com/b", body=html, headers={"Content-Type": "text/html"})
    for response in (encoded, photo):
        stored, raw = _member_sizes(tmp_path, response)
        assert stored > raw  # deflate's stored blocks: the bytes as they are, plus framing
    stored, raw = _member_sizes(tmp_path, plain)
    assert stored < raw / 10  # everything else at WARC_GZIP_LEVEL
    writer = RotatingWarcWriter(tmp_path / "w")
    writer.write(response_record(writer.builder, encoded), response_record(writer.builder, photo))
    writer.close()
    with open(tmp_path / "w" / writer.closed_files[0], "rb") as stream:
        bodies = [r.raw_stream.read() for r in ArchiveIterator(stream) if r.rec_type == "response"]
    assert bodies == [encoded.body, photo.body]
