"""Opening the archive's state store: for reading, for a crawl (rebuilt when
missing or damaged, the damaged file kept aside), and finding an article
by whatever name a person gives it."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from crawler import sites
from crawler.archive.storage import fsync_dir
from crawler.core.timefmt import stamp_name
from crawler.state.model import FILENAME, ArticleState, StoreDamaged
from crawler.state.rebuild import rebuild_into
from crawler.state.sqlite import StateStore

logger = logging.getLogger(__name__)


def open_readonly(archive_dir: str | os.PathLike) -> StateStore | None:
    """The archive's store for reading only (``history``, ``diff``): never
    created, rebuilt or moved aside, so a crawl running meanwhile keeps its
    own; None when it is missing or unreadable (callers fall back to files)."""
    path = Path(archive_dir) / FILENAME
    if not path.is_file():
        return None
    try:
        store = StateStore.__new__(StateStore)
        store.path, store.lock = path, threading.RLock()
        for options in ("mode=ro", "mode=ro&immutable=1"):  # immutable: a read-only filesystem (WAL)
            store.db = sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True, timeout=30,
                                       isolation_level=None, check_same_thread=False)
            store.db.row_factory = sqlite3.Row
            try:
                store.check()
                return store
            except (StoreDamaged, sqlite3.DatabaseError):
                store.db.close()
                if options.endswith("immutable=1"):
                    raise
        return None
    except (StoreDamaged, sqlite3.DatabaseError) as exc:
        logger.warning("capture state %s not readable (%s): going by the files", path, exc)
        return None


def open_store(archive_dir: str | os.PathLike, rebuild_missing: bool = True) -> StateStore:
    """The archive's store; rebuilt from the archive when missing, empty
    beside archived articles, or damaged (a damaged file is moved aside as
    ``state.sqlite3.damaged-<time>``). A rebuild is made in a file of its
    own and put in place whole: a rebuild killed half-way leaves no partial
    state that a later run would trust."""
    root = Path(archive_dir)
    path = root / FILENAME
    existed = path.exists()
    if existed:
        store = None
        try:
            store = StateStore(path)
            store.check()
            if not (rebuild_missing and store.count() == 0 and any((root / "articles").rglob("*.md"))):
                return store
            # empty beside archived articles: a first run stopped before it
            # recorded anything (or a truncation): filled from the archive
            logger.warning("capture state %s is empty while %s holds articles: rebuilt from the archive",
                           path, root / "articles")
            store.close()
        except (StoreDamaged, sqlite3.DatabaseError) as exc:
            if store is not None:
                store.close()
            aside = path.with_name(f"{FILENAME}.damaged-{stamp_name()}")
            logger.error("capture state %s is damaged (%s): kept as %s and rebuilt from the archive",
                         path, exc, aside.name)
            for suffix in ("", "-wal", "-shm"):
                side = Path(f"{path}{suffix}")
                if side.exists():
                    os.replace(side, f"{aside}{suffix}")
    root.mkdir(parents=True, exist_ok=True)
    if rebuild_missing and (root / "articles").is_dir():
        count = _rebuild_whole(root, path)
        if existed or count:
            logger.warning("capture state rebuilt from %s: %d articles", root, count)
    return StateStore(path)


def _rebuild_whole(root: Path, path: Path) -> int:
    """Rebuild into ``state.sqlite3.rebuilding``, then put it in place."""
    building = path.with_name(f"{FILENAME}.rebuilding")
    for suffix in ("", "-wal", "-shm"):  # a rebuild killed before: started again
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    with StateStore(building) as fresh:
        count = rebuild_into(fresh, root)
        fresh.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):  # the replaced file's, never applied to the new one
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(building, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    fsync_dir(root)
    return count


def find(store: StateStore, ref: str) -> ArticleState | None:
    """The article a person names: its key, URL (any spelling; the one it
    was archived from, or the one it last answered at after a move), site
    id, or file (``articles/qq/X.md``, ``qq/X``, ``X.md``, ``X``)."""
    ref = ref.strip()
    for candidate in (store.get(ref), store.by_path(ref)):
        if candidate is not None:
            return candidate
    if "://" in ref:
        key = sites.article_key(ref)
        found = store.get(key)
        if found is not None:
            return found
        moved = [s for s in store.all() if s.url and sites.article_key(s.url) == key]
        return moved[0] if len(moved) == 1 else None
    name = ref[:-3] if ref.endswith(".md") else ref
    name = name[len("articles/"):] if name.startswith("articles/") else name
    matches = [s for s in store.all() if s.path[len("articles/"):-3] == name
               or s.path.rsplit("/", 1)[-1][:-3] == name]
    return matches[0] if len(matches) == 1 else None

