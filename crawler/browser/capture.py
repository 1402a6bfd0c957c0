"""What a browser page fetched, exchange by exchange, as Scrapy would have.

Playwright's response events hand over every request the page made (the
document, its redirects, scripts, XHR/fetch JSON, images) with the headers
as sent and received. ``PageCapture`` collects them while the page loads;
``scrapy_request``/``scrapy_response`` turn one into the Scrapy objects the
WARC record builders (crawler/warc/records.py) already take, so browser
captures get the same header rules as every other capture.

Playwright hands bodies over already decoded: the stored headers must agree
with the stored bytes, so ``Content-Encoding`` is kept only as
``X-Archive-Orig-Content-Encoding`` (the record builder then makes
``Content-Length`` the stored length and keeps ``Transfer-Encoding`` only as
``X-Archive-Orig-Transfer-Encoding``). Redirect bodies are not available
from Chromium and are stored empty.

Every request went through the crawl's guard proxy (crawler/net/guardproxy/),
so Playwright's peer address is always the proxy's. What the proxy knows
decides the record instead: an exchange that went through the operator's
proxy is recorded ``via_proxy`` with no address, one that went direct with
the address the proxy connected to. A response the guard proxy made itself
(a refusal, an unreachable server) is never recorded as the server's, and a
body is only read from the browser while the page's bodies stay within
``BROWSER_MAX_PAGE_BYTES`` (the proxy has counted its size already; each
body was held to ``DOWNLOAD_MAXSIZE`` by the proxy as it arrived).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass, field

from scrapy import Request
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

logger = logging.getLogger(__name__)

#: Playwright's body of a redirect, and of a few other responses, cannot be read.
NO_BODY_STATUSES = range(300, 400)


@dataclass
class Exchange:
    """One request the page made and the response it got."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    post_data: bytes
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    server_ip: str | None
    resource_type: str
    navigation: bool  # a main-frame document request
    redirected_from: str | None = None
    proxied: bool = False
    truncated: bool = False  # body over the size limits: not kept, not recorded
    seq: int = 0  # order in which the page finished its requests


@dataclass
class Render:
    """A rendered page: what the spider reads and the WARC keeps besides the document."""

    url: str  # the document's URL
    dom: str  # the DOM after the scripts ran, serialised
    screenshot: bytes | None  # PNG of the viewport
    exchanges: list[Exchange]  # everything else the page fetched


@dataclass
class PageCapture:
    """Collects one page's exchanges (hooked to the page before it loads)."""

    max_body: int  # bytes one response body may have to be kept
    max_total: int  # bytes of bodies one page may keep
    proxy: object = None  # the crawl's GuardProxy: routes, its own answers
    stats: object = None
    exchanges: list[Exchange] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # URLs the guard proxy answered itself
    page: object = None
    screenshot: bytes | None = None
    kept: int = 0
    crashed: asyncio.Event = field(default_factory=asyncio.Event)
    failed: asyncio.Event = field(default_factory=asyncio.Event)  # the document's request failed
    failure: tuple[str, str] | None = None  # (its URL, Chromium's error)
    _pending: set = field(default_factory=set)
    _finished_count: int = 0

    def attach(self, page) -> None:
        self.page = page
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._request_failed)
        page.on("crash", lambda *_: self.crashed.set())

    def _request_failed(self, pw_request) -> None:
        """The page's own document failing before it finished (its body cut by
        the guard proxy, a reset): Chromium may then wait for a load that never
        comes, so the page fails now. ERR_ABORTED (a download, a navigation
        replaced) is left to the navigation's own outcome."""
        try:
            main = pw_request.is_navigation_request() and pw_request.frame == self.page.main_frame
        except Exception:  # a worker's request has no frame
            return
        failure = pw_request.failure or ""
        if not main or self.failure is not None or "ERR_ABORTED" in failure:
            return
        if any(e.navigation and e.status not in NO_BODY_STATUSES for e in self.exchanges):
            return  # the document is in: a later navigation of the page's own
        self.failure = (pw_request.url, failure)
        self.failed.set()

    def _finished(self, pw_request) -> None:
        self._finished_count += 1
        task = asyncio.ensure_future(self._record(pw_request, self._finished_count))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    async def _record(self, pw_request, seq: int) -> None:
        url = pw_request.url
        if not url.startswith(("http://", "https://")):
            return
        try:
            response = await pw_request.response()
            if response is None:
                return
            response_headers = await response.headers_array()
            pairs = [(h["name"], h["value"]) for h in response_headers]
            if self.proxy is not None and self.proxy.made(pairs):
                self.refused.append(url)  # the guard proxy's answer, not the server's
                return
            route = self.proxy.route(url) if self.proxy is not None else None
            request_headers = await pw_request.headers_array()
            body, truncated = b"", False
            if response.status not in NO_BODY_STATUSES:
                body, truncated = await self._body(response, response_headers, route)
        except Exception as exc:  # the page closed, a body was evicted: log it, keep the rest
            logger.debug("browser: %s not captured: %s", url, exc)
            self._inc("browser/capture_errors")
            return
        frame = pw_request.frame if pw_request.is_navigation_request() else None
        main = frame is not None and self.page is not None and frame == self.page.main_frame
        proxied = route is not None and route.via_proxy
        self.exchanges.append(Exchange(
            url=url,
            method=pw_request.method,
            request_headers=[(h["name"], h["value"]) for h in request_headers],
            post_data=pw_request.post_data_buffer or b"",
            status=response.status,
            response_headers=pairs,
            body=body,
            server_ip=None if route is None or route.via_proxy else route.address,
            resource_type=pw_request.resource_type,
            navigation=main,
            redirected_from=pw_request.redirected_from.url if pw_request.redirected_from else None,
            proxied=proxied,
            truncated=truncated,
            seq=seq,
        ))

    async def _body(self, response, headers, route=None) -> tuple[bytes, bool]:
        """(body, over a limit): a body that would pass the page's total is
        not even read from the browser (the proxy counted its size)."""
        declared = next((h["value"] for h in headers if h["name"].lower() == "content-length"), None)
        size = route.body_bytes if route is not None else None
        if size is None and declared and declared.strip().isdigit():
            size = int(declared)
        if size is not None and self._over(size):
            self._inc("browser/too_large")
            return b"", True
        body = await response.body()
        if self._over(len(body)):
            self._inc("browser/too_large")
            return b"", True
        self.kept += len(body)
        return body, False

    def _over(self, size: int) -> bool:
        """Past DOWNLOAD_MAXSIZE or the page's BROWSER_MAX_PAGE_BYTES (0: no limit)."""
        return bool((self.max_body and size > self.max_body) or (self.max_total and self.kept + size > self.max_total))

    def cancel(self) -> None:
        """Stop reading bodies (the page is closed)."""
        for task in list(self._pending):
            task.cancel()

    async def settled(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) for the bodies still being read."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)

    def document(self) -> Exchange | None:
        """The page's document: the end of its first main-frame navigation
        (where a script later sent the page is one more exchange)."""
        documents = [e for e in self.exchanges if e.navigation and e.status not in NO_BODY_STATUSES]
        return min(documents, key=lambda e: e.seq) if documents else None

    def redirects(self) -> list[Exchange]:
        """With no document (its last hop refused): the first navigation's
        redirect hops, first to last."""
        hops = [e for e in self.exchanges if e.navigation and e.status in NO_BODY_STATUSES]
        if not hops:
            return []
        last = max(hops, key=lambda e: e.seq)
        return self.chain(last)

    def chain(self, document: Exchange) -> list[Exchange]:
        """The document's redirect hops, first to last, then the document."""
        by_url = {e.url: e for e in self.exchanges if e.navigation}
        chain, seen = [document], {document.url}
        while chain[0].redirected_from and chain[0].redirected_from in by_url:
            previous = by_url[chain[0].redirected_from]
            if previous.url in seen:
                break
            chain.insert(0, previous)
            seen.add(previous.url)
        return chain


def _headers(pairs, skip=()) -> Headers:
    headers = Headers()
    for name, value in pairs:
        if name.startswith(":") or name.lower() in skip:
            continue
        headers.appendlist(name, value)
    return headers


def stored_headers(pairs) -> Headers:
    """Response headers for a decoded body: Content-Encoding kept only as
    X-Archive-Orig-Content-Encoding (the body is no longer encoded)."""
    return _headers([("X-Archive-Orig-Content-Encoding", v) if n.lower() == "content-encoding" else (n, v)
                     for n, v in pairs])


def scrapy_request(exchange: Exchange) -> Request:
    """The request as the browser sent it (Host comes from the URL in the record)."""
    return Request(exchange.url, method=exchange.method, body=exchange.post_data or None,
                   headers=_headers(exchange.request_headers, skip={"host"}), dont_filter=True)


def scrapy_response(exchange: Exchange, request: Request | None = None, flags=("browser",)):
    """The response as the server sent it, its body decoded (see module doc)."""
    headers = stored_headers(exchange.response_headers)
    cls = responsetypes.from_args(headers=headers, url=exchange.url, body=exchange.body)
    ip = None
    if exchange.server_ip:
        try:
            ip = ipaddress.ip_address(exchange.server_ip.strip("[]"))
        except ValueError:
            ip = None
    return cls(url=exchange.url, status=exchange.status, headers=headers, body=exchange.body,
               request=request, flags=list(flags), ip_address=ip)
