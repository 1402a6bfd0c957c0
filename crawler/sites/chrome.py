"""A page's site chrome, set apart where a page's date is looked for.

A page that no meta tag and no byline dates is dated by htmldate's search of
the page. Around an article, the site's own parts carry dates that are not
the article's: today's date in the masthead, the related stories' dates in
a side column, the year of the copyright line in the footer. Taken for the
article's, such a date moves with the chrome: every day (the masthead), with
every new related story, every January (the copyright year). A refresh would
then record an edit the article never had, in every undated article at once.

So the date is searched with the page's chrome set apart: its navigation,
side columns and site header and footer (HTML5's elements, ARIA's landmark
roles, and the class and id names of pages without either) and lists of
links wherever they stand; and a year taken from a copyright line alone is
no date. An element that holds the article, its headline or most of the
page's text is never chrome (a header that holds the headline and its date
is the article's).
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager

from lxml import etree

from crawler.sites.blocks import text_key

#: HTML5's and ARIA's chrome: navigation and side columns, a header or
#: footer of the page itself (one inside an article, a main or a section
#: belongs to it, and holds its byline), and the landmark roles of the same.
CHROME_TAGS = frozenset({"nav", "aside"})
PAGE_PARTS = frozenset({"header", "footer"})
SECTIONING = frozenset({"article", "main", "section"})
CHROME_ROLES = frozenset({"banner", "navigation", "complementary", "contentinfo"})
#: A class or id word of chrome on a page without HTML5's elements: the
#: page's header, footer, side column, navigation or copyright line as the
#: whole word, maybe placed (``site-footer``, ``left-nav``) or wrapped
#: (``sidebar-box``), never a part of something else (``article-footer``
#: holds a byline, ``content-sidebar-layout`` the article); and lists of
#: related or recommended stories.
CHROME_NAME = re.compile(
    r"(?:site|page|global|main|top|bottom|left|right)?[-_]?"
    r"(?:header|footer|foot|masthead|topbar|sidebar|side[-_]?bar|nav|navbar|navigation|menu|breadcrumbs?|"
    r"copyright)(?:[-_]?(?:wrap|wrapper|container|inner|area|box|bar|list|links?))?"
    r"|(?:\w*[-_])?(?:related|recommend\w*)(?:[-_][\w-]*)?", re.IGNORECASE)
#: Chrome never holds this share of the page's text, or more: an element
#: that does is the article's container, whatever its name.
MOST_OF_THE_PAGE = 0.5
#: A copyright line's year (the last of a range), as htmldate reads it.
COPYRIGHT_YEAR = re.compile(r"(?:©|&copy;|\(c\)|copyright)\D{0,40}?(?:\d{4}\s*[-–—~]\s*)?(\d{4})(?!\d)",
                            re.IGNORECASE)
#: A list of links (related or latest stories, each with its date) is chrome
#: wherever it stands, from this many items.
LIST_ITEMS = 3
LINK_TEXT = etree.XPath(".//a//text()", smart_strings=False)
#: The share of a list's text (letters and digits) in its links that makes it a list of links.
LINK_SHARE = 0.5
#: Characters of the headline that identify it in an element's text.
HEADLINE_KEY_CHARS = 20


def _chars(text: str) -> int:
    """Characters but white space."""
    return sum(map(len, text.split()))


@functools.lru_cache(maxsize=4096)
def _chrome_word(word: str) -> bool:
    return CHROME_NAME.fullmatch(word) is not None


def _chrome_named(element) -> bool:
    """Whether a class or id word of ``element`` names chrome."""
    return any(map(_chrome_word, f"{element.get('class', '')} {element.get('id', '')}".split()))


def _link_list(element) -> bool:
    if sum(1 for item in element.iterchildren("li")) < LIST_ITEMS:
        return False
    text = _chars(element.text_content())
    return bool(text) and _chars("".join(LINK_TEXT(element))) >= LINK_SHARE * text


def _candidates(body):
    """Elements that look like chrome, in document order."""
    for element in body.iter(etree.Element):
        tag = element.tag
        if tag in CHROME_TAGS or element.get("role") in CHROME_ROLES or _chrome_named(element) \
                or tag in PAGE_PARTS and not any(a.tag in SECTIONING for a in element.iterancestors()) \
                or tag in ("ul", "ol") and _link_list(element):
            yield element


def chrome_of(tree, headline: str = "") -> list:
    """The outermost elements of ``tree``'s site chrome, in document order;
    ``headline`` (the article's title) marks what is not chrome."""
    body = tree.find("body")
    if body is None:
        body = tree  # a page parsed as a fragment
    headline_key = text_key(headline)[:HEADLINE_KEY_CHARS]
    most = None
    chosen: set = set()
    out = []
    for element in _candidates(body):
        if any(ancestor in chosen for ancestor in element.iterancestors()):
            continue  # inside chrome set apart already
        if element.find(".//article") is not None or element.find(".//main") is not None:
            continue  # the article's container, whatever its name
        if most is None:
            most = MOST_OF_THE_PAGE * _chars(body.text_content())
        content = element.text_content()
        if _chars(content) >= most:
            continue  # most of the page: the article's container too
        if headline_key and headline_key in text_key(content) \
                and headline_key not in text_key(" ".join(LINK_TEXT(element))):
            continue  # the headline's (in an h1, or a div.h-title; not a link to it): its date is the article's
        chosen.add(element)
        out.append(element)
    return out


@contextmanager
def set_apart(tree, headline: str = ""):
    """``tree`` without its site chrome while the block runs: the chrome is
    taken out (with its tail text) and put back in place afterwards, whatever
    happens. No copy: htmldate copies what it reads anyway."""
    placed = [(element.getparent(), element) for element in chrome_of(tree, headline)]
    where = [parent.index(element) for parent, element in placed]
    for parent, element in reversed(placed):
        parent.remove(element)
    try:
        yield tree
    finally:
        for (parent, element), index in zip(placed, where):
            parent.insert(index, element)


def copyright_year_only(date: str | None, tree) -> bool:
    """Whether ``date`` is the first of January of a year the page names only
    in a copyright line: htmldate's last resort, and no date of the article."""
    if not date or date[4:10] != "-01-01" or len(date) > 10 and date[10:].strip("T 0:") != "":
        return False
    text = " ".join(tree.itertext())
    return any(match[1] == date[:4] for match in COPYRIGHT_YEAR.finditer(text))
