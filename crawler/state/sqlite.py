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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from crawler.core.timefmt import iso_utc
from crawler.core.timefmt import now as timefmt_now
from crawler.state.model import COLUMNS, SCHEMA_VERSION, ArticleState, StoreDamaged

logger = logging.getLogger(__name__)


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
            cutoff = iso_utc((now or timefmt_now()) - older_than)
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
