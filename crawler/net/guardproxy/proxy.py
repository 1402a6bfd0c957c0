"""The browser's one way out: a guarding HTTP proxy inside the crawl process.

Chromium is launched with ``--proxy-server`` pointing here and
``--proxy-bypass-list=<-loopback>`` (so not even loopback or link-local
addresses go around it). Every request a page makes therefore arrives here:
documents, subresources, each hop of a redirect, popups, workers, WebSockets.
Playwright's request interception could not promise that (its route handlers
never see redirect hops or new pages).

It listens on 127.0.0.1, where any local process could reach it; it answers
only the browser it was started for. Each run makes a secret (``credentials``)
that only that browser is given (Playwright's proxy username and password);
a request without it is answered ``407`` and goes nowhere, so no other
process can use the proxy, nor the operator's upstream credentials it adds.
Chromium asks without credentials first on every run and sends them once
challenged: that handshake is ``browser/proxy_challenged``, not an error; a
request with wrong credentials is ``browser/proxy_unauthorized``, each with
a warning. A request the proxy could not take to its server (unreachable,
a name that does not resolve) is answered ``502``, counted in
``browser/proxy_errors`` and logged at INFO with the URL and the reason.

For each request (an absolute-URI HTTP request, or ``CONNECT host:port``):

1. the URL or host is judged by crawler.net.policy (scheme, literal addresses,
   local names, ``GUARD_ALLOWED_NETWORKS``, and its port: 80, 443, the seeds'
   ports and ``GUARD_ALLOWED_PORTS``); a refusal is a ``403`` with the
   reason, counted in ``browser/blocked``;
2. the upstream is chosen exactly as Scrapy chooses it (``HOST_PROXY_MAP``,
   then ``http_proxy``/``https_proxy``/``no_proxy``, see ``choose_upstream``):
   through the operator's proxy (which resolves names), or directly: the name
   is resolved here, refused if ANY address it resolves to is internal, and
   the connection goes to the address that was checked, never to the name
   again, so DNS rebinding cannot slip through between check and connect;
3. a plain HTTP request is the only one on its connection (``Connection:
   close`` upstream, the client's connection closed after the response), so
   a kept-alive connection cannot carry a second, unchecked request. A
   CONNECT tunnel is bound to its checked host; inside it TLS is terminated
   here (the browser ignores certificate errors, as Scrapy does) so that
   HTTPS bodies can be measured too;
4. every response body is streamed, never held whole, and cut the moment it
   passes ``DOWNLOAD_MAXSIZE``, as received or decoded (gzip, deflate, br):
   the browser's connection is reset, so the request fails and nothing of it
   is recorded; ``browser/too_large`` counts it.

What each URL went through (an upstream proxy or the server's address, the
body's size) is kept for the page capture (``route``): a WARC record must
name the server's address, never this proxy's or the operator's proxy's.

It runs on the crawl's asyncio loop (the reactor is AsyncioSelectorReactor):
no thread, no locks, stats and logs on the crawl's thread. Bytes are copied
in 64 KiB slices; TLS, decompression and sockets release the GIL or are in C.

The proxy is here; ``routing.py`` chooses the way out, ``streams.py`` holds
the TCP and TLS streams, ``http1.py`` the heads, bodies and limits.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import socket
import ssl
import urllib.request
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

from crawler.net.guardproxy.http1 import BodyMeter, Head, TooLarge, body_framing, keeps_alive, pipe, relay_body
from crawler.net.guardproxy.routing import Route, Upstream, choose_upstream, parse_upstream
from crawler.net.guardproxy.streams import (CHUNK, Buffered, PlainStream, TLSStream, UpstreamError, client_context,
                                            server_context)
from crawler.net.policy import (PortPolicy, address_reason, blocked_reason, host_address, parse_networks,
                                proxy_endpoint, proxy_target_reason)

__all__ = ["GuardProxy", "Route", "Upstream", "choose_upstream", "parse_upstream", "BodyMeter", "TooLarge",
           "MARK_HEADER", "system_resolve"]

logger = logging.getLogger(__name__)

#: Bytes a request or response head (status line and headers) may have.
MAX_HEAD = 64 * 1024
#: URLs whose route is remembered for the page capture.
MAX_ROUTES = 4096
#: Headers that belong to one hop; dropped from a request this proxy forwards.
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization", b"te", b"upgrade"}
#: Marks a response this proxy made (a refusal, an unreachable server), so the
#: page capture never records it as the server's.
MARK_HEADER = "X-Crawler-Guard"


class Refused(Exception):
    """A request the network guard refuses; the message says why."""


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (getaddrinfo, off the loop's thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0].split("%", 1)[0] for info in infos]


def _authority(host: str, port: int, default: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default else f"{shown}:{port}"


class GuardProxy:
    """The guarding proxy; ``start`` it, point Chromium at ``url``, ``stop`` it."""

    def __init__(self, allowed_networks=(), host_map=None, proxies=None, max_body: int = 0,
                 idle_timeout: float = 30.0, stats=None, auth_encoding: str = "latin-1",
                 resolve=system_resolve, connect=asyncio.open_connection, ports: PortPolicy | None = None):
        self.allowed = parse_networks(allowed_networks)
        self.ports = ports if ports is not None else PortPolicy()
        self.host_map = {k.lower(): v for k, v in (host_map or {}).items()}
        self.proxies = dict(proxies or {})
        # the operator's proxies as (host, port): connected to as proxies, never fetched as pages
        self.proxy_endpoints = {e for e in map(proxy_endpoint, [*self.proxies.values(), *self.host_map.values()])
                                if e}
        self.max_body = max_body
        self.idle = idle_timeout
        self.stats = stats
        self.auth_encoding = auth_encoding
        self.resolve = resolve
        self.connect = connect
        self.token = secrets.token_hex(8)  # marks this proxy's own answers
        # the secret only the launched browser is given: nothing else may use this proxy
        self.credentials = ("crawler", secrets.token_urlsafe(24))
        self._authorization = b"Basic " + base64.b64encode(":".join(self.credentials).encode("ascii"))
        self.routes: OrderedDict[str, Route] = OrderedDict()
        self.server: asyncio.AbstractServer | None = None
        self.port: int | None = None
        self._tasks: set[asyncio.Task] = set()
        self._server_tls: ssl.SSLContext | None = None
        self._client_tls = client_context()

    @classmethod
    def from_crawler(cls, crawler, ports: PortPolicy, **kwargs) -> "GuardProxy":
        """The crawl's proxy; ``ports``: the crawl's one PortPolicy (the seeds' ports open in it)."""
        s = crawler.settings
        proxies = {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")} \
            if s.getbool("HTTPPROXY_ENABLED") else {}
        kwargs["ports"] = ports
        return cls(s.getlist("GUARD_ALLOWED_NETWORKS"), s.getdict("HOST_PROXY_MAP"), proxies,
                   s.getint("DOWNLOAD_MAXSIZE"), s.getfloat("DOWNLOAD_TIMEOUT"), crawler.stats,
                   s.get("HTTPPROXY_AUTH_ENCODING") or "latin-1", **kwargs)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, tls_dir: Path) -> "GuardProxy":
        """Listen on 127.0.0.1, on a port of the kernel's choosing."""
        self._server_tls = server_context(tls_dir)
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=MAX_HEAD)
        self.port = self.server.sockets[0].getsockname()[1]
        logger.debug("browser: guard proxy on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop listening and end every connection."""
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()
        self.server = None

    # --- what the page capture asks --------------------------------------------------

    def route(self, url: str) -> Route | None:
        return self.routes.get(url)

    def made(self, headers) -> bool:
        """Whether a response (its ``(name, value)`` pairs) is one this proxy made."""
        return any(n.lower() == MARK_HEADER.lower() and v.strip() == self.token for n, v in headers)

    def note(self, url: str) -> str | None:
        """Why ``url`` (or its tunnel, ``scheme://host[:port]``) was refused or cut."""
        route = self.routes.get(url)
        if route is None:
            parts = urlsplit(url)
            route = self.routes.get(f"{parts.scheme}://{parts.netloc}")
        return route.note if route is not None else None

    def _remember(self, url: str, route: Route) -> Route:
        self.routes[url] = route
        self.routes.move_to_end(url)
        while len(self.routes) > MAX_ROUTES:
            self.routes.popitem(last=False)
        return route

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    # --- connections -------------------------------------------------------------------

    async def _accept(self, reader, writer) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        client = PlainStream(reader, writer, self.idle)
        try:
            await self._serve(Buffered(client))
        except (asyncio.TimeoutError, asyncio.CancelledError, ConnectionError, OSError, UpstreamError,
                ssl.SSLError) as exc:
            logger.debug("browser proxy: connection ended: %r", exc)
            client.close()
        except Exception:
            logger.exception("browser proxy: connection failed")
            client.close()
        finally:
            self._tasks.discard(task)

    async def _serve(self, client: Buffered) -> None:
        raw = await client.read_until(b"\r\n\r\n", MAX_HEAD)
        if raw is None:
            client.stream.close()
            return
        head = Head.parse(raw)
        if not self._authorized(head):
            await self._unauthorized(client.stream, head)
            return
        try:
            method, target, _ = head.request_line()
        except ValueError as exc:
            await self._answer(client.stream, 400, "Bad Request", str(exc))
            return
        if method == "CONNECT":
            await self._tunnel(client, head, target)
        else:
            await self._forward(client, head, method, target)

    def _authorized(self, head: Head) -> bool:
        """Whether the request carries this run's secret (the browser's proxy credentials)."""
        return any(secrets.compare_digest(value, self._authorization)
                   for value in head.values(b"proxy-authorization"))

    async def _unauthorized(self, stream, head: Head) -> None:
        """407: the browser answers with its credentials; any other client gets nothing."""
        if head.values(b"proxy-authorization"):  # wrong credentials: not our browser
            self._inc("browser/proxy_unauthorized")
            logger.warning("browser proxy: refused a request with wrong credentials: %r", head.first[:200])
        else:  # the browser's first request, before it is challenged; or another process
            self._inc("browser/proxy_challenged")
            logger.debug("browser proxy: 407 to a request without credentials: %r", head.first[:200])
        await self._answer(stream, 407, "Proxy Authentication Required", "proxy authentication required",
                           extra='Proxy-Authenticate: Basic realm="crawler guard proxy"\r\n')

    async def _answer(self, stream, status: int, phrase: str, text: str, extra: str = "") -> None:
        body = f"{text}\n".encode("utf-8")
        stream_head = (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}"
                       f"{MARK_HEADER}: {self.token}\r\n\r\n").encode("latin-1")
        try:
            await stream.write(stream_head + body)
        finally:
            stream.close()

    async def _refuse(self, stream, shown: str, key: str, reason: str) -> None:
        self._inc("browser/blocked")
        logger.warning("browser: blocked %s: %s", shown, reason)
        self._remember(key, Route(False, None, note=f"blocked: {reason}"))
        await self._answer(stream, 403, "Forbidden", f"blocked by the crawler's network guard: {reason}")

    async def _fail(self, stream, shown: str, key: str, reason: str) -> None:
        self._inc("browser/proxy_errors")
        logger.info("browser: %s not fetched: %s", shown, reason)
        self._remember(key, Route(False, None, note=reason))
        await self._answer(stream, 502, "Bad Gateway", reason)

    async def _open(self, url: str, host: str, port: int):
        """(stream, upstream proxy or None, server address or None) for ``url``."""
        chosen = choose_upstream(url, self.host_map, self.proxies)
        if chosen:
            try:
                upstream = parse_upstream(chosen, self.auth_encoding)
            except ValueError as exc:
                raise UpstreamError(str(exc)) from exc
            try:
                reader, writer = await asyncio.wait_for(self.connect(upstream.host, upstream.port), self.idle)
            except (OSError, asyncio.TimeoutError) as exc:
                raise UpstreamError(f"proxy {upstream} unreachable: {exc!r}") from exc
            stream = PlainStream(reader, writer, self.idle)
            if upstream.tls:
                stream = TLSStream(stream, self._client_tls, False, upstream.host)
                await stream.handshake()
            return stream, upstream, None
        return await self._open_direct(host, port)

    async def _open_direct(self, host: str, port: int):
        literal = host_address(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = list(dict.fromkeys(await self.resolve(host, port)))
            except OSError as exc:
                raise UpstreamError(f"{host} does not resolve: {exc}") from exc
            if not addresses:
                raise UpstreamError(f"{host} does not resolve")
        for address in addresses:  # ANY internal answer refuses the name
            reason = address_reason(address, self.allowed)
            if reason:
                raise Refused(reason if literal is not None else f"{host} resolves to a {reason}")
        error = None
        for address in addresses:  # the checked address, never the name again
            try:
                reader, writer = await asyncio.wait_for(self.connect(address, port), self.idle)
                return PlainStream(reader, writer, self.idle), None, address
            except (OSError, asyncio.TimeoutError) as exc:
                error = exc
        raise UpstreamError(f"cannot connect to {host} port {port}: {error!r}")

    async def _open_for(self, client: Buffered, shown: str, key: str, url: str, host: str, port: int,
                        tunnel: bool = False):
        """``_open`` on behalf of a client, through the operator's proxy as a
        tunnel when ``tunnel``: (server, upstream, address), or None once the
        client has been told why not (refused, or unreachable)."""
        try:
            server, upstream, address = await self._open(url, host, port)
            if tunnel and upstream is not None:
                server = await self._connect_through(server, upstream, host, port)
        except Refused as exc:
            await self._refuse(client.stream, shown, key, str(exc))
            return None
        except UpstreamError as exc:
            await self._fail(client.stream, shown, key, str(exc))
            return None
        return server, upstream, address

    # --- plain HTTP: one request, one connection ------------------------------------------

    async def _forward(self, client: Buffered, head: Head, method: str, target: str) -> None:
        url = target
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or ""), (parts.port or 80)
        except ValueError as exc:
            await self._answer(client.stream, 400, "Bad Request", f"malformed URL: {exc}")
            return
        if parts.scheme.lower() != "http":
            reason = blocked_reason(url, self.allowed) or f"not an absolute http URL: {target[:200]}"
            await self._refuse(client.stream, url, url, reason)
            return
        reason = (blocked_reason(url, self.allowed) or self.ports.reason(url)
                  or proxy_target_reason(url, self.proxy_endpoints))
        if reason:
            await self._refuse(client.stream, url, url, reason)
            return
        opened = await self._open_for(client, url, url, url, host, port)
        if opened is None:
            return
        server, upstream, address = opened
        route = self._remember(url, Route(upstream is not None, address))
        try:
            request_target = url if upstream else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            out = [f"{method} {request_target} HTTP/1.1".encode("latin-1")]
            hop = HOP_BY_HOP | set(head.tokens(b"connection"))
            out += [line for line in head.lines if line.partition(b":")[0].strip().lower() not in hop]
            if upstream is not None and upstream.authorization:
                out.append(b"Proxy-Authorization: " + upstream.authorization)
            out.append(b"Connection: close")
            await server.write(b"\r\n".join(out) + b"\r\n\r\n")
            await relay_body(client, server, body_framing(head, request=True))
            await self._exchange(Buffered(server), client, head, method, url, route)
        finally:
            server.close()
            client.stream.close()

    # --- CONNECT: a tunnel bound to its checked host ---------------------------------------

    async def _tunnel(self, client: Buffered, head: Head, target: str) -> None:
        try:
            parts = urlsplit(f"//{target}")
            host, port = parts.hostname or "", parts.port or 443
        except ValueError as exc:
            await self._answer(client.stream, 400, "Bad Request", f"malformed CONNECT target: {exc}")
            return
        origin = f"https://{_authority(host, port, 443)}"
        shown = f"CONNECT {target}"
        reason = (blocked_reason(origin + "/", self.allowed) or self.ports.reason(origin + "/")
                  or proxy_target_reason(origin + "/", self.proxy_endpoints))
        if reason:
            await self._refuse(client.stream, shown, origin, reason)
            return
        opened = await self._open_for(client, shown, origin, origin + "/", host, port, tunnel=True)
        if opened is None:
            return
        server, upstream, address = opened
        inner_client = client.stream
        try:
            await client.stream.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            first = bytes(client.buffer) or await client.stream.read(CHUNK)
            client.buffer.clear()
            if not first:
                return
            if first[:1] == b"\x16":  # a TLS ClientHello: end it here, start our own
                server = TLSStream(server, self._client_tls, False, None if host_address(host) else host)
                await server.handshake()
                inner_client = TLSStream(client.stream, self._server_tls, True, initial=first)
                await inner_client.handshake()
                inner, scheme = Buffered(inner_client), "https"
            else:  # plain HTTP in the tunnel (ws:// goes this way)
                inner, scheme = Buffered(client.stream, first), "http"
            base = f"{scheme}://{_authority(host, port, 443 if scheme == 'https' else 80)}"
            await self._session(inner, Buffered(server), base, upstream is not None, address)
        finally:
            server.close()
            inner_client.close()

    async def _connect_through(self, stream, upstream: Upstream, host: str, port: int):
        authority = f"{f'[{host}]' if ':' in host else host}:{port}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if upstream.authorization:
            lines.append("Proxy-Authorization: " + upstream.authorization.decode("latin-1"))
        await stream.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        reply = Buffered(stream)
        raw = await reply.read_until(b"\r\n\r\n", MAX_HEAD)
        if raw is None:
            raise UpstreamError(f"proxy {upstream} closed the CONNECT")
        status = Head.parse(raw).status()
        if not 200 <= status < 300:
            stream.close()
            raise UpstreamError(f"proxy {upstream} answered CONNECT with {status}")
        return stream

    async def _session(self, client: Buffered, server: Buffered, base: str, via_proxy: bool, address) -> None:
        """Requests inside one tunnel, each to the tunnel's host, until either closes."""
        while True:
            raw = await client.read_until(b"\r\n\r\n", MAX_HEAD)
            if raw is None:
                return
            head = Head.parse(raw)
            method, target, _ = head.request_line()
            if "://" in target:  # absolute form inside a tunnel: still the tunnel's host
                parts = urlsplit(target)
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            url = base + target
            route = self._remember(url, Route(via_proxy, address))
            await server.stream.write(raw)
            await relay_body(client, server.stream, body_framing(head, request=True))
            if not await self._exchange(server, client, head, method, url, route):
                return

    # --- one response ------------------------------------------------------------------------

    async def _exchange(self, server: Buffered, client: Buffered, request: Head, method: str, url: str,
                        route: Route) -> bool:
        """Relay the response to ``request``; whether the connection may go on."""
        while True:
            raw = await server.read_until(b"\r\n\r\n", MAX_HEAD)
            if raw is None:
                raise UpstreamError(f"{url}: connection closed before a response")
            head = Head.parse(raw)
            status = head.status()
            if 100 <= status < 200 and status != 101:
                await client.stream.write(raw)  # 100 Continue, 103 Early Hints
                continue
            break
        if status == 101:  # a WebSocket: the tunnel's host, both ways, until closed
            await client.stream.write(raw)
            await pipe(client, server, self.idle)
            return False
        framing = body_framing(head, request=False, method=method, status=status)
        codings = head.tokens(b"content-encoding")
        meter = BodyMeter(self.max_body, codings[0] if len(codings) == 1 else (b"unknown" if codings else b""))
        try:
            if framing[0] == "length":
                meter.declare(framing[1])
            await client.stream.write(raw)
            await relay_body(server, _Metered(client.stream, route, meter), framing, meter)
        except TooLarge as exc:
            route.note = str(exc)
            route.body_bytes = meter.size
            self._inc("browser/too_large")
            logger.warning("browser: cut %s: %s", url, exc)
            client.stream.reset()  # the browser sees a failed request, not a short body
            return False
        route.body_bytes = meter.size
        return framing[0] != "close" and keeps_alive(request, head)


class _Metered:
    """Passes writes on, keeping the route's body size current as bytes go."""

    def __init__(self, stream, route: Route, meter: BodyMeter):
        self.stream, self.route, self.meter = stream, route, meter

    async def write(self, data: bytes) -> None:
        self.route.body_bytes = self.meter.size
        await self.stream.write(data)
