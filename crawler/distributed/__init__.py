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
* ``state.py``: the state store in Redis for the crawl, and the state
  recorder that holds each article's lock while it records;
* ``notify.py``: the change feed under the log's lock, one notification per run;
* ``summary.py``: outcomes counted run-wide, the crawl's summary;
* ``extension.py``: heartbeat, "nothing left" detection, the final index and
  the summary by the last worker out;
* ``runs.py``: the commands' ``RUN_COORDINATOR`` for a shared run (joining it,
  ``scrapy summary``).

Nothing outside this package imports it: the add-on (named by dotted path in
``ADDONS``) swaps its components in. This module itself imports no Redis
client, so the single-machine crawl never needs one.
"""

from __future__ import annotations


def enabled(settings) -> bool:
    """True when the run is a shared crawl (``REDIS_URL`` is set)."""
    return bool(settings.get("REDIS_URL"))
