"""A shared run's work, pushed once: the seeds, or the articles due.

:class:`SharedStart`, a spider middleware the add-on lists next to the
spider, stands between every worker's spider and its ``start()``; one of
them, the first to take ``<run>:seeder``, lets the spider's start requests
through (the others never run it). It loads the capture state into Redis first (a
refresh chooses from it), in the archive I/O thread while its heartbeat
keeps the seeder key, and once per run (a state loaded for the run is kept;
one loaded by a worker that lost the key is never installed). It pushes
each start request under its fingerprint (``once``: pushed at most once per
run, atomically with the push), records the run's seed URLs for the
summary, and marks the run seeded. The others
wait in ``start()`` meanwhile (taking requests from the queue as they come),
so none of them can find the run empty and leave too early; if the seeder
dies, its key expires with its heartbeat and another takes over, pushing
only what was not pushed.
"""

from __future__ import annotations

import asyncio
import json
import logging

from scrapy.utils.request import fingerprint

from crawler.distributed.run import SharedRun
from crawler.distributed.scheduler import ONCE
from crawler.distributed.store import ClaimLost
from crawler.extensions.archiveio import run_io
from crawler.extensions.statestore import state_store

logger = logging.getLogger(__name__)

#: Seconds between two looks at the seeder while waiting.
POLL = 0.5


class SharedStart:
    """The spider's start requests, pushed once per run (by the seeder)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        async for request in shared_start(self.crawler, start):
            yield request


async def shared_start(crawler, start):
    """The start of a shared run; ``start``: the spider's own start requests
    (iterated by the seeder only)."""
    spider = crawler.spider
    run = SharedRun.of(crawler)
    seeder = run.keys.run("seeder")
    waited = False
    while True:
        if run.finished() or run.seeded():
            if not waited:
                logger.info("shared run %s: the work was pushed by another worker", run.run_id)
            return
        if not run.client.set(seeder, run.worker, nx=True, px=run.lease_ms):
            waited = True
            await asyncio.sleep(POLL)
            continue
        run.seeding = True  # the heartbeat keeps the seeder key alive from now on
        try:
            # Off the reactor, in the archive I/O thread: a rebuild of the
            # state reads every article and WARC, longer than the lease on a
            # big archive, and a reactor stalled that long would let the
            # seeder key lapse; another worker would then load a half-built
            # state, or take the half-built file for a damaged one.
            store = state_store(crawler)
            await run_io(crawler, store.load, crawler.settings.get("ARCHIVE_DIR"), run.run_id,
                         claim=(seeder, run.worker))
        except ClaimLost as exc:
            run.seeding = False
            logger.warning("shared run %s: %s; another worker seeds the run", run.run_id, exc)
            waited = True
            continue
        except BaseException:
            run.seeding = False
            raise
        break
    try:
        pushed = 0
        async for request in start:
            request.meta[ONCE] = fingerprint(request).hex()
            pushed += 1
            yield request
        seeds = [[url, name] for url, name in getattr(spider, "seed_urls", {}).items()]
        pipe = run.client.pipeline()
        pipe.set(run.keys.run("seed_urls"), json.dumps(seeds, ensure_ascii=False))
        pipe.set(run.keys.run("seeded"), "1")
        pipe.delete(seeder)
        pipe.execute()
        logger.info("shared run %s: %d start requests pushed to the shared queue", run.run_id, pushed)
    finally:
        run.seeding = False
