"""What changed between two versions of an archived article.

Pure functions over seed-format Markdown text (no Scrapy, no files), for
``scrapy diff``, ``scrapy history`` and the site. Versions are compared
paragraph by paragraph (:mod:`difflib`), then, inside a changed paragraph,
character by character for CJK text (it has no spaces, so a word diff would
mark the whole paragraph) and word by word elsewhere. Replaced paragraphs
are paired by similarity, so a one-character correction shows as that
paragraph changed, not as a deletion plus an insertion. Front-matter changes
are reported too, except the capture keys, which change with every capture.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from crawler.core.markdown import parse, without_capture_keys
from crawler.core.textclean import printable

#: Two paragraphs at least this similar (SequenceMatcher ratio) count as one
#: paragraph changed; less similar ones as one removed and one added.
PAIR_CUTOFF = 0.5
#: In a replaced block, only paragraphs at most this far from the block's
#: diagonal are compared for pairing: bounds the work when every paragraph
#: of a long article changed (a new extractor, say).
PAIR_WINDOW = 25
#: Above this many paragraph pairs (old x new) in one replaced block, pairing
#: is skipped: every paragraph shows as removed and added.
MAX_PAIR_CANDIDATES = 250_000
#: A paragraph pair whose non-space characters are at least this share CJK
#: is diffed character by character; otherwise word by word.
CJK_SHARE = 0.3

_CJK = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_RE = re.compile(f"[{_CJK}]")
#: CJK punctuation and full-width forms: counted as CJK when choosing the mode.
_CJK_LIKE_RE = re.compile(f"[{_CJK}\u3000-\u303f\uff00-\uffef]")
#: Word mode tokens: a CJK character alone, a word (letters/digits, with
#: inner apostrophes), a run of white space, or any other single character.
_WORD_TOKEN_RE = re.compile(
    rf"[{_CJK}]|(?:(?![{_CJK}])\w)+(?:['’](?:(?![{_CJK}])\w)+)*|\s+|.", re.S
)

EQUAL, DELETE, INSERT, REPLACE = "equal", "delete", "insert", "replace"


@dataclass(frozen=True)
class ParagraphOp:
    """One paragraph of the comparison.

    ``tag`` is ``equal``, ``delete``, ``insert`` or ``replace`` (changed).
    Indexes are 0-based body-paragraph positions, None on the side the
    paragraph is absent from. ``segments`` are ``(tag, text)`` pieces,
    tags ``equal``/``delete``/``insert``: the marked characters for a
    changed paragraph, the whole text otherwise. ``mode`` says how a changed
    paragraph was split: ``char`` or ``word``.
    """

    tag: str
    old_index: int | None
    new_index: int | None
    old: str | None
    new: str | None
    segments: tuple[tuple[str, str], ...]
    mode: str | None = None


@dataclass(frozen=True)
class Hunk:
    """A run of changes with its context, as one ``@@`` block of a diff."""

    old_start: int  # 0-based index of the first old paragraph in the hunk
    old_count: int
    new_start: int
    new_count: int
    ops: tuple[ParagraphOp, ...]

    def header(self) -> str:
        """``@@ -a,b +c,d @@`` in 1-based paragraph numbers, as ``diff -u`` writes it."""
        return f"@@ -{_unified_range(self.old_start, self.old_count)} " \
               f"+{_unified_range(self.new_start, self.new_count)} @@"


@dataclass(frozen=True)
class ArticleDiff:
    """The difference between two versions of an article.

    ``front_matter`` lists ``(key, old, new)`` for changed keys (None where
    a key is absent); ``counts`` has ``paragraphs_added``,
    ``paragraphs_removed``, ``paragraphs_changed``, ``chars_added``,
    ``chars_removed`` (body only) and ``front_matter_changed``.
    """

    ops: tuple[ParagraphOp, ...]
    front_matter: list[tuple[str, object, object]]
    counts: dict
    old_meta: dict = field(default_factory=dict)
    new_meta: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.front_matter) or any(op.tag != EQUAL for op in self.ops)

    def hunks(self, context: int | None = 1) -> list[Hunk]:
        """The changes grouped with ``context`` unchanged paragraphs around
        them; ``context=None`` gives the whole article as one hunk."""
        changes = [i for i, op in enumerate(self.ops) if op.tag != EQUAL]
        if not changes:
            return []
        if context is None:
            spans = [(0, len(self.ops))]
        else:
            context = max(0, context)
            spans = []
            for i in changes:
                start, stop = max(0, i - context), min(len(self.ops), i + 1 + context)
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], stop)
                else:
                    spans.append((start, stop))
        # paragraph positions before each op, on both sides
        old_pos, new_pos, positions = 0, 0, []
        for op in self.ops:
            positions.append((old_pos, new_pos))
            old_pos += op.old_index is not None
            new_pos += op.new_index is not None
        hunks = []
        for start, stop in spans:
            ops = self.ops[start:stop]
            hunks.append(Hunk(
                positions[start][0], sum(op.old_index is not None for op in ops),
                positions[start][1], sum(op.new_index is not None for op in ops),
                tuple(ops),
            ))
        return hunks

    def to_dict(self) -> dict:
        """A JSON-ready summary for a change log: changed, counts, front-matter keys."""
        return {
            "changed": self.changed,
            "counts": dict(self.counts),
            "front_matter": [
                {"key": key, "old": _jsonable(old), "new": _jsonable(new)}
                for key, old, new in self.front_matter
            ],
        }


# -- comparing ---------------------------------------------------------------

def normalise_paragraph(text: str) -> str:
    """NFC, runs of spaces collapsed, lines trimmed: layout is not content."""
    text = unicodedata.normalize("NFC", text)
    lines = (re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def article_parts(markdown_text: str) -> tuple[dict, list[str]]:
    """Front matter without capture keys, and the normalised non-empty body
    paragraphs: what counts as "the article" for comparing and digesting."""
    return parsed_parts(*parse(markdown_text))


def parsed_parts(meta: dict, paragraphs: list[str]) -> tuple[dict, list[str]]:
    """``article_parts`` of a document already parsed (crawler.core.markdown.parse)."""
    meta, paragraphs = without_capture_keys(meta, paragraphs)
    return meta, [p for p in map(normalise_paragraph, paragraphs) if p]


#: The text digest's algorithm, named in every digest (``t1:<sha256 hex>``):
#: a digest made by another algorithm (a future normalisation) is not
#: comparable, and must never read as a change. Digests written before the
#: name was added carry none and were made by ``t1``.
DIGEST_VERSION = "t1"


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
        {"front_matter": {k: _canonical_value(v) for k, v in meta.items()}, "body": paragraphs},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return f"{DIGEST_VERSION}:{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def diff_articles(old_text: str, new_text: str) -> ArticleDiff:
    """Compare two Markdown versions of an article."""
    return diff_parts(article_parts(old_text), article_parts(new_text))


def diff_parts(old: tuple[dict, list[str]], new: tuple[dict, list[str]]) -> ArticleDiff:
    """``diff_articles`` of two articles' parts (``article_parts``)."""
    (old_meta, old_paras), (new_meta, new_paras) = old, new
    front = _front_matter_changes(old_meta, new_meta)
    ops = tuple(_paragraph_ops(old_paras, new_paras))
    counts = {
        "paragraphs_added": sum(op.tag == INSERT for op in ops),
        "paragraphs_removed": sum(op.tag == DELETE for op in ops),
        "paragraphs_changed": sum(op.tag == REPLACE for op in ops),
        "chars_added": sum(len(t) for op in ops for tag, t in op.segments if tag == INSERT),
        "chars_removed": sum(len(t) for op in ops for tag, t in op.segments if tag == DELETE),
        "front_matter_changed": len(front),
    }
    return ArticleDiff(ops, front, counts, old_meta, new_meta)


def inline_diff(old: str, new: str, mode: str | None = None) -> tuple[tuple[str, str], ...]:
    """``(tag, text)`` segments turning ``old`` into ``new``: by character
    (``mode="char"``) or by word (``"word"``); by default chosen by the share
    of CJK characters."""
    mode = mode or diff_mode(old, new)
    a, b = (list(old), list(new)) if mode == "char" else (_words(old), _words(new))
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    segments = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == EQUAL:
            segments.append((EQUAL, "".join(a[i1:i2])))
        else:
            segments += [(DELETE, "".join(a[i1:i2])), (INSERT, "".join(b[j1:j2]))]
    return tuple(_cleanup(segments))


def diff_mode(old: str, new: str) -> str:
    """``char`` when CJK dominates the pair's visible characters, else ``word``."""
    visible = re.sub(r"\s+", "", old + new)
    if not visible:
        return "word"
    return "char" if len(_CJK_LIKE_RE.findall(visible)) / len(visible) >= CJK_SHARE else "word"


def _words(text: str) -> list[str]:
    return _WORD_TOKEN_RE.findall(text)


def _cleanup(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Merge chance equalities into the edits around them (the rule of
    diff-match-patch's semantic cleanup): an unchanged run no longer than
    the edits on both its sides reads better as part of one change."""
    segments = _merge(segments)
    while True:
        for i in range(1, len(segments) - 1):
            tag, text = segments[i]
            if tag != EQUAL:
                continue
            before = _edit_size(segments, i, -1)
            after = _edit_size(segments, i, 1)
            if before and after and len(text) <= before and len(text) <= after:
                segments[i:i + 1] = [(DELETE, text), (INSERT, text)]
                segments = _merge(segments)
                break
        else:
            return segments


def _edit_size(segments, index, step) -> int:
    """The larger side (deleted or inserted) of the edit run next to ``index``."""
    sizes = {DELETE: 0, INSERT: 0}
    i = index + step
    while 0 <= i < len(segments) and segments[i][0] != EQUAL:
        sizes[segments[i][0]] += len(segments[i][1])
        i += step
    return max(sizes.values())


def _merge(segments) -> list[tuple[str, str]]:
    """Join each run of edits into one deletion then one insertion, and
    adjacent equal runs into one; drop empty pieces."""
    merged, pending = [], {DELETE: "", INSERT: ""}

    def flush():
        for tag in (DELETE, INSERT):
            if pending[tag]:
                merged.append((tag, pending[tag]))
                pending[tag] = ""

    for tag, text in segments:
        if not text:
            continue
        if tag == EQUAL:
            flush()
            if merged and merged[-1][0] == EQUAL:
                merged[-1] = (EQUAL, merged[-1][1] + text)
            else:
                merged.append((EQUAL, text))
        else:
            pending[tag] += text
    flush()
    return merged


def _paragraph_ops(old: list[str], new: list[str]):
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == EQUAL:
            for i, j in zip(range(i1, i2), range(j1, j2)):
                yield ParagraphOp(EQUAL, i, j, old[i], new[j], ((EQUAL, old[i]),))
        else:
            yield from _pair_block(old, new, i1, i2, j1, j2)


def _pair_block(old, new, i1, i2, j1, j2):
    """Ops for a replaced block: the order-keeping pairing of its paragraphs
    with the greatest total similarity; the rest removed or added."""
    pairs = _best_pairs(old[i1:i2], new[j1:j2])
    i, j = i1, j1
    for pi, pj in pairs + [(i2 - i1, j2 - j1)]:
        for k in range(i, i1 + pi):
            yield ParagraphOp(DELETE, k, None, old[k], None, ((DELETE, old[k]),))
        for k in range(j, j1 + pj):
            yield ParagraphOp(INSERT, None, k, None, new[k], ((INSERT, new[k]),))
        if i1 + pi < i2:
            a, b = old[i1 + pi], new[j1 + pj]
            mode = diff_mode(a, b)
            yield ParagraphOp(REPLACE, i1 + pi, j1 + pj, a, b, inline_diff(a, b, mode), mode)
        i, j = i1 + pi + 1, j1 + pj + 1


def _best_pairs(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Order-keeping pairs (dynamic programming over similarity >= PAIR_CUTOFF,
    within PAIR_WINDOW of the diagonal)."""
    n, m = len(old), len(new)
    if n * m > MAX_PAIR_CANDIDATES:
        return []
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            near = abs(j - i * m / n) <= PAIR_WINDOW
            similarity = _similarity(old[i], new[j]) if near else 0.0
            if similarity >= PAIR_CUTOFF:
                best = max(best, similarity + score[i + 1][j + 1])
            score[i][j] = best
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if score[i][j] == score[i + 1][j]:
            i += 1
        elif score[i][j] == score[i][j + 1]:
            j += 1
        else:
            pairs.append((i, j))
            i, j = i + 1, j + 1
    return pairs


def _similarity(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < PAIR_CUTOFF or matcher.quick_ratio() < PAIR_CUTOFF:
        return 0.0
    return matcher.ratio()


def _front_matter_changes(old: dict, new: dict) -> list[tuple[str, object, object]]:
    changes = []
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key), new.get(key)
        if _canonical_value(a) != _canonical_value(b):
            changes.append((key, a, b))
    return changes


def _canonical_value(value) -> str:
    """A value as comparable JSON: an unquoted YAML date equals its quoted text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _jsonable(value):
    return json.loads(_canonical_value(value))


def _unified_range(start: int, count: int) -> str:
    if count == 1:
        return str(start + 1)
    return f"{start + 1 if count else start},{count}"


# -- text --------------------------------------------------------------------

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
            a = None if old is None else f"{key}: {_canonical_value(old)}"
            b = None if new is None else f"{key}: {_canonical_value(new)}"
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


# -- HTML --------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;
margin:1.5em;color:#1f2328}
h1{font-size:1.3em}
p.counts{color:#59636e}
table.diff{border-collapse:collapse;width:100%;table-layout:fixed}
table.diff col.num{width:6em}
table.diff th,table.diff td{border:1px solid #d1d9e0;padding:.35em .5em;vertical-align:top}
table.diff th{background:#f6f8fa;text-align:left}
table.diff td.text{white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.6}
table.diff td.num{color:#59636e;text-align:right;font-family:monospace;font-size:.85em;overflow-wrap:anywhere}
tr.delete td.old,tr.replace td.old{background:#ffebe9}
tr.insert td.new,tr.replace td.new{background:#e6ffec}
tr.skip td{background:#ddf4ff;color:#59636e;text-align:center}
del{background:#ff818266;text-decoration:line-through}
p.back,p.jump{color:#59636e}
td.text img.image{max-width:100%;max-height:16em}
span.not-archived{color:#59636e}
tr:target td{outline:2px solid #0969da}
ins{background:#4ac26b66;text-decoration:none}
""".strip()


def render_html(diff: ArticleDiff, old_label: str, new_label: str, title: str = "",
                context: int | None = None, images: dict | None = None,
                back: tuple[str, str] | None = None) -> str:
    """A self-contained side-by-side page (inline CSS, no scripts): old
    left, new right, changed characters in ``<del>``/``<ins>``, each change
    an anchor (``#change-N``) listed at the top. Paragraphs read as the
    article does: ``**bold**`` as bold (a changed paragraph shows its marks
    without the asterisks). ``images`` (original URL -> the archived copy's
    address, as the Hugo site has them) shows image lines as images, never
    from their publisher; without it they stay text, and the page loads
    nothing from outside. ``back`` is a (label, href) link back to the
    article. ``context=None`` shows the whole article; a number folds the
    unchanged paragraphs but that many around each change. The markup is
    also well-formed XML."""
    esc = html.escape
    heading = title or str(diff.new_meta.get("title") or diff.old_meta.get("title") or "")
    lang = diff.new_meta.get("lang") or diff.old_meta.get("lang") or ""
    lang = lang[0] if isinstance(lang, list) and lang else lang
    counts = diff.counts
    summary = (
        f"{_count(counts['paragraphs_changed'], 'paragraph')} changed, "
        f"{counts['paragraphs_added']} added, {counts['paragraphs_removed']} removed; "
        f"{_count(counts['chars_added'], 'character')} added, {counts['chars_removed']} removed; "
        f"{_count(counts['front_matter_changed'], 'front-matter field')} changed"
        if diff.changed else "No changes."
    )
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(str(lang))}">' if lang else "<html>",
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{esc(heading or 'Article diff')}: {esc(old_label)} → {esc(new_label)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        '<body data-pagefind-body="">',  # the Hugo site's search indexes the versions' text here
        *([f'<p class="back"><a href="{esc(back[1])}">← {esc(back[0])}</a></p>'] if back else []),
        f"<h1>{esc(heading or 'Article diff')}</h1>",
        f'<p class="counts">{esc(summary)}</p>',
        '<table class="diff">',
        '<colgroup><col class="num" /><col /><col class="num" /><col /></colgroup>',
        f'<thead><tr><th colspan="2" class="old-label">{esc(old_label)}</th>'
        f'<th colspan="2" class="new-label">{esc(new_label)}</th></tr></thead>',
    ]
    changes: list[str] = []  # the anchors of the changes, in order
    if diff.front_matter:
        out.append('<tbody class="front-matter">')
        for key, old, new in diff.front_matter:
            tag = REPLACE if old is not None and new is not None else DELETE if new is None else INSERT
            a = None if old is None else _canonical_value(old)
            b = None if new is None else _canonical_value(new)
            segments = inline_diff(a, b) if tag == REPLACE else ((tag, a if new is None else b),)
            changes.append(f"change-{len(changes) + 1}")
            out.append(_html_row(tag, key if old is not None else "", key if new is not None else "",
                                 segments, anchor=changes[-1]))
        out.append("</tbody>")
    out.append('<tbody class="body">')
    hunks = diff.hunks(context)
    old_total = sum(op.old_index is not None for op in diff.ops)
    shown_to = 0  # old paragraphs before the next hunk
    for hunk in hunks:
        if hunk.old_start > shown_to:
            out.append(_skip_row(hunk.old_start - shown_to))
        for op in hunk.ops:
            anchor = None
            if op.tag != EQUAL:
                changes.append(f"change-{len(changes) + 1}")
                anchor = changes[-1]
            out.append(_html_row(
                op.tag,
                "" if op.old_index is None else str(op.old_index + 1),
                "" if op.new_index is None else str(op.new_index + 1),
                op.segments, anchor=anchor, images=images, markdown=True,
            ))
        shown_to = hunk.old_start + hunk.old_count
    if hunks and old_total > shown_to:
        out.append(_skip_row(old_total - shown_to))
    out += ["</tbody>", "</table>", "</body>", "</html>", ""]
    if changes:  # the list of changes, under the counts
        links = " ".join(f'<a href="#{name}">{n}</a>' for n, name in enumerate(changes, 1))
        out.insert(out.index('<table class="diff">'), f'<p class="jump">Changes: {links}</p>')
    return "\n".join(out)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


#: A seed-format image paragraph, ``![alt](url)``; bold, ``**text**``.
_IMAGE = re.compile(r"^!\[([^\]]*)\]\((\S+?)\)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def _html_paragraph(text: str, images: dict | None) -> str:
    """One paragraph as the article shows it: an image (from ``images``), or
    text with its bold."""
    image = _IMAGE.match(text.strip())
    if image and images is not None:
        src = images.get(image.group(2))
        if src:
            return f'<img class="image" src="{html.escape(src)}" alt="{html.escape(image.group(1))}" />'
        return f'<span class="not-archived">{html.escape(text)}</span>'
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text))


def _html_row(tag: str, old_num: str, new_num: str, segments, anchor: str | None = None,
              images: dict | None = None, markdown: bool = False) -> str:
    def side(which: str) -> str:
        if markdown and tag != REPLACE:  # a whole paragraph: read as the article shows it
            shown = _html_paragraph("".join(text for _, text in segments), images)
            element = {INSERT: "ins", DELETE: "del"}.get(tag)
            return f"<{element}>{shown}</{element}>" if element else shown
        if markdown and images is not None:
            old, new = (_joined(segments, side_) for side_ in (DELETE, INSERT))
            if _IMAGE.match(old.strip()) and _IMAGE.match(new.strip()):  # an image replaced: both shown
                return _html_paragraph(old if which == DELETE else new, images)
        return _html_side(segments, which, unbold=markdown)

    old_cell = "" if tag == INSERT else side(DELETE)
    new_cell = "" if tag == DELETE else side(INSERT)
    esc = html.escape
    where = f' id="{anchor}"' if anchor else ""
    return (f'<tr class="{tag}"{where}><td class="num">{esc(old_num)}</td><td class="text old">{old_cell}</td>'
            f'<td class="num">{esc(new_num)}</td><td class="text new">{new_cell}</td></tr>')


def _joined(segments, side: str) -> str:
    return "".join(text for tag, text in segments if tag in (EQUAL, side))


def _html_side(segments, side: str, unbold: bool = False) -> str:
    element = "del" if side == DELETE else "ins"
    parts = []
    for tag, text in segments:
        if unbold:
            text = text.replace("**", "")
        if tag == EQUAL:
            parts.append(html.escape(text))
        elif tag == side and text:
            parts.append(f"<{element}>{html.escape(text)}</{element}>")
    return "".join(parts)


def _skip_row(count: int) -> str:
    noun = "paragraph" if count == 1 else "paragraphs"
    return f'<tr class="skip"><td colspan="4">⋯ {count} unchanged {noun} ⋯</td></tr>'
