"""Extraction off the reactor: the worker pool gives what one process gives.

The pool runs ``extract_page`` in pebble worker processes; its results must
equal the in-process ones field for field, a page over the time limit must
fail with that reason and leave the pool usable, and a crawl's Markdown must
be byte-identical whichever way extraction ran.
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from scrapy.http import HtmlResponse

from crawler.extraction.pool import ExtractionError, ExtractionPool, extract_body, extract_page
from tests.conftest import run_crawl
from tests.fixtures.qq_site import BUILDERS, QQ_SEEDS, build_site, read_seed, reference_page


def _pages():
    site = build_site()
    for name, template in QQ_SEEDS.items():
        seed = read_seed(name)
        body = BUILDERS[template](seed)
        url = seed.source_url.replace("new.qq.com", "news.qq.com") if template == "new_template" else seed.source_url
        yield url, body
    for url, page in site.items():
        if "yahoo" in url or "reuters" in url:
            yield url, page.body.decode("utf-8")


def _response(url: str, text: str) -> HtmlResponse:
    return HtmlResponse(url, body=text.encode(), headers={"Content-Type": "text/html; charset=utf-8"})


def test_pool_results_equal_in_process_results():
    pool = ExtractionPool(workers=2, timeout=60)
    pages = list(_pages())
    assert len(pages) >= 4

    async def run_all():
        return await asyncio.gather(*(pool.extract_response(_response(url, text)) for url, text in pages))

    try:
        pooled = asyncio.run(run_all())
    finally:
        pool.close()
    for (url, text), got in zip(pages, pooled):
        assert got == extract_body(url, text.encode(), "text/html; charset=utf-8"), url


def _worker_state():
    import gc
    import sys

    return "crawler.extraction.preload" in sys.modules, gc.get_freeze_count()


def test_workers_fork_from_a_server_that_loaded_the_extraction_code():
    """Workers share what their forkserver loaded and warmed up
    (crawler/extraction/preload.py), frozen out of the collector's reach,
    instead of each building its own copy."""
    pool = ExtractionPool(workers=1, timeout=60)
    try:
        preloaded, frozen = asyncio.run(pool._run(_worker_state))
    finally:
        pool.close()
    assert preloaded
    assert frozen > 10_000


def _suffix_list_loaded():
    from tld.utils import get_tld_names_container

    return bool(get_tld_names_container())


def test_workers_start_with_the_public_suffix_list_loaded():
    """courlan reads a page's domain with a pattern, and falls back to the
    public suffix list for a name of three letters or less (wsj.com, a fifth
    of the benchmark's pages): loaded in the forkserver, once, not by each
    worker on such a page (90 ms each, and a trie of its own)."""
    pool = ExtractionPool(workers=1, timeout=60)
    try:
        loaded = asyncio.run(pool._run(_suffix_list_loaded))
    finally:
        pool.close()
    assert loaded


def test_workers_start_in_a_thread_and_the_first_page_waits_for_them(monkeypatch):
    """start() (at the first page) returns while the workers are still
    starting, so the reactor goes on; a page sent meanwhile waits for them."""
    pool = ExtractionPool(workers=1, timeout=60)
    gate = threading.Event()
    ensure_pool = pool._ensure_pool

    def slow_to_start():
        gate.wait(30)
        return ensure_pool()

    monkeypatch.setattr(pool, "_ensure_pool", slow_to_start)
    url, text = next(_pages())
    pool.start()
    assert not pool._started.done()

    async def first_page():
        page = asyncio.ensure_future(pool.extract_response(_response(url, text)))
        await asyncio.sleep(0.3)
        assert not page.done()
        gate.set()
        return await page

    try:
        got = asyncio.run(first_page())
    finally:
        pool.close()
    assert got == extract_body(url, text.encode(), "text/html; charset=utf-8")


def test_a_page_over_the_time_limit_fails_alone_and_the_pool_goes_on():
    pool = ExtractionPool(workers=1, timeout=0.3)
    url, text = next(_pages())
    # a long page (several seconds of trafilatura) stands for a pathological one
    slow = reference_page("Long", [f"Paragraph {i} of a very long page about a long day." for i in range(30000)])

    async def slow_then_normal():
        with pytest.raises(ExtractionError, match=r"longer than EXTRACTION_TIMEOUT \(0.3 s\)"):
            await pool.extract_response(_response("https://slow.example/long.html", slow))
        # the worker that timed out was replaced: the next page works
        pool.timeout = 60
        return await pool.extract_response(_response(url, text))

    try:
        fields, _, _ = asyncio.run(slow_then_normal())
    finally:
        pool.close()
    assert fields["title"] and fields["blocks"]


def test_crawl_output_is_byte_identical_with_and_without_workers(fixture_web, qq_seeds_dir, tmp_path):
    captures = re.compile(r"^(fetched_url|warc_file|warc_record_id|warc_date): .*\n", re.M)
    outputs = {}
    for workers in (0, 2):
        archive = tmp_path / f"w{workers}"
        result = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir, settings={"EXTRACTION_WORKERS": workers})
        assert result.returncode == 0, result.log[-3000:]
        outputs[workers] = {p.relative_to(archive).as_posix(): captures.sub("", p.read_text(encoding="utf-8"))
                            for p in (archive / "articles").rglob("*.md")}
    assert len(outputs[0]) == 3 and outputs[0] == outputs[2]


@pytest.mark.parametrize("declared, actual, explicit", [
    ("text/html; charset=utf-8", "utf-8", None), ("text/html; charset=utf-8", "gbk", None),
    ("text/html", "gb18030", None), ("text/html; charset=iso-8859-1", "utf-8", None),
    ("text/html; charset=gbk", "utf-8", "utf-8")])
def test_decoding_in_the_worker_is_scrapys_decoding(declared, actual, explicit):
    """The worker decodes the bytes itself; it must read them as the crawl's
    own response object would, forced charset (a rendered DOM) included."""
    text = "中国人工智能初创企业深度求索的大模型一经发布，震动全行业。" * 6
    body = (f'<html><head><meta charset="{actual}"></head><body><article><p>{text}</p></article></body></html>'
            if declared == "text/html" else f"<html><body><article><p>{text}</p></article></body></html>").encode(actual)
    response = HtmlResponse("https://example.org/a", body=body, headers={"Content-Type": declared}, encoding=explicit)
    fields, note, charset = extract_body(response.url, body, declared, explicit)
    assert (fields, note) == extract_page(response.url, response.text, response.body, response.encoding)
    assert charset == response.encoding
