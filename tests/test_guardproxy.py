"""The browser's guard proxy on its own (crawler/net/guardproxy/), with raw clients.

Every server here listens on 127.0.0.1. Internal targets (10.0.0.1,
169.254.169.254, 127.0.0.2) appear only as strings: the resolver is
injected, and so is the function that connects, which records what it was
asked and refuses anything but loopback test servers.

Clients here send the proxy's per-run credentials (``talk`` adds them), as
the launched browser does. The test servers listen on random ports, so the
proxies here open every port (``guard_proxy``) unless a test is about ports.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import ssl
import tracemalloc
import urllib.request
import zlib

import brotli
import pytest
import scrapy
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.utils.test import get_crawler

from crawler.downloadermiddlewares.hostmap import HostProxyMapMiddleware
from crawler.net.guardproxy.proxy import MARK_HEADER, BodyMeter, GuardProxy, TooLarge, choose_upstream, parse_upstream
from crawler.net.policy import PortPolicy
from tests.fixtures.qq_site import Page
from tests.fixtures.server import FixtureProxy

MiB = 1024 * 1024


class Stats(dict):
    def inc_value(self, key, count=1):
        self[key] = self.get(key, 0) + count


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def origin(handler):
    """An asyncio server on 127.0.0.1 answering each connection with ``handler``."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def http_origin(seen: list, body=b"hello", headers=()):
    """An HTTP/1.1 origin that records each request head and answers ``body``, keep-alive."""
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head)
                extra = "".join(f"{n}: {v}\r\n" for n, v in headers)
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
    return await origin(handle)


def guard_proxy(*args, **kwargs) -> GuardProxy:
    """A GuardProxy that, unless told otherwise, opens every port (test servers listen on random ones)."""
    kwargs.setdefault("ports", PortPolicy("*"))
    return GuardProxy(*args, **kwargs)


def authorization(proxy: GuardProxy) -> bytes:
    """The Proxy-Authorization line the launched browser sends (the run's credentials)."""
    return b"Proxy-Authorization: Basic " + base64.b64encode(":".join(proxy.credentials).encode())


def with_auth(proxy: GuardProxy, data: bytes) -> bytes:
    """``data`` (a request head first) with the proxy's credentials after its request line."""
    line, sep, rest = data.partition(b"\r\n")
    return line + sep + authorization(proxy) + b"\r\n" + rest if sep else data


async def talk(proxy: GuardProxy, data: bytes, timeout: float = 10, auth: bool = True) -> tuple[bytes, str | None]:
    """Send ``data`` to the proxy (its credentials added unless ``auth`` is
    false); everything it answers until it closes, and how it closed."""
    if auth:
        data = with_auth(proxy, data)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(data)
    await writer.drain()
    out, ending = b"", None
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            out += chunk
    except ConnectionResetError:
        ending = "reset"
    except asyncio.TimeoutError:
        ending = "timeout"
    writer.close()
    return out, ending


def loopback_only(asked: list, redirect: dict | None = None):
    """A ``connect`` for the proxy that records (host, port) and reaches only
    loopback test servers (``redirect`` maps a checked public address to one)."""
    async def connect(host, port):
        asked.append((host, port))
        host, port = (redirect or {}).get((host, port), (host, port))
        assert host == "127.0.0.1", f"the test tried to reach {host}"
        return await asyncio.open_connection(host, port)
    return connect


def resolver(answers: dict, calls: list):
    async def resolve(host, port):
        calls.append(host)
        value = answers[host]
        if isinstance(value, Exception):
            raise value
        return list(value)
    return resolve


# --- which way a request goes: exactly Scrapy's ---------------------------------------------------------


def test_the_upstream_is_the_one_scrapy_would_choose(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")
    monkeypatch.setenv("https_proxy", "http://user:p%40ss@127.0.0.1:3129")
    monkeypatch.setenv("no_proxy", "intra.example,.corp.example,127.0.0.9")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    host_map = {"mapped.example": "http://127.0.0.1:8080", "ported.example:8443": "http://127.0.0.1:8081"}
    crawler = get_crawler(scrapy.Spider, settings_dict={"HOST_PROXY_MAP": host_map})
    hostmap = HostProxyMapMiddleware.from_crawler(crawler)
    httpproxy = HttpProxyMiddleware.from_crawler(crawler)
    proxies = {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")}
    urls = ["http://news.example/a", "https://news.example/a", "https://www.intra.example/", "http://intra.example/",
            "https://x.corp.example/", "https://mapped.example/p", "http://mapped.example/p",
            "https://ported.example:8443/", "https://ported.example/", "http://127.0.0.9/", "http://127.0.0.8:81/"]
    for url in urls:
        request = scrapy.Request(url)
        hostmap.process_request(request)
        httpproxy.process_request(request)
        ours = choose_upstream(url, host_map, proxies)
        scrapys = request.meta.get("proxy")
        assert bool(ours) == bool(scrapys), url
        if ours:
            upstream = parse_upstream(ours)
            assert f"{upstream.host}:{upstream.port}" in scrapys, (url, ours, scrapys)
            sent = request.headers.get("Proxy-Authorization")
            assert upstream.authorization == sent, url
    assert parse_upstream(proxies["https"]).authorization == b"Basic dXNlcjpwQHNz"  # user:p@ss


# --- the guard: literal addresses, local names, and what a name resolves to ------------------------------


def test_internal_targets_are_refused_before_any_connection(tmp_path):
    async def main():
        stats, asked, calls = Stats(), [], []
        proxy = await guard_proxy(stats=stats, resolve=resolver({}, calls),
                                 connect=loopback_only(asked)).start(tmp_path)
        answers = {}
        for target in ("http://127.0.0.2:81/x.js", "http://localhost/", "http://[::1]/", "http://10.0.0.5/",
                       "http://2130706433/", "http://169.254.169.254/latest/meta-data/"):
            answers[target] = await talk(proxy, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answers["CONNECT"] = await talk(proxy, b"CONNECT 127.0.0.2:443 HTTP/1.1\r\nHost: x\r\n\r\n")
        answers["ftp"] = await talk(proxy, b"GET ftp://example.org/ HTTP/1.1\r\nHost: x\r\n\r\n")
        await proxy.stop()
        return proxy, stats, asked, calls, answers

    proxy, stats, asked, calls, answers = run(main())
    for target, (out, _) in answers.items():
        assert out.startswith(b"HTTP/1.1 403 Forbidden\r\n"), (target, out)
        assert f"{MARK_HEADER}: {proxy.token}".encode() in out
        assert proxy.made([(MARK_HEADER, proxy.token)])
    assert b"loopback address 127.0.0.2" in answers["http://127.0.0.2:81/x.js"][0]
    assert b"local host name localhost" in answers["http://localhost/"][0]
    assert b"loopback address 127.0.0.1" in answers["http://2130706433/"][0]
    assert b"link-local address 169.254.169.254" in answers["http://169.254.169.254/latest/meta-data/"][0]
    assert b"scheme not allowed: ftp:" in answers["ftp"][0]
    assert asked == [] and calls == []  # judged as written: no lookup, no connection
    assert stats["browser/blocked"] == len(answers)
    assert proxy.note("http://10.0.0.5/") == "blocked: private address 10.0.0.5"
    assert proxy.note("https://127.0.0.2/anything") == "blocked: loopback address 127.0.0.2"  # by its tunnel
    # a server cannot pass its own response off as the proxy's
    assert not proxy.made([(MARK_HEADER, "0123456789abcdef")])


def test_ports_other_than_the_usual_the_seeds_and_the_allowed_are_refused(tmp_path):
    """Any port of a public host is not the web a news page needs: refused
    before any lookup or connection, naming the port; a seed's port (the
    crawl's shared PortPolicy) and GUARD_ALLOWED_PORTS are open."""
    async def main():
        stats, asked, calls = Stats(), [], []
        ports = PortPolicy(["8080"])
        answers = {"news.example": OSError("Name or service not known")}
        proxy = await GuardProxy(stats=stats, resolve=resolver(answers, calls), connect=loopback_only(asked),
                                 ports=ports).start(tmp_path)
        out = {}
        for target in ("http://news.example:9090/admin", "http://93.184.216.34:25/", "http://news.example:8443/"):
            out[target] = await talk(proxy, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        out["CONNECT"] = await talk(proxy, b"CONNECT news.example:8443 HTTP/1.1\r\nHost: x\r\n\r\n")
        ports.allow_url("https://news.example:8443/story")  # the spider read a seed on that port
        calls_before = len(calls)
        out["seed port"] = await talk(proxy, b"CONNECT news.example:8443 HTTP/1.1\r\nHost: x\r\n\r\n")
        out["allowed"] = await talk(proxy, b"GET http://news.example:8080/ HTTP/1.1\r\nHost: x\r\n\r\n")
        await proxy.stop()
        return stats, asked, calls, calls_before, out

    stats, asked, calls, calls_before, out = run(main())
    for target, port in (("http://news.example:9090/admin", 9090), ("http://93.184.216.34:25/", 25),
                         ("http://news.example:8443/", 8443), ("CONNECT", 8443)):
        answer = out[target][0]
        assert answer.startswith(b"HTTP/1.1 403"), (target, answer)
        assert f"port {port} not allowed (GUARD_ALLOWED_PORTS)".encode() in answer, answer
    assert calls_before == 0 and asked == []  # judged as written: no lookup, no connection
    assert stats["browser/blocked"] == 4
    # the seed's port and the allowed port pass the guard, on to the lookup (which fails: no names here)
    assert calls == ["news.example", "news.example"]
    for key in ("seed port", "allowed"):
        assert out[key][0].startswith(b"HTTP/1.1 502") and b"does not resolve" in out[key][0], out[key]


def test_a_name_resolving_inside_is_refused_and_never_connected(tmp_path, caplog):
    """The connect path with an injected resolver: ANY internal answer refuses
    the name; a failed lookup is no connection either."""
    caplog.set_level("INFO", logger="crawler.net.guardproxy")

    async def main():
        stats, asked, calls = Stats(), [], []
        answers = {"meta.example": ["169.254.169.254"], "intra.example": ["10.0.0.1"],
                   "mixed.example": ["93.184.216.34", "10.0.0.1"], "v6.example": ["2606:4700::1", "fd00::1"],
                   "gone.example": OSError("Name or service not known")}
        proxy = await guard_proxy(stats=stats, resolve=resolver(answers, calls),
                                 connect=loopback_only(asked)).start(tmp_path)
        out = {}
        for host in answers:
            out[host] = await talk(proxy, f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            out[f"CONNECT {host}"] = await talk(proxy, f"CONNECT {host}:443 HTTP/1.1\r\n\r\n".encode())
        await proxy.stop()
        return stats, asked, calls, out, answers

    stats, asked, calls, out, answers = run(main())
    assert asked == []  # not one connection attempt
    for host, reason in (("meta.example", b"meta.example resolves to a link-local address 169.254.169.254"),
                         ("intra.example", b"intra.example resolves to a private address 10.0.0.1"),
                         ("mixed.example", b"mixed.example resolves to a private address 10.0.0.1"),
                         ("v6.example", b"v6.example resolves to a private address fd00::1")):
        for key in (host, f"CONNECT {host}"):
            assert out[key][0].startswith(b"HTTP/1.1 403") and reason in out[key][0], out[key]
    for key in ("gone.example", "CONNECT gone.example"):
        assert out[key][0].startswith(b"HTTP/1.1 502") and b"does not resolve" in out[key][0]
    assert stats["browser/blocked"] == 8 and stats["browser/proxy_errors"] == 2
    # each proxy error is said, with what was not fetched and why (issue 25)
    said = [r.getMessage() for r in caplog.records if r.levelname == "INFO" and " not fetched: " in r.getMessage()]
    assert len(said) == 2 and all("gone.example" in line and "does not resolve" in line for line in said), said
    assert sorted(set(calls)) == sorted(answers)


def test_the_checked_address_is_the_one_connected_to(tmp_path):
    """DNS rebinding: the name answers a public address once, then an internal
    one. The proxy resolves once per connection and connects to the address
    it checked, never to the name."""
    async def main():
        seen, asked, calls = [], [], []
        server, port = await http_origin(seen)
        answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])

        async def rebinding(host, p):
            calls.append(host)
            return next(answers)

        proxy = await guard_proxy(resolve=rebinding, stats=Stats(),
                                 connect=loopback_only(asked, {("93.184.216.34", port): ("127.0.0.1", port)})
                                 ).start(tmp_path)
        first = await talk(proxy, f"GET http://rebind.example:{port}/a HTTP/1.1\r\nHost: rebind.example\r\n\r\n"
                           .encode())
        second = await talk(proxy, f"GET http://rebind.example:{port}/b HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        route = proxy.route(f"http://rebind.example:{port}/a")
        await proxy.stop()
        server.close()
        return seen, asked, calls, first, second, route

    seen, asked, calls, first, second, route = run(main())
    assert first[0].startswith(b"HTTP/1.1 200 OK") and first[0].endswith(b"hello")
    assert asked == [("93.184.216.34", asked[0][1])]  # the address, not the name, and only the first time
    assert calls == ["rebind.example", "rebind.example"]  # once per connection
    assert second[0].startswith(b"HTTP/1.1 403") and b"resolves to a loopback address 127.0.0.1" in second[0]
    assert len(seen) == 1 and seen[0].startswith(b"GET /a HTTP/1.1\r\n")
    assert route.via_proxy is False and route.address == "93.184.216.34" and route.body_bytes == 5


def test_one_request_per_plain_connection(tmp_path):
    """A second request on a kept-alive connection, to another host, is never
    sent: the proxy asks the server to close and closes after the response."""
    async def main():
        seen = []
        server, port = await http_origin(seen)
        proxy = await guard_proxy(["127.0.0.1/32"], stats=Stats()).start(tmp_path)
        pipelined = (f"GET http://127.0.0.1:{port}/first?q=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\n"
                     "Accept: */*\r\n\r\n"
                     "GET http://10.0.0.1/second HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n").encode()
        out = await talk(proxy, pipelined)
        await proxy.stop()
        server.close()
        return seen, out

    seen, (out, ending) = run(main())
    assert out.count(b"HTTP/1.1") == 1 and out.endswith(b"hello") and ending is None
    (head,) = seen
    lines = head.decode().split("\r\n")
    assert lines[0] == "GET /first?q=1 HTTP/1.1"  # origin-form towards the server
    assert "Connection: close" in lines and "Accept: */*" in lines
    assert not [line for line in lines if line.lower().startswith(("proxy-connection", "x-secret", "connection: keep"))]


# --- chaining to the operator's proxy ----------------------------------------------------------------


@pytest.fixture
def fixture_proxy():
    pages = {"http://chained.example/a": Page(body=b"<p>plain</p>"),
             "https://chained.example/b": Page(body=b"<p>secure</p>", gzip=True)}
    proxy = FixtureProxy(pages).start()
    yield proxy
    proxy.stop()


async def tunnel_get(proxy: GuardProxy, authority: str, paths: list[str]) -> list[bytes]:
    """CONNECT through the guard proxy, TLS (not verified), then GET each path on the one connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(with_auth(proxy, f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode()))
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    await writer.start_tls(context, server_hostname=authority.split(":")[0])
    out = []
    for path in paths:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        await writer.drain()
        response = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in response.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        out.append(response + await reader.readexactly(length))
    writer.close()
    return out


def test_chaining_to_the_operators_proxy_for_http_and_https(fixture_proxy, tmp_path):
    async def main():
        asked = []
        url = fixture_proxy.url.replace("http://", "http://crawler:s3cret@")
        proxy = await guard_proxy(proxies={"http": url, "https": url}, stats=Stats(),
                                 connect=loopback_only(asked)).start(tmp_path)
        plain = await talk(proxy, b"GET http://chained.example/a HTTP/1.1\r\nHost: chained.example\r\n\r\n")
        (secure,) = await tunnel_get(proxy, "chained.example:443", ["/b"])
        routes = proxy.route("http://chained.example/a"), proxy.route("https://chained.example/b")
        await proxy.stop()
        return asked, plain, secure, routes

    asked, (plain, _), secure, routes = run(main())
    assert plain.startswith(b"HTTP/1.1 200") and plain.endswith(b"<p>plain</p>")
    assert secure.startswith(b"HTTP/1.1 200") and gzip.decompress(secure.split(b"\r\n\r\n", 1)[1]) == b"<p>secure</p>"
    port = int(fixture_proxy.url.rsplit(":", 1)[1])
    assert asked == [("127.0.0.1", port)] * 2  # the proxy only: it resolves names
    requested = dict(fixture_proxy.requests)
    assert set(requested) == {"http://chained.example/a", "https://chained.example/b"}
    assert requested["http://chained.example/a"]["Proxy-Authorization"] == "Basic Y3Jhd2xlcjpzM2NyZXQ="
    assert requested["http://chained.example/a"]["Connection"] == "close"
    # through a proxy: no server address to record, and the body's size as decoded
    assert [(r.via_proxy, r.address) for r in routes] == [(True, None), (True, None)]
    assert routes[1].body_bytes == len(b"<p>secure</p>")


def test_only_the_launched_browser_may_use_the_proxy(fixture_proxy, tmp_path):
    """The guard proxy listens on 127.0.0.1, where any local process can
    reach it, and adds the operator's upstream credentials: a request without
    this run's secret, or with another, is answered 407 and goes nowhere."""
    async def main():
        asked, stats = [], Stats()
        url = fixture_proxy.url.replace("http://", "http://crawler:s3cret@")
        proxy = await guard_proxy(proxies={"http": url, "https": url}, stats=stats,
                                  connect=loopback_only(asked)).start(tmp_path)
        plain = b"GET http://chained.example/a HTTP/1.1\r\nHost: chained.example\r\n\r\n"
        out = {"none": await talk(proxy, plain, auth=False),
               "connect": await talk(proxy, b"CONNECT chained.example:443 HTTP/1.1\r\n\r\n", auth=False),
               "wrong": await talk(proxy, plain.replace(b"\r\n\r\n", b"\r\nProxy-Authorization: Basic "
                                                      + base64.b64encode(b"crawler:guess") + b"\r\n\r\n"),
                                   auth=False)}
        refused_asked, refused_requests = list(asked), list(fixture_proxy.requests)
        out["browser"] = await talk(proxy, plain)
        await proxy.stop()
        return proxy, stats, refused_asked, refused_requests, out

    proxy, stats, refused_asked, refused_requests, out = run(main())
    for key in ("none", "connect", "wrong"):
        answer = out[key][0]
        assert answer.startswith(b"HTTP/1.1 407 Proxy Authentication Required\r\n"), (key, answer)
        assert b'Proxy-Authenticate: Basic realm="crawler guard proxy"' in answer
        assert f"{MARK_HEADER}: {proxy.token}".encode() in answer
    assert refused_asked == [] and refused_requests == []  # not one connection, upstream or not
    # no credentials: the challenge every browser meets first; wrong ones: refused
    assert stats["browser/proxy_challenged"] == 2 and stats["browser/proxy_unauthorized"] == 1
    assert "browser/blocked" not in stats
    # the browser, with the secret: through, with the operator's credentials upstream and never the secret
    assert out["browser"][0].startswith(b"HTTP/1.1 200") and out["browser"][0].endswith(b"<p>plain</p>")
    (requested,) = dict(fixture_proxy.requests).values()
    assert requested["Proxy-Authorization"] == "Basic Y3Jhd2xlcjpzM2NyZXQ="
    assert proxy.credentials[1] not in str(requested)
    assert len(proxy.credentials[1]) >= 32 and proxy.credentials != GuardProxy().credentials  # one per run


def test_the_operators_proxy_is_no_page_to_fetch(tmp_path):
    """The guard proxy connects to the operator's proxy without judging its
    address; asking for a page at that proxy's own host and port is refused."""
    async def main():
        asked, stats = [], Stats()
        proxy = await guard_proxy(proxies={"http": "http://squid.internal:3128"},
                                  host_map={"x.example": "http://mapped.internal"}, stats=stats,
                                  connect=loopback_only(asked)).start(tmp_path)
        out = [await talk(proxy, b"GET http://squid.internal:3128/squid-internal-mgr/menu HTTP/1.1\r\n\r\n"),
               await talk(proxy, b"CONNECT mapped.internal:80 HTTP/1.1\r\n\r\n")]
        await proxy.stop()
        return asked, out

    asked, out = run(main())
    assert asked == []
    assert out[0][0].startswith(b"HTTP/1.1 403") and b"squid.internal:3128 is a configured proxy" in out[0][0]
    assert out[1][0].startswith(b"HTTP/1.1 403") and b"mapped.internal:80 is a configured proxy" in out[1][0]


def test_host_proxy_map_chooses_the_proxy_per_host(fixture_proxy, tmp_path):
    async def main():
        asked, seen = [], []
        server, port = await http_origin(seen, body=b"direct")
        proxy = await guard_proxy(["127.0.0.1/32"], host_map={"chained.example": fixture_proxy.url}, proxies={},
                                 stats=Stats(), connect=loopback_only(asked)).start(tmp_path)
        mapped = await tunnel_get(proxy, "chained.example:443", ["/b"])
        direct = await talk(proxy, f"GET http://127.0.0.1:{port}/d HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        routes = proxy.route("https://chained.example/b"), proxy.route(f"http://127.0.0.1:{port}/d")
        await proxy.stop()
        server.close()
        return mapped, direct, routes

    mapped, (direct, _), routes = run(main())
    assert mapped[0].startswith(b"HTTP/1.1 200") and direct.endswith(b"direct")
    assert (routes[0].via_proxy, routes[0].address) == (True, None)
    assert (routes[1].via_proxy, routes[1].address) == (False, "127.0.0.1")


def test_tls_tunnels_carry_several_requests_to_their_own_host(tmp_path):
    """Inside a CONNECT the browser's TLS ends at the proxy, which opens its
    own to the checked host: requests go on, bound to that host."""
    from tests.fixtures.server import make_certificate

    async def main():
        seen = []
        cert, key = make_certificate(tmp_path, ["tls.example"])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        async def handle(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    seen.append(head)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        asked = []
        proxy = await guard_proxy(stats=Stats(), resolve=resolver({"tls.example": ["93.184.216.34"]}, []),
                                 connect=loopback_only(asked, {("93.184.216.34", port): ("127.0.0.1", port)})
                                 ).start(tmp_path)
        out = await tunnel_get(proxy, f"tls.example:{port}", ["/one", "/two?x=1"])
        routes = [proxy.route(f"https://tls.example:{port}{p}") for p in ("/one", "/two?x=1")]
        await proxy.stop()
        server.close()
        return seen, asked, out, routes

    seen, asked, out, routes = run(main())
    assert [o.endswith(b"ok") for o in out] == [True, True]
    assert [h.split(b"\r\n")[0] for h in seen] == [b"GET /one HTTP/1.1", b"GET /two?x=1 HTTP/1.1"]
    assert len(asked) == 1  # one upstream connection for the tunnel
    assert [(r.via_proxy, r.address) for r in routes] == [(False, "93.184.216.34")] * 2


def test_a_websocket_upgrade_is_piped_both_ways(tmp_path):
    async def main():
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            data = await reader.read(100)
            writer.write(b"echo:" + data)
            await writer.drain()
            writer.close()

        server, port = await origin(handle)
        proxy = await guard_proxy(["127.0.0.1/32"], stats=Stats()).start(tmp_path)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(with_auth(proxy, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode()))  # ws:// by CONNECT
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        writer.write(b"GET /live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        upgraded = await reader.readuntil(b"\r\n\r\n")
        writer.write(b"ping")
        echoed = await reader.read(100)
        writer.close()
        await proxy.stop()
        server.close()
        return upgraded, echoed

    upgraded, echoed = run(main())
    assert upgraded.startswith(b"HTTP/1.1 101") and echoed == b"echo:ping"


def test_an_idle_connection_is_closed(tmp_path):
    async def main():
        proxy = await guard_proxy(idle_timeout=0.5).start(tmp_path)
        started = asyncio.get_running_loop().time()
        out = await talk(proxy, b"GET http://", timeout=10)  # half a request, then silence
        elapsed = asyncio.get_running_loop().time() - started
        await proxy.stop()
        return out, elapsed

    (out, ending), elapsed = run(main())
    assert out == b"" and ending is None and elapsed < 5


# --- bodies over DOWNLOAD_MAXSIZE: cut as they arrive, never held whole -----------------------------------


async def body_origin(kind: str, payload_size: int, sent: dict, coding: str = ""):
    """An origin streaming a body of ``payload_size`` bytes (close-delimited,
    chunked, or with a Content-Length), counting what it managed to send."""
    piece = b"z" * 65536

    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        sent["bytes"] = 0
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        if kind == "length":
            head += f"Content-Length: {len(BOMBS[coding]) if coding else payload_size}\r\n"
        elif kind == "chunked":
            head += "Transfer-Encoding: chunked\r\n"
        else:
            head += "Connection: close\r\n"
        if coding:
            head += f"Content-Encoding: {coding}\r\n"
        writer.write(head.encode() + b"\r\n")
        try:
            if coding:  # a bomb: small on the wire
                body = BOMBS[coding]
                writer.write(body if kind != "chunked" else b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
                sent["bytes"] = len(body)
                await writer.drain()
            else:
                while sent["bytes"] < payload_size:
                    writer.write(piece if kind != "chunked" else b"10000\r\n" + piece + b"\r\n")
                    await writer.drain()
                    sent["bytes"] += len(piece)
                if kind == "chunked":
                    writer.write(b"0\r\n\r\n")
                    await writer.drain()
        except ConnectionError:
            pass
        writer.close()
    return await origin(handle)


BOMBS = {"gzip": gzip.compress(b"\0" * (64 * MiB), mtime=0),
         "br": brotli.compress(b"\0" * (64 * MiB), quality=5)}


@pytest.mark.parametrize("kind,coding", [("close", ""), ("chunked", ""), ("close", "gzip"), ("length", "br")])
def test_a_body_over_the_limit_is_cut_as_it_arrives(tmp_path, kind, coding):
    async def main():
        sent, stats = {}, Stats()
        server, port = await body_origin(kind, 512 * MiB, sent, coding)
        proxy = await guard_proxy(["127.0.0.1/32"], max_body=MiB, stats=stats).start(tmp_path)
        url = f"http://127.0.0.1:{port}/big"
        tracemalloc.start()
        out, ending = await talk(proxy, f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        note = proxy.note(url)
        await proxy.stop()
        server.close()
        return out, ending, sent, stats, note, peak

    out, ending, sent, stats, note, peak = run(main())
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert ending == "reset"  # the browser sees a failed request, not a short body
    assert stats["browser/too_large"] == 1
    if coding:
        assert note == f"body larger than DOWNLOAD_MAXSIZE ({MiB} bytes) decoded"
        assert len(body) <= len(BOMBS[coding])
    else:
        assert note == f"body larger than DOWNLOAD_MAXSIZE ({MiB} bytes) as received"
        payload = body.replace(b"10000\r\n", b"").replace(b"\r\n", b"") if kind == "chunked" else body
        assert MiB - 65536 <= len(payload) <= MiB
        assert sent["bytes"] < 64 * MiB  # the server was stopped, far from its 512 MiB
    assert peak < 16 * MiB  # streamed in slices, never held whole


def test_a_declared_length_over_the_limit_gets_no_response_at_all(tmp_path):
    async def main():
        sent = {}
        server, port = await body_origin("length", 8 * MiB, sent)
        proxy = await guard_proxy(["127.0.0.1/32"], max_body=MiB, stats=Stats()).start(tmp_path)
        out = await talk(proxy, f"GET http://127.0.0.1:{port}/big HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        note = proxy.note(f"http://127.0.0.1:{port}/big")
        await proxy.stop()
        server.close()
        return out, note

    (out, ending), note = run(main())
    assert out == b"" and ending == "reset"
    assert note == f"body larger than DOWNLOAD_MAXSIZE ({MiB} bytes) as declared (Content-Length)"


def test_bodies_within_the_limit_pass_whole_and_are_measured(tmp_path):
    story = json.dumps({"text": "x" * 300_000}).encode()

    async def main():
        seen = []
        server, port = await http_origin(seen, gzip.compress(story), headers=[("Content-Encoding", "gzip")])
        proxy = await guard_proxy(["127.0.0.1/32"], max_body=MiB, stats=Stats()).start(tmp_path)
        url = f"http://127.0.0.1:{port}/story.json"
        out, ending = await talk(proxy, f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        route = proxy.route(url)
        await proxy.stop()
        server.close()
        return out, ending, route

    out, ending, route = run(main())
    assert ending is None and gzip.decompress(out.partition(b"\r\n\r\n")[2]) == story
    assert route.body_bytes == len(story) and route.note is None


def test_the_body_meter_counts_as_received_and_as_decoded():
    meter = BodyMeter(100)
    meter.feed(b"x" * 100)
    with pytest.raises(TooLarge, match="as received"):
        meter.feed(b"x")
    raw_deflate = BodyMeter(1000, b"deflate")
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(b"a" * 900) + compressor.flush()
    raw_deflate.feed(data)
    assert raw_deflate.size == 900
    zlib_deflate = BodyMeter(1000, b"deflate")
    zlib_deflate.feed(zlib.compress(b"b" * 1000))
    assert zlib_deflate.size == 1000
    with pytest.raises(TooLarge, match="decoded"):
        BodyMeter(1000, b"gzip").feed(gzip.compress(b"c" * 1001))
    unknown = BodyMeter(1000, b"zstd")  # not decodable here: held to what was received
    unknown.feed(b"\x28\xb5\x2f\xfd" + b"\0" * 10)
    assert unknown.size == 14
    assert BodyMeter(0).feed(b"x" * 10) is None  # 0: no limit, as DOWNLOAD_MAXSIZE
    limitless = BodyMeter(0, b"gzip")
    limitless.feed(gzip.compress(b"d" * 5000))
    assert limitless.size == 5000
