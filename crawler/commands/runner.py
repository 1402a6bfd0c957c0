"""The one runner of ``scrapy crawl`` and ``scrapy refresh``: the archive
held for the run, the exit status, the one list of failure stats.

Scrapy's own crawl exits 0 however many pages failed. A run here exits 1
when any seed URL could not be archived (``archive/seed_urls_failed``),
when any stat of the one list of run failures is set
(crawler.core.failures.RUN_FAILURE_STATS), when it cannot start, and when it
was stopped early for another reason; 75 when another run holds the
archive; 128 + the signal's number when a signal stopped it (130 for
Ctrl-C, 143 for SIGTERM), as a shell does.

What keeps other runs out is the ``RUN_COORDINATOR`` setting's class: the
archive's file lock (:class:`ArchiveLockRuns`) unless an add-on names
another. The shared crawl's add-on names its own (the run's slot in Redis)
in ``update_pre_crawler_settings``, which Scrapy applies to the command's
settings when it makes the crawler process: so this runner never imports
the shared crawl, and the one switch stays ``REDIS_URL``.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
from contextlib import contextmanager

from scrapy import signals
from scrapy.utils.misc import load_object

from crawler.archive.lock import NotStarted, archive_lock, check_archive_dir
from crawler.commands.cli import print_summary
from crawler.core.failures import RUN_FAILURE_STATS

logger = logging.getLogger(__name__)

#: Stats that must be 0 for a run to count as a success; a missing one means
#: the extension that sets it never finished.
FAILURE_STATS = ("archive/seed_urls_failed",)
#: The runs of a single machine: the archive's file lock.
DEFAULT_COORDINATOR = "crawler.commands.runner.ArchiveLockRuns"


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
    return 1 if any(stats.get(key) for key in RUN_FAILURE_STATS) else 0


def not_started(reason, status: int) -> int:
    """Say why a run did not start, on the terminal and in the log; its status."""
    print(f"not started: {reason}", flush=True)
    logger.error("not started: %s", reason)
    return status


def note_interruption(process, crawler) -> None:
    """Remember the signal that stops the run (Scrapy's shutdown handlers say it only in the
    log) as ``process.interrupted_by``, for the exit status. Scrapy installs its handlers as
    the reactor starts; once the engine has started, each is wrapped, and still does the
    stopping (and installs Scrapy's handler for a second signal, which stops at once)."""
    process.interrupted_by = None

    def wrap_handlers():
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if not callable(handler) or handler is signal.default_int_handler:
                continue  # not Scrapy's

            def remember(signum, frame, handler=handler):
                if not process.interrupted_by:
                    process.interrupted_by = signum
                    # Scrapy says it at INFO, which the console leaves out
                    sys.stderr.write(f"{signal.Signals(signum).name}: finishing the requests under way, "
                                     "then the summary (again to stop at once)\n")
                    sys.stderr.flush()
                return handler(signum, frame)

            signal.signal(signum, remember)

    crawler.signals.connect(wrap_handlers, signal=signals.engine_started, weak=False)


class ArchiveLockRuns:
    """The runs of one machine: one at a time per archive, by its file lock
    (crawler.archive.lock). The interface every ``RUN_COORDINATOR`` has:
    ``held(spider)``, a context manager around the run that raises
    :class:`~crawler.archive.lock.NotStarted` when the run must not start,
    and yields None to run, or the exit status of a run that has nothing to
    do (it has said why)."""

    def __init__(self, settings):
        self.settings = settings

    @contextmanager
    def held(self, spider: str):
        with archive_lock(self.settings.get("ARCHIVE_DIR"), self.settings.getfloat("ARCHIVE_LOCK_TIMEOUT"),
                          must_exist=spider == "refresh"):
            yield None


def coordinator(settings):
    """The ``RUN_COORDINATOR`` of these settings (add-ons applied), made."""
    return load_object(settings.get("RUN_COORDINATOR") or DEFAULT_COORDINATOR)(settings)


def skip_filtered_records(loggers=None) -> None:
    """Raise the root logger's level, and the ``scrapy`` logger's, to the
    lowest of the root's handlers' levels (``loggers``: others, for a test).

    Scrapy leaves the root logger at NOTSET and its own at DEBUG, and
    filters in the root's handlers, so every debug line of the crawl (Scrapy's
    "Crawled" and "Scraped", the libraries') is built as a record that every
    handler then drops. What any handler would show still comes through; a
    logger with handlers of its own, or a level already higher, is left as it is."""
    root, *others = loggers or (logging.getLogger(), logging.getLogger("scrapy"))
    levels = [handler.level for handler in root.handlers]
    if not levels:
        return
    for logger in (root, *others):
        if min(levels) > logger.level and (logger is root or not logger.handlers):
            logger.setLevel(min(levels))


def run(command, spider: str, spargs: dict) -> int:
    """Run one spider holding the archive; the exit status."""
    # Everything imported so far lives as long as the process: out of the
    # cyclic collector's sight, its full collections stop walking the ~90,000
    # container objects of the imported modules (about 6% of the crawl
    # process's CPU per page, measured with bench/throughput.py's pages).
    gc.freeze()
    settings = command.settings
    try:
        check_archive_dir(settings.get("ARCHIVE_DIR"))
        with coordinator(settings).held(spider) as ended:
            if ended is not None:
                return ended
            process = command.crawler_process
            crawler = process.create_crawler(spider)
            # when the engine starts: Scrapy sets the root logger back to NOTSET as the crawl starts
            crawler.signals.connect(skip_filtered_records, signal=signals.engine_started)
            process.crawl(crawler, **spargs)
            note_interruption(process, crawler)
            process.start()
            print_summary(crawler)  # a shared run's: the whole run's, from the worker that closed it
            return run_status(crawler, process)
    except NotStarted as exc:
        return not_started(exc, exc.status)
