"""Which addresses the crawler may talk to: public ones only, unless allowed.

A referenced page can point the crawler anywhere (an ``og:image`` at
``http://127.0.0.1:8080/admin``, a redirect to the cloud metadata address), so
every request is judged here first: its scheme, a host that is an IP literal
(in any spelling the resolver would accept, ``127.1`` and ``2130706433``
included) or a local name. Names are judged again on what they resolve to,
by the guarded resolver, when the crawler connects directly. Operators
archiving an intranet allow chosen networks (``GUARD_ALLOWED_NETWORKS``).

Ports are judged too (``PortPolicy``): news sites answer on 80 and 443, so
those are open, and so is the port of every URL the seeds name; any other
port of any host (an admin console, a database, a mail server on a public
address) is refused unless ``GUARD_ALLOWED_PORTS`` opens it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
#: Numeric host spellings that inet_aton (and so the resolver) reads as IPv4.
NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)
#: (ipaddress attribute, how it is named in a refusal), most specific first.
KINDS = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_reserved", "reserved"),
    ("is_private", "private"),
)

#: The ports every crawl may reach: those of http:// and https:// news sites.
DEFAULT_PORTS = frozenset({80, 443})
#: The default port of each allowed scheme.
SCHEME_PORTS = {"http": 80, "https": 443}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values) -> tuple[Network, ...]:
    """``["10.1.0.0/16", "192.168.1.5"]`` -> networks; a bad entry raises
    ValueError naming it (a typo must not silently open or close a network)."""
    if isinstance(values, str):
        values = [v for v in re.split(r"[,\s]+", values) if v]
    networks = []
    for value in values or ():
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"GUARD_ALLOWED_NETWORKS: not a network: {value!r}") from exc
    return tuple(networks)


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host literal stands for, or None for a name."""
    # "169.254.169.254." is the same address to a resolver or a proxy
    host = host.strip("[]").split("%", 1)[0].rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def address_reason(address, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why the crawler must not connect to ``address``; None when it may."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(addr, ipaddress.IPv6Address):
        # an IPv4 address carried inside IPv6 (mapped, 6to4, Teredo) is judged as itself
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is not None:
            reason = address_reason(embedded, allowed)
            if reason or addr.ipv4_mapped is not None:
                return reason
    if any(addr.version == net.version and addr in net for net in allowed):
        return None
    for attribute, kind in KINDS:
        if getattr(addr, attribute):
            return f"{kind} address {addr}"
    if not addr.is_global:  # e.g. 100.64.0.0/10, shared address space
        return f"non-public address {addr}"
    return None


def blocked_reason(url: str, allowed_networks: tuple[Network, ...] = ()) -> str | None:
    """Why ``url`` must not be fetched, judged without any lookup; None when
    it may be (a name is judged again on what it resolves to)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return f"malformed URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return f"scheme not allowed: {scheme or 'none'}:"
    if not host:
        return "no host in URL"
    address = host_address(host)
    if address is not None:
        return address_reason(address, allowed_networks)
    name = host.rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        if any(net.version == 4 and ipaddress.IPv4Address("127.0.0.1") in net for net in allowed_networks):
            return None
        return f"local host name {name}"
    return None


def parse_ports(values) -> tuple[frozenset[int], bool]:
    """``"8080, 8443"`` or ``[8080, 8443]`` -> (ports, whether ``*`` opened
    every port); a bad entry raises ValueError naming it."""
    if isinstance(values, (str, int)):
        values = [v for v in re.split(r"[,\s]+", str(values)) if v]
    ports, every = set(), False
    for value in values or ():
        text = str(value).strip()
        if text == "*":
            every = True
            continue
        try:
            port = int(text)
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            raise ValueError(f"GUARD_ALLOWED_PORTS: not a port: {value!r}")
        ports.add(port)
    return frozenset(ports), every


def url_port(url: str) -> int | None:
    """The port a connection for ``url`` goes to (its scheme's when it names
    none), or None when the URL has none (malformed, or not http(s))."""
    try:
        parts = urlsplit(url)
        return parts.port or SCHEME_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


class PortPolicy:
    """The ports the crawler and its browser may connect to: 80 and 443, the
    ports of the seed URLs (``allow_url``), and ``GUARD_ALLOWED_PORTS``
    (``*`` for every port). Shared by one crawl's components
    (crawler.extensions.guardports.port_policy); through a proxy it is the target URL's port that is
    judged, never the proxy's own (that one is the operator's configuration)."""

    def __init__(self, allowed=()):
        extra, self.every = parse_ports(allowed)
        self.ports = set(DEFAULT_PORTS | extra)

    def allow_url(self, url: str) -> None:
        """Open the port of ``url`` (a seed URL) for the rest of the crawl."""
        port = url_port(url)
        if port is not None:
            self.ports.add(port)

    def reason(self, url: str) -> str | None:
        """Why ``url``'s port must not be connected to; None when it may."""
        if self.every:
            return None
        port = url_port(url)
        if port is None or port in self.ports:
            return None
        return f"port {port} not allowed (GUARD_ALLOWED_PORTS)"


def proxy_endpoint(url: str) -> tuple[str, int] | None:
    """A proxy URL's (host, port), with Scrapy's default ports (443 for an
    https:// proxy, 80 otherwise); None when it names no host."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return host.lower().rstrip("."), port or (443 if parts.scheme.lower() == "https" else 80)


def proxy_target_reason(url: str, endpoints) -> str | None:
    """Why ``url`` is no page to fetch: it is a configured proxy's own host
    and port (``endpoints``: (host, port) pairs). The connection to a proxy
    is exempt from the address check; a request to it as a page is not."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    port = url_port(url)
    if (host, port) in endpoints:
        return f"{host}:{port} is a configured proxy, not a page to archive"
    return None


def drop_blocked_images(fields: dict, allowed_networks: tuple[Network, ...] = ()) -> list[tuple[str, str]]:
    """Take out of an article's fields every image (cover or body) at an
    address the crawler must not fetch: it is never requested, nor kept to
    point the archive's readers there. The (url, reason) of each, in order."""
    dropped = []

    def blocked(url):
        reason = blocked_reason(url, allowed_networks)
        if reason:
            dropped.append((url, reason))
        return reason
    if fields.get("thumbnail") and blocked(fields["thumbnail"]):
        fields["thumbnail"] = ""
    fields["blocks"] = [b for b in fields["blocks"] if b["type"] != "image" or not blocked(b["src"])]
    return dropped
