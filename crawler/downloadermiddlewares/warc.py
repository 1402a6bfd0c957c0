"""Capture every HTTP exchange into the WARC archive.

Placed after every built-in middleware (priority 950), so it sees the
request as it goes to the download handler and the response as it comes
back: still content-encoded, before redirects, retries or error handling.
Redirects and error statuses are captured like any other exchange. The
capture's place (file, record id, date) goes into ``request.meta
["warc_capture"]`` for the article that comes out of it.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured

from crawler.warc.records import request_record, response_record
from crawler.warc.writer import shared_writer

logger = logging.getLogger(__name__)


class WarcCaptureMiddleware:
    def __init__(self, writer, stats=None):
        self.writer = writer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        return cls(shared_writer(crawler), crawler.stats)

    def process_response(self, request, response, spider=None):
        builder = self.writer.builder
        resp = response_record(builder, response, via_proxy=bool(request.meta.get("proxy")))
        req = request_record(builder, request, concurrent_to=resp.rec_headers.get_header("WARC-Record-ID"))
        where = self.writer.write(resp, req)
        request.meta["warc_capture"] = where
        if self.stats is not None:
            self.stats.inc_value("warc/records", 2)
            self.stats.inc_value(f"warc/response_status/{response.status}")
        return response
