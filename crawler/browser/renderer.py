"""Render one page in the crawl's shared headless Chromium, with scrapy-playwright.

``Renderer`` is scrapy-playwright's download handler, used for what it does
well (the browser, its one context, a bounded number of pages, Scrapy's
headers on the navigation) and started on the first browser request instead
of when the engine starts. Starting it starts, in this order, the browser's
folder inside the archive (HOME and TMPDIR, see workdir.py), the guard
proxy every request of the browser goes through (crawler/net/guardproxy/),
the Playwright driver and Chromium. For each page it:

1. opens a page (at most ``BROWSER_MAX_PAGES`` at a time) with the page
   capture (capture.py) hooked on; a popup the page opens is closed at
   once (its requests would pass the guard proxy anyway: it is closed
   because nothing waits for it or records it);
2. loads it, waits for the network to fall quiet (``BROWSER_IDLE_TIMEOUT``),
   takes a screenshot and the rendered DOM; all within
   ``BROWSER_PAGE_TIMEOUT``, or the page fails with that reason, as it does
   when the renderer crashes;
3. returns the document as served, the rendered page riding along in
   ``meta["browser_render"]`` (see crawler/downloadhandlers/chromium.py
   for why).

The guard is the proxy alone: Playwright's route handlers (scrapy-playwright
still installs one, to give the navigation Scrapy's headers) see neither
redirect hops nor popups, so no abort hook is kept.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from contextlib import suppress
from functools import partial

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from crawler.browser.capture import PageCapture, Render, scrapy_request, scrapy_response
from crawler.browser.errors import BrowserError, BrowserTimeout, RendererCrashed
from crawler.browser.launch import launch_options
from crawler.browser.workdir import BrowserDir, driver_tmpdir
from crawler.net.guardproxy.proxy import GuardProxy

logger = logging.getLogger(__name__)

CONTEXT = "browser"
#: Redirect hops waiting for Scrapy to ask for them; beyond this the oldest go.
MAX_PENDING_HOPS = 256
#: Seconds a page may take to close before it is given up on.
CLOSE_TIMEOUT = 10
REDIRECT_META = ("redirect_times", "redirect_urls", "redirect_reasons")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Renderer(ScrapyPlaywrightDownloadHandler):
    """Renders browser requests; one per crawl (crawler/extensions/browser.py)."""

    def __init__(self, crawler, ports):
        """``ports``: the crawl's one PortPolicy (crawler/extensions/guardports.py), which the browser's guard proxy keeps too."""
        super().__init__(crawler)
        s = crawler.settings
        self.workdir: BrowserDir | None = None
        self.proxy = GuardProxy.from_crawler(crawler, ports=ports)
        self.config.max_pages_per_context = s.getint("BROWSER_MAX_PAGES")
        self.page_timeout = s.getfloat("BROWSER_PAGE_TIMEOUT")
        self.idle_timeout = s.getfloat("BROWSER_IDLE_TIMEOUT")
        self.screenshots = s.getbool("BROWSER_SCREENSHOT")
        self.max_body = s.getint("DOWNLOAD_MAXSIZE")
        self.max_page = s.getint("BROWSER_MAX_PAGE_BYTES")
        self.context_kwargs = {
            # as Scrapy; and the guard proxy ends the browser's TLS with its own certificate
            "ignore_https_errors": True,
            "service_workers": "block",  # their fetches would escape the page capture
            "accept_downloads": False,
            "user_agent": s.get("USER_AGENT"),
            "viewport": {"width": s.getint("BROWSER_VIEWPORT_WIDTH"),
                         "height": s.getint("BROWSER_VIEWPORT_HEIGHT")},
        }
        self.slots = asyncio.Semaphore(self.config.max_pages_per_context)
        self.start_lock = asyncio.Lock()
        self.started = False
        self.hops: dict = {}  # (chain id, url) -> (Exchange, Render | None)
        self.chain_ids = itertools.count(1)

    # scrapy-playwright starts Playwright when the engine starts: here, on first use
    async def _maybe_launch_in_thread(self) -> None:
        return None

    def _engine_started(self):
        return None

    async def _ensure_started(self) -> None:
        async with self.start_lock:
            if not self.started:
                if self.workdir is None:
                    self.workdir = BrowserDir.create(self._crawler.settings.get("ARCHIVE_DIR"))
                if self.proxy.server is None:
                    await self.proxy.start(self.workdir.tmp)
                self.config.launch_options = launch_options(self._crawler.settings, self.workdir, self.proxy.url,
                                                             self.proxy.credentials)
                with driver_tmpdir(self.workdir.tmp):  # the driver is spawned in here
                    await self._launch()
                self.started = True
                self.stats.inc_value("browser/launched")

    async def _close_popup(self, popup) -> None:
        self.stats.inc_value("browser/popups_closed")
        logger.info("browser: closed a popup (%s)", popup.url)
        with suppress(PlaywrightError):
            await popup.close()

    # --- rendering --------------------------------------------------------

    async def render(self, request):
        """The served document for ``request``; see crawler/downloadhandlers/chromium.py."""
        key = (request.meta.get("browser_chain"), request.url)
        if key in self.hops:  # a redirect hop the browser already followed
            exchange, render = self.hops.pop(key)
            return self._serve(exchange, request, render)
        await self._ensure_started()
        async with self.slots:
            capture, dom = await self._render(request)
        document = capture.document()
        if document is None:
            hops = capture.redirects()
            if hops:  # redirected to where the guard refused: Scrapy follows, and refuses, hop by hop
                return self._serve_chain(hops, request, None)
            self.stats.inc_value("browser/failed")
            # what the guard proxy did to it: refused it (or a hop), or cut its body
            why = "; ".join(f"{url}: {self.proxy.note(url)}" for url in [request.url, *capture.refused]
                            if self.proxy.note(url))
            raise BrowserError(f"browser: no document captured for {request.url}" + (f" ({why})" if why else ""))
        if document.truncated:
            self.stats.inc_value("browser/failed")
            raise BrowserError(f"browser: document over DOWNLOAD_MAXSIZE ({self.max_body} bytes) or "
                               f"BROWSER_MAX_PAGE_BYTES ({self.max_page} bytes)")
        chain = capture.chain(document)
        others = [e for e in capture.exchanges if not e.truncated and all(e is not c for c in chain)]
        render = Render(url=document.url, dom=dom, screenshot=capture.screenshot, exchanges=others)
        self.stats.inc_value("browser/rendered")
        self.stats.inc_value("browser/exchanges", len(capture.exchanges))
        return self._serve_chain(chain, request, render)

    def _serve_chain(self, chain, request, render):
        """The first hop; the others kept for Scrapy's redirect middleware to ask for."""
        if len(chain) == 1:
            return self._serve(chain[0], request, render)
        chain_id = next(self.chain_ids)
        request.meta["browser_chain"] = chain_id
        for hop in chain[1:]:
            self.hops[(chain_id, hop.url)] = (hop, render if hop is chain[-1] else None)
        while len(self.hops) > MAX_PENDING_HOPS:
            self.hops.pop(next(iter(self.hops)))
        return self._serve(chain[0], request, None)

    def _serve(self, exchange, request, render):
        request.headers = scrapy_request(exchange).headers  # as the browser sent them
        if render is not None:
            request.meta["browser_render"] = render
        return scrapy_response(exchange, request)

    async def _render(self, request):
        """(capture, rendered DOM) of one page, within the page time limit."""
        meta = request.meta
        before = {k: meta[k] for k in REDIRECT_META if k in meta}
        capture = PageCapture(self.max_body, self.max_page, proxy=self.proxy, stats=self.stats)

        async def init_page(page, _request):
            capture.attach(page)
            page.on("popup", self._close_popup)

        meta.update(
            playwright=True,
            playwright_context=CONTEXT,
            playwright_context_kwargs=self.context_kwargs,
            playwright_include_page=True,  # closed here, after the screenshot
            playwright_page_init_callback=init_page,
            playwright_page_goto_kwargs={"wait_until": "load", "timeout": self.page_timeout * 1000},
            playwright_page_methods=[PageMethod(partial(self._settle, capture))],
        )
        task = asyncio.ensure_future(self._download_request(request, self._crawler.spider))
        crashed = asyncio.ensure_future(capture.crashed.wait())
        failed = asyncio.ensure_future(capture.failed.wait())
        try:
            done, _ = await asyncio.wait({task, crashed, failed}, timeout=self.page_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                return capture, task.result().text
            if crashed in done:
                raise RendererCrashed("browser: the page crashed the renderer")
            if failed in done:
                url, error = capture.failure
                note = self.proxy.note(url)  # cut or refused by the guard proxy
                raise BrowserError(f"browser: {url}: {error}" + (f" ({note})" if note else ""))
            raise BrowserTimeout(f"browser: page not rendered within {self.page_timeout:g} s "
                                 "(BROWSER_PAGE_TIMEOUT)")
        except PlaywrightError as exc:
            self.stats.inc_value("browser/failed")
            note = self.proxy.note(request.url)  # refused or cut by the guard proxy
            raise BrowserError(f"browser: {_first_line(exc)}" + (f" ({note})" if note else "")) from exc
        except BrowserError:
            self.stats.inc_value("browser/failed")
            raise
        finally:
            crashed.cancel()
            failed.cancel()
            if not task.done():
                task.cancel()
            await self._close_page(capture)
            with suppress(asyncio.CancelledError, Exception):
                await task
            # scrapy-playwright's keys and its view of the redirects are this render's only
            for name in [k for k in meta if k.startswith("playwright")]:
                del meta[name]
            for name in REDIRECT_META:
                meta.pop(name, None)
            meta.update(before)

    async def _settle(self, capture, page) -> None:
        """After load: let the requests that bring the text finish, then the screenshot."""
        try:
            await page.wait_for_load_state("networkidle", timeout=self.idle_timeout * 1000)
        except PlaywrightTimeout:
            self.stats.inc_value("browser/not_idle")  # long polling, ads: go on
        await capture.settled(self.idle_timeout)
        if self.screenshots:
            try:
                capture.screenshot = await page.screenshot(type="png", timeout=self.idle_timeout * 1000)
            except PlaywrightError as exc:
                logger.warning("browser: no screenshot of %s: %s", page.url, _first_line(exc))

    async def _close_page(self, capture) -> None:
        page = capture.page
        if page is not None and not page.is_closed():
            with suppress(PlaywrightError, asyncio.TimeoutError):
                await asyncio.wait_for(page.close(), CLOSE_TIMEOUT)
                self.stats.inc_value("playwright/page_count/closed")
        capture.cancel()

    async def close(self) -> None:
        self.hops.clear()
        try:
            if self.started:
                await super().close()
        finally:
            await self.proxy.stop()
            if self.workdir is not None:
                self.workdir.remove()
