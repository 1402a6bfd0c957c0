"""The change feed and notification of a shared run (crawler/extensions/notify.py).

The add-on puts these in the single-machine extensions' place:

* :class:`SharedChangeFeed`: every worker rewrites the feed when the log grew
  since it started, holding the change log's lock across workers, so the
  last rewrite has every event.
* :class:`SharedChangeNotify`: the first worker to open notes in Redis where
  the change log ended; the last worker out, closing the run, notifies once
  with every event since then, whichever worker recorded it
  (crawler.signals.shared_run_closing).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from scrapy import signals

from crawler import signals as crawler_signals
from crawler.distributed.locks import named_lock
from crawler.distributed.run import SharedRun
from crawler.extensions.notify import ChangeFeed, ChangeNotify

logger = logging.getLogger(__name__)


class SharedChangeFeed(ChangeFeed):
    def _write(self) -> int | None:
        # the log's own lock: the last rewrite reads the last event
        with named_lock(self.crawler, "changelog"):
            return super()._write()


class SharedChangeNotify(ChangeNotify):
    def connect(self, signals_manager) -> None:
        signals_manager.connect(self.shared_spider_opened, signal=signals.spider_opened)
        signals_manager.connect(self.shared_run_closing, signal=crawler_signals.shared_run_closing)

    def _offset_key(self):
        run = SharedRun.of(self.crawler)
        return run.client, run.keys.run("changes_offset")

    def shared_spider_opened(self, spider):
        """The run's events start where the log ended when its first worker
        opened: no worker records anything before it has opened, and the
        run's keys outlive workers that die and are started again."""
        try:
            client, key = self._offset_key()
            client.set(key, self.events.log.size(), nx=True)
        except Exception as exc:  # noqa: BLE001 - never fails the run
            self._not_made(exc)

    def shared_run_closing(self):
        """This worker is the last out of the finished run: every worker's
        events are in the log."""
        try:
            client, key = self._offset_key()
            offset = client.get(key)
            if offset is None:
                raise LookupError("the run's start in the change log is not in Redis")
            note = self._note(self.events.log.events_since(int(offset)), f"shared {self._run_name()}",
                              "in shared run", logger)
        except Exception as exc:  # noqa: BLE001 - never fails the run
            self._not_made(exc)
            return
        if note is not None:
            # in a thread of its own: Apprise may run an event loop, and this is the reactor's thread
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify") as pool:
                self._report(pool.submit(self.send, *note).result())
