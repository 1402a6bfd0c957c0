"""Capture every HTTP exchange into the WARC archive.

Placed after every built-in middleware (priority 950), so it sees the
request as it goes to the download handler and the response as it comes
back: still content-encoded, before redirects, retries or error handling.
Redirects and error statuses are captured like any other exchange. The
capture's place (file, record id, date, URI, payload digest) goes into
``request.meta["warc_capture"]`` for the article that comes out of it.

A refresh names the article's last full capture in
``request.meta["refresh_original"]``, and the last one whose extraction was
refused in ``"refresh_refused"``. A 304, or a 200 with the byte-identical
payload of either, is written as revisit records (crawler/warc/revisit.py)
instead of a second copy, and the capture says so (``"revisit":
"not-modified"``, ``"identical"`` or ``"identical-refused"``).
"""

from __future__ import annotations

import logging

from crawler import sites
from crawler.extensions.archiveio import run_io
from crawler.extensions.warcwriter import shared_writer
from crawler.featureoff import needs_flag
from crawler.warc.records import request_record, response_record
from crawler.warc.revisit import identical_revisit_record, not_modified_records, payload_digest

logger = logging.getLogger(__name__)


class WarcCaptureMiddleware:
    def __init__(self, writer, stats=None, crawler=None):
        self.writer = writer
        self.stats = stats
        self.crawler = crawler  # None: write in the calling thread (tests of the component)

    @classmethod
    def from_crawler(cls, crawler):
        needs_flag(crawler.settings, "WARC_ENABLED", __name__)
        return cls(shared_writer(crawler), crawler.stats, crawler)

    def _records(self, request, response):
        """(records, revisit kind): what this exchange is written as."""
        builder = self.writer.builder
        via_proxy = bool(request.meta.get("proxy"))
        # only an answer for the same article (the same key: qq's other host
        # too, whose revisit names the original's URI) is a revisit of its
        # earlier capture; a redirect to another address never is
        key = sites.article_key(response.url)
        original, refused = (earlier if earlier and sites.article_key(earlier["uri"]) == key else None
                             for earlier in (request.meta.get("refresh_original"), request.meta.get("refresh_refused")))
        if original and response.status == 304:
            return not_modified_records(builder, response, original, via_proxy=via_proxy), "not-modified"
        if (original or refused) and response.status == 200:
            digest = payload_digest(response.body)
            for earlier, kind in ((original, "identical"), (refused, "identical-refused")):
                if earlier and digest == earlier["payload_digest"]:
                    return [identical_revisit_record(builder, response, earlier, via_proxy=via_proxy)], kind
        return [response_record(builder, response, via_proxy=via_proxy)], None

    async def process_response(self, request, response, spider=None):
        return await run_io(self.crawler, self.capture, request, response)

    def capture(self, request, response):
        """Build and write the exchange's records; the response, its capture in its meta."""
        records, revisit = self._records(request, response)
        first = records[0]
        req = request_record(self.writer.builder, request,
                             concurrent_to=first.rec_headers.get_header("WARC-Record-ID"))
        # a failed write (a full disk) raises WarcWriteError: this page fails
        # with the reason, the writer counts it in warc/write_errors, the run exits 1
        where = self.writer.write(first, req, *records[1:])
        where["uri"] = response.url
        where["payload_digest"] = first.rec_headers.get_header("WARC-Payload-Digest")
        where["revisit"] = revisit
        request.meta["warc_capture"] = where
        if self.stats is not None:
            self.stats.inc_value("warc/records", len(records) + 1)
            self.stats.inc_value(f"warc/response_status/{response.status}")
            if revisit:
                self.stats.inc_value(f"warc/revisit/{revisit}")
        return response
