"""A diff as a self-contained side-by-side HTML page (``scrapy diff --html``
and the Hugo site's version pages): inline CSS, no scripts, nothing loaded
from outside, well-formed XML.
"""

from __future__ import annotations

import html
import re

from crawler.core.digest import canonical_value
from crawler.core.markdown import IMAGE_LINE
from crawler.diff.compare import DELETE, EQUAL, INSERT, REPLACE, ArticleDiff, inline_diff

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
            a = None if old is None else canonical_value(old)
            b = None if new is None else canonical_value(new)
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


#: Bold, ``**text**``.
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def _html_paragraph(text: str, images: dict | None) -> str:
    """One paragraph as the article shows it: an image (from ``images``), or
    text with its bold."""
    image = IMAGE_LINE.match(text.strip())
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
            if IMAGE_LINE.match(old.strip()) and IMAGE_LINE.match(new.strip()):  # an image replaced: both shown
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
