"""Site adapters: pure functions ``extract(url, html) -> dict`` of article fields.

They know HTML, not files: no adapter writes or imports pipelines or WARC
code, so each is testable on a saved page without a crawl. ``adapter_for``
picks one by host; anything unknown goes to the generic trafilatura path.
"""

from __future__ import annotations

from w3lib.url import canonicalize_url

from crawler.sites import generic, qq

#: (matches(url) -> bool, module), first match wins.
ADAPTERS = [qq]


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


def same_article(seed_url: str, final_url: str) -> bool:
    """Whether the page that answered is still the article the seed names
    (a site that knows its article ids can tell; others are trusted)."""
    check = getattr(adapter_for(seed_url), "same_article", None)
    return check(seed_url, final_url) if check else True


def article_key(url: str) -> str:
    """One key per article, whatever the spelling of its URL: the site's
    article id where the site has one (qq: same id on new.qq.com and
    news.qq.com), else the canonical URL (no fragment, sorted query)."""
    key = getattr(adapter_for(url), "article_key", lambda u: None)(url)
    if key:
        return key
    try:
        return canonicalize_url(url, keep_fragments=False)
    except ValueError:
        return url
