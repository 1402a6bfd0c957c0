"""Pages that need a browser: headless Chromium renders them, the WARC keeps what it fetched.

Components on their own first (policy, shell detection, the x.com adapter,
launch options and the browser's folder in the archive, the page capture
with a real Chromium behind the guard proxy, the middleware with a real WARC
writer), then real ``scrapy crawl`` runs through the fixture proxy: a
client-rendered story, an x.com post over the shipped seeds, a page
pointing at loopback addresses (never requested), a page that hangs, and
crawls that need no browser (none is started); and direct crawls of pages
served on 127.0.0.1 whose redirects, XHR and popups aim at 127.0.0.2, of a
body over the size limit, and of a crawl killed mid-render (its temporary
files stay in the archive and the next crawl sweeps them).
The guard proxy's own tests are in tests/test_guardproxy.py.
"""

from __future__ import annotations

import asyncio
import gzip
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import frontmatter
import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

import crawler.settings as project_settings
from crawler.browser.capture import Exchange, PageCapture, Render, scrapy_response
from crawler.browser.launch import launch_options
from crawler.browser.policy import BrowserPolicy, extraction_failed, fallback_request, looks_like_script_shell
from crawler.browser.workdir import BrowserDir, driver_tmpdir, host_name, sweep_tmp
from crawler.core.markdown import CAPTURE_KEYS, SEED_KEYS
from crawler.downloadermiddlewares.browser import BrowserMiddleware
from crawler.net.guardproxy.proxy import GuardProxy
from crawler.sites import x as x_site
from tests.conftest import ROOT, SEEDS, project, run_crawl
from tests.fixtures import browser_site as bs
from tests.fixtures import pywb
from tests.fixtures.qq_site import PNG, Page, build_site, reference_page
from tests.fixtures.server import FixtureProxy, free_port

CHROMIUM = "/usr/bin/chromium"
INTERNAL_HOSTS = {"127.0.0.2", "127.0.0.3", "localhost", "::1"}


def warc_records(archive: Path) -> list[dict]:
    """Every record of the crawl's WARCs, digests checked."""
    out = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, check_digests=True):
                body = record.content_stream().read()
                assert record.digest_checker.passed is not False, (path, record.rec_headers)
                out.append({
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "id": record.rec_headers.get_header("WARC-Record-ID"),
                    "refers_to": record.rec_headers.get_header("WARC-Refers-To"),
                    "concurrent_to": record.rec_headers.get_header("WARC-Concurrent-To"),
                    "ip": record.rec_headers.get_header("WARC-IP-Address"),
                    "content_type": record.rec_headers.get_header("Content-Type"),
                    "status": int(record.http_headers.get_statuscode()) if record.rec_type == "response" else None,
                    "headers": record.http_headers.headers if record.http_headers else [],
                    "body": body,
                })
    return out


def header(record, name) -> list[str]:
    return [v for k, v in record["headers"] if k.lower() == name.lower()]


def article_for(archive: Path, fetched_url: str):
    for path in sorted(archive.glob("articles/*/*.md")):
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
        if post.metadata.get("fetched_url") == fetched_url:
            return path, post
    raise AssertionError(f"no article with fetched_url {fetched_url} in {archive}")


def stat(log: str, key: str) -> int | None:
    match = re.search(rf"'{re.escape(key)}': (\d+)", log)
    return int(match.group(1)) if match else None


# --- which pages go to the browser ------------------------------------------------

def test_render_setting_reads_modes_and_hosts():
    assert BrowserPolicy.from_settings(Settings({"BROWSER_RENDER": "auto"})) == BrowserPolicy("auto")
    assert BrowserPolicy.from_settings(Settings({"BROWSER_RENDER": "NEVER"})).mode == "never"
    hosts = BrowserPolicy.from_settings(Settings({"BROWSER_RENDER": "x.com, .twitter.com"}))
    assert hosts.mode == "auto" and hosts.hosts == {"x.com", "twitter.com"}
    assert hosts.always("https://x.com/a/status/1") and hosts.always("https://mobile.twitter.com/a")
    assert not hosts.always("https://notx.com/a") and not hosts.always("https://example.com/x.com")
    listed = BrowserPolicy.from_settings(Settings({"BROWSER_RENDER": ["spa-news.example.test"]}))
    assert listed.always(bs.SPA_URL)
    assert not BrowserPolicy("never", frozenset({"x.com"})).always("https://x.com/")
    with pytest.raises(ValueError):
        BrowserPolicy.from_settings(Settings({"BROWSER_RENDER": ""}))


def test_script_shells_are_told_from_pages():
    assert looks_like_script_shell(bs.X_SHELL)
    assert looks_like_script_shell(bs.SPA_SHELL)
    assert looks_like_script_shell("<html><body><div id='root'></div><script src='/a.js'></script></body></html>")
    # text of its own: not a shell, scripts or not
    page = reference_page("A story", [bs.SPA_PARAGRAPHS[0]] * 3)
    assert not looks_like_script_shell(page)
    assert not looks_like_script_shell(page.replace("</body>", "<script src='/ads.js'></script></body>"))
    # no script: nothing a browser would add
    assert not looks_like_script_shell("<html><body><div id='root'></div><p>Short.</p></body></html>")
    # the article mounted in #root already (server-side rendering): not empty
    ssr = f"<html><body><div id='app'><p>{bs.SPA_PARAGRAPHS[1]}</p><p>{bs.SPA_PARAGRAPHS[2]}</p></div>" \
          "<script src='/hydrate.js'></script></body></html>"
    assert not looks_like_script_shell(ssr)


def test_empty_or_collapsed_extractions():
    text = lambda s: {"type": "text", "text": s, "markdown": s}  # noqa: E731
    assert extraction_failed({"blocks": [], "extractor": "trafilatura"}, 200)
    assert extraction_failed({"blocks": [text("Please enable JavaScript to read Spa News.")]}, 200)
    assert extraction_failed({"blocks": [text("x" * 500)], "extractor": "meta-description"}, 200)
    assert not extraction_failed({"blocks": [text(p) for p in bs.SPA_PARAGRAPHS], "extractor": "trafilatura"}, 200)


def _spider(**settings):
    """What fallback_request uses of a spider: its settings and its crawler."""
    crawler = get_crawler(scrapy.Spider, settings_dict=project(**settings))
    return SimpleNamespace(settings=crawler.settings, crawler=crawler)


def _page(url, body, fields_meta=None, flags=None):
    def parse(response):  # a callback for the request to carry over
        return None

    request = scrapy.Request(url, callback=parse, errback=parse, priority=3,
                             meta={"seed_url": url, "seed": "900.md", "tried": ["https://a.example/"],
                                   "download_slot": "spa", "warc_capture": {"record_id": "<urn:uuid:1>"},
                                   "proxy": "http://127.0.0.1:1", **(fields_meta or {})})
    return HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8", request=request, flags=flags)


def test_a_shell_with_no_text_is_sent_to_the_browser_once():
    spider = _spider()
    empty = {"blocks": [], "extractor": "trafilatura"}
    response = _page(bs.SPA_URL, bs.SPA_SHELL)
    again = fallback_request(spider, response, empty)
    assert isinstance(again, scrapy.Request) and again.url == bs.SPA_URL
    assert again.meta["browser"] is True and again.dont_filter
    assert again.callback is response.request.callback and again.errback is response.request.errback
    assert again.priority == 3
    # the spider's keys go along; one download's own do not
    assert again.meta["seed_url"] == bs.SPA_URL and again.meta["tried"] == ["https://a.example/"]
    for key in ("download_slot", "warc_capture", "proxy"):
        assert key not in again.meta
    assert spider.crawler.stats.get_value("browser/fallback") == 1
    # never twice: a rendered page is what it is
    assert fallback_request(spider, _page(bs.SPA_URL, bs.SPA_SHELL, flags=["browser"]), empty) is None
    assert fallback_request(spider, _page(bs.SPA_URL, bs.SPA_SHELL, {"browser": True}), empty) is None
    # a page with text, or one that is no shell, stays a plain fetch
    good = {"blocks": [{"type": "text", "text": p, "markdown": p} for p in bs.SPA_PARAGRAPHS]}
    assert fallback_request(spider, response, good) is None
    plain = reference_page("t", ["short"])
    assert fallback_request(spider, _page(bs.PLAIN_URL, plain), empty) is None
    assert fallback_request(_spider(BROWSER_RENDER="never"), response, empty) is None


# --- the x.com adapter ---------------------------------------------------------------

def test_x_adapter_reads_the_focal_post_of_the_rendered_page():
    for parent_first in (False, True):
        fields = x_site.extract(bs.X_URL, bs.x_rendered_html(parent_first=parent_first))
        assert [b["text"] for b in fields["blocks"]] == bs.X_LINES
        assert fields["title"] == "Wall St Engine (@wallstengine) on X"
        assert fields["date"] == bs.X_DATE
        assert fields["lang"] == "en"
        assert fields["site"] == "x" and fields["article_id"] == bs.X_POST_ID
        assert fields["extractor"] == "x-dom"


def test_x_adapter_finds_no_post_in_the_shell():
    fields = x_site.extract(bs.X_URL, bs.X_SHELL)
    assert fields["blocks"] == [] and fields["title"] == ""


def test_x_and_twitter_urls_are_one_post():
    from crawler import sites
    from crawler.sites import identity
    twitter = "https://twitter.com/wallstengine/status/1904438237554515976?s=20"
    assert sites.adapter_for(bs.X_URL) is x_site and sites.adapter_for(twitter) is x_site
    assert sites.article_key(twitter) == sites.article_key(bs.X_URL) == f"x:{bs.X_POST_ID}"
    assert identity.not_the_article(twitter, bs.X_URL) is None
    assert identity.not_the_article(bs.X_URL, "https://x.com/i/flow/login?redirect_after_login=%2Fwallstengine")
    assert x_site.status_id("https://x.com/i/web/status/123") == "123"


# --- the browser's launch and its folder in the archive -------------------------------------

def test_launch_options_send_everything_through_the_guard_proxy(tmp_path, monkeypatch):
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    workdir = BrowserDir.create(tmp_path / "archive")
    options = launch_options(Settings(project()), workdir, "http://127.0.0.1:4321", ("crawler", "s3cret"))
    assert options["headless"] is True
    # the system Chromium, started in the browser's folder (TMPDIR=/proc/self/cwd: a short socket path)
    launcher = Path(options["executable_path"])
    assert launcher.parent == workdir.path and os.access(launcher, os.X_OK)
    assert f"exec {CHROMIUM} " in launcher.read_text() and 'cd "$(dirname "$0")/tmp"' in launcher.read_text()
    assert "--no-sandbox" in options["args"]
    # the guard proxy only, for everything: loopback and link-local included, WebRTC on proxied TCP only
    assert [a for a in options["args"] if a.startswith("--proxy")] == ["--proxy-bypass-list=<-loopback>"]
    # Playwright's proxy option: --proxy-server, and the run's secret the guard proxy asks for
    assert options["proxy"] == {"server": "http://127.0.0.1:4321", "username": "crawler", "password": "s3cret"}
    assert "--webrtc-ip-handling-policy=disable_non_proxied_udp" in options["args"]
    # nothing of the operator's proxies reaches Chromium: the guard proxy chains to them
    assert all(not k.lower().endswith("_proxy") for k in options["env"])
    # HOME, TMPDIR and downloads in the browser's folder inside the archive
    inside = tmp_path / "archive" / ".tmp"
    assert workdir.path.parent == inside and workdir.path.name.startswith(f"browser-{os.getpid()}-")
    assert options["env"]["HOME"] == str(workdir.home) and options["env"]["TMPDIR"] == "/proc/self/cwd"
    assert options["env"]["XDG_CACHE_HOME"].startswith(str(workdir.home))
    assert options["downloads_path"] == str(workdir.tmp)
    workdir.remove()
    assert not workdir.path.exists()


def test_the_driver_gets_its_tmpdir_only_while_it_is_spawned(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", "/somewhere/else")
    with driver_tmpdir(tmp_path):
        assert os.environ["TMPDIR"] == str(tmp_path)
    assert os.environ["TMPDIR"] == "/somewhere/else"
    monkeypatch.delenv("TMPDIR")
    with driver_tmpdir(tmp_path):
        assert os.environ["TMPDIR"] == str(tmp_path)
    assert "TMPDIR" not in os.environ


def test_the_sweep_removes_only_what_dead_crawls_left(tmp_path):
    archive = tmp_path / "archive"
    live = BrowserDir.create(archive)  # held by this process: in use
    (live.tmp / "playwright_chromiumdev_profile-x").mkdir()
    dead = BrowserDir.create(archive)
    (dead.tmp / "playwright-artifacts-y").mkdir()
    dead._lock.close()  # what a kill -9 does to its lock
    dead._lock = None
    root = archive / ".tmp"
    other_host = root / "browser-123-another-machine-abcd1234"
    other_host.mkdir()
    unlocked = root / f"browser-1-{host_name()}-zzzz0000"  # this machine's, no lock file (yet)
    unlocked.mkdir()
    stray = root / "leftover.bin"
    stray.write_bytes(b"x")
    now = time.time()
    assert sweep_tmp(archive, now) == [dead.path.name]
    assert live.path.exists() and other_host.exists() and unlocked.exists() and stray.exists()
    # once old: what has no lock and what is not ours; never a live folder nor another machine's
    later = now + 3600
    assert sorted(sweep_tmp(archive, later)) == sorted([unlocked.name, stray.name])
    assert live.path.exists() and other_host.exists()
    live.remove()
    assert sweep_tmp(tmp_path / "nothing-here") == []


def test_webrtc_sends_no_udp_around_the_guard_proxy(tmp_path):
    """UDP never passes an HTTP proxy: a page's STUN requests to 127.0.0.2 must
    not leave at all. The same page without the switch shows they would."""
    import socket

    from playwright.async_api import async_playwright

    async def stun_packets(options) -> int:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.2", 0))
        udp.setblocking(False)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**options)
            try:
                page = await browser.new_page()
                await page.set_content("<p>call</p>")
                await page.evaluate("""async (port) => {
                  const pc = new RTCPeerConnection({iceServers: [{urls: 'stun:127.0.0.2:' + port}]});
                  pc.createDataChannel('x');
                  await pc.setLocalDescription(await pc.createOffer());
                  window.held = pc;
                }""", udp.getsockname()[1])
                await asyncio.sleep(3)
            finally:
                await browser.close()
        count = 0
        with udp:
            while True:
                try:
                    udp.recvfrom(2048)
                except BlockingIOError:
                    return count
                count += 1

    async def main():
        workdir = BrowserDir.create(tmp_path / "archive")
        proxy = await GuardProxy().start(workdir.tmp)
        try:
            options = launch_options(Settings(project()), workdir, proxy.url, proxy.credentials)
            guarded = await stun_packets(options)
            bare = await stun_packets({**options, "args": [a for a in options["args"] if "webrtc" not in a]})
            return guarded, bare
        finally:
            await proxy.stop()
            workdir.remove()

    guarded, bare = asyncio.run(main())
    assert bare > 0  # the control: without the switch Chromium sends STUN over UDP
    assert guarded == 0


# --- the page capture and its records ---------------------------------------------------------

def _exchange(**kw) -> Exchange:
    base = dict(url=bs.SPA_JSON_URL, method="GET", request_headers=[("Accept", "*/*"), ("Host", "x")],
                post_data=b"", status=200, body=b'{"a": 1}', server_ip="203.0.113.9", resource_type="fetch",
                navigation=False, response_headers=[("Content-Type", "application/json"),
                                                    ("Content-Encoding", "gzip"), ("Content-Length", "28"),
                                                    ("Transfer-Encoding", "chunked"), ("Set-Cookie", "a=1"),
                                                    ("Set-Cookie", "b=2")])
    base.update(kw)
    return Exchange(**base)


def test_decoded_bodies_are_stored_with_headers_that_agree():
    response = scrapy_response(_exchange())
    assert response.headers.getlist("X-Archive-Orig-Content-Encoding") == [b"gzip"]
    assert "Content-Encoding" not in response.headers
    assert response.headers.getlist("Set-Cookie") == [b"a=1", b"b=2"]  # repeated headers kept
    assert "browser" in response.flags and str(response.ip_address) == "203.0.113.9"


def test_middleware_records_the_render_and_hands_the_dom_over(tmp_path):
    crawler = get_crawler(scrapy.Spider, settings_dict=project(ARCHIVE_DIR=str(tmp_path),
                                                               BROWSER_RENDER="spa-news.example.test"))
    middleware = BrowserMiddleware.from_crawler(crawler)
    # hosts BROWSER_RENDER names: article requests go to the browser, images do not
    article = scrapy.Request(bs.SPA_URL, meta={"seed_url": bs.SPA_URL})
    image = scrapy.Request(f"https://{bs.SPA_HOST}/logo.png")
    middleware.process_request(article)
    middleware.process_request(image)
    assert article.meta["browser"] is True and "browser" not in image.meta
    # a rendered page: the records of what the page fetched, the DOM, the screenshot
    dom = f"<html><body><article><p>{bs.SPA_PARAGRAPHS[0]}</p></article></body></html>"
    render = Render(url=bs.SPA_URL, dom=dom, screenshot=PNG, exchanges=[_exchange(proxied=True)])
    article.meta.update(browser_render=render, warc_capture={"record_id": "<urn:uuid:doc>"})
    served = scrapy_response(_exchange(url=bs.SPA_URL, body=bs.SPA_SHELL.encode(), navigation=True), article)
    writers = []
    write_render = middleware.write_render

    def recorded(*args):  # the records are written in the archive I/O thread, not the caller's
        writers.append(threading.current_thread().name)
        return write_render(*args)

    middleware.write_render = recorded
    seen = asyncio.run(middleware.process_response(article, served))
    assert writers and writers[0].startswith("archive-io")
    assert isinstance(seen, HtmlResponse) and bs.SPA_PARAGRAPHS[0] in seen.text
    assert seen.url == bs.SPA_URL and "browser" in seen.flags and "browser_render" not in article.meta
    untouched = HtmlResponse(bs.PLAIN_URL, body=b"<p>x</p>")
    assert asyncio.run(middleware.process_response(scrapy.Request(bs.PLAIN_URL), untouched)) is untouched
    middleware.writer.close()
    records = warc_records(tmp_path)
    by_type = {}
    for record in records:
        by_type.setdefault(record["type"], []).append(record)
    (json_response,) = [r for r in by_type["response"] if r["uri"] == bs.SPA_JSON_URL]
    assert json_response["body"] == b'{"a": 1}'
    assert header(json_response, "Content-Length") == ["8"]
    assert header(json_response, "X-Archive-Orig-Content-Encoding") == ["gzip"]
    assert header(json_response, "X-Archive-Orig-Transfer-Encoding") == ["chunked"]
    assert not header(json_response, "Content-Encoding") and not header(json_response, "Transfer-Encoding")
    (json_request,) = [r for r in by_type["request"] if r["uri"] == bs.SPA_JSON_URL]
    assert json_request["concurrent_to"] == json_response["id"]
    assert header(json_request, "Host") == [urlsplit(bs.SPA_JSON_URL).netloc]  # one Host, the URL's
    resources = {r["uri"]: r for r in by_type["resource"]}
    assert resources[f"urn:dom:{bs.SPA_URL}"]["body"] == dom.encode()
    assert resources[f"urn:dom:{bs.SPA_URL}"]["content_type"] == "text/html; charset=utf-8"
    assert resources[f"urn:screenshot:{bs.SPA_URL}"]["body"] == PNG
    assert {r["refers_to"] for r in resources.values()} == {"<urn:uuid:doc>"}
    assert crawler.stats.get_value("browser/routed") == 1
    assert crawler.stats.get_value("browser/records") == 4


@pytest.fixture(scope="module")
def browser_web():
    """The browser pages behind the fixture proxy; loopback targets on a dead port."""
    port = free_port()
    pages = {**bs.spa_pages(), **bs.guarded_pages(port), **bs.hanging_pages(), **bs.crashing_pages(),
             **bs.plain_pages()}
    proxy = FixtureProxy(pages).start()
    proxy.internal_port = port
    yield proxy
    proxy.stop()


def test_page_capture_collects_every_exchange_of_a_real_page(browser_web, tmp_path):
    """PageCapture on a Chromium page of its own (no Scrapy), behind a guard
    proxy that chains to the fixture proxy: the redirect, the shell, its
    script, the JSON and the photo, bodies decoded."""
    from playwright.async_api import async_playwright

    async def load():
        workdir = BrowserDir.create(tmp_path / "archive")
        proxy = await GuardProxy(proxies={"http": browser_web.url, "https": browser_web.url}).start(workdir.tmp)
        options = launch_options(Settings(project()), workdir, proxy.url, proxy.credentials)
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(**options)
                try:
                    context = await browser.new_context(ignore_https_errors=True)
                    page = await context.new_page()
                    capture = PageCapture(max_body=10**6, max_total=10**7, proxy=proxy)
                    capture.attach(page)
                    await page.goto(bs.SPA_REDIRECT_URL, wait_until="load")
                    await page.wait_for_load_state("networkidle")
                    await capture.settled(5)
                    return capture, await page.content()
                finally:
                    await browser.close()
        finally:
            await proxy.stop()
            workdir.remove()

    capture, dom = asyncio.run(load())
    assert bs.SPA_PARAGRAPHS[2] in dom
    by_url = {e.url: e for e in capture.exchanges}
    assert json.loads(by_url[bs.SPA_JSON_URL].body) == bs.spa_story()  # gunzipped, de-chunked
    assert ("Content-Encoding", "gzip") in by_url[bs.SPA_JSON_URL].response_headers
    assert by_url[bs.SPA_SCRIPT_URL].body == bs.SPA_SCRIPT.encode()
    assert by_url[bs.SPA_PHOTO_URL].body == PNG
    assert by_url[bs.SPA_URL].body == bs.SPA_SHELL.encode()
    document = capture.document()
    assert document.url == bs.SPA_URL and document.navigation
    assert [e.url for e in capture.chain(document)] == [bs.SPA_REDIRECT_URL, bs.SPA_URL]
    assert by_url[bs.SPA_REDIRECT_URL].status == 301 and by_url[bs.SPA_REDIRECT_URL].body == b""
    # through the operator's proxy: no peer address, and recorded so
    assert all(e.server_ip is None and e.proxied for e in capture.exchanges)


# --- crawls ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser_crawl(browser_web, tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    seeds = bs.seed_file(root / "seeds", [bs.SPA_URL, bs.GUARD_URL, bs.HANG_URL, bs.PLAIN_URL])
    return run_crawl(root / "archive", browser_web.url, seeds=seeds, settings={"BROWSER_PAGE_TIMEOUT": 5})


def test_a_client_rendered_story_is_archived_in_seed_format(browser_crawl):
    _, post = article_for(browser_crawl.archive, bs.SPA_URL)
    assert list(post.metadata)[:len(SEED_KEYS)] == list(SEED_KEYS)
    assert set(post.metadata) - set(SEED_KEYS) <= set(CAPTURE_KEYS)
    assert post.metadata["title"] == bs.SPA_TITLE
    assert post.metadata["date"] == "2025-03-25 08:30:00"
    assert post.metadata["lang"] == ["en"]
    paragraphs = post.content.split("\n\n")
    assert paragraphs[:-1] == bs.SPA_PARAGRAPHS
    assert paragraphs[-1] == f"[test]({bs.SPA_URL})"
    assert post.metadata["summary"] == bs.SPA_PARAGRAPHS[0][:50].strip() + "..."
    assert "browser/launched': 1" in browser_crawl.log


def test_the_warc_holds_what_the_browser_fetched(browser_crawl):
    records = warc_records(browser_crawl.archive)
    _, post = article_for(browser_crawl.archive, bs.SPA_URL)
    document_id = post.metadata["warc_record_id"]
    (document,) = [r for r in records if r["id"] == document_id]
    # the shell as the browser got it, decoded, with headers that say so
    assert document["type"] == "response" and document["uri"] == bs.SPA_URL
    assert document["body"] == bs.SPA_SHELL.encode("utf-8")
    assert header(document, "X-Archive-Orig-Content-Encoding") == ["gzip"]
    assert not header(document, "Content-Encoding")
    (document_request,) = [r for r in records if r["type"] == "request" and r["concurrent_to"] == document_id]
    # sent as the crawl's requests are (scrapy-playwright gives the navigation Scrapy's headers)
    assert header(document_request, "User-Agent") == [project_settings.USER_AGENT]
    assert not header(document_request, "Referer")
    # its script, the JSON that carries the text, the photo: response and request records
    for url, body in ((bs.SPA_SCRIPT_URL, bs.SPA_SCRIPT.encode()), (bs.SPA_PHOTO_URL, PNG)):
        (response,) = [r for r in records if r["type"] == "response" and r["uri"] == url]
        assert response["body"] == body
    (story,) = [r for r in records if r["type"] == "response" and r["uri"] == bs.SPA_JSON_URL]
    assert json.loads(story["body"]) == bs.spa_story()
    assert header(story, "Content-Length") == [str(len(story["body"]))]
    assert header(story, "X-Archive-Orig-Transfer-Encoding") == ["chunked"]
    assert [r for r in records if r["type"] == "request" and r["concurrent_to"] == story["id"]]
    # the rendered DOM and a screenshot, under URNs of their own, pointing at the document
    dom = [r for r in records if r["uri"] == f"urn:dom:{bs.SPA_URL}"]
    shot = [r for r in records if r["uri"] == f"urn:screenshot:{bs.SPA_URL}"]
    assert len(dom) == 1 and dom[0]["type"] == "resource" and dom[0]["refers_to"] == document_id
    assert bs.SPA_PARAGRAPHS[3] in dom[0]["body"].decode("utf-8")
    assert len(shot) == 1 and shot[0]["body"].startswith(b"\x89PNG") and shot[0]["refers_to"] == document_id


def test_pywb_replays_the_shell_with_its_json(browser_crawl, tmp_path):
    venv = pywb.ensure_pywb()
    root = pywb.build_collection(venv, browser_crawl.archive / "warc", tmp_path / "pywb", "crawl")
    server = pywb.start_wayback(venv, root)
    try:
        status, _, body = pywb.get(f"{server.base}/crawl/id_/{bs.SPA_URL}")
        assert status == 200 and body == bs.SPA_SHELL.encode("utf-8")
        status, headers, body = pywb.get(f"{server.base}/crawl/id_/{bs.SPA_JSON_URL}")
        assert status == 200 and json.loads(body) == bs.spa_story(), server.log()
        status, _, body = pywb.get(f"{server.base}/crawl/id_/{bs.SPA_SCRIPT_URL}")
        assert status == 200 and body == bs.SPA_SCRIPT.encode()
        # and in a browser, the replayed shell fetches the replayed JSON and shows the story
        from playwright.sync_api import sync_playwright

        workdir = BrowserDir.create(tmp_path / "archive")
        options = launch_options(Settings(project()), workdir, "http://127.0.0.1:9")
        options["args"] = [a for a in options["args"] if not a.startswith("--proxy")]  # pywb is all it fetches
        del options["proxy"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**options)
            try:
                page = browser.new_page()
                page.goto(f"{server.base}/crawl/mp_/{bs.SPA_URL}", wait_until="load")
                page.wait_for_function("document.body.innerText.includes('ahead of what customers')",
                                       timeout=20_000)
                assert bs.SPA_PARAGRAPHS[3] in page.inner_text("body")
            finally:
                browser.close()
        # the DOM and screenshot records never stand in for the page
        status, _, body = pywb.get(f"{server.base}/crawl/id_/{bs.SPA_URL}")
        assert b"<article>" not in body
    finally:
        server.stop()
        shutil.rmtree(tmp_path / "archive", ignore_errors=True)


def test_nothing_internal_is_requested_by_the_browser(browser_crawl, browser_web):
    asked = {urlsplit(url).hostname for url, _ in browser_web.requests}
    assert not asked & INTERNAL_HOSTS, sorted(asked)
    for url in bs.internal_urls(browser_web.internal_port):
        assert f"browser: blocked {url}: " in browser_crawl.log
    # the WebSocket reaches the guard proxy as a CONNECT to its host
    assert f"browser: blocked CONNECT 127.0.0.2:{browser_web.internal_port}: " in browser_crawl.log
    assert stat(browser_crawl.log, "browser/blocked") == len(bs.internal_urls(0)) + 1
    # the page itself is archived all the same
    _, post = article_for(browser_crawl.archive, bs.GUARD_URL)
    assert post.content.split("\n\n")[:-1] == bs.GUARD_PARAGRAPHS


def test_a_page_that_hangs_fails_alone_with_its_reason(browser_crawl):
    assert browser_crawl.returncode == 1
    assert re.search(re.escape(bs.HANG_URL) + r": BrowserTimeout: browser: page not rendered within 5 s",
                     browser_crawl.log)
    assert re.search(r"archived:\s+3 new", browser_crawl.log)
    assert re.search(r"failed:\s+1\b", browser_crawl.log)


def test_a_page_that_crashes_the_renderer_fails_alone(browser_web, tmp_path):
    seeds = bs.seed_file(tmp_path / "seeds", [bs.CRASH_URL, bs.PLAIN_URL])
    args = ",".join([*project_settings.BROWSER_ARGS, bs.SMALL_HEAP])
    result = run_crawl(tmp_path / "archive", browser_web.url, seeds=seeds, settings={"BROWSER_ARGS": args})
    assert result.returncode == 1
    assert re.search(re.escape(bs.CRASH_URL) + r": RendererCrashed: browser: the page crashed the renderer", result.log), result.log[-3000:]
    assert re.search(r"archived:\s+1 new", result.log)
    article_for(tmp_path / "archive", bs.PLAIN_URL)


def test_the_x_post_is_archived_and_the_shipped_seeds_pass(tmp_path):
    pages = build_site()
    pages.update(bs.x_pages())
    proxy = FixtureProxy(pages).start()
    home = tmp_path / "home"  # the crawl's HOME: Chromium must leave nothing in it
    home.mkdir()
    try:
        result = run_crawl(tmp_path / "archive", proxy.url, seeds=SEEDS, env_extra={"HOME": str(home)})
    finally:
        proxy.stop()
    assert result.returncode == 0, result.log[-4000:]
    assert "browser/launched': 1" in result.log
    for footprint in (".config/chromium", ".local/share/pki", ".pki", ".cache/dconf"):
        assert not (home / footprint).exists(), footprint
    assert re.search(r"failed:\s+0\b", result.log)
    path, post = article_for(tmp_path / "archive", bs.X_URL)
    assert path.relative_to(tmp_path / "archive").as_posix() == f"articles/x/{bs.X_POST_ID}.md"
    assert post.metadata["title"] == "Wall St Engine (@wallstengine) on X"
    assert post.metadata["date"] == bs.X_DATE
    assert post.metadata["lang"] == ["en"] and post.metadata["categories"] == ["x"]
    assert post.metadata["extractor"] == "x-dom"
    assert post.content.split("\n\n") == [*bs.X_LINES, f"[x]({bs.X_URL})"]
    records = warc_records(tmp_path / "archive")
    (graphql,) = [r for r in records if r["type"] == "response" and r["uri"] == bs.x_graphql_url()]
    assert json.loads(graphql["body"]) == bs.x_graphql_response()
    assert header(graphql, "Access-Control-Allow-Origin") == ["https://x.com"]


def test_the_x_post_comes_back_through_a_replay_proxy(tmp_path):
    """What acceptance does: a crawl through pywb in proxy mode (HTTPS by
    CONNECT with pywb's own CA), over the WARCs of a first crawl. The browser
    gets the shell, its scripts and the GraphQL JSON from the replay, and the
    post is archived the same."""
    proxy = FixtureProxy(bs.x_pages()).start()
    seeds = bs.seed_file(tmp_path / "seeds", [bs.X_URL])
    try:
        first = run_crawl(tmp_path / "first", proxy.url, seeds=seeds)
    finally:
        proxy.stop()
    assert first.returncode == 0, first.log[-3000:]
    venv = pywb.ensure_pywb()
    root = pywb.build_collection(venv, tmp_path / "first" / "warc", tmp_path / "pywb", "crawl")
    with open(root / "config.yaml", "a") as config:
        config.write("proxy:\n  coll: crawl\n  recording: false\n  enable_banner: false\n"
                     "  enable_wombat: false\n  enable_content_rewrite: false\n")
    server = pywb.start_wayback(venv, root, extra_args=["--proxy", "crawl"])
    try:
        second = run_crawl(tmp_path / "second", server.base, seeds=seeds)
    finally:
        server.stop()
    assert second.returncode == 0, second.log[-3000:]
    _, before = article_for(tmp_path / "first", bs.X_URL)
    _, after = article_for(tmp_path / "second", bs.X_URL)
    assert after.content == before.content and after.metadata["title"] == before.metadata["title"]
    assert after.content.split("\n\n")[:-1] == bs.X_LINES


def test_a_crawl_that_needs_no_browser_starts_none(fixture_web, qq_seeds_dir, tmp_path):
    result = run_crawl(tmp_path / "archive", fixture_web.url, seeds=qq_seeds_dir)
    assert result.returncode == 0, result.log[-3000:]
    assert "browser/" not in result.log and "playwright/" not in result.log
    assert "scrapy-playwright" not in result.log  # not even its driver


def test_never_means_no_browser(browser_web, tmp_path):
    seeds = bs.seed_file(tmp_path / "seeds", [bs.SPA_URL])
    before = len(browser_web.requests)
    result = run_crawl(tmp_path / "archive", browser_web.url, seeds=seeds, settings={"BROWSER_RENDER": "never"})
    assert "browser/" not in result.log and "scrapy-playwright" not in result.log
    assert [u for u, _ in browser_web.requests[before:]] == [bs.SPA_URL]


def test_named_hosts_go_straight_to_the_browser_redirects_hop_by_hop(browser_web, tmp_path):
    seeds = bs.seed_file(tmp_path / "seeds", [bs.SPA_REDIRECT_URL])
    before = len(browser_web.requests)
    result = run_crawl(tmp_path / "archive", browser_web.url, seeds=seeds,
                       settings={"BROWSER_RENDER": bs.SPA_HOST})
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result.log, "browser/routed") == 1 and stat(result.log, "browser/fallback") is None
    # fetched once each, by the browser (no plain fetch first; the script ran)
    asked = [u for u, _ in browser_web.requests[before:]]
    for url in (bs.SPA_REDIRECT_URL, bs.SPA_URL, bs.SPA_SCRIPT_URL, bs.SPA_JSON_URL):
        assert asked.count(url) == 1, asked
    _, post = article_for(tmp_path / "archive", bs.SPA_URL)
    assert post.content.split("\n\n")[:-1] == bs.SPA_PARAGRAPHS
    assert post.content.split("\n\n")[-1] == f"[test]({bs.SPA_REDIRECT_URL})"
    records = warc_records(tmp_path / "archive")
    (hop,) = [r for r in records if r["type"] == "response" and r["uri"] == bs.SPA_REDIRECT_URL]
    assert hop["status"] == 301 and header(hop, "Location") == [bs.SPA_URL]
    (hop_request,) = [r for r in records if r["type"] == "request" and r["concurrent_to"] == hop["id"]]
    assert hop_request["uri"] == bs.SPA_REDIRECT_URL
    documents = [r for r in records if r["type"] == "response" and r["uri"] == bs.SPA_URL]
    assert len(documents) == 1 and documents[0]["body"] == bs.SPA_SHELL.encode()
    (document_request,) = [r for r in records
                           if r["type"] == "request" and r["concurrent_to"] == documents[0]["id"]]
    assert document_request["uri"] == bs.SPA_URL


# --- direct crawls: the guard proxy against redirects, XHR, popups; limits; HOST_PROXY_MAP; kill -9 ----------

def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Site:
    """A server on one loopback address that records what it was asked."""

    def __init__(self, host: str, routes):
        self.hits: list[str] = []
        self.sent: dict[str, int] = {}  # path -> body bytes written before the peer went away
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                site.hits.append(self.path)
                routes(site, self)

        self.server = http.server.ThreadingHTTPServer((host, _free_port(host)), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _send(handler, status=200, body=b"", content_type="text/html; charset=utf-8", headers=()):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


STORY = "This is the article text rendered by script, long enough to be an article. "
#: DOWNLOAD_MAXSIZE of the direct crawl: /big and /bomb pass it, the page does not.
LIMIT = 1_000_000
BOMB = gzip.compress(b"[" + b"0," * 20_000_000 + b"0]", mtime=0)


def _hostile_page(inside: str) -> bytes:
    return f"""<!doctype html><html><head><title>Story</title></head><body>
<div id="root"></div>
<img src="{inside}/direct-img">
<img src="/redir-img">
<script>
fetch('/redir-xhr').catch(() => {{}});
fetch('/big').then(r => r.text()).catch(() => {{}});
fetch('/bomb').then(r => r.text()).catch(() => {{}});
window.open('{inside}/popup');
document.getElementById('root').innerHTML = '<article><h1>Story</h1>' +
  '<p>' + {json.dumps(STORY)}.repeat(8) + '</p></article>';
</script></body></html>""".encode()


def _outside_routes(inside: str):
    def routes(site, handler):
        path = handler.path
        if path == "/page":
            _send(handler, body=_hostile_page(inside))
        elif path.startswith("/redir-"):
            _send(handler, 302, headers=[("Location", f"{inside}/secret-{path[7:]}")])
        elif path == "/moved":  # the document itself redirected inside
            _send(handler, 302, headers=[("Location", f"{inside}/secret-doc")])
        elif path == "/big":  # no Content-Length: only the stream says how big
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            sent, piece = 0, b"\x89" * 65536
            try:
                while sent < 256 * 1024 * 1024:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent += len(piece)
            except OSError:
                pass
            site.sent[path] = sent
            handler.close_connection = True
        elif path == "/bomb":  # 40 MB of JSON in 40 KB of gzip
            _send(handler, body=BOMB, content_type="application/json", headers=[("Content-Encoding", "gzip")])
        elif path == "/huge":  # a document over the limit, of unknown length
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            piece = b"<p>" + b"word " * 13106 + b"</p>"
            try:
                for _ in range(4096):
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            except OSError:
                pass
            handler.close_connection = True
        elif path == "/hang":
            _send(handler, body=b"<!doctype html><title>Live</title><div id='root'></div><script>for(;;){}</script>")
        elif path == "/plain":
            _send(handler, body=reference_page("A plain story", [STORY * 3] * 3).encode())
        else:
            _send(handler, 404)
    return routes


def _inside_routes(site, handler):
    _send(handler, body=b"internal secret", content_type="text/plain")


@pytest.fixture(scope="module")
def direct_web():
    inside = _Site("127.0.0.2", _inside_routes)
    outside = _Site("127.0.0.1", _outside_routes(inside.base))
    yield SimpleNamespace(inside=inside, outside=outside)
    outside.stop()
    inside.stop()


def _direct_settings(**extra) -> dict:
    return {"GUARD_ALLOWED_NETWORKS": "127.0.0.1/32", "BROWSER_RENDER": "127.0.0.1", "ARCHIVE_IMAGES": False,
            **extra}


def test_redirects_xhr_and_popups_never_reach_an_internal_address(direct_web, tmp_path):
    """The reviewer's case: a page on an allowed address whose image and XHR
    redirect to 127.0.0.2, which opens a popup there, whose document itself
    redirects there; with bodies over DOWNLOAD_MAXSIZE (one of unknown length,
    one a gzip bomb), and TMPDIR an empty folder."""
    outside, inside = direct_web.outside, direct_web.inside
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    seeds = bs.seed_file(tmp_path / "seeds", [f"{outside.base}/page", f"{outside.base}/moved",
                                              f"{outside.base}/huge"])
    before = len(inside.hits)
    result = run_crawl(tmp_path / "archive", None, seeds=seeds, settings=_direct_settings(DOWNLOAD_MAXSIZE=LIMIT),
                       env_extra={"TMPDIR": str(tmpdir), "HOME": str(tmp_path / "home")})
    log = result.log
    assert inside.hits[before:] == [], inside.hits  # nothing internal requested: not a hop, not a popup
    for path in ("/direct-img", "/secret-img", "/secret-xhr", "/popup"):
        assert f"browser: blocked {inside.base}{path}: loopback address 127.0.0.2" in log, log[-3000:]
    assert stat(log, "browser/popups_closed") >= 1
    # the document redirected inside: its hop is archived, Scrapy's guard refuses the target
    assert re.search(rf"blocked {re.escape(inside.base)}/secret-doc \(redirected from "
                     rf"{re.escape(outside.base)}/moved\)", log), log[-3000:]
    # a document over the limit fails, saying so
    huge = re.escape(f"{outside.base}/huge")
    assert re.search(rf"{huge}: (BrowserError: )?browser: {huge}: net::ERR_\w+ \(body larger than DOWNLOAD_MAXSIZE "
                     rf"\({LIMIT} bytes\) as received\)", log), log[-3000:]
    assert result.returncode == 1 and re.search(r"archived:\s+1 new", log) and re.search(r"failed:\s+2\b", log)
    _, post = article_for(result.archive, f"{outside.base}/page")
    assert STORY.strip() in post.content
    # bodies over the limit cut as they arrived: the stream stopped long before its end, nothing recorded
    assert stat(log, "browser/too_large") >= 3
    assert f"browser: cut {outside.base}/big: body larger than DOWNLOAD_MAXSIZE ({LIMIT} bytes) as received" in log
    assert f"browser: cut {outside.base}/bomb: body larger than DOWNLOAD_MAXSIZE ({LIMIT} bytes) decoded" in log
    assert outside.sent["/big"] < 32 * 1024 * 1024, outside.sent
    records = warc_records(result.archive)
    assert not [r for r in records if (r["uri"] or "").startswith(inside.base)]
    assert not [r for r in records if b"internal secret" in r["body"]]
    assert not [r for r in records if r["uri"] in (f"{outside.base}/big", f"{outside.base}/bomb")]
    # connected directly: the server's own address, as the guard proxy reached it
    hop = [r for r in records if r["type"] == "response" and r["uri"] == f"{outside.base}/redir-img"]
    assert hop and hop[0]["status"] == 302 and hop[0]["ip"] == "127.0.0.1"
    document = [r for r in records if r["type"] == "response" and r["uri"] == f"{outside.base}/page"]
    assert document and document[0]["ip"] == "127.0.0.1"
    moved = [r for r in records if r["type"] == "response" and r["uri"] == f"{outside.base}/moved"]
    assert moved and moved[0]["status"] == 302
    # nothing outside the archive, and nothing left inside it either
    assert list(tmpdir.iterdir()) == []
    assert list((result.archive / ".tmp").iterdir()) == []


def test_host_proxy_map_sends_the_browser_through_its_proxy(browser_web, tmp_path):
    """No *_proxy in the environment: only HOST_PROXY_MAP names the way to
    the story's hosts, and the browser takes it, as Scrapy does."""
    seeds = bs.seed_file(tmp_path / "seeds", [bs.SPA_URL])
    mapping = json.dumps({bs.SPA_HOST: browser_web.url, f"cdn.{bs.SPA_HOST}": browser_web.url})
    before = len(browser_web.requests)
    result = run_crawl(tmp_path / "archive", None, seeds=seeds,
                       settings={"BROWSER_RENDER": bs.SPA_HOST, "HOST_PROXY_MAP": mapping})
    assert result.returncode == 0, result.log[-3000:]
    asked = [u for u, _ in browser_web.requests[before:]]
    for url in (bs.SPA_URL, bs.SPA_SCRIPT_URL, bs.SPA_JSON_URL, bs.SPA_PHOTO_URL):
        assert url in asked, asked
    _, post = article_for(tmp_path / "archive", bs.SPA_URL)
    assert post.content.split("\n\n")[:-1] == bs.SPA_PARAGRAPHS
    # through a proxy: no record names an address (it would be the proxy's)
    responses = [r for r in warc_records(tmp_path / "archive") if r["type"] == "response"]
    assert responses and all(r["ip"] is None for r in responses)


def _processes_under(path: Path) -> list[int]:
    """Pids of processes whose command line names ``path`` (this test's own)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_a_killed_crawl_leaves_nothing_outside_the_archive(direct_web, tmp_path):
    """kill -9 of the whole crawl (driver included) mid-render: TMPDIR stays
    empty, the leftovers are in the archive's .tmp, and the next crawl sweeps them."""
    outside = direct_web.outside
    tmpdir, home, archive = tmp_path / "tmpdir", tmp_path / "home", tmp_path / "archive"
    tmpdir.mkdir()
    home.mkdir()
    seeds = bs.seed_file(tmp_path / "seeds", [f"{outside.base}/hang"])
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(TMPDIR=str(tmpdir), HOME=str(home))
    cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-L", "INFO", "-a", f"seeds={seeds}", "-s", f"ARCHIVE_DIR={archive}",
           "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0", "-s", "BROWSER_PAGE_TIMEOUT=60"]
    for key, value in _direct_settings().items():
        cmd += ["-s", f"{key}={value}"]
    before = len(outside.hits)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "/hang" not in outside.hits[before:] or not list(archive.glob(".tmp/browser-*/tmp/playwright_*")):
            assert proc.poll() is None and time.monotonic() < deadline, "the browser never started rendering"
            time.sleep(0.2)
        time.sleep(1)  # mid-render: the page's script spins
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # Chromium runs in a process group of its own and ends when its driver's pipe closes
        deadline = time.monotonic() + 20
        while _processes_under(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for pid in _processes_under(tmp_path):
            os.kill(pid, signal.SIGKILL)
    assert list(tmpdir.iterdir()) == []
    left = [p.name for p in (archive / ".tmp").iterdir()]
    assert len(left) == 1 and left[0].startswith("browser-"), left
    # the next crawl (it needs no browser) sweeps what the dead one left
    seeds = bs.seed_file(tmp_path / "seeds2", [f"{outside.base}/plain"])
    result = run_crawl(archive, None, seeds=seeds, settings={"GUARD_ALLOWED_NETWORKS": "127.0.0.1/32"},
                       env_extra={"TMPDIR": str(tmpdir), "HOME": str(home)})
    assert result.returncode == 0, result.log[-3000:]
    assert f"removed 1 stale temporary folder(s) from the archive's .tmp: {left[0]}" in result.log
    assert list((archive / ".tmp").iterdir()) == []
    assert list(tmpdir.iterdir()) == []


# --- the network guard's last doors: other ports, the proxy's secret, proxy names as targets ---------------

def _recorder(host: str = "127.0.0.1") -> _Site:
    """A service on another port of an allowed host: records what reaches it (it must record nothing)."""
    return _Site(host, lambda site, handler: _send(handler, body=PNG, content_type="image/png"))


def _script_page(title: str, other: str, cover: str = "cover.png") -> bytes:
    """A page the browser renders: its cover, an image and an XHR on ``other`` (another port or host)."""
    return f"""<!doctype html><html><head><title>{title}</title>
<meta property="og:image" content="{other}/{cover}"></head><body>
<div id="root"></div>
<img src="{other}/pixel.png">
<script>
fetch('{other}/api.json').catch(() => {{}});
document.getElementById('root').innerHTML = '<article><h1>{title}</h1>' +
  '<p>' + {json.dumps(STORY)}.repeat(8) + '</p></article>';
</script></body></html>""".encode()


def test_another_port_of_an_allowed_host_is_refused_to_the_crawler_and_the_browser(tmp_path):
    """127.0.0.1 is allowed (GUARD_ALLOWED_NETWORKS), its seed port is open;
    another port of the same host is not: neither the page's script and
    image (the browser, through the guard proxy) nor its cover (the crawler)
    reach it, and each refusal names the port. GUARD_ALLOWED_PORTS opens it."""
    other = _recorder()
    page = _Site("127.0.0.1", lambda site, handler: _send(handler, body=_script_page("Ports", other.base)))
    port = other.server.server_address[1]
    seeds = bs.seed_file(tmp_path / "seeds", [f"{page.base}/story"])
    settings = _direct_settings(ARCHIVE_IMAGES=True)
    try:
        closed = run_crawl(tmp_path / "a1", None, seeds=seeds, settings=settings)
        hits_closed = list(other.hits)
        opened = run_crawl(tmp_path / "a2", None, seeds=seeds, settings={**settings, "GUARD_ALLOWED_PORTS": port})
        hits_opened = list(other.hits[len(hits_closed):])
    finally:
        page.stop()
        other.stop()
    log = closed.log
    assert hits_closed == [], hits_closed
    refusal = f"port {port} not allowed (GUARD_ALLOWED_PORTS)"
    for path in ("/pixel.png", "/api.json"):
        assert f"browser: blocked {other.base}{path}: {refusal}" in log, log[-3000:]
    assert f"image {other.base}/cover.png not fetched: blocked {other.base}/cover.png: {refusal}" in log, log[-3000:]
    assert closed.returncode == 0 and re.search(r"archived:\s+1 new", log), log[-3000:]
    assert opened.returncode == 0, opened.log[-3000:]
    assert {"/pixel.png", "/api.json", "/cover.png"} <= set(hits_opened), hits_opened


def _listening_ports(pid: int) -> set[int]:
    """Ports process ``pid`` listens on at 127.0.0.1 (its sockets in /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes and fields[1].startswith("0100007F:"):
            ports.add(int(fields[1].split(":")[1], 16))
    return ports


def _ask(port: int, data: bytes) -> bytes:
    """What a local process gets from 127.0.0.1:``port`` for ``data``, until it closes."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:  # left open (a tunnel waiting for its client): what came so far
            pass
        return out


HANG_HOST = "hang.example.test"
SECRET_URL = "http://secret.example.test/admin"


def test_no_other_local_process_can_use_the_browsers_guard_proxy(tmp_path):
    """While the browser renders (a page whose script spins), another local
    process finds the guard proxy listening on 127.0.0.1 and asks it for a
    page, plain and by CONNECT, without and with made-up credentials: 407
    each time, nothing reaches the operator's proxy (whose credentials the
    guard proxy would add), and the browser's own requests still go through."""
    web = FixtureProxy({
        f"https://{HANG_HOST}/story": Page(body=b"<!doctype html><title>Live</title><div id='root'></div>"
                                                b"<script>for(;;){}</script>"),
        SECRET_URL: Page(body=b"operator-only page"),
    }).start()
    operator = web.url.replace("http://", "http://crawler:s3cret@")
    seeds = bs.seed_file(tmp_path / "seeds", [f"https://{HANG_HOST}/story"])
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=operator, https_proxy=operator)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-L", "INFO", "-a", f"seeds={seeds}", "-s",
           f"ARCHIVE_DIR={tmp_path / 'archive'}", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0",
           "-s", f"BROWSER_RENDER={HANG_HOST}", "-s", "BROWSER_PAGE_TIMEOUT=20"]
    log_path = tmp_path / "crawl.log"
    answers = {}
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while not any(u == f"https://{HANG_HOST}/story" for u, _ in web.requests) \
                    or not _listening_ports(proc.pid):
                assert proc.poll() is None and time.monotonic() < deadline, "the browser never started rendering"
                time.sleep(0.2)
            (port,) = _listening_ports(proc.pid)  # the guard proxy: the crawl's one listening socket
            plain = f"GET {SECRET_URL} HTTP/1.1\r\nHost: secret.example.test\r\n\r\n".encode()
            answers["none"] = _ask(port, plain)
            answers["connect"] = _ask(port, f"CONNECT {HANG_HOST}:443 HTTP/1.1\r\nHost: {HANG_HOST}\r\n\r\n".encode())
            answers["guessed"] = _ask(port, plain.replace(b"\r\n\r\n", b"\r\nProxy-Authorization: Basic "
                                                          b"Y3Jhd2xlcjpndWVzcw==\r\n\r\n"))
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            web.stop()
    log = log_path.read_text()
    for key, answer in answers.items():
        assert answer.startswith(b"HTTP/1.1 407 Proxy Authentication Required"), (key, answer[:300])
    asked = [u for u, _ in web.requests]
    assert SECRET_URL not in asked, asked
    assert asked.count(f"https://{HANG_HOST}/story") == 1  # the browser's one request, nothing by CONNECT
    assert (stat(log, "browser/proxy_challenged") or 0) >= 2 and (stat(log, "browser/proxy_unauthorized") or 0) >= 1, \
        log[-3000:]
    assert "browser proxy: refused a request with wrong credentials" in log
    assert "page not rendered within 20 s (BROWSER_PAGE_TIMEOUT)" in log, log[-3000:]


FAKEDNS = ROOT / "tests" / "fixtures" / "fakedns"
NEWS_HOST = "news.example.test"


def test_the_proxys_name_is_no_way_in_for_the_crawler_nor_the_browser(tmp_path):
    """https_proxy=http://squid.test:<port> and no http_proxy, squid.test
    resolving to 127.0.0.1 (the test's fake DNS): the https article goes
    through that proxy, but http://squid.test:<another port>/... (a seed, the
    article's cover, and a rendered page's cover, image and XHR) is connected
    to directly, so it is judged on what its name resolves to, by the
    crawler's resolver and by the guard proxy, and refused: the exemption is
    the connection to the proxy only. The rendered page is on 127.0.0.2
    (allowed, GUARD_ALLOWED_NETWORKS), fetched directly over http."""
    internal = _recorder()
    squid = f"http://squid.test:{internal.server.server_address[1]}"  # an internal service of the proxy host
    rendered = _Site("127.0.0.2", lambda site, handler: _send(handler, body=_script_page("Squid", squid, "cover-rendered.png")))
    article = (f'<html><head><title>Squid news</title><meta property="og:image" content="{squid}/cover.png">'
               f'</head><body><article><h1>Squid news</h1>{"<p>" + STORY * 3 + "</p>" * 1}'
               f'<p>{STORY * 3}</p><p>{STORY * 3}</p></article></body></html>')
    web = FixtureProxy({f"https://{NEWS_HOST}/story": Page(body=article.encode())}).start()
    proxy_port = web.server.server_address[1]
    seeds = bs.seed_file(tmp_path / "seeds", [f"https://{NEWS_HOST}/story", f"{rendered.base}/story",
                                              f"{squid}/admin/"])
    try:
        result = run_crawl(tmp_path / "archive", None, seeds=seeds,
                           settings={"BROWSER_RENDER": "127.0.0.2", "GUARD_ALLOWED_NETWORKS": "127.0.0.2/32"},
                           env_extra={"https_proxy": f"http://squid.test:{proxy_port}", "PYTHONPATH": str(FAKEDNS),
                                      "FAKE_HOSTS": "squid.test=127.0.0.1"})
    finally:
        web.stop()
        rendered.stop()
        internal.stop()
    log = result.log
    assert internal.hits == [], internal.hits
    reason = "squid.test resolves to a loopback address 127.0.0.1"
    host_port = squid.split("//")[1]
    assert f"not archived: {squid}/admin/: blocked {host_port}: {reason}" in log, log[-3000:]
    for path in ("/cover.png", "/cover-rendered.png"):
        assert f"image {squid}{path} not fetched: blocked {host_port}: {reason}" in log, log[-3000:]
    for path in ("/pixel.png", "/api.json"):
        assert f"browser: blocked {squid}{path}: {reason}" in log, log[-3000:]
    # the proxy itself is still the way to the https article
    assert [u for u, _ in web.requests] == [f"https://{NEWS_HOST}/story"]
    for url in (f"https://{NEWS_HOST}/story", f"{rendered.base}/story"):
        _, post = article_for(tmp_path / "archive", url)
        assert STORY.strip() in post.content
    assert result.returncode == 1 and re.search(r"archived:\s+2 new", log) and re.search(r"failed:\s+1\b", log)
