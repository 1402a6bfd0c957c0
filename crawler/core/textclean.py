"""Control characters: never archived, never printed raw.

A page is written by strangers. ESC (``\\x1b``) and its C1 twin (``\\x9b``)
start terminal escape sequences: printed by ``scrapy diff`` or ``history``
they could recolour, retitle or rewrite the operator's terminal, and in the
Markdown they are noise no reader sees. ``strip_controls`` removes C0 and
C1 controls (tab and newline excepted; a carriage return becomes a newline)
from what an adapter extracts, and ``clean_page`` from the page before it is
parsed (one stray BEL made trafilatura return nothing); ``printable`` escapes whatever reaches a
terminal (control characters and the bidirectional overrides that reorder
what is shown) as visible ``\\x1b``-style text, for text already archived by
an earlier version.
"""

from __future__ import annotations

import re

#: C0 except tab and newline, DEL, C1.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: What a terminal must not receive raw: controls (tab and newline kept), and
#: the bidi embeddings/overrides/isolates that make shown text lie.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


#: In a page's markup: controls that are not HTML white space. One stray BEL
#: or C1 byte makes trafilatura drop the whole body (and NUL ends lxml's
#: parse), so they go before any parser sees the page; vertical tab and form
#: feed, which are, become spaces. One class for both: the page is scanned once.
_PAGE_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Numeric character references (``&#27;``, ``&#x1b;``), which the parser
#: would turn into the same characters; C1 references are windows-1252 in HTML.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));?")
#: Every reference ``_CHAR_REF`` reads as a control matches this too (its
#: digits, as many as ``_CHAR_REF`` takes, are a value under 0x80 or its
#: longest run): a page without one skips the per-reference Python callback.
_CONTROL_REF_CANDIDATE = re.compile(
    r"&#(?:[xX](?:0*[0-7]?[0-9a-fA-F](?![0-9a-fA-F])|[0-9a-fA-F]{6})|(?:0*1?[0-9]{1,2}(?![0-9])|[0-9]{7}))")


def _control_ref(match: re.Match) -> str:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code in (9, 10, 13):
        return match.group()
    return "" if code < 0x20 or code == 0x7F else match.group()


def clean_page(page: str) -> str:
    """The page's markup without control characters, written or as
    character references (HTML white space kept, vertical tab and form feed
    as spaces)."""
    page = _PAGE_CONTROLS.sub(_page_control, page)
    return _CHAR_REF.sub(_control_ref, page) if "&#" in page and _CONTROL_REF_CANDIDATE.search(page) else page


def _page_control(match: re.Match) -> str:
    return " " if match.group() in "\x0b\x0c" else ""


def strip_controls(text: str) -> str:
    """``text`` without control characters; CR LF and lone CR become LF."""
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def printable(text) -> str:
    """``str(text)`` with every control and bidi override shown as an escape."""
    text = str(text)

    def escape(match: re.Match) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def clean_fields(value):
    """Every string in an adapter's fields (nested dicts and lists) without controls."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {key: clean_fields(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_fields(item) for item in value]
    return value
