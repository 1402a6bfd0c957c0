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
3. the front page is never the article, nor is a section above it
   (``/news/`` for ``/news/2025/story.html``) unless that page is the
   article by its text (most of the stored copy's, and the same title or a
   page that says it is an article) or, on a first capture, says it is an
   article itself (``og:type`` article, an ``article:published_time``, a
   JSON-LD ``*Article``): sites shorten ``/story/123/slug`` to
   ``/story/123``; an index document (``…/index.html``) is its folder;
4. the body: most of the stored copy's text is in the new page (a headline
   and one corrected paragraph change little of it), or the title is the
   same and some of the text is (an article moved and rewritten; a
   recurring headline alone is no evidence).

Without a stored copy (a first capture) only 1 to 3 can speak, and an
address that is neither the front page nor a section is taken.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qs, parse_qsl, unquote, urljoin, urlsplit

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


def same_title(a: str | None, b: str | None) -> bool:
    """Whether two titles are the same headline (case, spaces and punctuation aside)."""
    return bool(a) and _normal(a) == _normal(b or "")


def shared_text(stored: list[str], new: list[str]) -> float:
    """Share of the stored paragraphs' shingles that the new ones contain."""
    old = shingles("\n".join(stored))
    return len(old & shingles("\n".join(new))) / len(old) if old else 0.0


#: The last path segment of an index document: ``/a/b/index.html`` is ``/a/b/``.
INDEX_DOCUMENT = re.compile(r"/(?:index|default)\.[a-z0-9]{2,5}$", re.IGNORECASE)
#: JSON-LD types of article pages (schema.org's Article and its kinds).
ARTICLE_TYPE = re.compile(r"(?:Article|BlogPosting|Report)$")


def front_page(seed_url: str, final_url: str) -> bool:
    """Whether ``final_url`` is the site's front page and ``seed_url`` is not."""
    final = urlsplit(final_url)
    return not final.path.strip("/") and not final.query and bool(urlsplit(seed_url).path.strip("/"))


def above(seed_url: str, final_url: str) -> bool:
    """Whether ``final_url`` is the site's front page or a section above the
    article (``/news/`` for ``/news/2025/story.html``): where deleted
    articles are sent. An index document's folder is the document."""
    seed, final = urlsplit(seed_url), urlsplit(final_url)
    seed_path, final_path = INDEX_DOCUMENT.sub("", seed.path).rstrip("/"), final.path.rstrip("/")
    if not final_path and not final.query:
        return bool(seed_path)  # the front page answers only for the front page
    return seed_path.startswith(final_path + "/") and not final.query


def declares_article(response) -> bool:
    """Whether a page says it is an article: ``og:type`` article, an
    ``article:published_time``, or a JSON-LD ``*Article``/``BlogPosting``
    (a section or front page says ``website``, if anything)."""
    try:
        og_type = " ".join(response.xpath("//meta[@property='og:type']/@content").getall()).strip().lower()
        published = response.xpath("//meta[@property='article:published_time']/@content").get()
        json_ld = response.xpath("//script[@type='application/ld+json']/text()").getall()
    except (AttributeError, ValueError):  # not a text response
        return False
    return og_type == "article" or bool(published) or any(map(_json_ld_article, json_ld))


def _json_ld_article(block: str) -> bool:
    """Whether a JSON-LD block describes the page as an article: its top-level
    objects or its ``@graph``'s, never the articles a section lists inside them."""
    try:
        data = json.loads(block)
    except ValueError:
        return False
    objects = data if isinstance(data, list) else [data]
    objects = [o for o in objects if isinstance(o, dict)]
    objects += [g for o in objects if isinstance(o.get("@graph"), list) for g in o["@graph"] if isinstance(g, dict)]
    for obj in objects:
        kinds = obj.get("@type")
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            if isinstance(kind, str) and ARTICLE_TYPE.search(kind):
                return True
    return False


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


def moved_to(response, seed_url: str) -> str | None:
    """Where a 404 or 410 page says the article is now: its ``rel=canonical``
    (or ``og:url``) naming another address of the same site, as a CMS that
    moved the article answers its old address. None for the page's own
    address, the front page or a section above the article, another site.
    Only where to ask: the page found there is judged like any other."""
    target = canonical_url(response)
    if not target or sites.article_key(target) in {sites.article_key(response.url), sites.article_key(seed_url)}:
        return None
    if above(seed_url, target) or sites.generic.site_name(target) != sites.generic.site_name(seed_url):
        return None
    return target


#: Where an address named inside a query value ends: its end, or what may follow it there.
_END = r"(?=$|[/?#&\"'\s,;)}\]])"
#: A query value that may be an address in base64 (single sign-on and paywall vendors write them so).
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]{16,}={0,2}$")
#: The names of the parameters that say where to send the reader back to, once signed in or
#: once consent is given (``next``, ``continue``, ``returnUrl``, ``redirect_uri``, ``target_url``...).
RETURN_PARAM = re.compile(r"^(?:next|continue|done|goto|service|came_?from|forward|landing|back(?:_?url)?|"
                          r"dest(?:ination)?(?:_?url)?|(?:return|redirect|redir|target|callback|success|origin(?:al)?)"
                          r"(?:_?(?:to|url|uri|path|page|link))?)$", re.IGNORECASE)
#: An address that says it is a login, consent, paywall or verification page (in its host or path).
WALL_ADDRESS = re.compile(r"(?:^|[./_-])(?:log-?in|log-?on|sign-?in|sign-?on|auth|oauth\d?|sso|accounts?|consent|"
                          r"cookies?|gdpr|cmp|subscribe|subscription|paywall|register|captcha|verify|verification|"
                          r"wappoc_appmsgcaptcha)(?=$|[./_?-])", re.IGNORECASE)


#: A number in an address long enough to be an article's id (``/story/884213/slug``).
ARTICLE_ID = re.compile(r"(?<![0-9])[0-9]{5,}(?![0-9])")


def article_ids(url: str) -> set[str]:
    """The numbers in an address's path long enough to be an article's id."""
    return set(ARTICLE_ID.findall(urlsplit(url).path))


def sends_back(asked: list[str], final_url: str) -> bool:
    """Whether the page a redirect ended at is a login, consent or paywall
    page in front of the article: it names one of the ``asked`` addresses as
    where to send the reader back to, in a parameter meant for that
    (``/login?next=/a/1``, ``?continue=https%3A…``, ``#returnUrl=…``), or in
    any parameter of an address that says it is such a page (``/sso?s=…``).
    The address may be percent-encoded up to four times more or in base64,
    alone or inside a longer value (a JSON ``state``); its path alone counts
    on the same site. That says nothing of the article being gone, nor is
    the page the article: a failure, checked again next run. Any other page
    that names the article (``/error?aspxerrorpath=/a/1``, ``?from=/a/1``)
    is judged by the other rules."""
    final = urlsplit(final_url)
    wall = wall_address(final_url)
    keys = {sites.article_key(url) for url in asked}
    whole, paths = [], []
    for url in asked:
        parts = urlsplit(url)
        path = parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
        host = (parts.hostname or "").lower().removeprefix("www.")
        whole.append(re.escape(host + path.lower()))
        if parts.path.strip("/") and sites.generic.site_name(url) == sites.generic.site_name(final_url):
            paths.append(re.escape(path.lower().lstrip("/")))  # a path names an article of its own site
    named = re.compile(rf"(?<![\w.-])(?:www\.)?(?:{'|'.join(whole)}){_END}")
    # a path alone: the whole value, or a quoted or labelled one inside it (a JSON state's "returnTo")
    alone = re.compile(rf"(?:^|(?<=[\"'=:,\s]))/?(?:{'|'.join(paths)}){_END}") if paths else None
    if wall and paths and re.search(rf"/(?:{'|'.join(paths)}){_END}", final.path.lower()):
        return True  # the article's path inside the wall's own (/login/return/2025/02/13/story/)
    ids = set().union(*map(article_ids, asked)) if wall else set()
    for name, value in _values(final):
        if not (wall or RETURN_PARAM.match(name.strip().rsplit("/", 1)[-1].lstrip("?"))):
            continue
        if value.strip() in ids:
            return True  # a wall's address naming the article by its id (/subscribe?article_id=884213)
        low = value.strip().lower()
        if named.search(low) or (alone and alone.search(low)):
            return True
        resolved = urljoin(final_url, value.strip()) if "/" in low and " " not in low else ""
        if urlsplit(resolved).path.strip("/") and sites.article_key(resolved) in keys:
            return True  # relative to the wall's page (../), its query in another order, tracking parameters added
    return False


def wall_address(url: str) -> bool:
    """Whether an address says it is a login, consent, paywall or verification page."""
    parts = urlsplit(url)
    return bool(WALL_ADDRESS.search((parts.hostname or "") + parts.path))


def _values(parts):
    """(name, value) of each parameter of a URL's query and fragment (a hash
    route's ``#/login?next=…`` too), the value as written and decoded
    (percent-encoding up to four times more, base64)."""
    for name, value in parse_qsl(parts.query) + parse_qsl(parts.fragment.split("?", 1)[-1]):
        for _ in range(4):
            yield name, value
            if "%" not in value:
                break
            value = unquote(value)
        if _BASE64.match(value):
            try:
                yield name, base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "==").decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                pass


def with_added_query(address: str, final_url: str) -> bool:
    """Whether ``final_url`` is ``address`` with query parameters added
    (``/story/?cmpredirect=1``, ``?id=7&from=consent`` for ``?id=7``):
    the same host (``www.`` aside) and path, every parameter of the
    address kept with its values. Another value (``?id=8``) is another page.
    Such a page is judged by its text like any other; when it is not the
    article, it is what answers at the article's address (a consent page),
    not a sign that the article went elsewhere: a failure, not gone."""
    a, b = urlsplit(address), urlsplit(final_url)
    if (a.hostname or "").removeprefix("www.") != (b.hostname or "").removeprefix("www.") \
            or a.path.rstrip("/") != b.path.rstrip("/") or not b.query or a.query == b.query:
        return False
    before, after = parse_qs(a.query, keep_blank_values=True), parse_qs(b.query, keep_blank_values=True)
    return all(after.get(name) == values for name, values in before.items())  # not ?id=7&id=8 for ?id=7


def known_address(final_url: str, key: str, seed_url: str) -> bool:
    """Whether ``final_url`` is, by its article key, the archived article
    (``key``) or the seed's: then its address says it, with nothing read."""
    return sites.article_key(final_url) in (key, sites.article_key(seed_url))


def stored_paragraphs(text: str) -> list[str]:
    """The paragraphs of an archived article's Markdown that compare with a
    page's text: its images and its closing source line left out."""
    return body_paragraphs(markdown.parse(text)[1])


def body_paragraphs(paragraphs: list[str]) -> list[str]:
    """``stored_paragraphs`` of a Markdown body already parsed (crawler.core.markdown.parse)."""
    return [p for p in paragraphs[:-1] if not p.startswith("![")]


def page_paragraphs(fields: dict) -> list[str]:
    """The text paragraphs of a page's extracted fields."""
    return [b["text"] for b in fields["blocks"] if b["type"] == "text"]


def not_the_article(seed_url: str, final_url: str, stored: Stored | None = None, canonical: str | None = None,
                    title: str | None = None, paragraphs: list[str] | None = None,
                    article_page: bool = False) -> str | None:
    """None when the page at ``final_url`` is the article ``seed_url`` names
    (and ``stored`` holds, if archived); else why it is not. ``article_page``:
    the page says it is an article (``declares_article``)."""
    by_id = getattr(sites.adapter_for(seed_url), "same_article", lambda *urls: None)(seed_url, final_url)
    if by_id is not None:  # the site knows its article ids
        return None if by_id else "another article id"
    known = {sites.article_key(u) for u in [seed_url, *(stored.urls if stored else ())] if u}
    if sites.article_key(final_url) in known or (canonical and sites.article_key(canonical) in known):
        return None
    section = "the site's front page or a section page"
    if front_page(seed_url, final_url):  # (a canonical naming the front page is a common misconfiguration)
        return section
    if stored is None or not stored.paragraphs:
        # a first capture: an article address is taken, a section only if it says it is an article
        return section if above(seed_url, final_url) and not article_page else None
    share = shared_text(stored.paragraphs, paragraphs or [])
    same = same_title(title, stored.title)
    if above(seed_url, final_url):  # the article's own text under a shorter address, or a section
        keeps_id = bool(article_ids(final_url) & article_ids(seed_url))  # /story/884213 for /story/884213/slug
        return None if share >= SHARED_TEXT and (same or article_page or keeps_id) else section
    if share >= SHARED_TEXT or (same and share >= TITLE_SHARED_TEXT):
        return None
    return (f"another article: {title!r}, not {stored.title!r}, "
            f"{share:.0%} of the archived text in it")
