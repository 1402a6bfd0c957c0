"""Is the page that answered the article the archive holds? One rule, for crawl and refresh.

News sites move articles: a headline edit changes the slug and the old
address answers ``301`` to the new one (WordPress and most CMSs do that).
That is a new version of the same article, not a disappearance. A deleted
article, on the other hand, is sent to the front page, a section page or
another story, and archiving that as a "version" would corrupt the history.

What identifies an article, in this order:

1. the site's own article id, where an adapter knows it (qq);
2. the address: the answering URL, or the page's ``rel=canonical`` /
   ``og:url``, has the key of the seed URL or of the stored copy;
3. the front page or a section above the article is never the article;
4. the body: most of the stored copy's text is in the new page (a headline
   and one corrected paragraph change little of it), or the title is the
   same and some of the text is (an article moved and rewritten; a
   recurring headline alone is no evidence).

Without a stored copy (a first capture) only 1 to 3 can speak, and an
address that is neither the front page nor a section is taken.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from crawler import sites
from crawler.core import markdown

#: Share of the stored text's character shingles found in the new page for
#: it to be the same article (a corrected story keeps most of its text; two
#: different stories of one site share almost none).
SHARED_TEXT = 0.5
#: With the same title, this share is enough (an article moved and much
#: rewritten); a recurring headline ("Morning briefing") alone never is.
TITLE_SHARED_TEXT = 0.2
#: Shingle size, in characters of text without spaces and punctuation: long
#: enough that two different stories share few, short enough for a brief.
SHINGLE = 5


@dataclass
class Stored:
    """What the archive holds of an article: addresses, title and text."""

    urls: list[str]
    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text or "")).casefold()


def shingles(text: str) -> set[str]:
    """Character shingles of a text: works alike for Chinese and for English."""
    text = _normal(text)
    if len(text) <= SHINGLE:
        return {text} if text else set()
    return {text[i:i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def shared_text(stored: list[str], new: list[str]) -> float:
    """Share of the stored paragraphs' shingles that the new ones contain."""
    old = shingles("\n".join(stored))
    return len(old & shingles("\n".join(new))) / len(old) if old else 0.0


def above(seed_url: str, final_url: str) -> bool:
    """Whether ``final_url`` is the site's front page or a section above the
    article (``/news/`` for ``/news/2025/story.html``): where deleted
    articles are sent."""
    seed, final = urlsplit(seed_url), urlsplit(final_url)
    seed_path, final_path = seed.path.rstrip("/"), final.path.rstrip("/")
    if not final_path and not final.query:
        return bool(seed_path)  # the front page answers only for the front page
    return seed_path.startswith(final_path + "/") and not final.query


def canonical_url(response) -> str | None:
    """The page's own address for itself (``rel=canonical``, else ``og:url``), absolute."""
    try:
        found = (response.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href")
                 .getall() + response.xpath("//meta[@property='og:url']/@content").getall())
    except (AttributeError, ValueError):  # not a text response
        return None
    for value in found:
        value = value.strip()
        if value:
            absolute = urljoin(response.url, value)
            if absolute.startswith(("http://", "https://")):
                return absolute
    return None


def known_address(final_url: str, key: str, seed_url: str) -> bool:
    """Whether ``final_url`` is, by its article key, the archived article
    (``key``) or the seed's: then its address says it, with nothing read."""
    return sites.article_key(final_url) in (key, sites.article_key(seed_url))


def stored_paragraphs(text: str) -> list[str]:
    """The paragraphs of an archived article's Markdown that compare with a
    page's text: its images and its closing source line left out."""
    return [p for p in markdown.parse(text)[1][:-1] if not p.startswith("![")]


def page_paragraphs(fields: dict) -> list[str]:
    """The text paragraphs of a page's extracted fields."""
    return [b["text"] for b in fields["blocks"] if b["type"] == "text"]


def not_the_article(seed_url: str, final_url: str, stored: Stored | None = None, canonical: str | None = None,
                    title: str | None = None, paragraphs: list[str] | None = None) -> str | None:
    """None when the page at ``final_url`` is the article ``seed_url`` names
    (and ``stored`` holds, if archived); else why it is not."""
    by_id = getattr(sites.adapter_for(seed_url), "same_article", lambda *urls: None)(seed_url, final_url)
    if by_id is not None:  # the site knows its article ids
        return None if by_id else "another article id"
    known = {sites.article_key(u) for u in [seed_url, *(stored.urls if stored else ())] if u}
    if sites.article_key(final_url) in known or (canonical and sites.article_key(canonical) in known):
        return None
    if above(seed_url, final_url):  # (a canonical naming the front page is a common misconfiguration)
        return "the site's front page or a section page"
    if stored is None or not stored.paragraphs:
        return None  # a first capture: an article address is taken
    share = shared_text(stored.paragraphs, paragraphs or [])
    same_title = bool(title) and _normal(title) == _normal(stored.title or "")
    if share >= SHARED_TEXT or (same_title and share >= TITLE_SHARED_TEXT):
        return None
    return (f"another article: {title!r}, not {stored.title!r}, "
            f"{share:.0%} of the archived text in it")
