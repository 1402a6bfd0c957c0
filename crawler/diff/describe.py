"""A change between two versions of an article, in the words a person reads.

One wording for ``scrapy history``, the Hugo site's timeline and recent
changes, and the notifications: counts with their nouns in the right number
("1 paragraph changed"), and a front-matter edit named by its field with the
old and new values, shortened ("title: “A” → “B”"), never as "front matter
changed (+0/-0 characters)".
"""

from __future__ import annotations

#: A front-matter value longer than this many characters is cut, with "…".
VALUE_CHARS = 40


def plural(n: int, noun: str) -> str:
    """``1 paragraph``, ``2 paragraphs``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def short(value, limit: int = VALUE_CHARS) -> str:
    """A front-matter value in quotes, cut at ``limit`` characters; ``none`` when absent."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    text = " ".join(str(value).split())
    return f"“{text if len(text) <= limit else text[:limit] + '…'}”"


#: The body's counts of a change (``ArticleDiff.counts``, a changed event's ``counts``), and their verbs.
COUNT_WORDS = (("paragraphs_changed", "changed"), ("paragraphs_added", "added"),
               ("paragraphs_removed", "removed"))


def paragraph_counts(counts: dict) -> list[str]:
    """``["1 paragraph changed", "2 paragraphs added"]``: the counts that are not 0."""
    return [f"{plural(counts[key], 'paragraph')} {word}" for key, word in COUNT_WORDS if counts.get(key)]


def characters(counts: dict) -> str:
    """``+10/-3 characters``."""
    return f"+{counts.get('chars_added') or 0}/-{counts.get('chars_removed') or 0} characters"


def describe_counts(counts: dict) -> str:
    """The body's change: ``1 paragraph changed, 2 added (+10/-3 characters)``; empty when none."""
    parts = paragraph_counts(counts)
    return f"{', '.join(parts)} ({characters(counts)})" if parts else ""


def describe_fields(front_matter) -> str:
    """``title: “A” → “B”; tags: “x” → “x, y”``, from ``ArticleDiff.front_matter``."""
    return "; ".join(f"{key}: {short(old)} → {short(new)}" for key, old, new in front_matter)


def describe_diff(diff) -> str:
    """A :class:`crawler.diff.compare.ArticleDiff` in one line: the body's change, then each field's."""
    said = [part for part in (describe_counts(diff.counts), describe_fields(diff.front_matter)) if part]
    return "; ".join(said) or "no text change"
