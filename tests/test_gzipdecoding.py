"""gzip bodies decoded with ISA-L answer exactly as Scrapy's HttpCompressionMiddleware would.

crawler/net/decoding.py on its own (whole streams, damaged ones, bombs) against
Scrapy's gunzip, and the middleware built by Scrapy's get_crawler from the
project's settings against Scrapy's own middleware on the same responses.
"""

from __future__ import annotations

import gzip
import logging

import pytest
import scrapy
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.gz import gunzip as scrapy_gunzip
from scrapy.utils.test import get_crawler

from crawler.downloadermiddlewares.gzipdecoding import GzipDecodingMiddleware
from crawler.net.decoding import DecodedTooLarge, gunzip
from tests.conftest import project

PAGE = ("<html><head><meta charset='utf-8'><title>市议会</title></head><body>"
        + "<p>市议会周二投票通过了新的预算。The council voted on Tuesday.</p>" * 2000 + "</body></html>").encode()
WHOLE = gzip.compress(PAGE)

STREAMS = {
    "one member": WHOLE,
    "two members": gzip.compress(PAGE[:5000]) + gzip.compress(PAGE[5000:]),
    "cut short": WHOLE[:len(WHOLE) // 2],
    "cut in its trailer": WHOLE[:-3],
    "wrong checksum": WHOLE[:-8] + b"\0\0\0\0" + WHOLE[-4:],
    "bytes after it": WHOLE + b"<garbage>",
    "zero padding after it": WHOLE + bytes(16),
    "a member, then a damaged one": WHOLE + WHOLE[:40],
    "empty": gzip.compress(b""),
}


@pytest.mark.parametrize("name", STREAMS)
def test_decoding_keeps_what_scrapy_keeps(name):
    assert gunzip(STREAMS[name]) == scrapy_gunzip(STREAMS[name])


@pytest.mark.parametrize("data", [b"", b"not gzip at all", WHOLE[:5]])
def test_what_scrapy_refuses_is_refused_alike(data):
    try:
        expected = scrapy_gunzip(data)
    except Exception as exc:  # noqa: BLE001 - the same class is what is checked
        with pytest.raises(type(exc)):
            gunzip(data)
    else:
        assert gunzip(data) == expected


@pytest.mark.parametrize("stream", [gzip.compress(bytes(20 << 20)), gzip.compress(bytes(20 << 20))[:-30]])
def test_a_bomb_stops_within_a_chunk_of_the_limit(stream):
    with pytest.raises(DecodedTooLarge) as caught:
        gunzip(stream, max_size=1 << 20)
    assert (1 << 20) < caught.value.size <= (1 << 20) + (64 << 10)


def both(**settings):
    """(ours, Scrapy's), each built from the project's settings by its own crawler."""
    ours = get_crawler(scrapy.Spider, settings_dict=project(**settings))
    theirs = get_crawler(scrapy.Spider, settings_dict=project(**settings))
    return (GzipDecodingMiddleware.from_crawler(ours), ours.stats), \
        (HttpCompressionMiddleware.from_crawler(theirs), theirs.stats)


def encoded(body: bytes, coding: str = "gzip", url: str = "https://news.example/a.html") -> Response:
    return Response(url, body=body, headers={"Content-Encoding": coding, "Content-Type": "text/html; charset=utf-8"})


def test_the_crawl_decodes_gzip_with_it_before_scrapys_middleware():
    crawler = get_crawler(scrapy.Spider, settings_dict=project())
    order = crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    ours = order["crawler.downloadermiddlewares.gzipdecoding.GzipDecodingMiddleware"]
    # the response chain runs from the highest number down: after redirects, before Scrapy's
    assert order["scrapy.downloadermiddlewares.redirect.RedirectMiddleware"] > ours \
        > order["scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"]


@pytest.mark.parametrize("name", ["one member", "two members", "cut short", "bytes after it"])
def test_a_gzip_response_comes_out_as_scrapys_middleware_makes_it(name):
    (ours, our_stats), (theirs, their_stats) = both()
    request = Request("https://news.example/a.html")
    mine = ours.process_response(request, encoded(STREAMS[name]))
    scrapys = theirs.process_response(request, encoded(STREAMS[name]))
    assert type(mine) is type(scrapys) is HtmlResponse
    assert mine.body == scrapys.body
    assert mine.text == scrapys.text and mine.encoding == scrapys.encoding
    assert dict(mine.headers) == dict(scrapys.headers) and b"Content-Encoding" not in mine.headers
    # Scrapy's has nothing left to do with it
    assert theirs.process_response(request, mine) is mine
    for key in ("httpcompression/response_bytes", "httpcompression/response_count"):
        assert our_stats.get_value(key) == their_stats.get_value(key) is not None


def test_other_codings_and_head_requests_are_left_to_scrapy():
    (ours, stats), _ = both()
    for response, method in [(encoded(b"x", "br"), "GET"), (encoded(WHOLE, "gzip, br"), "GET"),
                             (encoded(WHOLE, "deflate"), "GET"), (encoded(WHOLE), "HEAD"),
                             (TextResponse("https://news.example/", body=b"plain"), "GET")]:
        assert ours.process_response(Request(response.url, method=method), response) is response
    assert stats.get_value("httpcompression/response_count") is None


def test_a_bomb_is_ignored_naming_download_maxsize(caplog):
    (ours, _), (theirs, _) = both(DOWNLOAD_MAXSIZE=1 << 20)
    bomb = gzip.compress(bytes(20 << 20))
    request = Request("https://news.example/bomb.html")
    with caplog.at_level(logging.WARNING):
        with pytest.raises(IgnoreRequest) as mine:
            ours.process_response(request, encoded(bomb))
    with pytest.raises(IgnoreRequest) as scrapys:
        theirs.process_response(request, encoded(bomb))
    assert "exceeded DOWNLOAD_MAXSIZE (1048576 B) during decompression" in str(mine.value)
    assert str(mine.value).split("(")[0] == str(scrapys.value).split("(")[0]
    assert str(mine.value) in caplog.text
    # a request's own limit, as Scrapy's meta key says
    small = Request("https://news.example/bomb.html", meta={"download_maxsize": 10 << 20})
    with pytest.raises(IgnoreRequest, match=r"DOWNLOAD_MAXSIZE \(10485760 B\)"):
        ours.process_response(small, encoded(bomb))


def test_a_body_over_the_warning_size_is_warned_of(caplog):
    (ours, _), _ = both(DOWNLOAD_WARNSIZE=10_000)
    with caplog.at_level(logging.WARNING):
        ours.process_response(Request("https://news.example/a.html"), encoded(WHOLE))
    assert f"body size after decompression ({len(PAGE)} B) is larger than the download warning size (10000 B)" \
        in caplog.text


def test_compression_off_is_not_configured():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        GzipDecodingMiddleware.from_crawler(get_crawler(scrapy.Spider, settings_dict=project(COMPRESSION_ENABLED=False)))
