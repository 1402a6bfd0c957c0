"""Scrapy's caching DNS resolver, refusing names that resolve to internal addresses.

The guard middleware judges URLs as written; a public-looking name can still
resolve to 127.0.0.1 or 169.254.169.254. This resolver is the one the
crawler connects with, so what it refuses is never connected to (a name
that changes its answer between a check and the connection cannot slip
through). Proxy hosts (``http_proxy``/``https_proxy``, ``HOST_PROXY_MAP``)
are the crawler's own configuration, not the web's, and are exempt.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import ConnectError

from crawler.netguard import address_reason, parse_networks


class BlockedAddressError(ConnectError):
    """A name that resolves to an address the crawler must not connect to."""


def proxy_hosts(settings) -> set[str]:
    """Host names of the configured proxies (environment and HOST_PROXY_MAP)."""
    # the proxy URLs only: getproxies() also returns no_proxy's host list as "no",
    # and those hosts are connected to directly, so they are judged like any other
    proxies = {scheme: url for scheme, url in urllib.request.getproxies().items() if scheme != "no"}
    urls = list(proxies.values()) + list(settings.getdict("HOST_PROXY_MAP").values())
    hosts = set()
    for url in urls:
        try:
            host = urlsplit(url if "://" in url else f"http://{url}").hostname
        except ValueError:
            continue
        if host:
            hosts.add(host.lower())
    return hosts


class GuardedResolver(CachingThreadedResolver):
    def __init__(self, reactor, cache_size, timeout, allowed_networks=(), exempt=()):
        super().__init__(reactor, cache_size, timeout)
        self.allowed = parse_networks(allowed_networks)
        self.exempt = {h.lower() for h in exempt}

    @classmethod
    def from_crawler(cls, crawler, reactor):
        s = crawler.settings
        cache_size = s.getint("DNSCACHE_SIZE") if s.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, s.getfloat("DNS_TIMEOUT"),
                   s.getlist("GUARD_ALLOWED_NETWORKS"), proxy_hosts(s))

    def getHostByName(self, name, timeout=()):
        d = super().getHostByName(name, timeout)
        if name.lower() not in self.exempt:
            d.addCallback(self._check, name)
        return d

    def _check(self, address, name):
        reason = address_reason(address, self.allowed)
        if reason:
            raise BlockedAddressError(string=f"blocked: {name} resolves to a {reason}")
        return address
