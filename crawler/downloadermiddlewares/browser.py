"""Browser requests on the Scrapy side: which go to the browser, and what comes back.

* ``process_request``: an article request for a host ``BROWSER_RENDER``
  names goes straight to the browser (``meta["browser"]``).
* ``process_response``: a rendered page comes back as its document as
  served, which the WARC capture middleware (priority 950, so before this
  one) has just recorded. Here the rest of the render goes into the WARC:
  every other exchange the page made (scripts, the XHR/fetch JSON that
  carries the text, images) as response and request records, the rendered
  DOM as a ``resource`` record ``urn:dom:<url>`` and the screenshot as
  ``urn:screenshot:<url>`` (browsertrix keeps both), each with
  ``WARC-Refers-To`` the document's record. Replay tools index them under
  those URNs and never serve them for the page. Building, compressing and
  writing those records runs in the archive I/O thread (crawler/extensions/archiveio.py),
  as the capture middleware's do, so the reactor goes on downloading. Then
  the spider gets the rendered DOM in place of the served body, through the
  same site adapters.
"""

from __future__ import annotations

import logging
from io import BytesIO

from scrapy.http import HtmlResponse

from crawler.browser.capture import scrapy_request, scrapy_response
from crawler.browser.policy import BrowserPolicy
from crawler.extensions.archiveio import run_io
from crawler.extensions.warcwriter import shared_writer
from crawler.warc.records import request_record, response_record

logger = logging.getLogger(__name__)


def resource_record(builder, uri: str, data: bytes, content_type: str, refers_to: str | None):
    """A ``resource`` record under a URN of its own (``urn:dom:``, ``urn:screenshot:``)."""
    warc_headers = {"WARC-Refers-To": refers_to} if refers_to else {}
    return builder.create_warc_record(uri, "resource", payload=BytesIO(data), length=len(data),
                                      warc_content_type=content_type, warc_headers_dict=warc_headers)


def render_records(builder, render, refers_to: str | None) -> list:
    """The WARC records of a render, besides its document."""
    records = []
    for exchange in render.exchanges:
        response = response_record(builder, scrapy_response(exchange), via_proxy=exchange.proxied)
        records.append(response)
        records.append(request_record(builder, scrapy_request(exchange),
                                      concurrent_to=response.rec_headers.get_header("WARC-Record-ID")))
    records.append(resource_record(builder, f"urn:dom:{render.url}", render.dom.encode("utf-8"),
                                   "text/html; charset=utf-8", refers_to))
    if render.screenshot:
        records.append(resource_record(builder, f"urn:screenshot:{render.url}", render.screenshot,
                                       "image/png", refers_to))
    return records


class BrowserMiddleware:
    def __init__(self, policy: BrowserPolicy, writer=None, stats=None, crawler=None):
        self.policy = policy
        self.writer = writer
        self.stats = stats
        self.crawler = crawler  # None: write in the calling thread (tests of the component)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        writer = shared_writer(crawler) if s.getbool("WARC_ENABLED") else None
        return cls(BrowserPolicy.from_settings(s), writer, crawler.stats, crawler)

    def process_request(self, request, spider=None):
        # article requests only (the spider's seed_url): their images stay plain fetches
        if "seed_url" in request.meta and "browser" not in request.meta and self.policy.always(request.url):
            request.meta["browser"] = True
            self._inc("browser/routed")
        return None

    async def process_response(self, request, response, spider=None):
        render = request.meta.pop("browser_render", None)
        if render is None:
            return response
        # what the page fetched besides its document (the downloader counted that one):
        # the crawl summary's "fetched" adds them, as the WARC holds them
        self._inc("browser/responses", len(render.exchanges))
        if self.writer is not None:
            refers_to = (request.meta.get("warc_capture") or {}).get("record_id")
            count = await run_io(self.crawler, self.write_render, render, refers_to)
            self._inc("browser/records", count)
            self._inc("warc/records", count)
        # the DOM as UTF-8, said where the extraction workers read a page's charset (its
        # Content-Type, which outranks the <meta charset> the DOM may still carry)
        headers = response.headers.copy()
        headers["Content-Type"] = "text/html; charset=utf-8"
        return response.replace(cls=HtmlResponse, body=render.dom.encode("utf-8"), headers=headers, encoding="utf-8")

    def write_render(self, render, refers_to: str | None) -> int:
        """Build and write a render's records (in the archive I/O thread); how many."""
        records = render_records(self.writer.builder, render, refers_to)
        self.writer.write(*records)
        return len(records)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)
