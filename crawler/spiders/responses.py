"""Responses that are no page to extract an article from, and why.

Judged before the extraction pool sees the page, on what the response says
of itself: a redirect Scrapy would not follow (to ``file:``, ``ftp:``,
``javascript:``...), something else than text, binary bytes served as a
page, or more bytes than ``EXTRACTION_MAX_PAGE_BYTES``. Such a response is
kept in the WARC (the capture middleware already wrote it), not extracted.
"""

from __future__ import annotations

from scrapy.http import TextResponse

from crawler.core.failures import binary_content


def content_type(response, default: str) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1") or default


def not_a_page(response, max_bytes: int) -> tuple[str, str] | None:
    """(kind, reason) when ``response`` is no page to extract; None when it is one."""
    if 300 <= response.status < 400:
        location = response.headers.get("Location", b"").decode("latin-1") or "nowhere"
        return "redirect not followed", f"redirect not followed: HTTP {response.status} to {location}"
    if not isinstance(response, TextResponse):
        return "not an HTML page", f"not an HTML page ({content_type(response, 'unknown')})"
    binary = binary_content(response.body)
    if binary:
        return "not an HTML page", f"not an HTML page ({binary} served as {content_type(response, 'a page')})"
    if max_bytes and len(response.body) > max_bytes:
        return "page too large", (f"page of {len(response.body)} bytes is larger than EXTRACTION_MAX_PAGE_BYTES "
                                  f"({max_bytes}): kept in the WARC, not extracted")
    return None
