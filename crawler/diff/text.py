"""A diff as text: a unified diff with paragraphs as lines, for ``scrapy diff``
and ``scrapy history``; in colour for a terminal, or plain with
``git diff --word-diff=plain`` marks. Nothing a page wrote reaches the
terminal unfiltered (crawler.core.textclean.printable).
"""

from __future__ import annotations

from crawler.core.digest import canonical_value
from crawler.core.textclean import printable
from crawler.diff.compare import DELETE, EQUAL, INSERT, REPLACE, ArticleDiff, inline_diff

_RESET = "\x1b[0m"
_STYLE = {
    "header": "\x1b[1m",
    "hunk": "\x1b[36m",
    DELETE: "\x1b[31m",
    INSERT: "\x1b[32m",
    "strong-" + DELETE: "\x1b[1;7;31m",
    "strong-" + INSERT: "\x1b[1;7;32m",
}
_PLAIN_MARK = {DELETE: ("[-", "-]"), INSERT: ("{+", "+}")}


def render_text(diff: ArticleDiff, color: bool, context: int = 1,
                old_label: str = "", new_label: str = "") -> str:
    """A unified diff with paragraphs as lines; empty when nothing changed.

    Unchanged paragraphs start with a space, removed ones ``-``, added ones
    ``+``. A changed paragraph is, in colour, a red ``-`` and a green ``+``
    line with the changed characters highlighted; in plain form one ``~``
    line with ``[-removed-]{+added+}`` marks (``git diff --word-diff=plain``).
    Front-matter changes come first, under ``@@ front matter @@``.
    """
    if not diff.changed:
        return ""
    lines = [
        _paint(f"--- {old_label or 'old'}", "header", color),
        _paint(f"+++ {new_label or 'new'}", "header", color),
    ]
    if diff.front_matter:
        lines.append(_paint("@@ front matter @@", "hunk", color))
        for key, old, new in diff.front_matter:
            a = None if old is None else f"{key}: {canonical_value(old)}"
            b = None if new is None else f"{key}: {canonical_value(new)}"
            lines += _text_pair(a, b, color)
    for hunk in diff.hunks(context):
        lines.append(_paint(hunk.header(), "hunk", color))
        for op in hunk.ops:
            if op.tag == EQUAL:
                lines += _prefixed(" ", [(EQUAL, op.old)], color, None)
            elif op.tag == REPLACE:
                lines += _changed_lines(op.segments, color)
            else:
                lines += _text_pair(op.old, op.new, color)
    return "\n".join(lines) + "\n"


def _text_pair(old: str | None, new: str | None, color: bool) -> list[str]:
    if old is not None and new is not None:
        return _changed_lines(inline_diff(old, new), color)
    if old is not None:
        return _prefixed("-", [(EQUAL, old)], color, DELETE)
    return _prefixed("+", [(EQUAL, new)], color, INSERT)


def _changed_lines(segments, color: bool) -> list[str]:
    if not color:
        text = "".join(
            _PLAIN_MARK[tag][0] + t + _PLAIN_MARK[tag][1] if tag != EQUAL else t
            for tag, t in segments
        )
        return _prefixed("~", [(EQUAL, text)], False, None)
    old = [(tag, t) for tag, t in segments if tag != INSERT]
    new = [(tag, t) for tag, t in segments if tag != DELETE]
    return _prefixed("-", old, True, DELETE) + _prefixed("+", new, True, INSERT)


def _prefixed(prefix: str, segments, color: bool, side: str | None) -> list[str]:
    """Lines of ``prefix`` + text: a paragraph's inner line breaks repeat the
    prefix; in colour, ``side`` tints the line, changed pieces are
    highlighted, and every coloured line ends with a reset."""
    rows = [[]]
    for tag, text in segments:
        for k, piece in enumerate(text.split("\n")):
            if k:
                rows.append([])
            if piece:
                rows[-1].append((tag, piece))
    base = _STYLE[side] if color and side else ""
    lines = []
    for pieces in rows:
        line, styled = base + prefix, bool(base)
        for tag, piece in pieces:
            piece = printable(piece)  # a page's own escape sequences never reach the terminal
            if color and tag != EQUAL:
                line += _STYLE["strong-" + tag] + piece + _RESET + base
                styled = True
            else:
                line += piece
        lines.append(line + _RESET if styled else line)
    return lines


def _paint(text: str, style: str, color: bool) -> str:
    text = printable(text)
    return f"{_STYLE[style]}{text}{_RESET}" if color else text
