"""The text digest that identifies an article version, and what it digests.

Pure (no Scrapy, no files). Two captures with the same text have the same
digest whatever their capture keys say; the digest names its algorithm
(``t2:<sha256 hex>``) so that a new normalisation can never read as a
change. Comparing versions (crawler.diff) starts from the same parts.

``t2`` (``t1`` before) also leaves out what a reader cannot see or that is
only layout: invisible format characters (zero-width spaces and joiners, soft
hyphens, byte order marks; Unicode's ``Cf``), and a space next to a Chinese
or Japanese character or full-width punctuation (those scripts put none
between words: a template that adds one after "，" or between Chinese and
Latin text, as pangu-style spacing does, made no edit).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata

from crawler.core.markdown import parse, without_capture_keys

#: The text digest's algorithm, named in every digest (``t2:<sha256 hex>``):
#: a digest made by another algorithm (``t1``, or a future normalisation) is
#: not comparable, and must never read as a change. Digests written before the
#: name was added carry none and were made by ``t1``.
DIGEST_VERSION = "t2"


SPACE_RUN = re.compile(r"[^\S\n]+")
#: Han, CJK punctuation, kana and the full-width forms: text written without
#: spaces between words (Hangul, which spaces its words, is not here).
_CJK = "\u2e80-\u2fdf\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef" \
       "\U00020000-\U0003134f"
#: A space with such a character on either side (a space first: the scan
#: looks at spaces only).
CJK_SPACE = re.compile(f" (?:(?=[{_CJK}])|(?<=[{_CJK}] ))")
#: Invisible format characters (Unicode's Cf in the Basic Multilingual Plane,
#: where all of a news page's are): ZWSP, ZWNJ, ZWJ, soft hyphen, BOM,
#: direction marks... (tests/test_diffing.py checks the list against Python's
#: Unicode database; the plane's one class is four times faster than all planes').
INVISIBLE = re.compile("[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
                       "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def normalise_paragraph(text: str) -> str:
    """NFC, invisible characters out, runs of spaces collapsed, lines trimmed:
    layout is not content. (What a diff shows of a paragraph.)"""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    lines = (SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def comparable(paragraph: str) -> str:
    """A normalised paragraph as versions are compared (and digested): without
    the spaces beside CJK text, which those scripts do not write."""
    return CJK_SPACE.sub("", paragraph) if " " in paragraph else paragraph


#: Front-matter keys made from the body (the summary is its first 50
#: characters): compared through the body, never on their own, where spacing
#: alone moves where they are cut.
DERIVED_KEYS = frozenset({"summary"})


def comparable_front_matter(meta: dict) -> dict:
    """Front matter as versions are compared: without the keys made from the
    body, text as paragraphs are (a title), anything else as ``canonical_value``."""
    return {key: canonical_value(comparable(normalise_paragraph(value)) if isinstance(value, str) else value)
            for key, value in meta.items() if key not in DERIVED_KEYS}


def article_parts(markdown_text: str) -> tuple[dict, list[str]]:
    """Front matter without capture keys, and the normalised non-empty body
    paragraphs: what counts as "the article" for comparing and digesting."""
    return parsed_parts(*parse(markdown_text))


def parsed_parts(meta: dict, paragraphs: list[str]) -> tuple[dict, list[str]]:
    """``article_parts`` of a document already parsed (crawler.core.markdown.parse)."""
    meta, paragraphs = without_capture_keys(meta, paragraphs)
    return meta, [p for p in map(normalise_paragraph, paragraphs) if p]


def canonical_value(value) -> str:
    """A value as comparable JSON: an unquoted YAML date equals its quoted text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def digest_version(digest: str) -> str:
    return digest.split(":", 1)[0] if ":" in digest else "t1"  # unnamed: written by t1


def same_digest(a: str, b: str) -> bool | None:
    """Whether two text digests say the same text; None when their
    algorithms differ, so that nothing can be said."""
    if digest_version(a) != digest_version(b):
        return None
    return a.rsplit(":", 1)[-1] == b.rsplit(":", 1)[-1]


def text_digest(markdown_text: str) -> str:
    """``t2:`` and the SHA-256 hex of the article itself: two captures with
    the same text have the same digest whatever their capture keys say."""
    return parts_digest(article_parts(markdown_text))


def parts_digest(parts: tuple[dict, list[str]]) -> str:
    """``text_digest`` of an article's parts (``article_parts``)."""
    meta, paragraphs = parts
    canonical = json.dumps(
        {"front_matter": comparable_front_matter(meta), "body": list(map(comparable, paragraphs))},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return f"{DIGEST_VERSION}:{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
