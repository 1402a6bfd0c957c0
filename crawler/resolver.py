"""Scrapy's caching DNS resolver, refusing names that resolve to internal addresses.

The guard middleware judges URLs as written; a public-looking name can still
resolve to 127.0.0.1 or 169.254.169.254. This resolver is the one the
crawler connects with, so what it refuses is never connected to (a name
that changes its answer between a check and the connection cannot slip
through).

The configured proxies (``http_proxy``/``https_proxy``, ``HOST_PROXY_MAP``)
are the operator's configuration, not the web's: the connection to a proxy
is exempt, and only that connection. The resolver is installed as the
reactor's name resolver, so it is told the port each lookup is for: a
lookup for a proxy's own host and port (as configured) is exempt; the same
name on any other port (``http://squid.internal:9090/admin`` referenced by
a page, fetched directly) is judged like any other name. A lookup without
a port comes from ``connectTCP``, which Scrapy's HTTP/1.1 handler uses for
one connection only: the CONNECT tunnel to an https URL's proxy; so a
port-less lookup is exempt for the names of the proxies https URLs go
through, and judged for every other name.
"""

from __future__ import annotations

import logging
import urllib.request
from collections import OrderedDict

from scrapy.resolver import CachingThreadedResolver, HostResolution
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

from crawler.net.policy import address_reason, parse_networks, proxy_endpoint

logger = logging.getLogger(__name__)

#: Names recently refused, and why (for the failure of the request that asked).
BLOCKED_NAMES: OrderedDict[str, str] = OrderedDict()
MAX_BLOCKED_NAMES = 1024


class BlockedAddressError(ConnectError):
    """A name that resolves to an address the crawler must not connect to."""

    @property
    def reason(self) -> str:
        """``blocked NAME[:PORT]: NAME resolves to a ...`` (without ConnectError's wording)."""
        return str(self.args[0]) if self.args else ""


def proxy_endpoints(settings) -> dict[tuple[str, int], bool]:
    """(host, port) of each configured proxy (environment and HOST_PROXY_MAP)
    -> whether https URLs may go through it (by a CONNECT tunnel)."""
    # the proxy URLs only: getproxies() also returns no_proxy's host list as "no",
    # and those hosts are connected to directly, so they are judged like any other
    proxies = {scheme: url for scheme, url in urllib.request.getproxies().items() if scheme != "no"}
    configured = [(url, scheme == "https") for scheme, url in proxies.items()]
    configured += [(url, True) for url in settings.getdict("HOST_PROXY_MAP").values()]
    endpoints: dict[tuple[str, int], bool] = {}
    for url, tunnels in configured:
        endpoint = proxy_endpoint(url)
        if endpoint:
            endpoints[endpoint] = endpoints.get(endpoint, False) or tunnels
    return endpoints


def proxy_hosts(settings) -> set[str]:
    """Host names of the configured proxies (environment and HOST_PROXY_MAP)."""
    return {host for host, _ in proxy_endpoints(settings)}


def blocked_lookup(message: str) -> str | None:
    """Why the name in a DNSLookupError's ``message`` was refused by the
    guard, when it was (the endpoint only says it found no address)."""
    words = message.replace("'", " ").split()
    name = words[-1].rstrip(".") if words else ""  # "...lookup: squid.test." (Scrapy adds the stop)
    return BLOCKED_NAMES.get(name) or BLOCKED_NAMES.get(name + ".")


@implementer(IHostnameResolver)
class GuardedResolver(CachingThreadedResolver):
    def __init__(self, reactor, cache_size, timeout, allowed_networks=(), proxies=(), stats=None):
        super().__init__(reactor, cache_size, timeout)
        self.allowed = parse_networks(allowed_networks)
        # (host, port) -> whether https URLs tunnel through it
        self.proxies = dict(proxies) if isinstance(proxies, dict) else {p: True for p in proxies}
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler, reactor):
        # built by the crawler process (one resolver for its reactor): it may have no stats
        s = crawler.settings
        cache_size = s.getint("DNSCACHE_SIZE") if s.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, s.getfloat("DNS_TIMEOUT"),
                   s.getlist("GUARD_ALLOWED_NETWORKS"), proxy_endpoints(s), getattr(crawler, "stats", None))

    def install_on_reactor(self) -> None:
        # as the name resolver: HostnameEndpoint passes the port it connects to;
        # connectTCP's lookups reach it too, without a port
        self.reactor.installNameResolver(self)

    def exempt(self, name: str, port: int) -> bool:
        """Whether a lookup of ``name`` for ``port`` (0: unknown) is the
        connection to a configured proxy."""
        name = name.lower().rstrip(".")
        if port:
            return (name, port) in self.proxies
        return any(host == name and tunnels for (host, _), tunnels in self.proxies.items())

    def getHostByName(self, name, timeout=(), port: int = 0):
        """The address of ``name`` for a connection to ``port`` (0: unknown);
        fails with BlockedAddressError when it is internal."""
        d = super().getHostByName(name, timeout)
        if not self.exempt(name, port):
            d.addCallback(self._check, name, port)
        return d

    def _check(self, address, name, port):
        reason = address_reason(address, self.allowed)
        if reason:
            shown = f"{name}:{port}" if port else name
            raise BlockedAddressError(string=f"blocked {shown}: {name} resolves to a {reason}")
        return address

    def resolveHostName(self, resolutionReceiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def resolved(address):
            resolutionReceiver.addressResolved(IPv4Address("TCP", address, portNumber))

        def failed(failure):
            if failure.check(BlockedAddressError):
                reason = failure.value.reason
                BLOCKED_NAMES[hostName] = reason
                BLOCKED_NAMES.move_to_end(hostName)
                while len(BLOCKED_NAMES) > MAX_BLOCKED_NAMES:
                    BLOCKED_NAMES.popitem(last=False)
                if self.stats is not None:
                    self.stats.inc_value("guard/blocked")
                logger.warning("%s", reason)
            elif not failure.check(DNSLookupError):
                logger.warning("looking up %s failed: %s", hostName, failure.getErrorMessage())

        # no address at all for a refused name: the connection fails before it starts
        d = self.getHostByName(hostName, port=portNumber)
        d.addCallbacks(resolved, failed)
        d.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution
