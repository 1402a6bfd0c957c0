"""Posts on X (``x.com``, ``twitter.com``): the post as the rendered page shows it.

x.com serves every page as a JavaScript shell (the only text in it is
"JavaScript is not available."); the page's script fetches the post from
X's GraphQL API (``TweetResultByRestId``) and renders it into
``article[data-testid="tweet"]``. The browser fallback (crawler/browser/policy.py)
renders the shell; this adapter reads the focal post of the rendered DOM:
its text (``[data-testid="tweetText"]``, emoji images as their alt text, one
paragraph per line), its author (``[data-testid="User-Name"]``: display
name and @handle, which make the title), its time (``time[datetime]``, UTC)
and its photos (``[data-testid="tweetPhoto"] img``). On the shell itself it
finds no post and returns no text, which sends the page to the browser.
"""

from __future__ import annotations

import re
from datetime import timezone
from urllib.parse import urlsplit

from crawler.sites.blocks import absolute_url, parse_document
from crawler.sites.pagemeta import normalize_time

SITE = "x"
#: A post is whatever its author wrote, "ok" included; the shell's collapsed
#: extraction has no post text at all (only ``tweetText`` is read).
MIN_TEXT_CHARS = 1
#: An empty result is the script shell: the browser reads it, not the generic
#: path (which would take its "JavaScript is not available." for a post).
GENERIC_FALLBACK = False
HOSTS = {"x.com", "twitter.com", "www.x.com", "www.twitter.com", "mobile.x.com", "mobile.twitter.com"}
STATUS_PATH = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i/web)/status(?:es)?/(\d{1,20})(?:/|$)")


def matches(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "").lower() in HOSTS
    except ValueError:
        return False


def status_id(url: str) -> str | None:
    """The post id of a status URL (``/<user>/status/<id>``), else None."""
    try:
        match = STATUS_PATH.match(urlsplit(url).path)
    except ValueError:
        return None
    return match.group(1) if match else None


def article_key(url: str) -> str | None:
    """One key per post, on x.com or twitter.com alike."""
    post = status_id(url)
    return f"x:{post}" if post else None


def same_article(seed_url: str, final_url: str) -> bool | None:
    """Still the post the seed names (not a login wall or the home page);
    None when the seed names no post."""
    post = status_id(seed_url)
    return None if post is None else status_id(final_url) == post


def _text(element) -> str:
    """An element's text as shown: emoji images as their alt text."""
    parts = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):
            pass
        elif child.tag == "img":
            parts.append(child.get("alt") or "")
        elif child.tag not in ("script", "style"):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _focal_post(tree, post: str | None):
    """The post the page is about: the article whose time links to its own
    status URL (replies and quoted posts link to theirs); else the first."""
    articles = tree.xpath('//article[@data-testid="tweet"]')
    for article in articles:
        for href in article.xpath(".//a[.//time]/@href"):
            if post and status_id(href) == post:
                return article
    return articles[0] if articles else None


def _author(article) -> tuple[str, str]:
    """(display name, @handle) from the post's User-Name block."""
    names = article.xpath('.//*[@data-testid="User-Name"]')
    if not names:
        return "", ""
    pieces = [t.strip() for t in (_text(span) for span in names[0].xpath(".//span[not(.//span)]")) if t.strip()]
    handle = next((p for p in pieces if p.startswith("@")), "")
    name = next((p for p in pieces if not p.startswith("@") and p not in ("·", "Verified account")), "")
    return name, handle


def _paragraph(text: str) -> dict:
    return {"type": "text", "markdown": text, "text": text}


def extract(url: str, page: str) -> dict:
    """The focal post's fields from a rendered x.com page (a pure function of its HTML)."""
    post = status_id(url)
    tree = parse_document(page)
    article = _focal_post(tree, post)
    blocks, title, date, lang, thumbnail = [], "", "", "und", ""
    if article is not None:
        texts = article.xpath('.//*[@data-testid="tweetText"]')
        if texts:
            lang = texts[0].get("lang") or lang
            blocks = [_paragraph(line.strip()) for line in _text(texts[0]).split("\n") if line.strip()]
        name, handle = _author(article)
        if name or handle:
            title = f"{name} ({handle}) on X" if name and handle else f"{name or handle} on X"
        times = article.xpath(".//time/@datetime")
        date = normalize_time(times[0], timezone.utc) if times else ""
        for src in article.xpath('.//*[@data-testid="tweetPhoto"]//img/@src'):
            blocks.append({"type": "image", "src": absolute_url(src, url)})
            thumbnail = thumbnail or absolute_url(src, url)
    return {
        "site": SITE,
        "article_id": post,
        "title": title,
        "date": date or "",
        "abstract": None,
        "lang": lang,
        "thumbnail": thumbnail,
        "blocks": blocks,
        "extractor": "x-dom",
    }
