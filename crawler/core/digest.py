"""The text digest that identifies an article version, and what it digests.

Pure (no Scrapy, no files). Two captures with the same text have the same
digest whatever their capture keys say; the digest names its algorithm
(``t1:<sha256 hex>``) so that a future normalisation can never read as a
change. Comparing versions (crawler.diff) starts from the same parts.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata

from crawler.core.markdown import parse, without_capture_keys

#: The text digest's algorithm, named in every digest (``t1:<sha256 hex>``):
#: a digest made by another algorithm (a future normalisation) is not
#: comparable, and must never read as a change. Digests written before the
#: name was added carry none and were made by ``t1``.
DIGEST_VERSION = "t1"


SPACE_RUN = re.compile(r"[^\S\n]+")


def normalise_paragraph(text: str) -> str:
    """NFC, runs of spaces collapsed, lines trimmed: layout is not content."""
    text = unicodedata.normalize("NFC", text)
    lines = (SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


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
    return digest.split(":", 1)[0] if ":" in digest else DIGEST_VERSION


def same_digest(a: str, b: str) -> bool | None:
    """Whether two text digests say the same text; None when their
    algorithms differ, so that nothing can be said."""
    if digest_version(a) != digest_version(b):
        return None
    return a.rsplit(":", 1)[-1] == b.rsplit(":", 1)[-1]


def text_digest(markdown_text: str) -> str:
    """``t1:`` and the SHA-256 hex of the article itself: two captures with
    the same text have the same digest whatever their capture keys say."""
    return parts_digest(article_parts(markdown_text))


def parts_digest(parts: tuple[dict, list[str]]) -> str:
    """``text_digest`` of an article's parts (``article_parts``)."""
    meta, paragraphs = parts
    canonical = json.dumps(
        {"front_matter": {k: canonical_value(v) for k, v in meta.items()}, "body": paragraphs},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return f"{DIGEST_VERSION}:{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
