"""What the archive knows about each article: the capture state, in SQLite.

One row per article (keyed by its canonical article key): where it came
from, its file, its last full capture (WARC file, record id, date, URI,
payload digest, validators), the digest of its text, when it was last
checked and last changed, and its status (``ok``, ``gone``, ``failing``).
``scrapy refresh`` chooses what is due from here, sends the validators, and
refers revisit records to the capture named here.

It is derived data: the articles' front matter and the WARCs hold every
fact it keeps, so ``rebuild`` makes it anew when it is missing or damaged
(a damaged file is kept aside, never overwritten). SQLite gives one file,
transactions and nothing to start; every access goes through ``StateStore``
so that a shared crawl can put the same interface on Redis.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from crawler.storage import fsync_dir

logger = logging.getLogger(__name__)

FILENAME = "state.sqlite3"
SCHEMA_VERSION = 2
OK, GONE, FAILING = "ok", "gone", "failing"


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ArticleState:
    """Everything known about one archived article."""

    key: str  # canonical article key (crawler.sites.article_key)
    path: str  # articles/<site>/<name>.md
    site: str
    source_url: str  # the URL the seed names, written as the source link
    seed: str | None = None
    url: str | None = None  # the URL that answered last
    title: str | None = None
    status: str = OK
    failures: int = 0  # consecutive failed checks
    status_since: str | None = None  # when the status last changed (gone since...)
    last_error: str | None = None
    first_captured: str | None = None
    last_checked: str | None = None
    last_changed: str | None = None  # capture date of the current version
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None  # of the last full response
    text_digest: str | None = None  # crawler.diffing.text_digest of the current version
    browser: int = 0  # 1: its text comes only from the page as a browser renders it
    warc_file: str | None = None  # the last full response capture
    warc_record_id: str | None = None
    warc_date: str | None = None
    warc_uri: str | None = None
    # the last full response whose extraction was refused (empty, collapsed,
    # too long: kept aside under rejected/), until a check succeeds: the same
    # payload again is a revisit of it, refused again without a second copy
    refused_record_id: str | None = None
    refused_date: str | None = None
    refused_uri: str | None = None
    refused_digest: str | None = None

    def original(self) -> dict | None:
        """The capture a revisit record refers to, or None."""
        if not (self.warc_record_id and self.warc_date and self.warc_uri and self.payload_digest):
            return None
        return {"uri": self.warc_uri, "date": self.warc_date, "record_id": self.warc_record_id,
                "payload_digest": self.payload_digest}

    def refused(self) -> dict | None:
        """The refused capture a revisit record refers to, or None."""
        if not (self.refused_record_id and self.refused_date and self.refused_uri and self.refused_digest):
            return None
        return {"uri": self.refused_uri, "date": self.refused_date, "record_id": self.refused_record_id,
                "payload_digest": self.refused_digest}


COLUMNS = [f.name for f in fields(ArticleState)]


class StoreDamaged(Exception):
    """The state file cannot be read as this version's state."""


def _locked(method):
    """Run a store method holding the store's lock."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper


class StateStore:
    """SQLite-backed capture state under ``<archive>/state.sqlite3``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        # used from the reactor and the archive I/O thread: one call at a time
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a crash of the crawl loses nothing; a power cut may
        # lose the last transactions, never the file's consistency. The state
        # is derived data (rebuildable); the articles and WARCs are fsynced.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._create()

    def _create(self) -> None:
        columns = ", ".join(
            f"{name} {'INTEGER' if name in ('failures', 'browser') else 'TEXT'}"
            + (" PRIMARY KEY" if name == "key" else "")
            + (" NOT NULL" if name in ("path", "site", "source_url") else "")
            for name in COLUMNS)
        with self.db:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS articles ({columns})")
            have = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
            for name in COLUMNS:  # a state of an earlier version of this schema: its new columns, empty
                if name not in have:
                    self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} TEXT")
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_path ON articles (path)")
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_source_url ON articles (source_url)")
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_url ON articles (url)")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

    @_locked
    def check(self) -> None:
        """Raise StoreDamaged unless the file is sound and of this schema."""
        try:
            if self.db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise StoreDamaged(f"{self.path}: integrity check failed")
            schema = self.db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            have = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(f"{self.path}: {exc}") from exc
        if schema is None or schema[0] != str(SCHEMA_VERSION) or not set(COLUMNS) <= have:
            raise StoreDamaged(f"{self.path}: not schema {SCHEMA_VERSION}")

    # --- reading ----------------------------------------------------------

    @staticmethod
    def _state(row) -> ArticleState:
        return ArticleState(**{name: row[name] for name in COLUMNS})

    @_locked
    def get(self, key: str) -> ArticleState | None:
        row = self.db.execute("SELECT * FROM articles WHERE key=?", (key,)).fetchone()
        return self._state(row) if row else None

    @_locked
    def by_path(self, path: str) -> ArticleState | None:
        row = self.db.execute("SELECT * FROM articles WHERE path=?", (path,)).fetchone()
        return self._state(row) if row else None

    @_locked
    def by_address(self, url: str) -> ArticleState | None:
        """The article whose source URL, or else whose last answering URL, is ``url``."""
        row = self.db.execute("SELECT * FROM articles WHERE source_url=? OR url=? ORDER BY source_url=? DESC LIMIT 1",
                              (url, url, url)).fetchone()
        return self._state(row) if row else None

    def all(self) -> Iterator[ArticleState]:
        with self.lock:
            rows = self.db.execute("SELECT * FROM articles ORDER BY path").fetchall()
        for row in rows:
            yield self._state(row)

    @_locked
    def sites(self) -> list[str]:
        """The sites the articles belong to (what ``refresh --site`` takes)."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT site FROM articles ORDER BY site")]

    @_locked
    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    @_locked
    def due(self, older_than: timedelta | None = None, site: str | None = None,
            keys: list[str] | None = None, limit: int | None = None, now: datetime | None = None) -> list[ArticleState]:
        """Articles to re-check, least recently checked first."""
        query, args = "SELECT * FROM articles WHERE 1=1", []
        if older_than is not None:
            cutoff = ((now or datetime.now(timezone.utc)) - older_than).strftime("%Y-%m-%dT%H:%M:%SZ")
            query += " AND (last_checked IS NULL OR last_checked <= ?)"
            args.append(cutoff)
        if site:
            query += " AND site=?"
            args.append(site)
        if keys is not None:
            query += f" AND key IN ({','.join('?' * len(keys))})"
            args.extend(keys)
        query += " ORDER BY COALESCE(last_checked, '') ASC, path ASC"
        if limit:
            query += " LIMIT ?"
            args.append(int(limit))
        return [self._state(row) for row in self.db.execute(query, args)]

    # --- writing ----------------------------------------------------------

    @_locked
    def put(self, state: ArticleState) -> None:
        values = dataclasses.astuple(state)
        with self.db:
            # one article per file: a key that moved (a new canonical form)
            # takes its file's row over
            self.db.execute("DELETE FROM articles WHERE path=? AND key<>?", (state.path, state.key))
            self.db.execute(f"INSERT OR REPLACE INTO articles ({', '.join(COLUMNS)}) "
                            f"VALUES ({', '.join('?' * len(COLUMNS))})", values)


    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
            aside = path.with_name(f"{FILENAME}.damaged-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
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


def rebuild_into(store: StateStore, root) -> int:
    from crawler.staterebuild import rebuild_into as rebuild

    return rebuild(store, root)


def find(store: StateStore, ref: str) -> ArticleState | None:
    """The article a person names: its key, URL (any spelling), site id,
    or file (``articles/qq/X.md``, ``qq/X``, ``X.md``, ``X``)."""
    from crawler import sites

    ref = ref.strip()
    for candidate in (store.get(ref), store.by_path(ref)):
        if candidate is not None:
            return candidate
    if "://" in ref:
        return store.get(sites.article_key(ref))
    name = ref[:-3] if ref.endswith(".md") else ref
    name = name[len("articles/"):] if name.startswith("articles/") else name
    matches = [s for s in store.all() if s.path[len("articles/"):-3] == name
               or s.path.rsplit("/", 1)[-1][:-3] == name]
    return matches[0] if len(matches) == 1 else None


def shared_store(crawler) -> StateStore:
    """The crawl's one store, opened on first use and closed when the engine
    stops; for a shared crawl (``REDIS_URL``), the run's store in Redis
    (crawler.distributed.store), with the same interface."""
    store = getattr(crawler, "_state_store", None)
    if store is None:
        from scrapy import signals

        if crawler.settings.get("REDIS_URL"):
            from crawler.distributed.store import open_shared_store

            store = open_shared_store(crawler)
        else:
            store = open_store(crawler.settings.get("ARCHIVE_DIR"))
        crawler._state_store = store
        crawler.signals.connect(lambda: store.close(), signal=signals.engine_stopped, weak=False)
    return store
