"""The capture state of a shared crawl: the add-on puts these in the
single-machine extensions' place (crawler/extensions/statestore.py,
crawler/extensions/state.py), which know nothing of Redis.

* :class:`SharedCaptureState`: the crawl's store is the run's, in Redis
  (crawler.distributed.store.RedisStore, the same interface), loaded from
  the archive's SQLite state by the worker that seeds the run and written
  back by the last one out.
* :class:`SharedStateRecorder`: records as a single machine does, holding
  the article's lock across workers meanwhile (re-entrant: the lock
  pipeline may hold it already), with the change log guarded by its lock
  and each event written once per run.
"""

from __future__ import annotations

from crawler.distributed.locks import ArticleLocks, changelog_guard
from crawler.distributed.run import SharedRun
from crawler.distributed.store import RedisStore
from crawler.extensions.state import ArchiveStateRecorder
from crawler.extensions.statestore import CaptureState


class SharedCaptureState(CaptureState):
    def build(self) -> RedisStore:
        run = SharedRun.of(self.crawler)
        return RedisStore(run.client, run.keys.prefix)


class SharedStateRecorder(ArchiveStateRecorder):
    def article_lock(self, key: str):
        return ArticleLocks.of(self.crawler).held(key)

    def changelog_guard(self):
        crawler = self.crawler
        return lambda event: changelog_guard(crawler, event)
