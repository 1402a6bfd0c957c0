"""Send the requests for chosen hosts through a chosen proxy.

``HOST_PROXY_MAP = {"new.qq.com": "http://127.0.0.1:8080"}`` routes those
hosts through that proxy without any change to the spiders (tests, labs,
a replay proxy for one site only). It only sets ``request.meta["proxy"]``,
so Scrapy's own HttpProxyMiddleware does the rest; requests for other
hosts keep the standard ``http_proxy``/``https_proxy`` behaviour.
"""

from __future__ import annotations

from crawler.featureoff import feature_off
from crawler.net.proxies import mapped_proxy


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
