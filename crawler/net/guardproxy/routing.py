"""Where a browser request goes: the operator's proxy Scrapy would use, or none.

``choose_upstream`` mirrors crawler/downloadermiddlewares/hostmap.py and
Scrapy's HttpProxyMiddleware, so the browser's requests take the same way
out as the crawl's own; ``Route`` is what the page capture learns of it.
"""

from __future__ import annotations

import base64
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from crawler.net.proxies import mapped_proxy


@dataclass(frozen=True)
class Upstream:
    """The operator's proxy for a request."""

    host: str
    port: int
    tls: bool = False
    authorization: bytes | None = None  # Basic credentials, as Scrapy sends them

    def __str__(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


def parse_upstream(url: str, auth_encoding: str = "latin-1") -> Upstream:
    """``http://user:pw@host:port`` (or ``host:port``) -> Upstream, with the
    Basic credentials Scrapy's HttpProxyMiddleware would send."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = (parts.scheme or "http").lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP proxy: {url!r}")
    authorization = None
    if parts.username:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = b"Basic " + base64.b64encode(user_pass.encode(auth_encoding))
    return Upstream(parts.hostname, parts.port or (443 if scheme == "https" else 80), scheme == "https", authorization)


def choose_upstream(url: str, host_map: dict, proxies: dict, bypass=urllib.request.proxy_bypass) -> str | None:
    """The proxy URL Scrapy would send ``url`` through, or None for direct.

    Mirrors crawler/downloadermiddlewares/hostmap.py (``HOST_PROXY_MAP``:
    ``host:port`` when the URL names a port, then ``host``, then ``*``) and
    Scrapy's HttpProxyMiddleware (the proxy for the URL's scheme from
    ``getproxies()``, unless ``no_proxy`` bypasses the host).
    """
    mapped = mapped_proxy(host_map, url)
    if mapped:
        return mapped
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if scheme in proxies and host and not bypass(host):
        return proxies[scheme]
    return None


@dataclass
class Route:
    """How one URL was fetched, for the page capture."""

    via_proxy: bool  # through the operator's proxy: no server address to record
    address: str | None  # the server's address, when connected directly
    body_bytes: int = 0  # the body so far (decoded when the coding is known)
    note: str | None = None  # why this proxy refused or cut it
