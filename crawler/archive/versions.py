"""The versions of one article, oldest first: its earlier copies, then the current one.

Earlier copies live in ``versions/<site>/<id>/<capture time>.md``, the
current copy in ``articles/<site>/<id>.md``. Each is dated by the capture
its text came from (its ``warc_date``); a copy without one is dated by its
file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.archive.storage import ArchiveStore
from crawler.core import markdown
from crawler.core.timefmt import iso_label, iso_utc, stamp_time

# A version's file is named (crawler.core.timefmt.stamp_name) by the capture
# time its text came from (``20250213T171508Z``), or when there is none the
# time it was replaced, with microseconds (``20250213T171508123456Z``).


def article_stem(article_file: str) -> str:
    """``articles/qq/ID.md`` -> ``qq/ID``: the name under ``versions/``,
    ``rejected/`` and the site's pages."""
    path = article_file[len("articles/"):] if article_file.startswith("articles/") else article_file
    return path[: -len(".md")] if path.endswith(".md") else path


@dataclass
class Version:
    file: str  # relative to the archive root
    text: str
    meta: dict
    captured: str | None  # ISO 8601 UTC
    current: bool

    @property
    def label(self) -> str:
        return self.captured or "date unknown"


def article_versions(store: ArchiveStore, article_file: str) -> list[Version]:
    """Every version of the article stored at ``article_file``, oldest first."""
    stem = article_stem(article_file)
    folder = store.path(f"versions/{stem}")
    found = []
    if folder.is_dir():
        for path in sorted(p for p in folder.glob("*.md") if not p.name.startswith(".")):
            text = path.read_text(encoding="utf-8", errors="replace")
            meta = markdown.parse_or_empty(text, f"versions/{stem}/{path.name}")[0]
            stamp = stamp_time(path.stem)
            dated = iso_label(meta.get("warc_date")) or (iso_utc(stamp) if stamp else None)
            found.append(Version(f"versions/{stem}/{path.name}", text, meta, dated, False))
    if store.exists(article_file):
        text = store.read_bytes(article_file).decode("utf-8", errors="replace")
        meta = markdown.parse_or_empty(text, article_file)[0]
        found.append(Version(article_file, text, meta, iso_label(meta.get("warc_date")), True))
    found.sort(key=lambda v: (v.current, v.captured or ""))
    return found


def labels(versions: list[Version]) -> list[str]:
    """How ``history`` names the versions, newest first, and what ``diff --from/--to`` takes:
    ``current`` for the article file, then ``1`` for the one before it, ``2``..."""
    newest_first = list(reversed(versions))
    return [("current" if v.current else str(i)) for i, v in enumerate(newest_first)]


def pick(versions: list[Version], ref: str) -> Version:
    """A version by the label ``history`` prints (``current``, ``1`` = the one before...;
    ``0`` is ``current`` too), by capture time prefix (``2025-02-13``, ``20250213T1715``)
    or by file."""
    newest_first = list(reversed(versions))
    named = labels(versions)
    if ref.strip().lower() == "current":
        if newest_first and newest_first[0].current:
            return newest_first[0]
        raise LookupError("no current version: the article file is missing; its versions: " + _listed(named))
    if ref.lstrip("-").isdigit() and len(ref.lstrip("-")) <= 3:  # 20250213 is a date, not a position
        index = abs(int(ref))
        if index >= len(newest_first):
            raise LookupError(f"no version {ref}: the article has {len(versions)} "
                              f"version{'s' if len(versions) != 1 else ''} ({_listed(named)}, "
                              "as `scrapy history` lists them)")
        return newest_first[index]
    digits = re.sub(r"\D", "", ref)
    for version in newest_first:
        if version.file == ref or version.file.endswith("/" + ref):
            return version
        if digits and re.sub(r"\D", "", version.captured or "").startswith(digits):
            return version
    raise LookupError(f"no version matches {ref!r} (give {_listed(named, 'or')}, a capture date or a file)")


def _listed(names: list[str], last: str = "and") -> str:
    if len(names) < 2:
        return (names[0] + " only") if names else "none"
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
