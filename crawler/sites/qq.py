"""Tencent News article pages (``new.qq.com`` / ``news.qq.com`` ``/rain/a/<id>``).

trafilatura alone gives only the day of publication and drops the in-body
images, and some qq pages carry the body only in their embedded page data
(``window.DATA``), rendering it client-side. This adapter reads what the page
itself carries: the embedded data for id, title, second-precision time and
cover; the article DOM for the body, or the embedded body HTML (with its
``<!--IMG_n-->`` placeholders) where the DOM has none.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from crawler.sites.blocks import (absolute_url, blocks_from_element, blocks_from_html, page_base_url, parse_document,
                                  text_length)
from crawler.sites.pagemeta import meta_content, normalize_time

SITE = "qq"
LANG = "zh-CN"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
HOSTS = ("new.qq.com", "news.qq.com", "view.inews.qq.com", "inews.qq.com")
ARTICLE_ID_RE = re.compile(r"/(?:rain/a|omn(?:/[A-Za-z0-9_]+)?|a|k)/([A-Za-z0-9]{8,24})(?:\.html?)?/?$")
DATA_VAR_RE = re.compile(r"(?:window\.|var\s+|let\s+|const\s+)(DATA|initData|__INITIAL_STATE__)\s*=\s*")
JSON_PARSE_RE = re.compile(r"JSON\.parse\(\s*")

#: Body containers, most specific first (new template, then old).
BODY_XPATHS = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' rich_media_content ')]",
    "//div[starts-with(@class, 'article-content-wrap')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' content-article ')]",
    "//*[@id='ArticleContent']",
)
#: Inside the body, never article text: players, link lists, bylines, share
#: bars and their wrappers ("social-share", "share-bar-wrap", "shareBar",
#: "comment_box", "bdsharebuttonbox"). Matched against whole class names,
#: case-sensitively, with only known chrome prefixes, so that "shareholder",
#: "commentary", "pic-byline" (a photo credit) or "editor-comment" stay text.
_SKIP_STEMS = (r"[Ss]hare|[Rr]elated|[Rr]ecommend|[Cc]omments?|[Vv]ideo[-_]?[Pp]layer|[Ll]eft[Tt]ool|[Bb]yline|"
               r"author-info|media-info|article-author|article-status|copyright-statement|qnt-link-list")
SKIP_CLASS = re.compile(
    rf"(?:(?:social|article|mod|news|qq)[-_]?)?(?:{_SKIP_STEMS})(?:[-_A-Z][\w-]*|box|bar|list|news|btn|wrap)?"
    r"|bdshare\w*"
)
SKIP_IDS = {"Status", "Comment", "Recomend", "RIGHT", "LeftTool"}
#: Platform text after the body that is not the article.
STOP_TEXT = re.compile(r"^(免责声明：本内容来自腾讯平台创作者|举报$|评论\s*\d*\s*文明上网理性发言)")
#: Keys that hold the cover image in the embedded data, by preference.
COVER_KEYS = ("shareImg", "share_img", "thumb_nail", "thumbnail", "thumbnails_big", "bigImage",
              "cover", "imgurl", "img")
#: Cover images are list thumbnails: om_ls/<hash>_<WWWHHH>/0, 640x360 first.
COVER_URL_RE = re.compile(r"(?:https?:)?//inews\.gtimg\.com/om_ls/[^\"'\s)<>]+")
TITLE_SUFFIX = re.compile(r"\s*[_|-]\s*腾讯(新闻|网)\s*$")
PLACEHOLDER_RE = re.compile(r"^\s*(IMG_\d+)\s*$", re.I)
#: The sizes an ``IMG_n`` entry offers, by preference: 641 is what the article
#: page shows and what the seeds keep; the rest are fallbacks for older data.
IMAGE_SIZE_KEYS = ("imgurl641", "imgurl640", "imgurl1000", "imgurl0", "bigOrigUrl",
                   "url", "src", "origUrl", "imgurl")
HTML_BODY_RE = re.compile(r"<p[\s>]|<!--IMG_\d+-->", re.I)
#: Where Tencent's page data keeps the article body HTML, most likely first.
BODY_JSON_PATHS = (("originContent", "text"), ("content", "text"), ("content",), ("cnt_html",),
                   ("article", "content"), ("data", "content", "text"))


def matches(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in HOSTS


def article_id(url: str, data: dict) -> str | None:
    """The article id: the URL's own, else the page data's (``cms_id``, or
    ``article_id`` plus the ``00`` the URL form carries)."""
    from_url = url_article_id(url)
    if from_url:
        return from_url
    for key in ("cms_id", "article_id"):
        value = data.get(key)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9]{8,24}", value):
            return value + "00" if key == "article_id" and len(value) == 14 else value
    return None


def page_data(page: str) -> dict:
    """The embedded page data object(s) merged: ``window.DATA`` and kin.

    Decoded with a JSON decoder from the ``=`` on, so a missing ``;`` or
    a ``}`` inside a string does no harm.
    """
    merged: dict = {}
    decoder = json.JSONDecoder()
    for match in DATA_VAR_RE.finditer(page):
        start = match.end()
        wrapped = JSON_PARSE_RE.match(page, start)
        try:
            if wrapped:  # window.DATA = JSON.parse("{\"title\": ...}")
                literal, _ = decoder.raw_decode(page, wrapped.end())
                value = json.loads(literal) if isinstance(literal, str) else None
            else:
                value, _ = decoder.raw_decode(page, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                merged.setdefault(key, item)
    return merged


def _walk(value, path=(), into_lists=True):
    """(path, leaf) for every leaf of the data. ``into_lists=False`` stays
    out of lists, where page data keeps related items and recommendations."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, path + (key,), into_lists)
    elif isinstance(value, list):
        if into_lists:
            for index, item in enumerate(value):
                yield from _walk(item, path + (index,), into_lists)
    else:
        yield path, value


def _find_key(data, names):
    """The value under one of ``names``: the shallowest first, then by name
    order; never inside a list (related items, recommendations)."""
    best = None
    for path, value in _walk(data, into_lists=False):
        if path and isinstance(path[-1], str) and path[-1] in names and value:
            rank = (len(path), names.index(path[-1]))
            if best is None or rank < best[0]:
                best = (rank, value)
    return best[1] if best else None


def _image_value(value) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("url") or value.get("imgurl") or ""
    return value.strip() if isinstance(value, str) and value.strip().startswith(("http", "//")) else None


def cover_image(tree, data: dict, page: str, base: str | None = None) -> str:
    """The cover: the page data's own cover key (top level first), then the
    share meta tags (resolved against ``base``, the page's base URL), then
    the page's 640x360 list thumbnail."""
    for key in COVER_KEYS:
        value = _image_value(data.get(key))
        if value:
            return absolute_url(value, None)
    value = _image_value(_find_key(data, COVER_KEYS[:-1]))  # nested, but not any "img"
    if value:
        return absolute_url(value, None)
    meta = meta_content(tree, "og:image", "twitter:image", "image")
    if meta:
        return absolute_url(meta, base)
    # last resort: a 640x360 list thumbnail in the page; smaller ones are
    # other articles' ("作者其他文章", 294x195)
    found = [url for url in COVER_URL_RE.findall(page) if "_640360/" in url]
    return absolute_url(found[0], None) if found else ""


def url_article_id(url: str) -> str | None:
    match = ARTICLE_ID_RE.search(urlsplit(url).path)
    return match.group(1) if match else None


def article_key(url: str) -> str | None:
    article = url_article_id(url)
    return f"{SITE}:{article}" if article else None


def same_article(seed_url: str, final_url: str) -> bool | None:
    """A qq seed is answered only by a qq page with the same article id
    (None: the seed names no id, so the id cannot tell)."""
    wanted = url_article_id(seed_url)
    return None if wanted is None else (matches(final_url) and url_article_id(final_url) == wanted)


def alternate_urls(url: str) -> list[str]:
    """The same article on the other Tencent News hosts: articles move between
    ``new.qq.com`` and ``news.qq.com``; the id stays."""
    article = url_article_id(url)
    if not article:
        return []
    host = (urlsplit(url).hostname or "").lower()
    return [f"https://{other}/rain/a/{article}" for other in ("news.qq.com", "new.qq.com") if other != host]


def _skip(element) -> bool:
    if element.get("id") in SKIP_IDS:
        return True
    return any(SKIP_CLASS.fullmatch(name) for name in (element.get("class") or "").split())


def dom_blocks(tree, base_url: str) -> list[dict]:
    for xpath in BODY_XPATHS:
        for node in tree.xpath(xpath):
            for title in node.xpath(".//h1"):
                title.drop_tree()
            blocks = blocks_from_element(node, base_url, skip=_skip, stop=STOP_TEXT.search)
            if text_length(blocks):
                return blocks
    return []


def _image_attributes(data) -> dict:
    """``IMG_n`` -> URL, from every attribute map in the embedded data
    (``originAttribute``, ``cnt_attr``, ``attribute``; not inside lists,
    where related items live). Each image offers several sizes, flat
    (``"imgurl641": url``) or nested (``img.imgurl641.imgurl``,
    ``all.img.imgurl641.imgurl``); the one ranked first in
    ``IMAGE_SIZE_KEYS`` wins, the form the seeds use."""
    best: dict[str, tuple] = {}
    for path, value in _walk(data, into_lists=False):
        if not (isinstance(value, str) and value.strip().startswith(("http", "//"))):
            continue
        slot = next((i for i, key in enumerate(path) if isinstance(key, str) and PLACEHOLDER_RE.match(key)), None)
        if slot is None:
            continue
        below = path[slot + 1:]
        ranks = [IMAGE_SIZE_KEYS.index(key) for key in below if key in IMAGE_SIZE_KEYS]
        if below and not ranks:
            continue  # a link in "desc" or the like, not the image
        rank = (min(ranks, default=len(IMAGE_SIZE_KEYS)), len(below))
        name = path[slot].strip().upper()
        if name not in best or rank < best[name][0]:
            best[name] = (rank, value.strip())
    return {name: url for name, (_, url) in best.items()}


def json_blocks(data: dict, base_url: str) -> list[dict]:
    """The body as the page's embedded data carries it (client-side pages):
    at a known body path first, else the longest HTML string in the data."""
    body = None
    for path in BODY_JSON_PATHS:
        value = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and HTML_BODY_RE.search(value):
            body = value
            break
    if body is None:
        candidates = [value for _, value in _walk(data, into_lists=False)
                      if isinstance(value, str) and HTML_BODY_RE.search(value)]
        body = max(candidates, key=len) if candidates else None
    if body is not None:
        images = _image_attributes(data)

        def placeholder(node):
            match = PLACEHOLDER_RE.match(getattr(node, "text", "") or "")
            url = images.get(match.group(1).upper()) if match else None
            return absolute_url(url, base_url) if url else None

        return blocks_from_html(body, base_url, skip=_skip, stop=STOP_TEXT.search, image_for=placeholder)
    return _typed_list_blocks(data, base_url)


def _typed_list_blocks(data: dict, base_url: str) -> list[dict]:
    """Bodies kept as ``[{"type": 1, "value": "text"}, {"type": 2, "value": url}]``."""
    for key in ("content", "contents", "article_content"):
        items = data.get(key)
        if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
            html_parts = []
            for item in items:
                kind, value = str(item.get("type")), item.get("value") or item.get("url") or ""
                if kind in ("2", "img", "image"):
                    html_parts.append(f'<p><img src="{value}"></p>')
                elif kind in ("1", "text"):
                    html_parts.append(value if value.lstrip().startswith("<") else f"<p>{value}</p>")
            if html_parts:
                return blocks_from_html("".join(html_parts), base_url, stop=STOP_TEXT.search)
    return []


def extract(url: str, page: str) -> dict:
    """Article fields from a qq article page (a pure function of its HTML)."""
    tree = parse_document(page)
    data = page_data(page)
    title = data.get("title") if isinstance(data.get("title"), str) else None
    if not title:
        h1 = tree.xpath("//h1")
        title = h1[0].text_content().strip() if h1 else None
    if not title:
        title = meta_content(tree, "og:title") or TITLE_SUFFIX.sub("", "".join(tree.xpath("//title/text()")))
    date = normalize_time(
        _find_key(data, ("pubtime", "pub_time", "publish_time", "pubTime", "alt_time")), BEIJING
    ) or normalize_time(meta_content(tree, "article:published_time", "apub:time", "pubdate", "publishdate"), BEIJING)
    abstract = data.get("abstract") or data.get("desc") or None

    base = page_base_url(tree, url)
    from_dom = dom_blocks(tree, base)
    from_json = json_blocks(data, base)
    if text_length(from_json) > text_length(from_dom):
        blocks, how = from_json, "qq:embedded-data"
    else:
        blocks, how = from_dom, "qq:dom"
    return {
        "site": SITE,
        "article_id": article_id(url, data),
        "title": (title or "").strip(),
        "date": date or "",
        "abstract": abstract if isinstance(abstract, str) else None,
        "lang": LANG,
        "thumbnail": cover_image(tree, data, page, base),
        "blocks": blocks,
        "extractor": how,
    }
