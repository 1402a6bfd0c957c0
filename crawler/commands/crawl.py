"""``scrapy crawl`` with an exit status that cron can alert on.

Scrapy's own command exits 0 however many pages failed. This one runs
through the commands' one runner (crawler/commands/runner.py), which exits 1
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

from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.commands import runner
from crawler.commands.cli import SpiderCommand, check_spider_arguments


class Command(SpiderCommand, ScrapyCrawlCommand):
    summary = ("Run a spider; exit 1 if any seed URL could not be archived, 75 if the archive is in use, "
               "130 if interrupted")

    def check_arguments(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl qq`", print_help=False)
        check_spider(self, args[0], opts.spargs)

    def run(self, args, opts) -> None:
        self.exitcode = runner.run(self, args[0], opts.spargs)


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
