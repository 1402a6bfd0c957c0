"""The network guard: no request to internal addresses, ever, and honest outcomes.

Every "internal" target here is a loopback address: a server on 127.0.0.1
that records whatever reaches it (it must record nothing). Private and
link-local addresses appear only as strings; the guard refuses them before
any connection is tried.
"""

from __future__ import annotations

import http.server
import threading

import frontmatter
import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.internet.base import ThreadedResolver

from crawler.downloadermiddlewares.guard import BlockedRequest, NetworkGuardMiddleware
from crawler.net.policy import PortPolicy, blocked_reason, parse_networks
from crawler.resolver import BlockedAddressError, GuardedResolver
from tests.conftest import run_crawl
from tests.fixtures.qq_site import PNG, Page
from tests.fixtures.server import FixtureProxy

# --- the rule, on its own ----------------------------------------------------

@pytest.mark.parametrize("url, kind", [
    ("http://127.0.0.1:8080/admin", "loopback"),
    ("http://127.1/", "loopback"),  # what inet_aton (and the resolver) reads as 127.0.0.1
    ("http://2130706433/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://192.168.1.20/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "non-public"),
    ("http://169.254.169.254./latest/", "link-local"),  # a trailing dot is the same address
    ("http://0177.0.0.1./", "loopback"),
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 carrying 169.254.169.254
    ("http://localhost:9000/", "local host name"),
    ("http://LOCALHOST./", "local host name"),
    ("http://admin.localhost/", "local host name"),
    ("file:///etc/passwd", "scheme not allowed"),
    ("ftp://example.org/x", "scheme not allowed"),
    ("javascript:alert(1)", "scheme not allowed"),
])
def test_internal_targets_are_refused(url, kind):
    reason = blocked_reason(url)
    assert reason is not None and kind in reason, (url, reason)


@pytest.mark.parametrize("url", [
    "https://new.qq.com/rain/a/20250213A06E5300",
    "http://93.184.216.34/",
    "https://[2606:4700::1111]/",
    "HTTPS://Example.ORG/x",
])
def test_public_targets_pass(url):
    assert blocked_reason(url) is None


#: The crawl's one port policy, which the guard middleware asks for (crawler.extensions.guardports).
GUARD_PORTS = {"EXTENSIONS": {"crawler.extensions.guardports.GuardPorts": 0}}

def test_allowed_networks_open_only_themselves():
    allowed = parse_networks(["10.20.0.0/16", "127.0.0.2"])
    assert blocked_reason("http://10.20.3.4/", allowed) is None
    assert blocked_reason("http://127.0.0.2:81/", allowed) is None
    assert "private" in blocked_reason("http://10.21.0.1/", allowed)
    assert "loopback" in blocked_reason("http://127.0.0.1/", allowed)
    with pytest.raises(ValueError, match="not a network"):
        parse_networks(["10.0.0.0/33"])


def test_middleware_refuses_with_reason_and_counts():
    crawler = get_crawler(settings_dict={"GUARD_ALLOWED_NETWORKS": ["10.9.0.0/16"], **GUARD_PORTS})
    mw = NetworkGuardMiddleware.from_crawler(crawler)
    assert mw.process_request(Request("https://example.org/")) is None
    assert mw.process_request(Request("http://10.9.1.1/")) is None
    redirected = Request("http://169.254.169.254/", meta={"redirect_urls": ["https://example.org/r"]})
    with pytest.raises(BlockedRequest, match=r"redirected from https://example.org/r.*link-local"):
        mw.process_request(redirected)
    assert crawler.stats.get_value("guard/blocked") == 1


@pytest.mark.parametrize("resolved, blocked", [("10.1.2.3", True), ("127.0.0.1", True),
                                               ("169.254.169.254", True), ("93.184.216.34", False)])
def test_resolver_refuses_names_resolving_inside(monkeypatch, resolved, blocked):
    """The resolver the crawler connects with: a public-looking name that
    resolves to an internal address fails with the reason (no lookup made:
    the threaded lookup is replaced by a fixed answer)."""
    monkeypatch.setattr(ThreadedResolver, "getHostByName", lambda self, name, timeout=(): defer.succeed(resolved))
    resolver = GuardedResolver(reactor=None, cache_size=0, timeout=5, proxies={("proxy.internal", 3128): True})
    results = []
    resolver.getHostByName("news.example").addBoth(results.append)
    if blocked:
        assert results[0].check(BlockedAddressError)
        assert "news.example resolves to" in results[0].getErrorMessage()
    else:
        assert results == [resolved]
    # a configured proxy's own host and port are the operator's, not the web's
    proxy = []
    resolver.getHostByName("proxy.internal", port=3128).addBoth(proxy.append)
    assert proxy == [resolved]


# --- a hostile web, end to end ------------------------------------------------

class Recorder(http.server.BaseHTTPRequestHandler):
    """An "internal service": records every request that reaches it."""

    def do_GET(self):
        self.server.hits.append(self.path)
        body = b"internal secret"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def internal(request):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


ARTICLE_TEXT = "".join(f"<p>This is paragraph {i} of a long enough article about the harbour and its ships.</p>"
                       for i in range(8))


def hostile_pages(port: int) -> dict[str, Page]:
    secret = f"http://127.0.0.1:{port}/admin/cover.png"
    qq_body = ('<div class="content-article"><h1>标题</h1><div class="rich_media_content">'
               '<p>这是一篇正常的文章，第一段有足够多的文字来通过空内容的检查，所以它会被存档。</p>'
               '<p><img src="http://169.254.169.254/latest/meta-data/iam.png"></p>'
               '<p><img src="https://inews.gtimg.com/om_bt/Fine/641"></p>'
               '<p><img src="https://hostile.example/not-an-image.png"></p>'
               '<p>第二段文字也在这里，文章继续讲述这个故事的其余部分。</p></div></div>')
    return {
        "https://hostile.example/article.html": Page(body=(
            f'<html><head><title>Harbour news</title><meta property="og:image" content="{secret}">'
            f'<meta property="og:title" content="Harbour news"></head><body><article><h1>Harbour news</h1>'
            f'{ARTICLE_TEXT}</article></body></html>').encode()),
        "https://hostile.example/moved": Page(status=302, headers=[("Location", f"http://localhost:{port}/admin/")]),
        "https://hostile.example/tofile": Page(status=301, headers=[("Location", "file:///etc/passwd")]),
        "https://hostile.example/missing": Page(status=404, body=b"<html><body>gone</body></html>"),
        "https://hostile.example/not-an-image.png": Page(body=b"<html><body>login first</body></html>"),
        "https://inews.gtimg.com/om_bt/Fine/641": Page(body=PNG, content_type="image/png"),
        # meta refreshes: to itself, to an internal address (pages with text: archived as they are),
        # and from a page without text to an article (followed)
        "https://hostile.example/self-refresh.html": Page(body=(
            '<html><head><title>Tide tables</title><meta http-equiv="refresh" '
            'content="60; url=https://hostile.example/self-refresh.html"></head><body><article><h1>Tide tables</h1>'
            f'{ARTICLE_TEXT}</article></body></html>').encode()),
        "https://hostile.example/refresh-internal.html": Page(body=(
            f'<html><head><title>Ferry news</title><meta http-equiv="refresh" content="0; url=http://127.0.0.1:{port}/">'
            f'</head><body><article><h1>Ferry news</h1>{ARTICLE_TEXT}</article></body></html>').encode()),
        "https://hostile.example/refresh-only.html": Page(body=(
            b'<html><head><meta http-equiv="refresh" content="0; url=https://hostile.example/article.html">'
            b'</head><body></body></html>')),
        "https://hostile.example/binary.html": Page(body=bytes(range(256)) * 100),
        "https://new.qq.com/rain/a/20990101A00AAA00": Page(body=(
            '<html><head><title>t</title><meta property="og:image" content="http://10.0.0.7/cover.png">'
            f'</head><body>{qq_body}</body></html>').encode()),
    }


@pytest.fixture(scope="module")
def hostile_crawl(internal, tmp_path_factory):
    web = FixtureProxy(hostile_pages(internal.server_address[1])).start()
    seeds = tmp_path_factory.mktemp("seeds")
    (seeds / "hostile.md").write_text(
        "# Links\n\n"
        "- [article](https://hostile.example/article.html)\n"
        "- [moved](https://hostile.example/moved)\n"
        "- [to a file](https://hostile.example/tofile)\n"
        "- [missing](https://hostile.example/missing)\n"
        f"- [internal](http://127.0.0.1:{internal.server_address[1]}/admin/)\n"
        "- [metadata](http://169.254.169.254/latest/meta-data/)\n"
        "- [qq](https://new.qq.com/rain/a/20990101A00AAA00)\n"
        "- [self](https://hostile.example/self-refresh.html)\n"
        "- [refresh internal](https://hostile.example/refresh-internal.html)\n"
        "- [refresh only](https://hostile.example/refresh-only.html)\n"
        "- [binary](https://hostile.example/binary.html)\n", encoding="utf-8")
    try:
        yield run_crawl(tmp_path_factory.mktemp("archive"), web.url, seeds=seeds), web
    finally:
        web.stop()


def test_nothing_internal_is_ever_requested(hostile_crawl, internal):
    result, web = hostile_crawl
    assert internal.hits == [], internal.hits
    asked = [url for url, _ in web.requests]
    assert not [u for u in asked if "127.0.0.1" in u or "localhost" in u or "169.254" in u or "10.0.0.7" in u], asked


def test_pages_referencing_internal_addresses_are_still_archived(hostile_crawl):
    result, _ = hostile_crawl
    articles = {p.name: frontmatter.load(p) for p in (result.archive / "articles").rglob("*.md")}
    qq = articles["20990101A00AAA00.md"]
    assert qq["thumbnail"] == ""  # the internal og:image is not kept
    assert "169.254" not in qq.content and "https://inews.gtimg.com/om_bt/Fine/641" in qq.content
    harbour = [a for a in articles.values() if a["title"] == "Harbour news"]
    # the article itself, and the page that meta-refreshes to it (archived under its own address)
    assert len(harbour) == 2 and all(h["thumbnail"] == "" and "127.0.0.1" not in h.content for h in harbour)
    assert "image http://169.254.169.254/latest/meta-data/iam.png dropped: link-local address" in result.log
    cdxj = (result.archive / "index.cdxj").read_text()
    assert "127.0.0.1" not in cdxj and "169.254" not in cdxj and "localhost" not in cdxj


def test_blocked_seed_urls_and_redirects_fail_with_their_reason(hostile_crawl, internal):
    result, _ = hostile_crawl
    port = internal.server_address[1]
    assert result.returncode == 1
    assert (f"not archived: https://hostile.example/moved: blocked http://localhost:{port}/admin/ "
            "(redirected from https://hostile.example/moved): local host name localhost") in result.log
    assert f"not archived: http://127.0.0.1:{port}/admin/: blocked" in result.log
    assert "loopback address 127.0.0.1" in result.log
    assert "not archived: http://169.254.169.254/latest/meta-data/: blocked" in result.log


def test_redirect_to_a_file_url_is_said_and_nothing_kept_aside(hostile_crawl):
    result, _ = hostile_crawl
    assert ("not archived: https://hostile.example/tofile: redirect not followed: "
            "HTTP 301 to file:///etc/passwd") in result.log
    assert not (result.archive / "rejected").exists() or not list((result.archive / "rejected").rglob("*"))


def test_an_image_url_answering_html_is_not_an_archived_image(hostile_crawl):
    result, _ = hostile_crawl
    assert "image https://hostile.example/not-an-image.png answered something that is not an image" in result.log
    assert "'archive/images/not_image': 1" in result.log
    assert "'archive/images/fetched': 1" in result.log  # the one real PNG


def test_summary_groups_failures_by_kind_without_url_detail(hostile_crawl):
    result, _ = hostile_crawl
    summary = result.log[result.log.index("crawl summary"):]
    assert "1 x HTTP 404\n" in summary
    assert "3 x blocked address\n" in summary
    assert "1 x redirect not followed\n" in summary
    assert " at https" not in "".join(line for line in summary.splitlines() if " x " in line)


# --- connecting directly (no proxy): the URL host is judged as written --------

class Page200(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_direct_crawl_with_an_allowed_intranet(internal, tmp_path):
    """An intranet archive: 127.0.0.2 allowed, 127.0.0.1 (the internal service) not."""
    port = internal.server_address[1]
    handler = type("H", (Page200,), {"body": (
        f'<html><head><title>Intranet memo</title><meta property="og:image" '
        f'content="http://127.0.0.1:{port}/secret.png"></head><body><article><h1>Intranet memo</h1>'
        f'{ARTICLE_TEXT}</article></body></html>').encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    url = f"http://127.0.0.2:{server.server_address[1]}/memo.html"
    (seeds / "memo.md").write_text(f"[memo]({url})\n", encoding="utf-8")
    try:
        refused = run_crawl(tmp_path / "a1", None, seeds=seeds)
        allowed = run_crawl(tmp_path / "a2", None, seeds=seeds,
                            settings={"GUARD_ALLOWED_NETWORKS": "127.0.0.2/32"})
    finally:
        server.shutdown()
        server.server_close()
    assert refused.returncode == 1 and "loopback address 127.0.0.2" in refused.log
    assert allowed.returncode == 0, allowed.log[-3000:]
    memo = next((tmp_path / "a2" / "articles").rglob("*.md"))
    assert frontmatter.load(memo)["thumbnail"] == ""
    assert internal.hits == []


def test_hosts_in_no_proxy_are_not_exempt_from_the_resolver_check(monkeypatch):
    """no_proxy names hosts connected to directly: judged like any other;
    only the proxies themselves are the operator's."""
    from crawler.resolver import proxy_hosts

    monkeypatch.setenv("http_proxy", "http://proxy.internal:3128")
    monkeypatch.setenv("no_proxy", "vm,intranet.example")
    settings = get_crawler(settings_dict={"HOST_PROXY_MAP": {"x.example": "http://mapped.internal:8080"}}).settings
    assert proxy_hosts(settings) == {"proxy.internal", "mapped.internal"}


def test_meta_refreshes_never_lose_a_page_nor_loop(hostile_crawl, internal):
    result, web = hostile_crawl
    log = result.log
    for url in ("https://hostile.example/self-refresh.html", "https://hostile.example/refresh-internal.html",
                "https://hostile.example/refresh-only.html"):
        assert f"archived: {url} ->" in log, url
    asked = [u for u, _ in web.requests]
    assert asked.count("https://hostile.example/self-refresh.html") == 1
    assert "https://hostile.example/refresh-only.html: no text, and a meta refresh to " in log
    assert internal.hits == []


def test_binary_served_as_a_page_is_not_an_article(hostile_crawl):
    result, _ = hostile_crawl
    assert ("not archived: https://hostile.example/binary.html: not an HTML page "
            "(binary data served as text/html; charset=utf-8)") in result.log
    assert not [p for p in (result.archive / "articles").rglob("*.md") if "\ufffd" * 5 in p.read_text()]


# --- ports: 80, 443, the seeds' ports and GUARD_ALLOWED_PORTS; nothing else ----------------

def test_only_usual_ports_seed_ports_and_allowed_ports_are_open():
    policy = PortPolicy()
    assert policy.reason("https://news.example/a") is None
    assert policy.reason("http://news.example:80/a") is None and policy.reason("https://news.example:443/") is None
    assert policy.reason("http://news.example:9090/admin") == "port 9090 not allowed (GUARD_ALLOWED_PORTS)"
    assert "port 8443 not allowed" in policy.reason("https://news.example:8443/")
    policy.allow_url("https://news.example:8443/story")  # a seed URL opens its port
    assert policy.reason("https://cdn.example:8443/x.png") is None
    assert PortPolicy("9090, 9091").reason("http://x.example:9091/") is None
    assert PortPolicy(["9090"]).reason("http://x.example:9092/") is not None
    assert PortPolicy(["*"]).reason("http://x.example:1/") is None
    for bad in (["http"], "70000", ["0"]):
        with pytest.raises(ValueError, match="GUARD_ALLOWED_PORTS: not a port"):
            PortPolicy(bad)


def test_middleware_refuses_other_ports_naming_them():
    crawler = get_crawler(settings_dict={"GUARD_ALLOWED_PORTS": "8080", **GUARD_PORTS})
    mw = NetworkGuardMiddleware.from_crawler(crawler)
    assert mw.process_request(Request("http://news.example:8080/")) is None
    with pytest.raises(BlockedRequest, match=r"^blocked http://news.example:9090/admin: port 9090 not allowed "
                                             r"\(GUARD_ALLOWED_PORTS\)$"):
        mw.process_request(Request("http://news.example:9090/admin"))
    # a seed URL as such opens its port (a shared crawl's worker learns the seeds' ports so)
    seed = "http://news.example:7070/story"
    assert mw.process_request(Request(seed, meta={"seed_url": seed})) is None
    assert mw.process_request(Request("http://img.example:7070/p.png")) is None
    # an internal address keeps its own reason, whatever its port
    with pytest.raises(BlockedRequest, match="loopback address 127.0.0.1"):
        mw.process_request(Request("http://127.0.0.1:9090/"))
    assert crawler.stats.get_value("guard/blocked") == 2


def port_pages() -> dict[str, Page]:
    return {
        "https://ports.example/story.html": Page(body=(
            '<html><head><title>Harbour ports</title>'
            '<meta property="og:image" content="http://ports.example:9090/admin/cover.png"></head>'
            '<body><article><h1>Harbour ports</h1>'
            f'{ARTICLE_TEXT}</article></body></html>').encode()),
        "http://ports.example:8081/other.html": Page(body=(
            '<html><head><title>Ferry ports</title>'
            '<meta property="og:image" content="http://ports.example:8081/photo.png"></head>'
            '<body><article><h1>Ferry ports</h1>'
            f'{ARTICLE_TEXT}</article></body></html>').encode()),
        "http://ports.example:8081/photo.png": Page(body=PNG, content_type="image/png"),
        "http://ports.example:9090/admin/cover.png": Page(body=PNG, content_type="image/png"),
    }


def test_a_crawl_reaches_no_port_but_the_usual_the_seeds_and_the_allowed(tmp_path):
    """Through the operator's proxy (as the acceptance crawl runs): the proxy's
    own random port is the operator's, the seeds' port 8081 is open, and a
    cover on port 9090 is refused, named in the log, never asked of the
    proxy; GUARD_ALLOWED_PORTS opens it."""
    web = FixtureProxy(port_pages()).start()
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "ports.md").write_text("- [story](https://ports.example/story.html)\n"
                                    "- [other](http://ports.example:8081/other.html)\n", encoding="utf-8")
    try:
        closed = run_crawl(tmp_path / "a1", web.url, seeds=seeds)
        asked_closed = [url for url, _ in web.requests]
        opened = run_crawl(tmp_path / "a2", web.url, seeds=seeds, settings={"GUARD_ALLOWED_PORTS": "9090"})
        asked_opened = [url for url, _ in web.requests[len(asked_closed):]]
    finally:
        web.stop()
    assert closed.returncode == 0, closed.log[-3000:]
    assert ("blocked http://ports.example:9090/admin/cover.png: port 9090 not allowed (GUARD_ALLOWED_PORTS)"
            in closed.log), closed.log[-3000:]
    assert not [u for u in asked_closed if ":9090" in u], asked_closed
    assert "http://ports.example:8081/photo.png" in asked_closed  # the seeds' port
    assert "http://ports.example:8081/other.html" in asked_closed
    assert opened.returncode == 0, opened.log[-3000:]
    assert "http://ports.example:9090/admin/cover.png" in asked_opened
    assert "port 9090 not allowed" not in opened.log


# --- a proxy's name is exempt as the connection to that proxy, never as a target -------------

def test_a_proxy_name_is_exempt_only_on_its_own_port(monkeypatch):
    """https_proxy=http://squid.internal:3128 and no http_proxy: the lookup
    for the connection to the proxy is exempt; the same name on any other
    port (a page's http://squid.internal:9090/admin, fetched directly) is
    judged on what it resolves to (no lookup made: a fixed answer)."""
    from twisted.internet.interfaces import IHostnameResolver

    from crawler.resolver import BLOCKED_NAMES, blocked_lookup, proxy_endpoints

    for name in ("http_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://squid.internal:3128")
    settings = get_crawler(settings_dict={"HOST_PROXY_MAP": {"x.example": "http://mapped.internal"}}).settings
    endpoints = proxy_endpoints(settings)
    assert endpoints == {("squid.internal", 3128): True, ("mapped.internal", 80): True}
    monkeypatch.setattr(ThreadedResolver, "getHostByName", lambda self, name, timeout=(): defer.succeed("10.1.2.3"))
    resolver = GuardedResolver(reactor=None, cache_size=0, timeout=5, proxies=endpoints)
    assert IHostnameResolver.providedBy(resolver)

    def lookup(name, port):
        got = []
        resolver.getHostByName(name, port=port).addBoth(got.append)
        return got[0]

    assert lookup("squid.internal", 3128) == "10.1.2.3"  # the proxy itself
    assert lookup("SQUID.internal.", 3128) == "10.1.2.3"
    assert lookup("squid.internal", 0) == "10.1.2.3"  # connectTCP: Scrapy's CONNECT tunnel to an https proxy
    assert lookup("mapped.internal", 80) == "10.1.2.3"
    for name, port in (("squid.internal", 9090), ("squid.internal", 80), ("mapped.internal", 8080)):
        failure = lookup(name, port)
        assert failure.check(BlockedAddressError), (name, port)
        assert failure.value.reason == f"blocked {name}:{port}: {name} resolves to a private address 10.1.2.3"

    # as the reactor's name resolver (HostnameEndpoint): no address for a refused name, and the reason kept
    class Receiver:
        addresses, done = [], False

        def resolutionBegan(self, resolution):
            pass

        def addressResolved(self, address):
            self.addresses.append(address)

        def resolutionComplete(self):
            self.done = True

    refused, proxied = Receiver(), Receiver()
    proxied.addresses = []
    resolver.resolveHostName(refused, "squid.internal", 9090)
    resolver.resolveHostName(proxied, "squid.internal", 3128)
    assert refused.done and refused.addresses == []
    assert proxied.done and [(a.host, a.port) for a in proxied.addresses] == [("10.1.2.3", 3128)]
    assert blocked_lookup("no results for hostname lookup: squid.internal") == \
        "blocked squid.internal:9090: squid.internal resolves to a private address 10.1.2.3"
    BLOCKED_NAMES.clear()


def test_a_proxys_own_host_and_port_is_no_page_to_fetch(monkeypatch):
    """The resolver lets the connection to squid.internal:3128 through (it is
    the proxy): a URL at that very host and port is refused by the middleware,
    whichever way it would go."""
    for name in ("http_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://squid.internal:3128")
    crawler = get_crawler(settings_dict={"GUARD_ALLOWED_PORTS": "3128", **GUARD_PORTS})
    mw = NetworkGuardMiddleware.from_crawler(crawler)
    for url in ("http://squid.internal:3128/squid-internal-mgr/menu", "https://SQUID.internal.:3128/"):
        with pytest.raises(BlockedRequest, match=r"squid.internal:3128 is a configured proxy, not a page to archive"):
            mw.process_request(Request(url))
    assert mw.process_request(Request("https://news.example/a")) is None
