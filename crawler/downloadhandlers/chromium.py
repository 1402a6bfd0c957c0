"""The download handler for http(s): Scrapy's own, plus headless Chromium for browser requests.

Plain requests go to Scrapy's HTTP/1.1 handler as before. A request with
``meta["browser"]`` (crawler/browser/policy.py decides which) is rendered by one
browser shared by the whole crawl (crawler/browser/renderer.py: scrapy-playwright
with the system's Chromium, launched as crawler/browser/launch.py says; the
http and https handlers find it in crawler/extensions/browser.py).
scrapy-playwright's handler, installed as such, starts its Playwright driver
when the engine starts; here the renderer is built, and Playwright imported,
on the first browser request, so a crawl that needs no browser starts none.

What a render gives back, and why:

* the page's document exactly as served (headers as received, body as
  decoded by Playwright, see crawler/browser/capture.py), with ``flags=["browser"]``:
  the WARC capture middleware records it like any other exchange. A
  navigation the browser saw redirected comes back hop by hop: the first
  hop is returned as served, and Scrapy's redirect middleware asks for the
  next, which is served from what the browser already fetched;
* in ``meta["browser_render"]``, for crawler/downloadermiddlewares/browser.py:
  the rendered DOM, a screenshot, and every other exchange of the page
  (scripts, XHR/fetch JSON, images, frames) for the WARC.

Capture by Playwright's response events rather than a WARC-writing proxy
(warcprox): the crawl keeps its one WARC writer and its record rules.

Every request the browser makes goes through the crawl's guard proxy
(crawler/net/guardproxy/): Chromium is launched with ``--proxy-server``
pointing at it (Playwright's ``proxy`` option, with the run's secret the
guard proxy asks for) and ``--proxy-bypass-list=<-loopback>``, so redirect hops,
popups, workers and WebSockets pass the network guard as the page's own
requests do, and the proxy chains to the operator's proxy (``http_proxy``/
``https_proxy``/``no_proxy``, ``HOST_PROXY_MAP``) exactly as Scrapy would.
WebRTC may use only proxied TCP, so no UDP leaves around the proxy.
"""

from __future__ import annotations

import logging

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from crawler.browser.errors import BrowserError
from crawler.browser.workdir import sweep_tmp
from crawler.extensions.browser import SharedBrowser

logger = logging.getLogger(__name__)


class ChromiumDownloadHandler(HTTP11DownloadHandler):
    """http(s): Scrapy's HTTP/1.1 handler, and the browser for ``meta["browser"]``.

    Built when the crawl starts: it sweeps what a killed crawl's browser left
    in <ARCHIVE_DIR>/.tmp (crawler/browser/workdir.py).
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        try:
            removed = sweep_tmp(crawler.settings.get("ARCHIVE_DIR"))
        except (OSError, ValueError) as exc:
            logger.warning("browser: could not sweep the archive's .tmp: %s", exc)
            removed = []
        if removed:
            logger.info("browser: removed %d stale temporary folder(s) from the archive's .tmp: %s",
                        len(removed), ", ".join(removed))
            crawler.stats.inc_value("browser/tmp_swept", len(removed))

    def renderer(self):
        """The crawl's one browser, shared with the other scheme's handler."""
        shared = self._crawler.get_extension(SharedBrowser)
        if shared is None:
            raise BrowserError(f"browser: {SharedBrowser.__module__}.SharedBrowser is not in EXTENSIONS")
        return shared.renderer()

    async def download_request(self, request):
        if request.meta.get("browser"):
            return await self.renderer().render(request)
        return await super().download_request(request)
