"""The shared crawl's ``RUN_COORDINATOR``: a run held by its slot in Redis.

The commands' one runner (crawler/commands/runner.py) asks the coordinator
its settings name to hold the archive for a run; the shared crawl's add-on
names this one when ``REDIS_URL`` is set. Holding means joining the run in
progress on the archive, or starting one (crawler.distributed.run.join):
the workers of one run share the archive, and the run's slot keeps other
runs out. It also answers ``scrapy summary``: a finished run's record, or
the progress of the run under way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from contextlib import contextmanager

from crawler.archive.lock import EXIT_LOCKED, NotStarted
from crawler.distributed.run import EXIT_UNAVAILABLE, Keys, RedisUnavailable, RunFinished, connect, join
from crawler.distributed.summary import print_record

logger = logging.getLogger(__name__)


class SharedRuns:
    def __init__(self, settings):
        self.settings = settings

    @contextmanager
    def held(self, spider: str):
        """Join (or start) the archive's shared run of ``spider`` for the
        crawl; a run named by REDIS_RUN_ID that has finished is not run
        again: its summary is printed, and its status is the exit status."""
        settings = self.settings
        try:
            client = connect(settings)
            run_id, started = join(client, settings, spider)
        except RedisUnavailable as exc:
            raise NotStarted(exc, EXIT_UNAVAILABLE) from None
        except RunFinished as exc:
            print(f"shared run {exc.record.get('run')} has finished already; its summary:", flush=True)
            yield print_record(exc.record)
            return
        client.close()
        logger.info("%s shared run %s (%s)", "started" if started else "joined", run_id, spider)
        settings.set("REDIS_RUN_ID", run_id, priority="cmdline")
        yield None

    # --- scrapy summary ---------------------------------------------------------

    def summary(self, spider: str | None, run_id: str | None) -> int:
        """Print the latest finished run's summary (of ``spider`` if named, or
        the run ``run_id``); its exit status, 75 for a run in progress."""
        try:
            client = connect(self.settings)
        except RedisUnavailable as exc:
            print(exc, flush=True)
            return EXIT_UNAVAILABLE
        keys = Keys(self.settings.get("REDIS_KEY_PREFIX"))
        current = client.get(keys.current)
        current = json.loads(current) if current else None
        if run_id is None and current and (not spider or current["spider"] == spider):
            return self.in_progress(client, keys, current)
        run_id = run_id or _text(client.get(keys.last(spider)))
        record = client.get(keys.done(run_id)) if run_id else None
        if record:
            return print_record(json.loads(record))
        if current and current["id"] == run_id:
            return self.in_progress(client, keys, current)
        print(f"no finished shared run {'named ' + run_id if run_id else 'recorded'} under "
              f"{self.settings.get('REDIS_KEY_PREFIX')!r}", flush=True)
        return 1

    @staticmethod
    def in_progress(client, keys, current) -> int:
        run = Keys(keys.prefix, current["id"])
        pipe = client.pipeline()
        pipe.zcard(run.run("queue:pending"))
        pipe.zcard(run.run("queue:leases"))
        pipe.hvals(run.run("outcomes"))
        pipe.smembers(run.run("workers"))
        pending, leased, outcomes, workers = pipe.execute()
        counts = Counter(_text(o) for o in outcomes)
        print(f"shared run {current['id']} ({current['spider']}) in progress since {current['started']}:\n"
              f"  workers:    {len(workers)}\n  waiting:    {pending} requests\n  leased:     {leased}\n"
              + "".join(f"  {name + ':':<11} {counts[name]}\n" for name in sorted(counts)), end="", flush=True)
        return EXIT_LOCKED


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
