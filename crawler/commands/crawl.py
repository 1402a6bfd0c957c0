"""``scrapy crawl`` with an exit status that cron can alert on.

Scrapy's own command exits 0 however many pages failed. This one exits 1
when any seed URL could not be archived (the summary extension counts them
in ``archive/seed_urls_failed``), when a WARC file is damaged
(``warc/damaged_files``), when the crawl cannot start, and when it was
stopped early for another reason. A run interrupted by a signal (Ctrl-C,
SIGTERM) exits 128 + the signal's number, as a shell does: 130 for Ctrl-C,
143 for SIGTERM; its summary says what was not done.

The console says warnings, errors and the summary only, the summary last
(``-v`` or ``-L INFO`` for the detail; a log file keeps it).
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.archive.lock import EXIT_LOCKED, ArchiveLocked, ArchiveUnusable, archive_lock, check_archive_dir
from crawler.commands.cli import (add_verbose, check_spider_arguments, one_line_errors, print_summary, quiet_console,
                                  reject_unknown_options)
from crawler.core.failures import RUN_FAILURE_STATS

logger = logging.getLogger(__name__)

#: Stats that must be 0 for a run to count as a success; a missing one means
#: the extension that sets it never finished.
FAILURE_STATS = ("archive/seed_urls_failed",)
#: Stats that must be 0 or absent: the one list of crawler.core.failures (damaged
#: or unwritten output, unrecorded outcomes, an unknown --article).
DAMAGE_STATS = RUN_FAILURE_STATS


def run_status(crawler, process, failure_stats=FAILURE_STATS) -> int:
    """0 when the run did everything it was asked to; 128 + the signal's number when a
    signal stopped it (130 for Ctrl-C); else 1."""
    try:
        stats = crawler.stats.get_stats() if crawler.stats else {}
    except RuntimeError:  # the spider never started (Scrapy sets the stats when it does)
        stats = {}
    signum = getattr(process, "interrupted_by", None)
    # "shutdown": stopped gracefully; none: a second signal stopped it at once
    if signum and not process.bootstrap_failed and stats.get("finish_reason") in ("shutdown", None):
        return 128 + signum
    if process.bootstrap_failed or stats.get("finish_reason") != "finished":
        # stopped early (Ctrl-C twice, a shutdown signal): not shown done
        return 1
    if any(stats.get(key) is None or stats.get(key) for key in failure_stats):
        return 1
    return 1 if any(stats.get(key) for key in DAMAGE_STATS) else 0


def not_started(reason, status: int) -> int:
    """Say why a run did not start, on the terminal and in the log; its status."""
    print(f"not started: {reason}", flush=True)
    logger.error("not started: %s", reason)
    return status


def locked_run(command, spider: str, spargs: dict) -> int:
    """Run one spider holding the archive's lock; the exit status."""
    # Everything imported so far lives as long as the process: out of the
    # cyclic collector's sight, its full collections stop walking the ~90,000
    # container objects of the imported modules (about 6% of the crawl
    # process's CPU per page, measured with bench/throughput.py's pages).
    gc.freeze()
    settings = command.settings
    try:
        check_archive_dir(settings.get("ARCHIVE_DIR"))
    except ArchiveUnusable as exc:
        return not_started(exc, 1)
    if settings.get("REDIS_URL"):
        # a shared crawl: the workers of one run share the archive, and the
        # run's slot in Redis (not a file lock) keeps other runs out
        from crawler.distributed.run import shared_run

        return shared_run(command, spider, spargs)
    try:
        with archive_lock(settings.get("ARCHIVE_DIR"), settings.getfloat("ARCHIVE_LOCK_TIMEOUT"),
                          must_exist=spider == "refresh"):
            crawler = command.crawler_process.create_crawler(spider)
            command.crawler_process.crawl(crawler, **spargs)
            note_interruption(command.crawler_process)
            command.crawler_process.start()
            print_summary(crawler)
            return run_status(crawler, command.crawler_process)
    except ArchiveLocked as exc:
        return not_started(exc, EXIT_LOCKED)
    except ArchiveUnusable as exc:
        return not_started(exc, 1)


def note_interruption(process) -> None:
    """Remember the signal that stops the run (Scrapy's shutdown handlers say it only in the
    log) as ``process.interrupted_by``, for the exit status."""
    process.interrupted_by = None
    for name in ("_signal_shutdown", "_signal_shutdown_reactorless"):
        handler = getattr(process, name, None)
        if handler is None:
            continue

        def remember(signum, frame, handler=handler):
            if not process.interrupted_by:
                process.interrupted_by = signum
                # Scrapy says it at INFO, which the console leaves out
                sys.stderr.write(f"{signal.Signals(signum).name}: finishing the requests under way, "
                                 "then the summary (again to stop at once)\n")
                sys.stderr.flush()
            return handler(signum, frame)

        setattr(process, name, remember)


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return ("Run a spider; exit 1 if any seed URL could not be archived, 75 if the archive is in use, "
                "130 if interrupted")

    def add_options(self, parser) -> None:
        super().add_options(parser)
        add_verbose(parser)
        one_line_errors(self, parser)

    def process_options(self, args, opts) -> None:
        # checked here, before Scrapy starts its logging: a mistake is the one line said
        super().process_options(args, opts)
        quiet_console(self, opts)
        reject_unknown_options(self, args)
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl qq`", print_help=False)
        check_spider(self, args[0], opts.spargs)

    def run(self, args, opts) -> None:
        self.exitcode = locked_run(self, args[0], opts.spargs)


def check_spider(command, name: str, spargs: dict) -> None:
    """Before anything is locked or made: the spider exists, takes these arguments, and
    has its seed folder."""
    loader = get_spider_loader(command.settings)
    try:
        spidercls = loader.load(name)
    except KeyError:
        raise UsageError(f"no spider {name!r}; the spiders: {', '.join(sorted(loader.list()))}",
                         print_help=False) from None
    check_spider_arguments(spidercls, spargs)
    if getattr(spidercls, "reads_seeds", False):
        folder = Path(spargs.get("seeds") or command.settings.get("SEEDS_DIR"))
        if not folder.is_dir():
            what = " is a file, not a folder" if folder.exists() else ""
            raise UsageError(f"seed folder not found: {folder.resolve()}{what} (-a seeds=DIR, or SEEDS_DIR)",
                             print_help=False)
