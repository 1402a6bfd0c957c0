"""Refuse requests to internal addresses and unusual ports, for every request the crawler makes.

Seeds, redirects (a redirected request passes through here again), images
and covers alike: a URL whose scheme is not http(s), or whose host is a
loopback, private, link-local, multicast or reserved address, or a local
name, is refused before any connection, with its reason; so is a URL on a
port other than 80, 443, a seed URL's port or one of ``GUARD_ALLOWED_PORTS``
(crawler.net.policy.PortPolicy; through a proxy, the URL's port is judged,
not the proxy's); and so is a URL at a configured proxy's own host and port
(the resolver lets the connection to a proxy through: that is for the
crawler's requests through the proxy, never for a page at it). Names are judged again on what they resolve to by
``crawler.resolver.GuardedResolver`` when the crawler connects directly
(through a proxy, the proxy resolves them).
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest

from crawler.extensions.guardports import port_policy
from crawler.net.policy import PortPolicy, blocked_reason, parse_networks, proxy_target_reason
from crawler.resolver import proxy_endpoints

logger = logging.getLogger(__name__)


class BlockedRequest(IgnoreRequest):
    """A request the network guard refused; its message says why."""


class NetworkGuardMiddleware:
    def __init__(self, allowed_networks=(), stats=None, ports: PortPolicy | None = None, proxies=()):
        self.allowed = parse_networks(allowed_networks)
        self.stats = stats
        self.ports = ports if ports is not None else PortPolicy()
        self.proxies = set(proxies)  # (host, port) of each configured proxy

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getlist("GUARD_ALLOWED_NETWORKS"), crawler.stats, port_policy(crawler),
                   proxy_endpoints(crawler.settings))

    def process_request(self, request, spider=None):
        reason = blocked_reason(request.url, self.allowed)
        if reason is None:
            if request.url == request.meta.get("seed_url"):
                # a seed URL as such (a shared crawl's worker, which did not read the seeds, learns it here)
                self.ports.allow_url(request.url)
            reason = self.ports.reason(request.url) or proxy_target_reason(request.url, self.proxies)
        if reason is None:
            return None
        if self.stats is not None:
            self.stats.inc_value("guard/blocked")
        redirected = request.meta.get("redirect_urls")
        via = f" (redirected from {redirected[-1]})" if redirected else ""
        logger.warning("blocked %s%s: %s", request.url, via, reason)
        raise BlockedRequest(f"blocked {request.url}{via}: {reason}")
