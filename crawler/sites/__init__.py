"""Site adapters: pure functions ``extract(url, html) -> dict`` of article fields.

They know HTML, not files: no adapter writes or imports pipelines or WARC
code, so each is testable on a saved page without a crawl. ``adapter_for``
picks one by host; anything unknown goes to the generic trafilatura path.

An adapter claims a host, not every page of it: when it finds no body (an
older template it does not know), the page goes to the generic path, which
reads any page, and the fields say so (``extractor``). Only a page nothing
can read is kept aside. An adapter opts out (``GENERIC_FALLBACK = False``)
when its empty result means something (x.com's script shell: the browser,
not the generic path, reads it). Each adapter may set its own floor of text
(``MIN_TEXT_CHARS``, in display columns: a CJK character counts two), since
a post or a news flash is short by nature.
"""

from __future__ import annotations

import functools
import logging

from courlan import normalize_url
from w3lib.url import canonicalize_url

from crawler.core.textclean import clean_fields, clean_page
from crawler.sites import generic, qq, weixin, x
from crawler.sites.blocks import text_length, text_width

logger = logging.getLogger(__name__)

#: (matches(url) -> bool, module), first match wins.
ADAPTERS = [qq, weixin, x]
#: The generic path's text stands in for an adapter's only from this many
#: columns (40 Chinese characters): a page its own adapter cannot read must
#: show a body, not a stray headline from around a missing one.
FALLBACK_MIN_COLUMNS = 80
#: In ``extractor`` when an adapter found no body and the generic path read the page.
FALLBACK_NOTE = "adapter found no body"


def adapter_for(url: str):
    for adapter in ADAPTERS:
        if adapter.matches(url):
            return adapter
    return generic


def extract(url: str, page: str) -> dict:
    """The page's article fields, control characters removed (crawler/core/textclean.py)."""
    page = clean_page(page)
    adapter = adapter_for(url)
    fields = adapter.extract(url, page)
    if adapter is not generic and not text_length(fields["blocks"]) and getattr(adapter, "GENERIC_FALLBACK", True):
        fields = _generic_fallback(adapter, url, page, fields)
    return clean_fields(fields)


def _generic_fallback(adapter, url: str, page: str, fields: dict) -> dict:
    """The generic path's body for a page its adapter could not read; the
    adapter's identity (site, id) and whatever metadata it found stay."""
    found = generic.extract(url, page)
    if found["extractor"] == "meta-description":
        return fields  # the page's description is no body: the adapter's empty result stands
    if text_width("".join(b["text"] for b in found["blocks"] if b["type"] == "text"),
                  enough=FALLBACK_MIN_COLUMNS) < FALLBACK_MIN_COLUMNS:
        return fields  # chrome around a missing body (a headline, a related title) is no article
    site = getattr(adapter, "SITE", adapter.__name__)
    logger.warning("%s: the %s adapter found no article body; read by the generic path", url, site)
    merged = {**fields, "blocks": found["blocks"], "extractor": f"{found['extractor']} ({site} {FALLBACK_NOTE})"}
    for key in ("title", "date", "thumbnail", "abstract"):
        if not merged.get(key) and found.get(key):
            merged[key] = found[key]
    return merged


def fell_back(fields: dict) -> bool:
    """Whether the generic path read a page its adapter could not."""
    return FALLBACK_NOTE in (fields.get("extractor") or "")


def min_text_chars(url: str, default: int) -> int:
    """The floor of text (in columns) under which a page of ``url`` is an empty extraction."""
    return getattr(adapter_for(url), "MIN_TEXT_CHARS", default)


def too_little_text(url: str, blocks, default: int) -> tuple[int, int] | None:
    """(columns of text, the floor) when the article's text is under its
    adapter's floor (``default``: ARCHIVE_MIN_TEXT_CHARS), else None."""
    floor = min_text_chars(url, default)
    width = text_width("".join(b["text"] for b in blocks or () if b.get("type") == "text"), enough=floor)
    return (width, floor) if width < floor else None


def alternate_urls(url: str) -> list[str]:
    """Other addresses of the same article, where its site knows them."""
    return getattr(adapter_for(url), "alternate_urls", lambda u: [])(url)


#: How many URLs' keys ``article_key`` remembers: a page's URL is keyed 4 to 6
#: times on its way (spider, WARC capture, identity, pipelines, state), each
#: key taking courlan and w3lib about 50 microseconds; the crawl has at most
#: CONCURRENT_REQUESTS pages on their way at once.
ARTICLE_KEY_CACHE = 4096


@functools.lru_cache(maxsize=ARTICLE_KEY_CACHE)
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
