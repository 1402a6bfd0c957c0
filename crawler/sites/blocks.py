"""Article HTML -> body blocks (paragraphs with ``**bold**``, images in place).

Shared by the site adapters: a container element (from the page DOM, or an
HTML string from the page's embedded data) is walked in reading order; every
block-level element closes a paragraph, ``<strong>``/``<b>`` become bold
spans, ``<img>`` becomes an image block where it stands.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

BLOCK_TAGS = {
    "p", "div", "section", "article", "blockquote", "h1", "h2", "h3", "h4", "h5",
    "h6", "li", "ul", "ol", "figure", "figcaption", "table", "tr", "td", "th",
    "header", "footer", "pre", "center", "dl", "dt", "dd",
}
BOLD_TAGS = {"strong", "b"}
BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|bolder|[6-9]00)", re.I)
#: Never article text: code, players, forms.
SKIP_TAGS = {
    "script", "style", "noscript", "template", "video", "audio", "iframe", "object",
    "embed", "button", "input", "select", "textarea", "svg", "canvas", "form",
}
#: Lazy-loading attributes, most specific first; ``src`` is often a placeholder.
IMAGE_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-url", "src")
PLACEHOLDER_IMAGE = re.compile(r"^data:|/(blank|placeholder|loading|spacer)\.(gif|png|svg)", re.I)
EDGE_SPACE = re.compile(r"^[ \t\r\n\xa0\u3000]+|[ \t\r\n\xa0\u3000]+$")
SPACE_RUN = re.compile(r"[ \t\r\n]+")
LAYOUT_EDGES = re.compile(r"^[ \t]*[\r\n][ \t\r\n]*|[ \t\r\n]*[\r\n][ \t]*$")
LAYOUT_INNER = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")
#: Stands for a <br> while white space is collapsed, then becomes a newline.
BREAK = "\ue000"


def absolute_url(src: str, base: str | None) -> str:
    """``//host/x`` and relative URLs made absolute (https for protocol-relative)."""
    src = src.strip()
    if src.startswith("//"):
        return "https:" + src
    return urljoin(base, src) if base else src


def page_base_url(tree, url: str) -> str:
    """What the page's relative links are relative to: its ``<base href>``
    (itself resolved against the page URL) when that is an http(s) URL,
    else the page URL. A relative cover kept as written would be refused as
    "scheme not allowed" instead of fetched."""
    for href in tree.xpath("//base/@href")[:1]:
        resolved = absolute_url(href, url) if href.strip() else ""
        if urlsplit(resolved).scheme.lower() in ("http", "https"):
            return resolved
    return url


def image_src(element, base: str | None) -> str | None:
    for attr in IMAGE_ATTRS:
        value = (element.get(attr) or "").strip()
        if value and not PLACEHOLDER_IMAGE.search(value):
            return absolute_url(value, base)
    return None


class _Paragraph:
    """Collects runs of (text, bold) and renders them."""

    def __init__(self):
        self.runs: list[tuple[str, bool]] = []

    def add(self, text: str, bold: bool) -> None:
        if text:
            self.runs.append((text.replace("\xa0", " "), bold))

    def add_break(self, bold: bool) -> None:
        self.runs.append((BREAK, bold))

    def empty(self) -> bool:
        return not self.runs

    def render(self, closing_tag: str | None = None) -> dict | None:
        # Source indentation (white space with a newline in it) at the edges
        # is HTML layout, not text: it must not count towards the summary.
        # Inside, a line break of the source is one space, as a browser shows it.
        raw = LAYOUT_EDGES.sub("", "".join(text for text, _ in self.runs))
        raw = LAYOUT_INNER.sub(" ", raw).replace(BREAK, "\n")
        if not raw:
            return None
        if not raw.strip(" \t\r\n") and (closing_tag != "p" or not raw.strip("\t\r\n")):
            # White space between blocks is layout, not a paragraph; only a
            # <p> holding a space (an &nbsp; spacer) is one.
            return None
        merged: list[list] = []
        for text, bold in self.runs:
            if merged and merged[-1][1] == bold:
                merged[-1][0] += text
            else:
                merged.append([text, bold])
        out = []
        for text, bold in merged:
            if bold and text.strip():
                lead = text[: len(text) - len(text.lstrip())]
                trail = text[len(text.rstrip()):]
                out.append(f"{lead}**{text.strip()}**{trail}")
            else:
                out.append(text)
        markdown = SPACE_RUN.sub(" ", "".join(out))
        markdown = EDGE_SPACE.sub("", markdown.replace(f" {BREAK}", BREAK).replace(f"{BREAK} ", BREAK))
        markdown = markdown.replace(BREAK, "\n")
        if not markdown:
            # A <p> of white space only (an &nbsp; spacer) stays one space,
            # as the archived copies keep it.
            markdown = " "
        return {"type": "text", "markdown": markdown, "text": raw}


class BlockBuilder:
    """Walks an element tree and emits blocks in reading order."""

    def __init__(self, base_url: str | None = None, skip=None, stop=None, image_for=None):
        self.base_url = base_url
        self.skip = skip or (lambda el: False)
        self.stop = stop or (lambda text: False)
        self.image_for = image_for  # hook: element -> image URL (e.g. placeholders)
        self.blocks: list[dict] = []
        self.current = _Paragraph()
        self.stopped = False

    def build(self, root) -> list[dict]:
        self._walk(root, bold=False)
        self._flush()
        return self.blocks

    def _flush(self, closing_tag: str | None = None) -> None:
        block = self.current.render(closing_tag)
        self.current = _Paragraph()
        if block is None:
            return
        if self.stop(block["text"].strip()):
            self.stopped = True
            return
        self.blocks.append(block)

    def _image(self, src: str) -> None:
        self._flush()
        if src and not self.stopped:
            self.blocks.append({"type": "image", "src": src})

    def _walk(self, element, bold: bool) -> None:
        if self.stopped:
            return
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in SKIP_TAGS or (tag and self.skip(element)):
            return
        if not tag:  # a comment or processing instruction
            src = self.image_for(element) if self.image_for else None
            if src:
                self._image(src)
            return
        if tag == "img":
            src = image_src(element, self.base_url)
            if src:
                self._image(src)
            return
        if tag == "br":
            self.current.add_break(bold)
            return
        is_block = tag in BLOCK_TAGS
        if is_block:
            self._flush()
        inner_bold = bold or tag in BOLD_TAGS or bool(BOLD_STYLE.search(element.get("style") or ""))
        if element.text:
            self.current.add(element.text, inner_bold)
        for child in element:
            self._walk(child, inner_bold)
            if self.stopped:
                return
            if child.tail:
                self.current.add(child.tail, inner_bold)
        if is_block:
            self._flush(closing_tag=tag)


def blocks_from_element(root, base_url=None, skip=None, stop=None, image_for=None) -> list[dict]:
    """Blocks of one container element."""
    return BlockBuilder(base_url, skip, stop, image_for).build(root)


def fast_lookup(parser):
    """``parser`` with lxml.html's element classes picked in C, not by the
    Python ``HtmlElementClassLookup.lookup`` that lxml calls for every element
    Python touches (thousands a page, about 5% of an extraction). Every
    element is an ``HtmlElement``, comments, processing instructions and
    entities lxml.html's own classes; only the form helpers (``FormElement``,
    ``InputElement``, ...: ``.fields``, ``.value``) are plain elements, and
    neither the adapters nor trafilatura use them. Returns ``parser``."""
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
    return parser


#: Deeply nested pages exist; lxml's default depth limit would drop them silently.
PARSER = fast_lookup(lxml_html.HTMLParser(huge_tree=True))
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def without_xml_declaration(page: str) -> str:
    """XHTML's ``<?xml ... encoding=...?>``, which lxml and trafilatura refuse
    in an already decoded string."""
    return XML_DECLARATION.sub("", page, count=1)


def content_after_the_end(root) -> None:
    """What follows a stray ``</html>`` mid-page (a server-side include's
    own end tag) goes back into the body, as a browser shows it: libxml2
    puts it in a second ``<html>`` beside the document, where no extraction
    looks (the whole article, on a government site's page)."""
    if root is None or root.tag != "html":
        return
    strays = [sibling for sibling in root.itersiblings() if sibling.tag == "html"]
    body = root.find("body")
    if not strays or body is None:
        return
    for stray in strays:
        for child in list(stray):
            if child.tag in ("head", "body"):
                if child.text and child.text.strip():
                    _append_text(body, child.text)
                body.extend(child)
                if child.tail and child.tail.strip():
                    _append_text(body, child.tail)
            else:
                body.append(child)  # with its tail


def _append_text(parent, text: str) -> None:
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def parse_document(page: str):
    """The page's element tree; an empty document for a page with no markup.

    XHTML pages start with an XML declaration that lxml refuses in a str;
    empty or comment-only documents make it raise. Neither is worth a crash.
    """
    page = without_xml_declaration(page)
    try:
        if page.strip():
            root = lxml_html.document_fromstring(page, parser=PARSER)
            content_after_the_end(root)
            return root
    except (etree.ParserError, ValueError):
        pass
    return lxml_html.document_fromstring("<html><body></body></html>", parser=PARSER)


def blocks_from_html(fragment: str, base_url=None, skip=None, stop=None, image_for=None) -> list[dict]:
    """Blocks of an HTML fragment string (e.g. a body kept in page JSON)."""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div", parser=PARSER)
    return blocks_from_element(root, base_url, skip, stop, image_for)


def text_length(blocks) -> int:
    return sum(len(b["text"].strip()) for b in blocks if b["type"] == "text")


#: What is not a letter or a digit (punctuation, spaces), out of a text key.
NOT_WORD = re.compile(r"\W+")


def text_key(text: str) -> str:
    """``text`` with letters and digits only, case folded: a headline as its
    repeats (the first line of a body, a heading of the page) spell it."""
    return NOT_WORD.sub("", text).casefold()


def text_width(text: str, enough: int | None = None) -> int:
    """Display columns of ``text``: a wide (CJK) character counts two, so that
    one floor means about as much text in Chinese as in English. With
    ``enough`` (a floor), a text of at least that many characters is not
    measured: its length is returned, as wide as any floor needs (measuring
    every character of a page took 3.6 ms a page, on the reactor)."""
    text = text.strip()
    if (enough is not None and len(text) >= enough) or text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
