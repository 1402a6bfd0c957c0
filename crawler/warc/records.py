"""Scrapy request/response -> warcio records that verify and replay.

Scrapy hands the middleware a body that is still content-encoded (gzip, br)
but no longer chunked. The stored HTTP headers are made to agree with the
stored bytes: ``Transfer-Encoding`` is kept only as
``X-Archive-Orig-Transfer-Encoding`` and ``Content-Length`` is the stored
length (the server's value kept as ``X-Archive-Orig-Content-Length`` when it
differs), so that digests verify and replay tools read the payload right.
"""

from __future__ import annotations

from http import HTTPStatus
from io import BytesIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

#: Request headers that are about our proxy hop, not the origin exchange.
PRIVATE_REQUEST_HEADERS = {b"proxy-authorization"}


class ServedHeaders(StatusAndHeaders):
    """HTTP header values written back byte for byte as Scrapy received them.

    warcio would rewrite non-ASCII values %-encoded (RFC 8187), so the
    record would no longer hold what the server sent; any bytes survive the
    UTF-8/surrogateescape round trip used here. Names are as Scrapy's
    ``Headers`` keeps them: re-cased, repeated ones grouped (not the wire order).
    """

    def compute_headers_buffer(self, header_filter=None):
        self.headers_buff = self.to_str(header_filter).encode("utf-8", "surrogateescape") + b"\r\n"


def _decode(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _header_list(headers, skip=()) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        if name.lower() in skip:
            continue
        for value in values:
            out.append((_decode(name), _decode(value)))
    return out


def request_record(builder, request, concurrent_to: str | None = None):
    """A ``request`` record: the request line and headers as sent."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [("Host", parts.netloc)] + _header_list(request.headers, PRIVATE_REQUEST_HEADERS)
    body = request.body or b""
    if body and not any(k.lower() == "content-length" for k, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    http_headers = ServedHeaders(f"{request.method} {target} HTTP/1.1", headers, is_http_request=True)
    warc_headers = {}
    if concurrent_to:
        warc_headers["WARC-Concurrent-To"] = concurrent_to
    return builder.create_warc_record(
        request.url, "request", payload=BytesIO(body), length=len(body),
        http_headers=http_headers, warc_headers_dict=warc_headers,
    )


def response_record(builder, response, via_proxy: bool = False):
    """A ``response`` record: status, headers and body as the server sent them."""
    body = response.body or b""
    headers = []
    for name, value in _header_list(response.headers):
        lname = name.lower()
        if lname == "transfer-encoding":
            headers.append(("X-Archive-Orig-Transfer-Encoding", value))
        elif lname == "content-length":
            if value.strip() != str(len(body)):
                headers.append(("X-Archive-Orig-Content-Length", value))
        else:
            headers.append((name, value))
    headers.append(("Content-Length", str(len(body))))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    protocol = getattr(response, "protocol", None) or "HTTP/1.1"
    if not protocol.upper().startswith("HTTP/"):
        protocol = "HTTP/1.1"
    http_headers = ServedHeaders(f"{response.status} {reason}", headers, protocol=protocol)
    warc_headers = {}
    # through a proxy, the peer address is the proxy's, not the server's
    if not via_proxy and getattr(response, "ip_address", None) is not None:
        warc_headers["WARC-IP-Address"] = str(response.ip_address)
    return builder.create_warc_record(
        response.url, "response", payload=BytesIO(body), length=len(body),
        http_headers=http_headers, warc_headers_dict=warc_headers,
    )


def text_record(builder, url: str, text: str, refers_to: str | None,
                content_type: str = "text/markdown; charset=utf-8"):
    """A ``resource`` record holding an article's Markdown.

    Its URI is ``urn:markdown:<page url>`` (as Webrecorder keeps page text
    under ``urn:text:``), so indexes and replay tools never take it for a
    capture of the page itself.
    """
    data = text.encode("utf-8")
    warc_headers = {"WARC-Refers-To": refers_to} if refers_to else {}
    return builder.create_warc_record(
        f"urn:markdown:{url}", "resource", payload=BytesIO(data), length=len(data),
        warc_content_type=content_type, warc_headers_dict=warc_headers,
    )


def metadata_record(builder, url: str, fields: dict, concurrent_to: str | None):
    """A ``metadata`` record (``application/warc-fields``) about a capture:
    which article came out of it and where its text is. Indexers skip this
    content type, so it never stands in for the page."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items() if value)
    data = lines.encode("utf-8")
    warc_headers = {"WARC-Concurrent-To": concurrent_to} if concurrent_to else {}
    return builder.create_warc_record(
        url, "metadata", payload=BytesIO(data), length=len(data),
        warc_content_type="application/warc-fields", warc_headers_dict=warc_headers,
    )


def article_records(builder, url: str, markdown_text: str, capture_id: str | None, path: str, outcome: str,
                    digest: str | None, extractor: str | None = None, source_url: str | None = None) -> list:
    """An article's two records, written together: its Markdown (``text_record``)
    and the ``metadata`` record naming its file, outcome and text digest, which
    the archive reads back as the evidence that the outcome was recorded."""
    text = text_record(builder, url, markdown_text, capture_id)
    about = metadata_record(builder, url, {
        "article-file": path,
        "article-outcome": outcome,
        "extractor": extractor,
        "source-url": source_url,
        "text-record": text.rec_headers.get_header("WARC-Record-ID"),
        "text-uri": f"urn:markdown:{url}",
        "text-digest": digest,
    }, capture_id)
    return [text, about]
