"""The CDXJ index: incremental, equal to a full rebuild, and deaf to damaged WARCs."""

from __future__ import annotations

import gzip
import io
import logging
import shutil
from pathlib import Path

import pytest
from cdxj_indexer.main import CDXJIndexer
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.extensions.warcindex import CdxjIndex
from crawler.warc.index import build_index
from crawler.warc.records import metadata_record, request_record, response_record, text_record
from crawler.warc.writer import RotatingWarcWriter


def project_crawler(**settings):
    """A crawler with the project's settings, ``settings`` on top (and the
    reactor get_crawler finds installed)."""
    base = {name: getattr(project_settings, name) for name in dir(project_settings)
            if name.isupper() and name != "TWISTED_REACTOR"}
    return get_crawler(settings_dict={**base, **settings})


def crawl_into(archive: Path, prefix: str, pages: range, max_size: int = 4000) -> list[str]:
    """Write captures of ``pages`` as a crawl would (response, request, Markdown,
    metadata), rotating small files; returns the closed file names."""
    writer = RotatingWarcWriter(archive / "warc", prefix=prefix, max_size=max_size)
    for i in pages:
        url = f"https://news.example.org/{i % 7}/story-{i}.html?b=2&a=1"
        body = f"<html><body><p>Story {i}</p></body></html>".encode()
        resp = response_record(writer.builder, HtmlResponse(url, status=200 if i % 5 else 301, body=body,
                                                            headers={"Content-Type": "text/html"},
                                                            request=Request(url)))
        rid = resp.rec_headers.get_header("WARC-Record-ID")
        writer.write(resp, request_record(writer.builder, Request(url), concurrent_to=rid))
        writer.write(text_record(writer.builder, url, f"# Story {i}\n", rid),
                     metadata_record(writer.builder, url, {"article-file": f"a/{i}.md"}, rid))
    writer.close()
    return writer.closed_files


def reference_index(archive: Path) -> str:
    """What the crawler wrote before it indexed incrementally: cdxj-indexer
    over every WARC at once, sorted by its own sorter."""
    out = io.StringIO()
    warcs = sorted(str(p) for p in (archive / "warc").glob("*.warc.gz"))
    CDXJIndexer(output=out, inputs=warcs, sort=True, dir_root=str(archive / "warc")).process_all()
    return out.getvalue()


def index_text(archive: Path) -> str:
    return (archive / "index.cdxj").read_text(encoding="utf-8")


def test_incremental_index_equals_a_full_rebuild(tmp_path):
    archive = tmp_path / "archive"
    first = crawl_into(archive, "a", range(0, 12))
    result = build_index(archive)
    assert result.rebuilt and sorted(result.added) == sorted(first)
    assert index_text(archive) == reference_index(archive)

    second = crawl_into(archive, "b", range(12, 30))  # "a" and "b" interleave in sort order
    crawl_into(archive, "a", range(30, 33))
    third = sorted(set(p.name for p in (archive / "warc").glob("*.warc.gz")) - set(first) - set(second))
    result = build_index(archive)
    assert not result.rebuilt
    assert sorted(result.added) == sorted(second + third), "only the new files are read"
    incremental = index_text(archive)
    assert incremental == reference_index(archive)
    assert result.lines == incremental.count("\n") > 0

    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(archive / "warc", rebuilt / "warc")
    assert build_index(rebuilt, full=True).rebuilt
    assert index_text(rebuilt) == incremental
    (rebuilt / "index.cdxj").unlink()
    build_index(rebuilt, batch_chars=500)  # a full rebuild in many merges
    assert index_text(rebuilt) == incremental


def test_nothing_new_leaves_the_index_untouched(tmp_path):
    archive = tmp_path / "archive"
    crawl_into(archive, "a", range(6))
    build_index(archive)
    before = (archive / "index.cdxj").stat()
    result = build_index(archive)
    after = (archive / "index.cdxj").stat()
    assert result.added == [] and not result.rebuilt
    assert result.lines == index_text(archive).count("\n")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize("damage", ["garbage", "unsorted", "cut last line", "unknown file", "empty line"])
def test_a_damaged_index_is_rebuilt(tmp_path, damage):
    archive = tmp_path / "archive"
    crawl_into(archive, "a", range(10))
    build_index(archive)
    good = index_text(archive)
    lines = good.splitlines(keepends=True)
    broken = {
        "garbage": lines[:3] + ["\x00\x00 not cdxj\n"] + lines[3:],
        "unsorted": lines[1:2] + lines[:1] + lines[2:],
        "cut last line": lines[:-1] + [lines[-1][:40]],
        "unknown file": lines + [lines[-1].replace(".warc.gz", "-gone.warc.gz").replace("}", ', "z": 1}')],
        "empty line": lines[:2] + ["\n"] + lines[2:],
    }[damage]
    (archive / "index.cdxj").write_text("".join(broken), encoding="utf-8")
    result = build_index(archive)
    assert result.rebuilt
    assert index_text(archive) == good == reference_index(archive)


def _cut_member(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-25])  # the last gzip member cut short


def _cut_record(path: Path) -> None:
    # a whole gzip member whose record stops short of its Content-Length
    record = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 900\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
    path.write_bytes(path.read_bytes() + record)


def test_damaged_warcs_are_skipped_named_and_counted(tmp_path, caplog):
    archive = tmp_path / "archive"
    names = crawl_into(archive, "a", range(20))
    assert len(names) >= 4
    build_index(archive)
    more = crawl_into(archive, "b", range(20, 30))
    cut_member, cut_record = archive / "warc" / more[0], archive / "warc" / more[1]
    _cut_member(cut_member)
    _cut_record(cut_record)

    crawler = project_crawler(ARCHIVE_DIR=str(archive))
    ext = CdxjIndex.from_crawler(crawler)
    with caplog.at_level(logging.ERROR):
        ext.engine_stopped()
    stats = crawler.stats.get_stats()
    assert stats["warc/damaged_files"] == 2
    assert stats["warc/index_files_added"] == len(more) - 2
    assert stats["warc/index_rebuilt"] == 0
    for name in (cut_member.name, cut_record.name):
        assert f"WARC {name} is damaged: bytes" in caplog.text
    assert "2 damaged WARC files were not indexed" in caplog.text
    index = index_text(archive)
    assert cut_member.name not in index and cut_record.name not in index
    # every good file is indexed, exactly as a full rebuild of the good files would
    good = tmp_path / "good"
    (good / "warc").mkdir(parents=True)
    for path in (archive / "warc").iterdir():
        if path not in (cut_member, cut_record):
            shutil.copy(path, good / "warc" / path.name)
    assert index == reference_index(good)

    caplog.clear()
    again = build_index(archive)  # still damaged next crawl: reported again
    assert sorted(again.damaged) == sorted([cut_member.name, cut_record.name]) and again.added == []
    assert index_text(archive) == index


def test_a_damaged_warc_does_not_stop_a_full_rebuild(tmp_path):
    archive = tmp_path / "archive"
    names = crawl_into(archive, "a", range(15))
    _cut_member(archive / "warc" / names[1])
    result = build_index(archive)
    assert result.rebuilt and list(result.damaged) == [names[1]]
    assert set(result.added) == set(names) - {names[1]}
    assert index_text(archive).count("\n") == result.lines > 0


def test_the_index_extension_is_off_when_asked(tmp_path):
    assert CdxjIndex.from_crawler(project_crawler(ARCHIVE_DIR=str(tmp_path))).archive_dir == str(tmp_path)
    for settings in ({"WARC_CDXJ_INDEX": False}, {"WARC_ENABLED": False}):
        with pytest.raises(NotConfigured):
            CdxjIndex.from_crawler(project_crawler(ARCHIVE_DIR=str(tmp_path), **settings))


def test_an_index_that_lost_whole_lines_is_rebuilt(tmp_path):
    """Cut at a line boundary, an index reads as sound: what was indexed
    from each file (index.files.json) says lines are missing."""
    archive = tmp_path / "archive"
    crawl_into(archive, "a", range(12))
    build_index(archive)
    full = index_text(archive)
    lines = full.splitlines(keepends=True)
    (archive / "index.cdxj").write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    result = build_index(archive)
    assert result.rebuilt and index_text(archive) == full


def test_a_warc_cut_after_it_was_indexed_is_damaged_and_left_out(tmp_path, caplog):
    archive = tmp_path / "archive"
    files = crawl_into(archive, "a", range(12))
    build_index(archive)
    victim = archive / "warc" / files[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) * 2 // 3])
    with caplog.at_level(logging.ERROR):
        result = build_index(archive)
    assert list(result.damaged) == [files[0]]
    assert f"WARC {files[0]} is damaged" in caplog.text
    assert files[0] not in index_text(archive)
    assert all(name in index_text(archive) for name in files[1:])
    crawler = project_crawler(ARCHIVE_DIR=str(archive))
    ext = CdxjIndex.from_crawler(crawler)
    ext.engine_stopped()
    assert crawler.stats.get_value("warc/damaged_files") == 1  # every run says so until it is repaired


def test_files_this_crawl_closed_are_indexed_without_a_second_read(tmp_path, monkeypatch):
    import crawler.warc.index as index_module

    archive = tmp_path / "archive"
    ours = crawl_into(archive, "a", range(0, 6))
    theirs = crawl_into(archive, "b", range(6, 12))  # recovered, copied in, another run's
    read = []
    real = index_module.warc_damage
    monkeypatch.setattr(index_module, "warc_damage", lambda path: read.append(Path(path).name) or real(path))
    build_index(archive, written=ours)
    assert sorted(read) == sorted(theirs)
    assert index_text(archive) == reference_index(archive)


def test_the_index_extension_names_the_files_its_crawl_wrote(tmp_path):
    from crawler.extensions.warcwriter import WarcWriterExtension

    crawler = project_crawler(ARCHIVE_DIR=str(tmp_path / "archive"))
    crawler._apply_settings()  # builds the extensions, as a crawl does
    ext = crawler.get_extension(CdxjIndex)
    writer = crawler.get_extension(WarcWriterExtension).ready_writer()
    assert ext.written_files() == []
    url = "https://news.example.org/a.html"
    writer.write(response_record(writer.builder, HtmlResponse(url, body=b"<p>a</p>", request=Request(url))))
    writer.close()
    assert ext.written_files() == writer.closed_files and len(writer.closed_files) == 1
