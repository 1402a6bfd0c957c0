"""The archive as one WACZ file, the package ReplayWeb.page opens: WARCs, index, page list.

py-wacz, Webrecorder's packager, stores the closed WARC files, indexes them
and writes ``datapackage.json``. It runs as ``python -m wacz create`` in a
subprocess, because importing it changes cdxj-indexer for the whole process
(it adds ``warcinfo`` to the record types the indexer keeps), and the
crawl's own ``index.cdxj`` must not change with it.

The page list (``pages/pages.jsonl``) comes from the archive's own state
(crawler/state/sqlite.py), not from the WARCs: py-wacz's ``--detect-pages`` finds
no pages in warcio-written WARCs. One page per article whose capture is in
the package: the answering URL, the capture time, the title and the
article's plain text, which ReplayWeb.page's search reads; then one per
earlier version of it (``versions/``) whose capture is in the package, with
that capture's own time, so that ReplayWeb.page lists and opens the earlier
capture too, not only the newest one of the URL. The list is
copied in as written here (``--copy-pages``): py-wacz's ``--pages`` would
rewrite it and drop the header's ``hasText``, the json-pages field that
says the pages carry their text.

A revisit record replays only beside the record it refers to. When a
subset of WARC files is packed, the files that hold the originals are
added, however far back they are. A WACZ of every WARC file holds them
anyway.

The WACZ goes to a temporary file beside its target, is synced, then
renamed over the target: a reader sees the old package or the new one,
never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.archive.storage import ArchiveStore, current_umask, fsync_dir
from crawler.archive.versions import article_versions
from crawler.core import markdown
from crawler.core.timefmt import iso_label, timestamp14
from crawler.state.open import open_store
from crawler.warc.validate import warc_damage

logger = logging.getLogger(__name__)

#: Where ``scrapy wacz`` writes when neither ``--output`` nor WACZ_PATH says.
DEFAULT_PATH = "wacz/archive.wacz"
PAGES_FORMAT = "json-pages-1.0"
#: What py-wacz must have put in a package it reports as made.
REQUIRED_ENTRIES = ("datapackage.json", "datapackage-digest.json", "pages/pages.jsonl",
                    "indexes/index.cdx.gz", "indexes/index.idx")
IMAGE_LINE = re.compile(r"^!\[[^\]]*\]\([^)\s]*\)$")
BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


class WaczError(RuntimeError):
    """No WACZ could be made (nothing to pack, damaged WARC, missing original, py-wacz failed)."""


@dataclass
class WaczResult:
    path: Path
    warc_files: list[str]  # the WARC files packed, by name
    originals_added: list[str] = field(default_factory=list)  # added for revisits' originals
    pages: int = 0
    #: articles with no capture in the package (none yet, or in a WARC not packed)
    pages_left_out: list[str] = field(default_factory=list)
    size: int = 0


def article_text(paragraphs: list[str]) -> str:
    """The plain text of an article's body, one paragraph a line: the
    paragraphs as crawler.core.markdown writes them, without ``**`` bold markers,
    image lines and the trailing source link. (Not a CommonMark reading:
    the paragraphs are not escaped, and CommonMark does not close ``**``
    between a CJK punctuation mark and a letter.)"""
    if paragraphs and markdown.SOURCE_LINK.match(paragraphs[-1].strip()):
        paragraphs = paragraphs[:-1]
    lines = [BOLD.sub(r"\1", p).strip() for p in paragraphs if not IMAGE_LINE.match(p.strip())]
    return "\n".join(line for line in lines if line)


def output_path(archive, wacz_path: str = "") -> Path:
    """Where the WACZ goes: WACZ_PATH if absolute, else below the archive
    (``wacz/archive.wacz`` when empty); never out of the archive otherwise."""
    if wacz_path and Path(wacz_path).is_absolute():
        return Path(wacz_path)
    return ArchiveStore(archive).path(wacz_path or DEFAULT_PATH)


# --- which WARC files ---------------------------------------------------------

def closed_warcs(archive) -> list[str]:
    """The closed WARC files of the archive, by name (``.open`` ones are being written)."""
    folder = ArchiveStore(archive).path("warc")
    return sorted(p.name for p in folder.glob("*.warc.gz")) if folder.is_dir() else []


@dataclass
class _WarcInfo:
    ids: set = field(default_factory=set)  # every WARC-Record-ID
    captures: set = field(default_factory=set)  # (uri, 14-digit time) of response records
    refs: list = field(default_factory=list)  # (revisit id, ("id", X) | ("capture", uri, ts))


def _scan(path: Path) -> _WarcInfo:
    """What one WARC file holds and refers to; as far as it reads, if damaged."""
    info = _WarcInfo()
    try:
        _read_into(info, path)
    except Exception as exc:  # noqa: BLE001 - a damaged file is refused when packed
        logger.warning("WACZ: %s unreadable past a point (%s)", path.name, exc)
    return info


def _read_into(info: _WarcInfo, path: Path) -> None:
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            h = record.rec_headers
            info.ids.add(h.get_header("WARC-Record-ID"))
            if record.rec_type == "response":
                info.captures.add((h.get_header("WARC-Target-URI"), timestamp14(h.get_header("WARC-Date"))))
            elif record.rec_type == "revisit":
                refers_to = h.get_header("WARC-Refers-To")
                uri, date = h.get_header("WARC-Refers-To-Target-URI"), h.get_header("WARC-Refers-To-Date")
                ref = (("id", refers_to) if refers_to else
                       ("capture", uri, timestamp14(date)) if uri and date else None)
                info.refs.append((h.get_header("WARC-Record-ID"), ref))


def _holds(info: _WarcInfo, ref) -> bool:
    return ref is not None and (ref[1] in info.ids if ref[0] == "id" else (ref[1], ref[2]) in info.captures)


def with_originals(archive, selected: list[str]) -> tuple[list[str], list[str]]:
    """``selected`` plus the WARC files holding the records their revisits
    refer to (and theirs, in turn); returns (files, those added). Raises
    WaczError naming each revisit whose original is in no WARC file."""
    warc_dir = ArchiveStore(archive).path("warc")
    infos = {name: _scan(warc_dir / name) for name in closed_warcs(archive)}
    packed, added = list(selected), []
    todo = list(selected)
    missing = []
    while todo:
        name = todo.pop()
        for revisit_id, ref in infos[name].refs:
            if any(_holds(infos[n], ref) for n in packed):
                continue
            holder = next((n for n in sorted(infos) if _holds(infos[n], ref)), None)
            if holder is None:
                missing.append(f"{revisit_id} in {name} (refers to {ref[1:] if ref else 'nothing'})")
                continue
            packed.append(holder)
            added.append(holder)
            todo.append(holder)
    if missing:
        raise WaczError("revisit records whose original is in no WARC file: " + "; ".join(missing))
    return sorted(packed), sorted(added)


def _select(archive, warcs) -> list[str]:
    closed = closed_warcs(archive)
    if not warcs:
        if not closed:
            raise WaczError(f"no closed WARC files in {ArchiveStore(archive).path('warc')}")
        return closed
    names = []
    for given in warcs:
        name = Path(given).name
        if name not in closed:
            raise WaczError(f"{given}: not a closed WARC file of this archive's warc/ folder")
        names.append(name)
    return sorted(set(names))


# --- the page list ------------------------------------------------------------

def page_entries(archive, packed: set[str]) -> tuple[list[dict], list[str]]:
    """One page per article whose capture is in ``packed`` WARC files, and
    the article files left out. From the capture state and the Markdown."""
    store = ArchiveStore(archive)
    pages, left_out = [], []
    state = open_store(archive)
    try:
        articles = list(state.all())
    finally:
        state.close()
    for article in articles:
        url = article.warc_uri or article.url
        if not (url and article.warc_date and article.warc_file in packed):
            left_out.append(article.path)
            continue
        try:
            meta, paragraphs = markdown.parse(store.read_text(article.path))
        except (OSError, ValueError) as exc:
            logger.warning("WACZ: %s unreadable (%s): left out of the page list", article.path, exc)
            left_out.append(article.path)
            continue
        pages.append({"id": article.key, "url": url, "ts": article.warc_date,
                      "title": str(meta.get("title") or article.title or url),
                      "text": article_text(paragraphs)})
        pages += earlier_captures(store, article, packed)
    return pages, left_out


def earlier_captures(store: ArchiveStore, article, packed: set[str]) -> list[dict]:
    """A page for each earlier version of ``article`` whose capture is in ``packed``, newest
    first: its URL and capture time as its front matter names them, its title and text."""
    pages = []
    for version in reversed(article_versions(store, article.path)):
        meta = version.meta
        url, ts = meta.get("fetched_url"), iso_label(meta.get("warc_date"))
        if version.current or not (url and ts and meta.get("warc_file") in packed):
            continue
        title = str(meta.get("title") or article.title or url)
        pages.append({"id": f"{article.key}@{ts}", "url": str(url), "ts": ts,
                      "title": f"{title} (earlier capture)",
                      "text": article_text(markdown.parse(version.text)[1])})
    return pages


def pages_jsonl(pages: list[dict], title: str) -> str:
    """pages.jsonl: the ``json-pages-1.0`` header, then one page per line."""
    header = {"format": PAGES_FORMAT, "id": "pages", "title": title, "hasText": True}
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in [header, *pages])


# --- packing ------------------------------------------------------------------

def _publish(tmp: str, target: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o666 & ~current_umask())
    os.replace(tmp, target)
    fsync_dir(target.parent)


def _check_package(path: str, warc_files: list[str]) -> None:
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise WaczError(f"py-wacz wrote no readable package ({exc})") from None
    absent = [n for n in (*REQUIRED_ENTRIES, *(f"archive/{w}" for w in warc_files)) if n not in names]
    if absent:
        raise WaczError(f"py-wacz left out of the package: {', '.join(absent)}")


def pack(archive, output=None, warcs=None, title: str = "News archive", description: str = "") -> WaczResult:
    """Pack the archive's closed WARC files (or ``warcs`` and the files their
    revisits need) with a page list into the WACZ ``output`` (default
    ``<archive>/wacz/archive.wacz``), replacing it atomically."""
    archive = ArchiveStore(archive).root
    target = Path(output).resolve() if output else output_path(archive)
    selected = _select(archive, warcs)
    packed, added = with_originals(archive, selected) if warcs else (selected, [])
    warc_dir = archive / "warc"
    for name in packed:
        damage = warc_damage(warc_dir / name)
        if damage:
            raise WaczError(f"WARC {name} is damaged: {damage}. Repair it or move it out of {warc_dir}")
    pages, left_out = page_entries(archive, set(packed))
    if not pages:
        raise WaczError("no archived article has its capture in these WARC files")

    target.parent.mkdir(parents=True, exist_ok=True)
    pages_tmp = tmp = None
    try:
        fd, pages_tmp = tempfile.mkstemp(prefix=".pages.", suffix=".jsonl", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(pages_jsonl(pages, title))
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        cmd = [sys.executable, "-m", "wacz", "create", "--output", tmp, "--pages", pages_tmp, "--copy-pages",
               "--title", title, *(["--desc", description] if description else []),
               *(str(warc_dir / name) for name in packed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise WaczError(f"py-wacz failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
        logger.debug("py-wacz: %s", proc.stdout)
        _check_package(tmp, packed)
        _publish(tmp, target)
    finally:
        for leftover in (tmp, pages_tmp):
            if leftover and os.path.exists(leftover):
                os.unlink(leftover)
    return WaczResult(path=target, warc_files=packed, originals_added=added, pages=len(pages),
                      pages_left_out=left_out, size=target.stat().st_size)


def pack_from_settings(settings, archive=None, output=None, warcs=None) -> WaczResult:
    """``pack`` with the WACZ_* and WARC_* settings; arguments take precedence."""
    archive = archive or settings.get("ARCHIVE_DIR")
    return pack(archive, output=output or output_path(archive, settings.get("WACZ_PATH") or ""),
                warcs=warcs, title=settings.get("WARC_IS_PART_OF") or "News archive",
                description=settings.get("WARC_DESCRIPTION") or "")
