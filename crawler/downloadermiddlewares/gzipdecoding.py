"""gzip-encoded responses decoded with ISA-L (crawler.net.decoding), before
Scrapy's HttpCompressionMiddleware sees them.

Nearly every news page comes gzip-encoded, and decoding it was the largest
single cost of a page in the crawl process after Scrapy's own machinery.
This middleware sits just before Scrapy's in the response chain (595 against
590, after redirects as Scrapy's is) and takes only a response whose one
coding is gzip: it answers it as Scrapy's would (the same size limits from
``DOWNLOAD_MAXSIZE``/``DOWNLOAD_WARNSIZE`` and the request's meta, the same
messages, the same ``httpcompression/*`` stats, the response class guessed
again from the decoded body) and takes the coding off, so Scrapy's has
nothing left to do. Stacked codings, deflate, br and zstd stay Scrapy's. The
WARC capture (950) has already seen the body as it came.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import TextResponse
from scrapy.responsetypes import responsetypes

from crawler.net.decoding import DecodedTooLarge, gunzip

logger = logging.getLogger(__name__)

GZIP_ONLY = ([b"gzip"], [b"x-gzip"])


class GzipDecodingMiddleware:
    def __init__(self, max_size: int, warn_size: int, stats=None):
        self.max_size = max_size
        self.warn_size = warn_size
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured  # as Scrapy's: nothing is decoded
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"), crawler.settings.getint("DOWNLOAD_WARNSIZE"),
                   crawler.stats)

    def process_response(self, request, response, spider=None):
        codings = [coding.strip().lower() for coding in response.headers.getlist("Content-Encoding")]
        if request.method == "HEAD" or codings not in GZIP_ONLY:
            return response
        max_size = request.meta.get("download_maxsize", self.max_size)
        warn_size = request.meta.get("download_warnsize", self.warn_size)
        try:
            body = gunzip(response.body, max_size)
        except DecodedTooLarge as exc:
            message = (f"Ignored response {response} because its body ({len(response.body)} B compressed, "
                       f"{exc.size} B decompressed so far) exceeded DOWNLOAD_MAXSIZE ({max_size} B) "
                       f"during decompression.")
            logger.warning(message)
            raise IgnoreRequest(message) from exc
        if len(response.body) < warn_size <= len(body):
            logger.warning(f"{response} body size after decompression ({len(body)} B) is larger than the "
                           f"download warning size ({warn_size} B).")
        if self.stats is not None:
            self.stats.inc_value("httpcompression/response_bytes", len(body))
            self.stats.inc_value("httpcompression/response_count")
        respcls = responsetypes.from_args(headers=response.headers, url=response.url, body=body)
        kwargs = {"body": body}
        if issubclass(respcls, TextResponse):
            kwargs["encoding"] = None  # as Scrapy's: the encoding is found again from the decoded body
        response = response.replace(cls=respcls, **kwargs)
        del response.headers["Content-Encoding"]
        return response
