"""``archive/index.cdxj``: the closed WARC files indexed with cdxj-indexer.

Only the WARC files the index does not name yet are read (files a crawl
closed, files recovered from a dead crawl, files a crash left unindexed), and
their lines are merged into the sorted index in one streaming pass, so the
cost follows the new data, not the archive's size. The result is byte for
byte what a full rebuild gives: cdxj-indexer's lines (the pywb/webrecorder
indexer), sorted, without repeats. A missing or damaged index is rebuilt
from every file.

A WARC that does not read to its end as whole gzip members holding whole
records is damaged: it is not indexed and it is named in the result (and in
an error), so the crawl can exit non-zero. It is checked again every run
until it is repaired or moved away. A file the calling crawl's own writer
wrote and closed (``written``) is whole by construction (each group cut back
on a failed write, fsynced, then renamed): it is indexed without that extra
read, which cost a third of the index's time.
"""

from __future__ import annotations

import heapq
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from crawler.archive.storage import ArchiveStore
from crawler.warc.validate import warc_damage

logger = logging.getLogger(__name__)

INDEX = "index.cdxj"
#: Per indexed WARC file, its size and line count when it was indexed: a file
#: cut or damaged after indexing, or an index that lost lines, is caught by a
#: stat per file, not by reading the archive again.
MANIFEST = "index.files.json"
#: New lines held in memory before they are merged into the index (a full
#: rebuild of a large archive goes in several merges of this size).
MERGE_BATCH_CHARS = 64 << 20


class IndexDamaged(ValueError):
    """The existing index cannot be trusted; it is rebuilt."""


@dataclass
class IndexResult:
    lines: int = 0
    added: list[str] = field(default_factory=list)  # files indexed by this run
    damaged: dict[str, str] = field(default_factory=dict)  # file name -> what is wrong
    rebuilt: bool = False  # the whole index was rebuilt


def file_lines(path, warc_dir) -> list[str]:
    """cdxj-indexer's lines for one WARC file, sorted."""
    out = io.StringIO()
    CDXJIndexer(output=out, inputs=[str(path)], sort=False, dir_root=str(warc_dir)).process_all()
    return sorted(out.getvalue().splitlines(keepends=True))


def indexed_files(index_path: Path, closed: set[str]) -> tuple[dict[str, int], int]:
    """The WARC files the index names (with their line counts), and its line
    count, after checking it line by line: well formed, strictly sorted,
    naming only files that exist."""
    names: dict[str, int] = {}
    previous, number = "", 0
    with open(index_path, encoding="utf-8", newline="") as lines:
        for number, line in enumerate(lines, 1):
            parts = line.split(" ", 2)
            try:
                if not line.endswith("\n") or len(parts) != 3 or not parts[1].isdigit():
                    raise ValueError("not a CDXJ line")
                name = json.loads(parts[2])["filename"]
            except (ValueError, KeyError, TypeError) as exc:
                raise IndexDamaged(f"line {number}: {exc}") from None
            if line <= previous:
                raise IndexDamaged(f"line {number} is out of order")
            if name not in closed:
                raise IndexDamaged(f"line {number} names {name}, which is not in warc/")
            names[name] = names.get(name, 0) + 1
            previous = line
    return names, number


def read_manifest(store: ArchiveStore) -> dict | None:
    """What the index was made from: per WARC file, its size and line count."""
    try:
        return json.loads(store.read_text(MANIFEST))
    except (OSError, ValueError):
        return None


def check_against_manifest(manifest: dict, counts: dict[str, int], warc_dir: Path) -> dict[str, str]:
    """Files changed since they were indexed (cut, damaged, rewritten), and
    raise IndexDamaged if the index lost lines of a file (an index cut at a
    line boundary reads as sound)."""
    changed = {}
    for name, lines in counts.items():
        known = manifest.get(name)
        if known is None:
            continue
        if known.get("lines") != lines:
            raise IndexDamaged(f"it holds {lines} lines of {name}, indexed with {known.get('lines')}")
        try:
            size = (warc_dir / name).stat().st_size
        except OSError as exc:
            changed[name] = f"cannot be read ({exc.strerror})"
            continue
        if size != known.get("size"):
            changed[name] = warc_damage(warc_dir / name) or \
                f"changed since it was indexed ({known.get('size')} bytes then, {size} now)"
    return changed


def _unique(lines):
    previous = None
    for line in lines:
        if line != previous:
            yield line
        previous = line


def _encoded(lines):
    for line in lines:
        yield line.encode("utf-8")


def _merge_into_index(store: ArchiveStore, new_lines: list[str], keep_old: bool) -> int:
    index = store.path(INDEX)
    if keep_old and index.exists():
        with open(index, encoding="utf-8", newline="") as old:
            return store.write_chunks(INDEX, _encoded(_unique(heapq.merge(old, sorted(new_lines)))))
    return store.write_chunks(INDEX, _encoded(_unique(sorted(new_lines))))


def build_index(archive_dir, full: bool = False, batch_chars: int = MERGE_BATCH_CHARS,
                written=()) -> IndexResult:
    """Bring ``index.cdxj`` up to date with the closed WARCs in ``warc/``.

    Indexes only the files it does not name yet, unless ``full`` is set or
    the index is missing or damaged. Damaged WARCs are left out and reported;
    the file names in ``written`` (closed by the caller's own writer) are not
    read for damage first.
    """
    written = set(written)
    store = ArchiveStore(archive_dir)
    warc_dir = store.path("warc")
    closed = sorted(p.name for p in warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else []
    result = IndexResult(rebuilt=True)
    done: set[str] = set()
    old_lines = 0
    index = store.path(INDEX)
    counts: dict[str, int] = {}
    manifest = read_manifest(store)
    if not full and index.exists():
        try:
            counts, old_lines = indexed_files(index, set(closed))
            if manifest is not None:
                changed = check_against_manifest(manifest, counts, warc_dir)
                if changed:
                    result.damaged.update(changed)
                    for name, damage in changed.items():
                        logger.error("WARC %s is damaged: %s. It is left out of the index; repair it or move "
                                     "it out of %s", name, damage, warc_dir)
                    raise IndexDamaged(f"{', '.join(sorted(changed))} changed since indexed")
            done = set(counts)
            result.rebuilt = False
        except IndexDamaged as exc:
            logger.warning("CDXJ index %s is damaged (%s): rebuilding it from every WARC file", index, exc)
            counts = {}
    keep_old = not result.rebuilt
    result.lines = old_lines
    batch: list[str] = []
    size = 0
    for name in closed:
        if name in done:
            continue
        path = warc_dir / name
        damage = result.damaged.get(name) or (None if name in written else warc_damage(path))
        if damage is None:
            try:
                lines = file_lines(path, warc_dir)
            except Exception as exc:  # noqa: BLE001 - any reader failure is damage
                damage = f"cannot be indexed ({type(exc).__name__}: {exc})"
        if damage is not None:
            if name not in result.damaged:
                logger.error("WARC %s is damaged: %s. It is not indexed; repair it or move it out of %s",
                             name, damage, warc_dir)
            result.damaged[name] = damage
            continue
        counts[name] = len(lines)
        batch += lines
        size += sum(map(len, lines))
        result.added.append(name)
        if size >= batch_chars:
            result.lines = _merge_into_index(store, batch, keep_old)
            batch, size, keep_old = [], 0, True
    if batch or not keep_old:
        result.lines = _merge_into_index(store, batch, keep_old)
    if batch or not keep_old or manifest is None or set(manifest) != set(counts):
        now = {name: {"size": (warc_dir / name).stat().st_size, "lines": lines} for name, lines in counts.items()}
        store.write_text(MANIFEST, json.dumps(now, sort_keys=True, indent=0))
    return result


def update_index(archive_dir, stats=None, written=()) -> IndexResult | None:
    """``build_index``, logged, and what it did set in ``stats`` (anything with
    ``set_value``): ``warc/damaged_files``, ``warc/index_files_added``,
    ``warc/index_lines``, ``warc/index_rebuilt``, or ``warc/index_failed``.
    ``written``: the files the caller's own writer closed (see ``build_index``).
    A failure is logged and counted, not raised: the crawl exits non-zero."""
    def put(key, value):
        if stats is not None:
            stats.set_value(key, value)

    try:
        result = build_index(archive_dir, written=written)
    except Exception:  # noqa: BLE001 - reported, and the crawl told
        logger.exception("CDXJ index %s could not be updated", Path(archive_dir) / INDEX)
        put("warc/index_failed", 1)
        return None
    put("warc/damaged_files", len(result.damaged))
    put("warc/index_files_added", len(result.added))
    put("warc/index_lines", result.lines)
    put("warc/index_rebuilt", int(result.rebuilt))
    logger.info("CDXJ index: %d lines in %s (%s %d WARC files)", result.lines,
                Path(archive_dir) / INDEX, "rebuilt from" if result.rebuilt else "added",
                len(result.added))
    if result.damaged:
        logger.error("%d damaged WARC files were not indexed: %s", len(result.damaged),
                     ", ".join(sorted(result.damaged)))
    return result
