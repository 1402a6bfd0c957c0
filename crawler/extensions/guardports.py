"""The crawl's one port policy, held by an extension.

The spider opens the seeds' ports in it; the guard middleware and the
browser's guard proxy judge every request by it (crawler.net.policy.PortPolicy,
from ``GUARD_ALLOWED_PORTS``): one instance, found with :func:`port_policy`.
"""

from __future__ import annotations

from crawler.extensions.lookup import extension
from crawler.net.policy import PortPolicy


class GuardPorts:
    def __init__(self, allowed):
        self.policy = PortPolicy(allowed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("GUARD_ALLOWED_PORTS"))


def port_policy(crawler) -> PortPolicy:
    """The crawl's one PortPolicy (the GuardPorts extension's)."""
    return extension(crawler, GuardPorts).policy
