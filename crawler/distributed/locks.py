"""Locks across workers, in Redis (redis-py's ``Lock``: a token, an expiry,
release only by its holder).

* One per article (``<prefix>:lock:article:<key>``): taken by
  :class:`ArticleLockPipeline` before the Markdown pipeline reads the stored
  copy, held until the capture state and change log have recorded the
  outcome, so two workers never interleave writes to one article (its file,
  its versions, its state). The state extension takes it too for outcomes
  that come without an item (unchanged, gone, failed); within one process
  the lock is re-entrant.
* Named ones (``<prefix>:lock:<name>``): the change log, the CDXJ index.

A lock expires after ``REDIS_LEASE_TIMEOUT`` seconds, so a dead holder never
blocks the run; a live one holds it for milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import contextmanager

from itemadapter import ItemAdapter
from redis.exceptions import LockError, RedisError
from scrapy import signals
from scrapy.exceptions import DropItem

from crawler import sites
from crawler.distributed import enabled
from crawler.distributed.run import SharedRun
from crawler.extensions.lookup import extension
from crawler.featureoff import feature_off

logger = logging.getLogger(__name__)

#: Seconds between two tries of a lock someone else holds.
POLL = 0.05


class LockTimeout(RuntimeError):
    """A lock could not be had in time."""


def _lock(run: SharedRun, name: str, timeout: float | None = None):
    seconds = timeout if timeout is not None else run.lease_ms / 1000
    return run.client.lock(run.keys.archive(f"lock:{name}"), timeout=seconds, sleep=POLL)


def _release(lock, name: str) -> None:
    try:
        lock.release()
    except LockError:
        # it expired (held past REDIS_LEASE_TIMEOUT) and may be someone else's now
        logger.warning("lock %s had expired before it was released", name)
    except RedisError as exc:  # Redis lost: the lock expires by itself
        logger.warning("lock %s not released: %s", name, exc)


@contextmanager
def named_lock(crawler, name: str, timeout: float | None = None, wait: float | None = None):
    """Hold ``<prefix>:lock:<name>`` across workers (blocking, up to ``wait``
    seconds, by default the lock's own expiry)."""
    run = SharedRun.of(crawler)
    lock = _lock(run, name, timeout)
    patience = wait if wait is not None else (timeout if timeout is not None else run.lease_ms / 1000)
    if not lock.acquire(blocking=True, blocking_timeout=patience):
        raise LockTimeout(f"lock {name} not had within {patience:g} s")
    try:
        yield
    finally:
        _release(lock, name)


@contextmanager
def changelog_guard(crawler, event: dict):
    """Hold the change log's lock; yield whether ``event`` is new in this run
    (an event is its kind, its article and the version it replaced)."""
    run = SharedRun.of(crawler)
    name = f"{event.get('event')}|{event.get('article')}|{event.get('previous_version') or ''}"
    with named_lock(crawler, "changelog"):
        fresh = not run.client.sismember(run.keys.run("events"), name)
        yield fresh
        if fresh:  # marked once written (a crash in between repeats it rather than lose it)
            run.client.sadd(run.keys.run("events"), name)


class ArticleLocks:
    """This process's article locks, re-entrant (the pipeline holds one while
    the state extension records the same article). An extension (the add-on
    lists it), found with :meth:`of`; its run is the worker's, at first use."""

    def __init__(self, run: SharedRun | None = None, crawler=None):
        self._run, self.crawler = run, crawler
        self.held_locks: dict[str, list] = {}  # key -> [lock, depth]
        self.mutex = threading.Lock()  # the reactor and the archive I/O thread both take locks

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler=crawler)

    @classmethod
    def of(cls, crawler) -> "ArticleLocks":
        """The crawl's one (the extension)."""
        return extension(crawler, cls)

    @property
    def run(self) -> SharedRun:
        if self._run is None:
            self._run = SharedRun.of(self.crawler)
        return self._run

    def _try(self, key: str) -> bool:
        with self.mutex:
            entry = self.held_locks.get(key)
            if entry is not None:
                entry[1] += 1
                return True
            lock = _lock(self.run, f"article:{key}")
            if lock.acquire(blocking=False):
                self.held_locks[key] = [lock, 1]
                return True
            return False

    async def acquire(self, key: str) -> None:
        """Take the article's lock without blocking the reactor."""
        deadline = time.monotonic() + self.run.lease_ms / 1000
        while not self._try(key):
            if time.monotonic() > deadline:
                raise LockTimeout(f"article {key} is locked by another worker")
            await asyncio.sleep(POLL)

    def release(self, key: str) -> None:
        with self.mutex:
            entry = self.held_locks.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del self.held_locks[key]
        _release(entry[0], f"article:{key}")

    @contextmanager
    def held(self, key: str):
        """Blocking form, for signal handlers: waits only while another worker
        writes the same article."""
        deadline = time.monotonic() + self.run.lease_ms / 1000
        while not self._try(key):
            if time.monotonic() > deadline:
                raise LockTimeout(f"article {key} is locked by another worker")
            time.sleep(POLL)
        try:
            yield
        finally:
            self.release(key)


def item_key(item) -> str:
    article = ItemAdapter(item)
    return article.get("key") or sites.article_key(article["source_url"])


class ArticleLockPipeline:
    """First pipeline of a shared crawl: the lock of the article's file, from
    before it is read until its outcome is recorded (item scraped, dropped or failed)."""

    def __init__(self, locks: ArticleLocks, crawler=None):
        self.locks = locks
        self.crawler = crawler
        self.holding: dict[int, str] = {}  # id(item) -> the key it holds

    @classmethod
    def from_crawler(cls, crawler):
        if not enabled(crawler.settings):
            raise feature_off(__name__, "not a shared crawl")
        pipeline = cls(ArticleLocks.of(crawler), crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(pipeline.done, signal=signal)
        return pipeline

    async def process_item(self, item, spider=None):
        article = ItemAdapter(item)
        if article.get("source_url"):
            from crawler.pipelines.markdown import article_path

            article["key"] = item_key(item)
            # the file, not the key: two seed URLs of one article (share links
            # with other keys, one article id) are one file, written by one
            # worker at a time, the second finding the first's copy recorded
            name = f"file:{article_path(article)}"
            try:
                await self.locks.acquire(name)
            except RedisError as exc:
                raise DropItem(f"not archived: Redis lost ({exc})") from None
            self.holding[id(item)] = name
        return item

    async def done(self, item, **kwargs):
        """Release once the outcome is recorded. The state extension records
        it in the archive I/O thread, asked before this handler runs (it was
        connected first); that thread does one job at a time, in order, so an
        empty job queued now ends after it."""
        key = self.holding.pop(id(item), None)
        if key is None:
            return
        if self.crawler is not None:
            try:
                from crawler.extensions.archiveio import run_io
            except ImportError:  # no I/O thread: the state was recorded already
                pass
            else:
                await run_io(self.crawler, _nothing)
        self.locks.release(key)


def _nothing():
    return None
