"""Site adapters: pure functions ``extract(url, html) -> dict`` of article fields.

They know HTML, not files: no adapter writes or imports pipelines or WARC
code, so each is testable on a saved page without a crawl. ``adapter_for``
picks one by host; anything unknown goes to the generic trafilatura path.
"""

from __future__ import annotations

from courlan import normalize_url
from w3lib.url import canonicalize_url

from crawler.sites import generic, qq, x

#: (matches(url) -> bool, module), first match wins.
ADAPTERS = [qq, x]


def adapter_for(url: str):
    for adapter in ADAPTERS:
        if adapter.matches(url):
            return adapter
    return generic


def extract(url: str, page: str) -> dict:
    return adapter_for(url).extract(url, page)


def alternate_urls(url: str) -> list[str]:
    """Other addresses of the same article, where its site knows them."""
    return getattr(adapter_for(url), "alternate_urls", lambda u: [])(url)


def article_key(url: str) -> str:
    """One key per article, whatever the spelling of its URL: the site's
    article id where the site has one (qq: same id on new.qq.com and
    news.qq.com), else the canonical URL: no fragment, no tracking
    parameters (courlan's list: utm_*, fbclid, ...), sorted query, host
    and scheme in lower case."""
    key = getattr(adapter_for(url), "article_key", lambda u: None)(url)
    if key:
        return key
    try:
        return canonicalize_url(normalize_url(url), keep_fragments=False)
    except (ValueError, AttributeError):
        try:
            return canonicalize_url(url, keep_fragments=False)
        except ValueError:
            return url
