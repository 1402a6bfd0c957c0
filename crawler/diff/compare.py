"""What changed between two versions of an archived article.

Pure functions over seed-format Markdown text (no Scrapy, no files), for
``scrapy diff``, ``scrapy history`` and the site. Versions are compared
paragraph by paragraph (:mod:`difflib`), then, inside a changed paragraph,
character by character for CJK text (it has no spaces, so a word diff would
mark the whole paragraph) and word by word elsewhere. Replaced paragraphs
are paired by similarity, so a one-character correction shows as that
paragraph changed, not as a deletion plus an insertion. Front-matter changes
are reported too, except the capture keys, which change with every capture.
Rendering lives in crawler.diff.text and crawler.diff.html; what counts as
"the article" (its parts) in crawler.core.digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from crawler.core.digest import article_parts, canonical_value, comparable, comparable_front_matter, normalise_paragraph

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


# -- comparing ---------------------------------------------------------------

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
    return tuple(_layout_spacing(_cleanup(segments)))


def _layout_spacing(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An edit of white space alone that the text digest reads as layout (a
    space beside Chinese or Japanese text, a no-break space for a space) is
    shown as unchanged, with the new text's spacing: a paragraph re-spaced
    around a one-digit correction showed some thirty ``{+ +}``, and hid the
    edit. A space that splits a number or a word is still an edit."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(segments):
        if segments[i][0] == EQUAL:
            out.append(segments[i])
            i += 1
            continue
        j = i
        while j < len(segments) and segments[j][0] != EQUAL:
            j += 1
        run = dict(segments[i:j])
        old, new = run.get(DELETE, ""), run.get(INSERT, "")
        before = out[-1][1][-1:] if out else ""
        after = segments[j][1][:1] if j < len(segments) else ""
        read = lambda middle: comparable(normalise_paragraph(before + middle + after))  # noqa: E731
        if (old + new).isspace() and before and after and read(old) == read(new):
            out.append((EQUAL, new))
        else:
            out.extend(segments[i:j])
        i = j
    return _merge(out)


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
    the edits on both its sides reads better as part of one change.

    Why not diff-match-patch itself (bench/diff_inline.py, 1,016 edited seed
    and README paragraphs): its Myers diff is faster at the median (11 vs
    80 µs a CJK pair), but without a time limit one half-rewritten 7,000-
    character paragraph takes 15 s (difflib: 0.8 s), and with one the diff
    depends on the machine's load. Its cleanup then splits what this one
    keeps whole: it factors out shared letters and overlaps, so ``2025`` ->
    ``2032`` reads ``20{+3+}2[-5-]`` and ``models`` -> ``model`` reads
    ``model[-s-]`` (8 chance equalities against 0 on corrected numbers; 3
    assertions of tests/test_diffing.py fail with it)."""
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
    # paragraphs are the same as the digest says (crawler.core.digest.comparable);
    # each is shown as written
    matcher = SequenceMatcher(None, [comparable(p) for p in old], [comparable(p) for p in new], autojunk=False)
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
    """(key, old, new) of the keys whose values differ as the digest compares them."""
    a, b = comparable_front_matter(old), comparable_front_matter(new)
    null = canonical_value(None)  # a key with no value is a key that is not there
    return [(key, old.get(key), new.get(key)) for key in list(a) + [k for k in b if k not in a]
            if a.get(key, null) != b.get(key, null)]


def _unified_range(start: int, count: int) -> str:
    if count == 1:
        return str(start + 1)
    return f"{start + 1 if count else start},{count}"
