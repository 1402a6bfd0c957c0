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


#: Characters kept before the first difference when two long values are cut there.
CONTEXT_CHARS = 10


def _flat(value) -> str:
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    return " ".join(str(value).split())


def short(value, limit: int = VALUE_CHARS, start: int = 0) -> str:
    """A front-matter value in quotes, cut at ``limit`` characters (from ``start``,
    with "…" before); ``none`` when absent."""
    if value is None:
        return "none"
    text = _flat(value)
    head = "…" if start else ""
    text = text[start:]
    return f"“{head}{text if len(text) <= limit else text[:limit] + '…'}”"


def changed_values(old, new, limit: int = VALUE_CHARS) -> str:
    """``“A” → “B”``; two long values that differ only past ``limit`` are both
    cut a little before their first difference, so the change shows."""
    start = 0
    if old is not None and new is not None:
        a, b = _flat(old), _flat(new)
        same = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        if same > limit - CONTEXT_CHARS:
            start = same - CONTEXT_CHARS
    return f"{short(old, limit, start)} → {short(new, limit, start)}"


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
    return "; ".join(f"{key}: {changed_values(old, new)}" for key, old, new in front_matter)


def describe_diff(diff) -> str:
    """A :class:`crawler.diff.compare.ArticleDiff` in one line: the body's change, then each field's."""
    said = [part for part in (describe_counts(diff.counts), describe_fields(diff.front_matter)) if part]
    return "; ".join(said) or "no text change"


#: What is said of a version whose change event names its cause (crawler.pipelines.markdown):
#: ``history``, ``diff`` and the alerts say it alike.
CAUSE_NOTES = {"extraction": "made by the extraction, not by the site (its earlier page reads the same today)",
               "page and extraction": "part of it made by the extraction (its earlier page reads otherwise today)"}
