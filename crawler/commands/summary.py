"""``scrapy summary``: the summary of a shared run, from Redis (for cron).

Prints the latest finished shared run's summary (of ``qq`` or ``refresh``
when named, or of a run given with ``--run``) and exits with that run's
status, 0 or 1, as the single-machine crawl does. A run still in progress
is shown with its queue and the outcomes so far, and exits 75 (try later).
"""

from __future__ import annotations

import json

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.archive.lock import EXIT_LOCKED
from crawler.commands.cli import one_line_errors, reject_unknown_options


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[qq|refresh] [--run ID]"

    def short_desc(self) -> str:
        return "Print a shared run's summary (REDIS_URL); exit 1 if any seed URL failed, 75 while it runs"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--run", metavar="ID", help="this run (REDIS_RUN_ID) rather than the latest")
        one_line_errors(self, parser)

    def run(self, args, opts) -> None:
        from crawler.distributed.run import EXIT_UNAVAILABLE, Keys, RedisUnavailable, connect
        from crawler.distributed.summary import print_record

        reject_unknown_options(self, args)
        if len(args) > 1:
            raise UsageError("name at most one spider", print_help=False)
        if not self.settings.get("REDIS_URL"):
            raise UsageError("a shared run's summary needs -s REDIS_URL=redis://host:port/db", print_help=False)
        try:
            client = connect(self.settings)
        except RedisUnavailable as exc:
            print(exc, flush=True)
            self.exitcode = EXIT_UNAVAILABLE
            return
        keys = Keys(self.settings.get("REDIS_KEY_PREFIX"))
        current = client.get(keys.current)
        current = json.loads(current) if current else None
        run_id = opts.run
        if run_id is None and current and (not args or current["spider"] == args[0]):
            self.exitcode = self.in_progress(client, keys, current)
            return
        run_id = run_id or _text(client.get(keys.last(args[0] if args else None)))
        record = client.get(keys.done(run_id)) if run_id else None
        if record:
            self.exitcode = print_record(json.loads(record))
        elif current and current["id"] == run_id:
            self.exitcode = self.in_progress(client, keys, current)
        else:
            print(f"no finished shared run {'named ' + run_id if run_id else 'recorded'} under "
                  f"{self.settings.get('REDIS_KEY_PREFIX')!r}", flush=True)
            self.exitcode = 1

    @staticmethod
    def in_progress(client, keys, current) -> int:
        from collections import Counter

        from crawler.distributed.run import Keys

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
