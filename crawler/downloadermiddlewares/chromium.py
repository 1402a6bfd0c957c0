"""The download handler for http(s): Scrapy's own, plus headless Chromium for browser requests.

Plain requests go to Scrapy's HTTP/1.1 handler as before. A request with
``meta["browser"]`` (crawler/browser.py decides which) is rendered by one
browser shared by the whole crawl (renderer.py: scrapy-playwright with the
system's Chromium, ``BROWSER_EXECUTABLE``; Playwright's own browser download
is never used). scrapy-playwright's handler, installed as such, starts its
Playwright driver when the engine starts; here the renderer is built, and
Playwright imported, on the first browser request, so a crawl that needs no
browser starts none.

What a render gives back, and why:

* the page's document exactly as served (headers as received, body as
  decoded by Playwright, see pagecapture.py), with ``flags=["browser"]``:
  the WARC capture middleware records it like any other exchange. A
  navigation the browser saw redirected comes back hop by hop: the first
  hop is returned as served, and Scrapy's redirect middleware asks for the
  next, which is served from what the browser already fetched;
* in ``meta["browser_render"]``, for crawler/downloadermiddlewares/browser.py:
  the rendered DOM, a screenshot, and every other exchange of the page
  (scripts, XHR/fetch JSON, images, frames) for the WARC.

Capture by Playwright's response events rather than a WARC-writing proxy
(warcprox): the crawl keeps its one WARC writer and its record rules, the
proxy the crawl itself must use (``http_proxy``/``https_proxy``) stays the
browser's only hop, and no second TLS interception is needed.

This module also holds what the browser shares with the rest of the crawl:
its proxies (the crawl's ``http_proxy``/``https_proxy``/``no_proxy``), the
guard for each request a page makes (crawler.netguard, and, when no proxy
resolves names, what a name resolves to), and its launch options (a
throwaway HOME, so nothing is left in the user's ~/.config, ~/.cache or
~/.local).
"""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from crawler.netguard import address_reason, blocked_reason, host_address, parse_networks

logger = logging.getLogger(__name__)

#: Names no_proxy uses for the local machine (then the browser too goes direct).
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


class BrowserError(Exception):
    """A page the browser could not render; the message says why."""


class BrowserTimeout(BrowserError):
    """A page that did not load and settle within BROWSER_PAGE_TIMEOUT."""


class RendererCrashed(BrowserError):
    """A page that crashed the browser's renderer."""


# --- proxies ---------------------------------------------------------------

def _proxy_server(url: str) -> str:
    """``http://user:pw@host:port`` -> ``http://host:port`` (Chromium takes no
    credentials on its command line)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.username:
        logger.warning("browser: proxy credentials are not passed to Chromium (%s)", parts.hostname)
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def proxy_args(proxies: dict) -> list[str]:
    """Chromium switches for the proxies Scrapy uses (``getproxies()``):
    one per URL scheme, ``no_proxy`` as bypass rules. Loopback addresses go
    through the proxy too, as they do for Scrapy, unless ``no_proxy`` names
    them (Chromium alone would always reach them directly)."""
    servers = [f"{scheme}={_proxy_server(proxies[scheme])}" for scheme in ("http", "https") if proxies.get(scheme)]
    if not servers:
        return []
    no_proxy = [h.strip().lower() for h in proxies.get("no", "").split(",") if h.strip()]
    if "*" in no_proxy:
        return []
    bypass = [] if LOOPBACK_NAMES & set(no_proxy) else ["<-loopback>"]
    for host in no_proxy:
        host = host.lstrip(".")
        bypass.append(host)
        if host_address(host.split(":")[0]) is None and "/" not in host:
            bypass.append(f"*.{host}")  # no_proxy's "example.com" covers its subdomains
    return [f"--proxy-server={';'.join(servers)}", f"--proxy-bypass-list={';'.join(bypass)}"]


def proxied(url: str, proxies: dict) -> bool:
    """Whether Scrapy (and so the browser) sends ``url`` through a proxy."""
    parts = urlsplit(url)
    if not proxies.get(parts.scheme):
        return False
    return not urllib.request.proxy_bypass_environment(parts.hostname or "", proxies)


# --- the guard -------------------------------------------------------------

class RequestGuard:
    """crawler.netguard for the browser's requests: the URL as written, and,
    for a name reached directly, the addresses it resolves to (behind a
    proxy, the proxy resolves names)."""

    def __init__(self, allowed_networks=(), is_proxied=lambda url: False):
        self.allowed = parse_networks(allowed_networks)
        self.is_proxied = is_proxied
        self._resolved: dict[str, str | None] = {}

    async def reason(self, url: str) -> str | None:
        if url.startswith(("ws://", "wss://")):
            url = "http" + url[2:]
        reason = blocked_reason(url, self.allowed)
        if reason or self.is_proxied(url):
            return reason
        host = (urlsplit(url).hostname or "").lower()
        if host_address(host) is not None:
            return None  # an address, judged above
        if host not in self._resolved:
            self._resolved[host] = await self._lookup(host)
        return self._resolved[host]

    async def _lookup(self, host: str) -> str | None:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError:
            return None  # the browser cannot reach it either
        for *_, sockaddr in infos:
            kind = address_reason(sockaddr[0], self.allowed)
            if kind:
                return f"{host} resolves to a {kind}"
        return None


# --- the browser -----------------------------------------------------------

def launch_options(settings, home: str, proxies: dict) -> dict:
    """Playwright launch options: the system Chromium, headless, its switches,
    the crawl's proxies, and a throwaway HOME for what Chromium writes there."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local", "share"))
    return {
        "executable_path": settings.get("BROWSER_EXECUTABLE"),
        "headless": True,
        "args": [*settings.getlist("BROWSER_ARGS"), *proxy_args(proxies)],
        "env": env,
        # Scrapy handles the crawl's signals; the browser closes with the crawl
        "handle_sigint": False,
        "handle_sigterm": False,
        "handle_sighup": False,
    }


def shared_renderer(crawler):
    """The crawl's one renderer, built on the first browser request and
    closed when the engine stops."""
    renderer = getattr(crawler, "_browser_renderer", None)
    if renderer is None:
        # imported here: a crawl that needs no browser does not even load Playwright
        from crawler.downloadermiddlewares.renderer import Renderer

        renderer = crawler._browser_renderer = Renderer(crawler)
        crawler.signals.connect(renderer.close, signal=signals.engine_stopped, weak=False)
    return renderer


class ChromiumDownloadHandler(HTTP11DownloadHandler):
    """http(s): Scrapy's HTTP/1.1 handler, and the browser for ``meta["browser"]``."""

    async def download_request(self, request):
        if request.meta.get("browser"):
            return await shared_renderer(self._crawler).render(request)
        return await super().download_request(request)
