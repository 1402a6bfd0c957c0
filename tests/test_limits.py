"""Limits fit for news pages: each refusal names the limit it hit, and the crawl goes on.

A gzip bomb stops at DOWNLOAD_MAXSIZE once decompressed; a page bigger than
DOWNLOAD_MAXSIZE is cancelled with that said (Scrapy's own failure is a
bare ``DownloadCancelledError``); a page too big to extract is kept in the
WARC and refused; an extraction over its time limit fails alone; a text
longer than ARCHIVE_MAX_TEXT_CHARS is refused. Peak memory over the full
hostile fixtures is measured by bench/hostile_memory.py, not asserted here.
"""

from __future__ import annotations

import zlib

import pytest

from tests.conftest import run_crawl
from tests.fixtures.qq_site import Page, reference_page
from tests.fixtures.server import FixtureProxy

HOST = "https://big.example"
TEXT = [f"Paragraph {i}: the council met again to discuss the new bridge and its cost to the city."
        for i in range(12)]


def gzip_bomb(decompressed: int) -> bytes:
    """A gzip stream of ``decompressed`` zero bytes, built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    out = [packer.compress(chunk) for _ in range(decompressed >> 20)]
    return b"".join(out) + packer.flush()


class Raw(Page):
    """A page whose body is sent as it is, already gzip-encoded."""


@pytest.fixture(scope="module")
def limits_web():
    normal = reference_page("Bridge vote", TEXT).encode()
    filler = "<p>" + "padding text " * 80 + "</p>\n"
    pages = {
        f"{HOST}/normal.html": Page(body=normal),
        f"{HOST}/huge.html": Page(body=normal.replace(b"</article>", (filler * 40_000).encode() + b"</article>")),
        f"{HOST}/big.html": Page(body=normal.replace(b"</article>", (filler * 10_000).encode() + b"</article>")),
        f"{HOST}/bomb.html": Page(body=gzip_bomb(200 << 20), headers=[("Content-Encoding", "gzip")]),
        # seconds of trafilatura: stands for a pathological page
        f"{HOST}/slow.html": Page(body=reference_page("Long", [f"Paragraph {i} of a long day." for i in range(60000)]).encode()),
    }
    proxy = FixtureProxy(pages).start()
    yield proxy
    proxy.stop()


def seeds_for(tmp_path, *names):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "links.md").write_text("".join(f"- [{n}]({HOST}/{n}.html)\n" for n in names), encoding="utf-8")
    return folder


def test_oversized_downloads_fail_naming_the_limit(limits_web, tmp_path):
    seeds = seeds_for(tmp_path, "bomb", "huge", "big", "normal")
    result = run_crawl(tmp_path / "archive", limits_web.url, seeds=seeds,
                       settings={"DOWNLOAD_MAXSIZE": 16 * 1024 * 1024, "EXTRACTION_MAX_PAGE_BYTES": 4 * 1024 * 1024},
                       timeout=300)
    log = result.log
    assert result.returncode == 1
    # 200 MiB of zeros sent as 200 KB of gzip: refused once decompressed past the limit
    assert f"not archived: {HOST}/bomb.html:" in log and "DOWNLOAD_MAXSIZE (16777216 B) during decompression" in log
    # 40 MB sent: cancelled while downloading, with the limit named (not a bare DownloadCancelledError)
    assert (f"not archived: {HOST}/huge.html: response larger than DOWNLOAD_MAXSIZE (16777216 bytes): "
            "download cancelled") in log
    # 10 MB: downloaded and kept in the WARC, too big to extract
    assert f"not archived: {HOST}/big.html: page of " in log and "EXTRACTION_MAX_PAGE_BYTES (4194304)" in log
    assert "2 x size limit" in log and "1 x page too large" in log
    articles = list((tmp_path / "archive" / "articles").rglob("*.md"))
    assert len(articles) == 1  # the normal page, archived after all that


def test_extraction_over_its_time_limit_fails_alone(limits_web, tmp_path):
    seeds = seeds_for(tmp_path, "slow", "normal")
    result = run_crawl(tmp_path / "archive", limits_web.url, seeds=seeds,
                       settings={"EXTRACTION_TIMEOUT": 1.5, "EXTRACTION_WORKERS": 1})
    assert result.returncode == 1
    assert f"not archived: {HOST}/slow.html: extraction took longer than EXTRACTION_TIMEOUT (1.5 s)" in result.log
    assert "1 x extraction failed" in result.log
    assert f"archived: {HOST}/normal.html ->" in result.log  # the replaced worker went on


def test_text_longer_than_the_limit_is_refused(limits_web, tmp_path):
    seeds = seeds_for(tmp_path, "normal")
    result = run_crawl(tmp_path / "archive", limits_web.url, seeds=seeds, settings={"ARCHIVE_MAX_TEXT_CHARS": 300})
    assert result.returncode == 1
    assert "longer than ARCHIVE_MAX_TEXT_CHARS (300)" in result.log and "1 x text too long" in result.log
    assert not list((tmp_path / "archive" / "articles").rglob("*.md"))
    assert list((tmp_path / "archive" / "rejected").rglob("*.md"))


def test_nothing_is_written_outside_the_archive(limits_web, tmp_path):
    """A crawl with a fresh HOME: no cache (tldextract's, say) appears in it."""
    home = tmp_path / "home"
    home.mkdir()
    seeds = seeds_for(tmp_path, "normal")
    result = run_crawl(tmp_path / "archive", limits_web.url, seeds=seeds,
                       env_extra={"HOME": str(home), "XDG_CACHE_HOME": "", "TLDEXTRACT_CACHE": ""})
    assert result.returncode == 0, result.log[-2000:]
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []


def test_a_connection_the_server_closed_is_said_plainly():
    """Scrapy wraps Twisted's ResponseFailed, whose message is the repr of a
    list of failures; the reason names what broke off instead."""
    from scrapy.exceptions import DownloadFailedError
    from scrapy.settings import Settings
    from twisted.internet.error import ConnectionDone
    from twisted.python.failure import Failure
    from twisted.web.client import ResponseNeverReceived

    from crawler.spiders.failures import failure_reason

    cause = ResponseNeverReceived([Failure(ConnectionDone())])
    try:
        raise DownloadFailedError(str(cause)) from cause
    except DownloadFailedError:
        failure = Failure()
    kind, reason = failure_reason(failure, Settings())
    assert kind == "DownloadFailedError"
    assert reason == "DownloadFailedError: no whole response (ConnectionDone: Connection was closed cleanly.)", reason
