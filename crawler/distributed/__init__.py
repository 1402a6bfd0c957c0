"""A shared crawl on Redis: several workers, one archive, nothing lost when one dies.

``-s REDIS_URL=redis://host:port/db`` turns ``scrapy crawl qq`` and
``scrapy refresh`` into workers of one shared run (crawler/distributed/addon.py
switches the components; empty, the single-machine crawl is untouched):

* ``run.py``: joining a run, its keys, the run-wide lock that replaces the
  archive's file lock;
* ``queue.py`` / ``scheduler.py``: scrapy-redis's scheduler with a leased
  queue (a request taken and not finished goes back after a lease timeout)
  and a dupefilter per run;
* ``start.py``: the seeds (or the articles due) pushed once;
* ``store.py``: the capture state in Redis, loaded from and saved to the
  archive's SQLite state;
* ``locks.py``: one writer per article, and for the change log and index;
* ``summary.py``: outcomes counted run-wide, the crawl's summary;
* ``extension.py``: heartbeat, "nothing left" detection, the final index and
  the summary by the last worker out.

This module itself imports no Redis client, so the single-machine crawl
never needs one.
"""

from __future__ import annotations

from contextlib import nullcontext


def enabled(settings) -> bool:
    """True when the run is a shared crawl (``REDIS_URL`` is set)."""
    return bool(settings.get("REDIS_URL"))


def article_lock(crawler, key: str):
    """A context manager holding the article's lock across workers; a no-op
    for a single-machine crawl, or when this process holds it already."""
    if not enabled(crawler.settings):
        return nullcontext()
    from crawler.distributed.locks import ArticleLocks

    return ArticleLocks.of(crawler).held(key)


def changelog_guard(crawler):
    """The change log's guard for a shared crawl (None otherwise): a context
    manager per event, holding the log's lock and yielding whether the event
    is new in the run."""
    if not enabled(crawler.settings):
        return None
    from crawler.distributed.locks import changelog_guard as guard

    return lambda event: guard(crawler, event)
