"""Send the requests for chosen hosts through a chosen proxy.

``HOST_PROXY_MAP = {"new.qq.com": "http://127.0.0.1:8080"}`` routes those
hosts through that proxy without any change to the spiders (tests, labs,
a replay proxy for one site only). It only sets ``request.meta["proxy"]``,
so Scrapy's own HttpProxyMiddleware does the rest; requests for other
hosts keep the standard ``http_proxy``/``https_proxy`` behaviour.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crawler.featureoff import feature_off


def mapped_proxy(mapping: dict, url: str) -> str | None:
    """The proxy ``mapping`` (lower-case keys) names for ``url``: its
    ``host:port`` when the URL names a port, then its host, then ``*``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    proxy = mapping.get(f"{host}:{parts.port}") if parts.port else None
    return proxy or mapping.get(host) or mapping.get("*")


class HostProxyMapMiddleware:
    def __init__(self, mapping: dict):
        self.mapping = {k.lower(): v for k, v in mapping.items()}

    @classmethod
    def from_crawler(cls, crawler):
        mapping = crawler.settings.getdict("HOST_PROXY_MAP")
        if not mapping:
            raise feature_off(__name__, "HOST_PROXY_MAP is empty")
        return cls(mapping)

    def process_request(self, request, spider=None):
        proxy = mapped_proxy(self.mapping, request.url)
        if proxy and "proxy" not in request.meta:
            request.meta["proxy"] = proxy
        return None
