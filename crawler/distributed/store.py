"""The capture state of a shared run, in Redis, with StateStore's interface.

The archive's ``state.sqlite3`` (crawler.state) stays the state between
runs, so the single-machine commands (``history``, ``diff``, a refresh
without Redis) keep working. The worker that pushes a run's work first
loads it into Redis (``load``); the last worker out writes it back in one
SQLite transaction (``save``). A run whose state was never written back (all
its workers died) is written back before the next run loads.

Layout: ``<prefix>:state:articles`` (hash: key -> the ArticleState as
JSON), ``<prefix>:state:paths`` (hash: file -> key) and
``<prefix>:state:meta`` (``run``: the run it was loaded for, ``saved``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime, timedelta
from typing import Iterator

from crawler.core.timefmt import iso_utc
from crawler.core.timefmt import now as timefmt_now
from crawler.state.model import COLUMNS, ArticleState
from crawler.state.open import open_store

logger = logging.getLogger(__name__)

# KEYS: articles paths urls; ARGV: key, path, json, source URL, URL. One article per file: a key
# that moved (a new canonical form) takes its file's entry over.
_PUT = """
local old = redis.call('HGET', KEYS[2], ARGV[2])
if old and old ~= ARGV[1] then redis.call('HDEL', KEYS[1], old) end
local before = redis.call('HGET', KEYS[1], ARGV[1])
if before then
  local was = cjson.decode(before)['path']
  if was ~= ARGV[2] and redis.call('HGET', KEYS[2], was) == ARGV[1] then redis.call('HDEL', KEYS[2], was) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], ARGV[5], ARGV[1]) end
return 1
"""


# KEYS: claim articles:new paths:new urls:new articles paths urls meta; ARGV: holder run-id.
# The loaded state replaces the run's, atomically, only while the loader
# still holds the claim (the run's seeder key): a worker whose claim lapsed
# (stalled past the lease) and was taken over never overwrites the other's.
_INSTALL = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  return 0
end
redis.call('DEL', KEYS[5], KEYS[6], KEYS[7], KEYS[8])
for i = 2, 4 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('RENAME', KEYS[i], KEYS[i + 3]); redis.call('PERSIST', KEYS[i + 3]) end
end
redis.call('HSET', KEYS[8], 'run', ARGV[2], 'saved', '0')
return 1
"""
#: States per pipelined write of a load.
LOAD_BATCH = 1000
#: Seconds a staged load outlives a loader that died before installing it.
STAGED_TTL = 86400


class ClaimLost(RuntimeError):
    """The worker loading the state no longer holds the run's claim."""


class RedisStore:
    """StateStore's interface (get, by_path, by_address, all, count, due, put) on Redis."""

    def __init__(self, client, prefix: str):
        self.client = client
        self.articles = f"{prefix}:state:articles"
        self.paths = f"{prefix}:state:paths"
        self.urls = f"{prefix}:state:urls"  # source URL or last answering URL -> key
        self.meta = f"{prefix}:state:meta"
        self._put = client.register_script(_PUT)
        self._install = client.register_script(_INSTALL)

    @staticmethod
    def _state(raw) -> ArticleState:
        return ArticleState(**json.loads(raw))

    def check(self) -> None:
        """Nothing to check: Redis holds whole values."""

    # --- reading ----------------------------------------------------------

    def get(self, key: str) -> ArticleState | None:
        raw = self.client.hget(self.articles, key)
        return self._state(raw) if raw else None

    def by_path(self, path: str) -> ArticleState | None:
        key = self.client.hget(self.paths, path)
        return self.get(key.decode() if isinstance(key, bytes) else key) if key else None

    def by_address(self, url: str) -> ArticleState | None:
        key = self.client.hget(self.urls, url)
        return self.get(key.decode() if isinstance(key, bytes) else key) if key else None

    def all(self) -> Iterator[ArticleState]:
        states = [self._state(raw) for raw in self.client.hvals(self.articles)]
        yield from sorted(states, key=lambda s: s.path)

    def count(self) -> int:
        return self.client.hlen(self.articles)

    def due(self, older_than: timedelta | None = None, site: str | None = None,
            keys: list[str] | None = None, limit: int | None = None, now: datetime | None = None) -> list[ArticleState]:
        """Articles to re-check, least recently checked first (as StateStore.due)."""
        states = list(self.all())
        if older_than is not None:
            cutoff = iso_utc((now or timefmt_now()) - older_than)
            states = [s for s in states if s.last_checked is None or s.last_checked <= cutoff]
        if site:
            states = [s for s in states if s.site == site]
        if keys is not None:
            wanted = set(keys)
            states = [s for s in states if s.key in wanted]
        states.sort(key=lambda s: (s.last_checked or "", s.path))
        return states[:int(limit)] if limit else states

    # --- writing ----------------------------------------------------------

    def put(self, state: ArticleState) -> None:
        data = json.dumps(dataclasses.asdict(state), ensure_ascii=False)
        self._put(keys=[self.articles, self.paths, self.urls],
                  args=[state.key, state.path, data, state.source_url, state.url or ""])


    def close(self) -> None:
        """The client belongs to the run; nothing to close here."""

    def __enter__(self) -> "RedisStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the archive's state, in and out ----------------------------------------

    def loaded_for(self) -> str | None:
        run = self.client.hget(self.meta, "run")
        return run.decode() if isinstance(run, bytes) else run

    def load(self, archive_dir, run_id: str, claim: tuple[str, str] | None = None) -> int:
        """Replace the Redis state by the archive's (rebuilt from the archive
        when missing or damaged), for ``run_id``, once: a state loaded for
        this run already is kept. A previous run's state that was never
        written back is written back first.

        ``claim`` (key, holder): the run's seeder key, which must still
        name this worker when the loaded state goes in (else
        :class:`ClaimLost`, nothing changed). Slow (a rebuild reads every
        article and WARC): run it off the reactor (crawler.extensions.archiveio), so
        the heartbeat keeps the claim alive meanwhile."""
        def held():
            return claim is None or self.client.get(claim[0]) == claim[1].encode()

        if self.loaded_for() == run_id:
            return self.count()
        if not held():
            raise ClaimLost(f"the state load for shared run {run_id} is no longer this worker's")
        previous = self.loaded_for()
        if previous and previous != run_id and self.client.hget(self.meta, "saved") != b"1":
            logger.warning("the capture state of shared run %s was never written back: writing it now", previous)
            self.save(archive_dir)
        with open_store(archive_dir) as sqlite:
            states = list(sqlite.all())
        staged = tuple(f"{name}:load:{claim[1] if claim else run_id}" for name in (self.articles, self.paths, self.urls))
        self.client.delete(*staged)
        for start in range(0, len(states), LOAD_BATCH):
            pipe = self.client.pipeline(transaction=False)
            for state in states[start:start + LOAD_BATCH]:
                pipe.hset(staged[0], state.key, json.dumps(dataclasses.asdict(state), ensure_ascii=False))
                pipe.hset(staged[1], state.path, state.key)
                for url in (state.url, state.source_url):  # the source URL wins a clash
                    if url:
                        pipe.hset(staged[2], url, state.key)
            for name in staged:
                pipe.expire(name, STAGED_TTL)
            pipe.execute()
        installed = self._install(keys=[claim[0] if claim else self.meta, *staged, self.articles, self.paths,
                                        self.urls, self.meta], args=[claim[1] if claim else "", run_id])
        if not installed:
            raise ClaimLost(f"the state load for shared run {run_id} is no longer this worker's")
        logger.info("capture state loaded into Redis for shared run %s: %d articles", run_id, len(states))
        return len(states)

    def save(self, archive_dir) -> int:
        """Write the Redis state to the archive's SQLite state, whole, in one
        transaction."""
        states = list(self.all())
        with open_store(archive_dir, rebuild_missing=False) as sqlite:
            db = sqlite.db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM articles")
                db.executemany(f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                               [dataclasses.astuple(s) for s in states])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self.client.hset(self.meta, "saved", "1")
        return len(states)

