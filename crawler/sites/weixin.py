"""WeChat official-account articles (``mp.weixin.qq.com/s…``), which Chinese news cites often.

The body is an ordinary article container (``#js_content``) that the generic
path reads as it reads any page. What it cannot find is the page's own:

* the time of publication, which the page carries only in a script
  (``var ct = "1581517074"``, seconds; the visible ``#publish_time`` is
  filled in by that script, and says "昨天" when it is);
* the article's identity: one article has many share links, whose
  ``scene``, ``chksm``, ``sessionid``... differ with who shared it and
  where; the account (``__biz``), the message (``mid``) and its place in
  the message (``idx``) name it. A short link (``/s/<token>``) is its own key.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from crawler.sites import generic
from crawler.sites.pagemeta import normalize_time
from crawler.sites.qq import BEIJING

SITE = "weixin"
HOSTS = ("mp.weixin.qq.com",)
#: Its empty result is the generic path's own: nothing to fall back to.
GENERIC_FALLBACK = False
#: The publication time the page's script holds, in seconds since the epoch.
SCRIPT_TIME = re.compile(r"""\b(?:var\s+ct|var\s+create_time|d\.ct|window\.ct)\s*=\s*["']?(\d{9,11})\b""")
#: The headline the page's script holds, where the page has no og:title or <h1>.
SCRIPT_TITLE = re.compile(r"""\bvar\s+msg_title\s*=\s*(?:htmlDecode\()?\s*(["'])(.+?)\1""")
SHORT_LINK = re.compile(r"^/s/([A-Za-z0-9_-]{8,})/?$")
#: What WeChat serves, as a 200, at the address of an article that is no more: deleted by its
#: account, removed for a violation or a complaint. The article is gone, and the notice says why.
REMOVED = re.compile(r"该内容已被发布者删除|此内容因违规无法查看|此内容因涉嫌违反相关法律法规和政策[^。<]{0,20}|"
                     r"此内容被投诉且经审核涉嫌侵权[^。<]{0,20}|此内容被多人投诉[^。<]{0,20}|该公众号已迁移|"
                     r"该内容已被删除|此内容发送失败无法查看")
SCRIPTS = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>", re.S | re.I)
#: A notice page holds little beside its notice ("返回", a QR code's caption): an article that
#: quotes such a notice is still the article.
REMOVED_REST_CHARS = 60


def matches(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "").lower() in HOSTS
    except ValueError:
        return False


def message_id(url: str) -> str | None:
    """``<__biz>:<mid>:<idx>`` of a long link, ``s:<token>`` of a short one, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    short = SHORT_LINK.match(parts.path)
    if short:
        return f"s:{short.group(1)}"
    if parts.path.rstrip("/") not in ("/s", "/mp/appmsg/show"):
        return None
    query = parse_qs(parts.query)
    # a "+" of the account's base64 id reads as a space where a link left it unescaped
    biz, mid, idx = (query.get(name, [""])[0].strip().replace(" ", "+") for name in ("__biz", "mid", "idx"))
    if biz and mid.isdigit() and (idx or "1").isdigit():
        return f"{biz}:{mid}:{idx or '1'}"
    return None


def article_key(url: str) -> str | None:
    """One key per article, whatever share link names it."""
    found = message_id(url)
    return f"{SITE}:{found}" if found else None


def same_article(seed_url: str, final_url: str) -> bool | None:
    """Two long links: the same message or not. Anything else (a short link,
    a verification page) is left to the other rules (crawler/sites/identity.py)."""
    seed, final = message_id(seed_url), message_id(final_url)
    if seed is None or final is None or seed.startswith("s:") or final.startswith("s:"):
        return None
    return seed == final


def script_time(page: str) -> str | None:
    """The publication time the page's script holds, in Beijing time."""
    match = SCRIPT_TIME.search(page)
    return normalize_time(match.group(1), BEIJING) if match else None


def removed_notice(fields: dict, page: str) -> str | None:
    """The notice WeChat shows in place of an article that is no more, if this page is one."""
    text = "".join(b.get("text") or "" for b in fields["blocks"])
    if len(REMOVED.sub("", text).strip()) > REMOVED_REST_CHARS:
        return None  # text beside the notice: an article, perhaps one that quotes it
    found = REMOVED.search(SCRIPTS.sub("", page))  # the page's scripts hold every notice as a string
    return found.group(0) if found else None


def extract(url: str, page: str) -> dict:
    """The generic path's fields, with the account article's own time, title and site;
    ``removed``: the notice of a page that says the article is no more."""
    fields = generic.extract(url, page)
    if (notice := removed_notice(fields, page)) is not None:
        fields["removed"] = notice
    fields["site"] = SITE
    fields["date"] = script_time(page) or fields.get("date") or ""
    if not fields.get("title"):
        title = SCRIPT_TITLE.search(page)
        fields["title"] = html.unescape(title.group(2)).strip() if title else ""
    return fields
