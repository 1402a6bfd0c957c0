"""Every other site: trafilatura, in its best configuration for news and a bit more.

Comments excluded. trafilatura's precision mode scores best of its modes on
real news pages (bench/extraction_quality.py: F1 0.964 against 0.960 for the
default), but on a few pages it collapses to a boilerplate fragment (a
reprint notice); where its text is short and the default mode's is four
times longer, the default mode's text is taken. Its precision pass runs
without its comparison with readability and jusText first, and again with
it only where that comparison could change the text (``_precision_text``).
The headline, which trafilatura repeats as the first line, is dropped.
Metadata (title, date, language, cover) from trafilatura's metadata reader,
with the page's own ``article:published_time`` for a time of day; htmldate
dates a page no meta tag dates, and a Chinese one is dated by its byline
(``_chinese_date``).

Chinese pages then go through crawler/sites/zh.py (the densest prose
container against trafilatura's text, Chinese boilerplate, the headline
without site names); other pages lose the site's own lines at the edges of
the text (crawler/sites/edges.py). Both measured by bench/extraction_zh.py.
"""

from __future__ import annotations

import re
from copy import deepcopy
from urllib.parse import urlsplit

import tldextract
import trafilatura
import trafilatura.metadata as trafilatura_metadata
import trafilatura.utils
from lxml import etree
from trafilatura.external import SANITIZED_XPATH
from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params
from crawler.sites import chrome, edges, zh
from crawler.sites.blocks import (absolute_url, content_after_the_end, fast_lookup, page_base_url, parse_document,
                                  text_key, text_width, without_xml_declaration)
from crawler.sites.pagemeta import meta_content, normalize_time

#: Precision-mode text shorter than this is checked against the default mode,
#: and replaced when it is under COLLAPSE_RATIO of it (a collapsed extraction).
SHORT_TEXT_CHARS = 1000
COLLAPSE_RATIO = 0.25
#: On a Chinese page the densest container's text replaces trafilatura's when
#: it reads this much more as an article (crawler/sites/zh.py): trafilatura
#: keeps the benefit of the doubt.
DENSITY_MARGIN = 1.2
DENSITY_MIN_GAIN = 50
#: ... and whenever more than this share of trafilatura's prose sits in the
#: page's comment or related-news blocks.
CHROME_SHARE = 0.5
#: A description shorter than this (display columns) is a slogan, not a text worth archiving.
DESCRIPTION_FALLBACK_CHARS = 80
#: tldextract without network access and without a cache: the bundled public
#: suffix snapshot, nothing written under ~/.cache (nothing outside the archive).
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
#: trafilatura's own parser (every page it reads goes through it) picks its
#: element classes in C too (crawler/sites/blocks.py, ``fast_lookup``).
fast_lookup(trafilatura.utils.HTML_PARSER)


def site_name(url: str) -> str:
    """Short site name: the registered domain's label (``finance.yahoo.com`` -> ``yahoo``)."""
    parts = _EXTRACT(url)
    return parts.domain or (urlsplit(url).hostname or "web")


def _paragraph(text: str) -> dict:
    return {"type": "text", "markdown": text.strip(), "text": text}


def _trafilatura(page, url: str, favor_precision: bool, with_metadata: bool = True, fast: bool = False):
    """trafilatura's document of a page (HTML text or an lxml tree, which it
    copies); None when it finds nothing. The metadata comes from
    ``_metadata``, not from here. ``fast``: its own extraction alone, without
    its comparison with readability and jusText."""
    return trafilatura.bare_extraction(
        page,
        url=url,
        with_metadata=with_metadata,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_formatting=False,
        deduplicate=False,
        favor_precision=favor_precision,
        fast=fast,
    )


def _may_be_compared_away(document) -> bool:
    """Whether trafilatura's comparison with readability and jusText could
    replace this text of its own, as trafilatura decides it: none or a short
    one (under SHORT_TEXT_CHARS; jusText is asked under a quarter of that),
    one without paragraph text or with more tables than paragraphs (readability's
    then), one holding elements it calls unclean (jusText's then). The one
    case left out, a long and well-formed text for which readability finds
    more than twice as much, is not among the 250 pages of
    bench/extraction_zh.py's two corpora."""
    if len(_text(document)) < SHORT_TEXT_CHARS:
        return True
    body = document.body
    return not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p")) \
        or bool(body.xpath(SANITIZED_XPATH))


def _precision_text(source, url: str) -> str:
    """trafilatura's precision-mode text of a page. Its comparison with
    readability and jusText (in readability, the whole page pruned once more
    by trafilatura's XPath rules) takes a third of its time and changes its
    text on 11 of those 250 pages, each of them a page whose text
    ``_may_be_compared_away``: so the comparison runs only for such a page,
    as a second pass, and every other page keeps the first pass's text, the
    same as with it."""
    document = _trafilatura(source, url, favor_precision=True, with_metadata=False, fast=True)
    if _may_be_compared_away(document):
        document = _trafilatura(source, url, favor_precision=True, with_metadata=False)
    return _text(document)


def _metadata(tree, url: str) -> Document:
    """trafilatura's metadata of a parsed page (``extract_metadata``, as
    ``bare_extraction`` runs it: the same steps in the same order) without
    the date (``_htmldate``, asked only for a page no meta tag dates) and
    without the author, categories, tags and license, which the archive does
    not keep: 3.5 ms of the 26 a page takes. Every step left reads the tree
    without changing it, so the text passes that follow see the page as
    trafilatura's own would. tests/test_sites_generic.py checks the fields
    used here against trafilatura's ``extract_metadata``."""
    m = trafilatura_metadata
    date_config = set_date_params(EXTENSIVE_DATE_SEARCH)
    metadata = m.examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = m.extract_meta_json(tree, metadata)
    except Exception as err:  # noqa: BLE001 - as trafilatura: bugs in its JSON metadata reader
        m.LOGGER.warning("error in JSON metadata extraction: %s", err)
    if not metadata.title:
        metadata.title = m.extract_title(tree)
    if not metadata.url:
        metadata.url = m.extract_url(tree, url)
    if metadata.url:
        metadata.hostname = m.extract_domain(metadata.url, fast=True)
    if not metadata.sitename:
        metadata.sitename = m.extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = m.META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    metadata.filedate = date_config.get("max_date")
    metadata.clean_and_trim()
    return metadata


#: trafilatura's setting for htmldate: its extensive search, which reads the
#: whole page's text with dateparser where nothing else dates it.
EXTENSIVE_DATE_SEARCH = DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH")


def _htmldate(page, url: str | None, extensive: bool = EXTENSIVE_DATE_SEARCH) -> str | None:
    """htmldate's date of a page no meta tag dates, as trafilatura asks for it,
    searched in ``page`` with its site chrome set apart (by the caller,
    crawler/sites/chrome.py: a masthead's date of today, related stories,
    the copyright year move with the chrome, and would read as an edit at
    the next refresh); None for a copyright year alone. Not ``extensive`` on
    Chinese pages: there dateparser takes a date from related news, the
    copyright line or a year alone, and its first try of a Chinese string
    loads every language it knows (1.2 s and 41 MiB in each extraction
    worker). With the byline first (``_chinese_date``), the 69 Chinese pages
    of bench/extraction_zh.py's data have 41 right days instead of 32, 3
    wrong instead of 18, and 7 dates where the dataset has none instead of 15."""
    config = set_date_params(extensive)
    config["url"] = url
    date = trafilatura_metadata.find_date(page, **config)
    return None if chrome.copyright_year_only(date, page) else date


def _date_outside_chrome(tree, url: str | None, headline: str) -> str | None:
    """htmldate's date of a page no meta tag dates (``_htmldate``), searched
    with the site's chrome set apart, ``headline`` marking what is not chrome."""
    with chrome.set_apart(tree, headline):
        return normalize_time(_htmldate(tree, url))


def _chinese_date(tree, url: str | None, headline: str, lines: list[str]) -> str | None:
    """A Chinese page's date where no meta tag gives one: the date written
    between the headline and the body, with its time of day
    (crawler/sites/zh.py), else htmldate's quick search (the address, time
    elements, date classes); both outside the site's chrome."""
    with chrome.set_apart(tree, headline):
        return zh.byline_date(tree, headline, lines[0] if lines else "") \
            or normalize_time(_htmldate(tree, url, extensive=False))


#: The page's own title and headlines (where trafilatura's metadata found no title).
PAGE_TITLE = etree.XPath("string(//title | //h1)")


def _looks_chinese(lang: str | None, text: str) -> bool:
    """Whether a page is Chinese by its language tag, else by ``text``: its
    headline alone before the text passes (so that htmldate's extensive
    search is not run on a page about to be read as Chinese), its headline
    and first lines after them, which decide."""
    lang = (lang or "").lower()
    return lang.startswith("zh") or (not lang.startswith(("ja", "ko")) and zh.is_chinese(text))


#: The metadata fields the generic path reads (tests/test_sites_generic.py).
METADATA_FIELDS = ("title", "date", "description", "image", "language")


def _text(document) -> str:
    return (document.text if document is not None else "") or ""


def _same_text(a: str, b: str) -> bool:
    return text_key(a) == text_key(b)


def _chinese(tree, url: str, title: str, lines: list[str]) -> tuple[list[str], str]:
    """trafilatura's lines or the densest container's, whichever reads more
    as an article, without Chinese boilerplate (crawler/sites/zh.py)."""
    ours = zh.best_span(zh.strip_boilerplate(zh.layout_cells([line for line in lines
                                                               if not _same_text(line, title)]), title))
    node = zh.densest_container(tree)
    dense = [line for line in zh.density_lines(tree, page_base_url(tree, url), node) if not _same_text(line, title)]
    dense = zh.best_span(zh.strip_boilerplate(dense, title))
    if zh.text_quality(dense) > DENSITY_MARGIN * zh.text_quality(ours) + DENSITY_MIN_GAIN:
        return dense, "density"
    if dense and zh.share_inside(ours, zh.chrome_text(tree, node)) > CHROME_SHARE:
        return dense, "density"  # trafilatura read a comment or related block, however long
    return ours, "trafilatura"


#: A class or id word of a page's counter (views, reads, hits), which changes on
#: every load: the whole word, maybe with a prefix (``post-views``), never a
#: framework's (``views-field``, ``pv3``).
COUNTER_NAME = re.compile(r"(?:[a-z]+[-_])?(?:views?|view[-_]?count|page[-_]?views?|read[-_]?count|reads|"
                          r"hits|visits|visit[-_]?count)", re.IGNORECASE)
#: What a counter says: a number with a word or two around it ("1,234 views", "阅读 5678").
COUNTER_TEXT = re.compile(r"^\D{0,12}\d[\d,.\s]*[kKmMwW万千]?\+?\D{0,12}$")
#: Every class and id value of a page, as strings that know their element (no
#: element object made for the hundreds that name no counter).
CLASSES_AND_IDS = etree.XPath("//@class | //@id")
#: The same values as plain strings: whether any names a counter, for half the
#: cost of asking each value (most pages have none).
CLASS_AND_ID_VALUES = etree.XPath("//@class | //@id", smart_strings=False)


def names_counter(value: str) -> bool:
    """Whether a class or id value (or several, space-separated) has a counter word."""
    return any(map(COUNTER_NAME.fullmatch, set(value.split())))


#: Whether a parse reached lxml's depth limit (256 without ``huge_tree``, which
#: trafilatura's parser does not set): there it stopped, the rest of the page lost.
STOPPED_DEEP = etree.XPath("boolean(/*" + "/*" * 250 + ")")


#: Scripts and style sheets, but JSON-LD (trafilatura's fallback reads its articleBody).
CODE = etree.XPath("//script[not(contains(@type, 'ld+json'))] | //style")
#: Empty inline elements inside a paragraph (a stock quote's placeholder, an
#: icon, a named anchor): trafilatura's precision mode deletes an empty element
#: with the text after it (``prune_html``), which cuts the sentence there and
#: can leave the paragraph too short to keep; and an empty link, in any mode,
#: loses the whole paragraph (Word's ``<a name="_GoBack"></a>`` in pasted text).
EMPTY_INLINE = etree.XPath("//p//*[self::span or self::i or self::b or self::em or self::strong or self::q"
                           " or self::a][not(node())]")
#: A list item or a table cell that holds paragraphs: a layout's column
#: (old portals put the article in one), read as a container, not as one
#: item or cell whose paragraphs trafilatura joins into a line.
PROSE_CELLS = etree.XPath("//li[count(.//p) >= 2] | //td[count(p) >= 2]")


#: A line break of the page's source inside a text, outside preformatted text:
#: a browser shows it as a space (nothing between two Chinese characters);
#: trafilatura keeps it, and the lines would read as paragraphs.
SOURCE_BREAK = re.compile(r"[ \t\r\f\v\xa0]*\n\s*")
PREFORMATTED = {"pre", "code", "textarea", "script", "style"}
#: Characters beside which a source line break is no space: Han, kana, full-width
#: punctuation; and beside one of them, the quotes and dashes Chinese text uses too.
WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
WIDE_OR_QUOTE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
                           r"\u2014\u2018-\u201d\u2026]")


def _unwrapped(text: str) -> str:
    def join(match):
        before, after = text[match.start() - 1:match.start()], text[match.end():match.end() + 1]
        # (a side in another node: a space)
        wide = (WIDE.match(before) and WIDE_OR_QUOTE.match(after)) \
            or (WIDE_OR_QUOTE.match(before) and WIDE.match(after))
        return "" if wide else " "
    return SOURCE_BREAK.sub(join, text)


def unwrap_source_lines(tree) -> None:
    """A paragraph the page's source wraps over lines is one paragraph (a
    line break between words, not only at a text's edges, which trafilatura
    trims). One pass over the elements: about 0.4 ms a page."""
    for element in tree.iter():
        text, tail = element.text, element.tail
        text_wrapped = text is not None and "\n" in text and "\n" in text.strip()
        tail_wrapped = tail is not None and "\n" in tail and "\n" in tail.strip()
        if not (text_wrapped or tail_wrapped):
            continue
        inside = {element.tag, *(a.tag for a in element.iterancestors())}
        if text_wrapped and not inside & PREFORMATTED:
            element.text = _unwrapped(text)
        if tail_wrapped and not (inside - {element.tag}) & PREFORMATTED:
            element.tail = _unwrapped(tail)


def drop_counters(tree) -> int:
    """Take a page's view and read counters out of it before its text is read:
    inside the article they are glued to a paragraph, and a count that moves on
    every load would read as an edit of the article. How many were dropped."""
    if tree is None or not names_counter(" ".join(CLASS_AND_ID_VALUES(tree))):
        return 0
    dropped = 0
    for element in dict.fromkeys(value.getparent() for value in CLASSES_AND_IDS(tree) if names_counter(value)):
        if len(element) <= 3 and COUNTER_TEXT.match(element.text_content().strip()) \
                and element.getparent() is not None:
            element.drop_tree()
            dropped += 1
    return dropped


def extract(url: str, page: str) -> dict:
    """Article fields from any news page (a pure function of its HTML)."""
    page = without_xml_declaration(page)
    # trafilatura's own parse of the page, once: each pass below works on a
    # copy of it (trafilatura copies a tree it is given), so the default-mode
    # pass and the metadata fallback parse nothing again. A page it cannot
    # parse goes to it as text, which logs why.
    parsed = trafilatura.utils.load_html(page)
    content_after_the_end(parsed)
    dropped = drop_counters(parsed)
    if parsed is not None and parsed.tag == "html" and not STOPPED_DEEP(parsed):
        tree = parsed  # the rules below read it too: one parse a page, not two
    else:
        # a page lxml's depth limit cut short (ours has none), or one that
        # trafilatura parses as a fragment or not at all
        tree = parse_document(page)
        if dropped or parsed is None:
            drop_counters(tree)
    source = parsed if parsed is not None else page
    # the metadata first, on the tree the text passes copy, as trafilatura's
    # own pass reads it; a page trafilatura cannot parse has none
    published = normalize_time(meta_content(tree, "article:published_time", "og:published_time",
                                            "datePublished", "pubdate", "date"))
    meta = _metadata(parsed, url) if parsed is not None else Document()
    lang = (tree.get("lang") or tree.get("xml:lang") or "").strip() or getattr(meta, "language", None) or None
    undated = not published and parsed is not None
    dated_late = undated and _looks_chinese(lang, meta.title or PAGE_TITLE(parsed))
    if undated and not dated_late:
        # before the code goes: htmldate reads it too
        published = _date_outside_chrome(parsed, meta.url, meta.title or PAGE_TITLE(parsed))
    if parsed is not None:
        # code, not text: each of trafilatura's passes would otherwise walk it
        # (its cleaning, readability and its page measure all drop it); JSON-LD stays,
        # its fallback reads articleBody there
        for element in CODE(parsed):
            element.drop_tree()
        for element in EMPTY_INLINE(parsed):
            if element.tail and element.tail.strip():
                element.drop_tree()  # its text after it stays
        unwrap_source_lines(parsed)
        for element in PROSE_CELLS(parsed):
            element.tag = "div"
    text = _precision_text(source, url)
    if len(text) < SHORT_TEXT_CHARS:
        wide = _trafilatura(source, url, favor_precision=False, with_metadata=False)
        if len(text) < COLLAPSE_RATIO * len(_text(wide)):
            text = _text(wide)
    if not text.strip() and tree is not parsed:
        # trafilatura's own parser stops at lxml's depth limit; a deep page
        # gets a second chance as a tree parsed without it (trafilatura
        # cleans what it is given, hence the copy). Not the first choice:
        # from the page text it scores better (bench/extraction_quality.py).
        text = _text(_trafilatura(deepcopy(tree), url, favor_precision=False, with_metadata=False))
    title = (meta.title if meta is not None and meta.title else "") or ""
    lines = [line for line in re.split(r"\n+", text) if line.strip()]
    while lines and title and _same_text(lines[0], title):
        lines.pop(0)  # the headline, repeated as the first line of the body
    lines = edges.without_cross_links(lines)
    how = "trafilatura"
    if _looks_chinese(lang, title + "".join(lines[:20])):
        if not (lang or "").lower().startswith("zh"):
            lang = "zh"  # read as Chinese: a page that declares no language, or a template's "en"
        title = zh.headline(tree, title)
        lines, how = _chinese(tree, url, title, lines)
        if dated_late:
            published = _chinese_date(parsed, meta.url, title, lines)
    else:
        lines = edges.trim(lines)
        if dated_late:  # its headline looked Chinese, its text does not
            published = _date_outside_chrome(parsed, meta.url, title)
    # columns: a Chinese news flash is short in characters
    found = text_width("".join(line.strip() for line in lines), enough=DESCRIPTION_FALLBACK_CHARS)
    if found < DESCRIPTION_FALLBACK_CHARS:
        # No body found (a JavaScript shell, a social post): the page's own
        # description is the only text it carries; better than a "JavaScript
        # is not available" line, and it still has to pass the pipeline's
        # emptiness check.
        description = ((meta.description if meta is not None else None) or "").strip()
        if text_width(description) >= DESCRIPTION_FALLBACK_CHARS and text_width(description) > found:
            lines, how = [description], "meta-description"
    blocks = [_paragraph(line) for line in lines]
    return {
        "site": site_name(url),
        "article_id": None,
        "title": title,
        "date": published or "",
        "abstract": meta.description if meta is not None else None,
        "lang": lang or "und",
        "thumbnail": absolute_url(meta.image, page_base_url(tree, url)) if meta is not None and meta.image else "",
        "blocks": blocks,
        "extractor": how,
    }
