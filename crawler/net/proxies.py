"""Which proxy a host's requests take under ``HOST_PROXY_MAP``.

One rule for the crawl's downloader middleware and the browser's guard
proxy, so both send a host's requests the same way out.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def mapped_proxy(mapping: dict, url: str) -> str | None:
    """The proxy ``mapping`` (lower-case keys) names for ``url``: its
    ``host:port`` when the URL names a port, then its host, then ``*``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    proxy = mapping.get(f"{host}:{parts.port}") if parts.port else None
    return proxy or mapping.get(host) or mapping.get("*")
