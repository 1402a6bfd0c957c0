"""A shared run's work, pushed once: the seeds, or the articles due.

Every worker runs the spider's ``start()``; one of them, the first to take
``<run>:seeder``, pushes. It loads the capture state into Redis first (a
refresh chooses from it), pushes each start request under its fingerprint
(``once``: pushed at most once per run, atomically with the push), records
the run's seed URLs for the summary, and marks the run seeded. The others
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

logger = logging.getLogger(__name__)

#: Seconds between two looks at the seeder while waiting.
POLL = 0.5


async def shared_start(spider, make_requests):
    """``spider.start()`` for a shared run; ``make_requests`` is the spider's
    own (synchronous) generator of start requests."""
    crawler = spider.crawler
    run = SharedRun.of(crawler)
    seeder = run.keys.run("seeder")
    waited = False
    while True:
        if run.finished() or run.seeded():
            if not waited:
                logger.info("shared run %s: the work was pushed by another worker", run.run_id)
            return
        if run.client.set(seeder, run.worker, nx=True, px=run.lease_ms):
            break
        waited = True
        await asyncio.sleep(POLL)
    run.seeding = True
    try:
        from crawler.store import shared_store

        store = shared_store(crawler)
        if store.loaded_for() != run.run_id:
            store.load(crawler.settings.get("ARCHIVE_DIR"), run.run_id)
        pushed = 0
        for request in make_requests():
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
