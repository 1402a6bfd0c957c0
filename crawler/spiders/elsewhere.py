"""Where an article is asked for next when the page that answered will not do.

Two ways on, both requests that carry the article's identity along:

* its other addresses (qq's two hosts; for a refresh, where it last
  answered), each asked before the article is given up on. The failure
  then reported is the worst of the attempts: a host that could not be
  reached, then one that says 404, is a failure, not a gone article;
* the target of a ``<meta http-equiv="refresh">`` (or a ``Refresh`` header) on a page without text.
  Scrapy's own middleware is off: it followed a refresh even from a page
  with an article on it (losing the page when the target was blocked) and
  looped on a page that refreshes itself. Followed once per address,
  through every guard.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import scrapy
from scrapy.utils.response import get_meta_refresh

from crawler import sites
from crawler.net.validators import carried_conditional

#: Meta a request elsewhere carries over: the article's identity and what
#: makes its request conditional (crawler.spiders.refresh).
CARRIED_META = ("seed", "article_key", "refresh_original", "refresh_refused")
#: Failure kinds that say the page is not there (rather than unreachable).
ABSENT_KINDS = frozenset({"HTTP 404", "HTTP 410", "redirected away", "removed"})


def untried(url: str, meta: dict, candidates) -> list[str]:
    """The ``candidates`` (other addresses of the article) not asked yet, in order."""
    tried = {meta["seed_url"], url, *meta.get("tried", ()), *meta.get("redirect_urls", ())}
    return [u for u in dict.fromkeys(candidates) if u and u not in tried]


def retry_request(other: str, url: str, meta: dict, reason: str, kind: str, request, callback, errback):
    """The article asked at ``other`` after ``url`` failed with ``reason``:
    its identity and conditional headers carried, the first failure kept."""
    carried = {name: meta[name] for name in CARRIED_META if name in meta}
    return scrapy.Request(other, callback=callback, errback=errback, dont_filter=True,
                          headers=carried_conditional(request),
                          meta={**carried, "seed_url": meta["seed_url"],
                                "tried": [*meta.get("tried", ()), *meta.get("redirect_urls", ()), url],
                                "first_reason": meta.get("first_reason") or f"{reason} at {url}",
                                "first_kind": meta.get("first_kind") or kind})


def final_failure(meta: dict, url: str, reason: str, kind: str) -> tuple[str, str]:
    """(kind, reason) of an article no address gave: the worst of the attempts, each named."""
    first, first_kind = meta.get("first_reason"), meta.get("first_kind")
    if first_kind and first_kind not in ABSENT_KINDS and kind in ABSENT_KINDS:
        kind = first_kind  # unreachable, then absent: the worst of the two
    return kind, f"{first}; then {reason} at {url}" if first else reason


def meta_refresh_target(response, fields: dict, min_text_chars: int) -> str | None:
    """Where a page without text sends its readers with a meta refresh, when
    this article's requests have not been there yet; else None."""
    if fields.get("extractor") == "meta-description" or sites.too_little_text(
            response.url, fields["blocks"], min_text_chars):
        _, target = get_meta_refresh(response)
        target = target or header_refresh_target(response)
        seen = {response.url, response.meta["seed_url"], *response.meta.get("redirect_urls", ())}
        if target and target not in seen:
            return target
    return None


#: An HTTP ``Refresh`` header, as a page's meta refresh writes it: ``0; url=https://…``.
REFRESH_HEADER = re.compile(r"^\s*\d+(?:\.\d*)?\s*[;,]\s*(?:url\s*=\s*)?['\"]?([^'\"\s]+)", re.IGNORECASE)


def header_refresh_target(response) -> str | None:
    """Where a ``Refresh`` response header sends the reader (browsers follow it
    as they follow a meta refresh; Scrapy reads only the meta tag)."""
    value = response.headers.get("Refresh", b"").decode("latin-1")
    match = REFRESH_HEADER.match(value)
    return urljoin(response.url, match.group(1)) if match else None


def follow_request(response, target: str, errback):
    """The request for ``target`` a page's meta refresh names, as a redirect of that page."""
    meta = {k: v for k, v in response.meta.items()
            if k in ("seed_url", "tried", "first_reason", "first_kind", *CARRIED_META)}
    meta["redirect_urls"] = [*response.meta.get("redirect_urls", ()), response.url]
    return scrapy.Request(target, callback=response.request.callback, errback=errback, dont_filter=True, meta=meta)
