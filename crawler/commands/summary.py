"""``scrapy summary``: the summary of a shared run, from Redis (for cron).

Prints the latest finished shared run's summary (of ``qq`` or ``refresh``
when named, or of a run given with ``--run``) and exits with that run's
status, 0 or 1, as the single-machine crawl does. A run still in progress
is shown with its queue and the outcomes so far, and exits 75 (try later).
The runs are the ``RUN_COORDINATOR``'s (crawler/commands/runner.py), which the
shared crawl's add-on names when ``REDIS_URL`` is set.
"""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.cli import ProjectCommand
from crawler.commands.runner import coordinator


class Command(ProjectCommand, ScrapyCommand):
    default_settings = {"LOG_ENABLED": False}

    usage = "[qq|refresh] [--run ID]"
    summary = "Print a shared run's summary (REDIS_URL); exit 1 if any seed URL failed, 75 while it runs"

    def add_own_options(self, parser) -> None:
        parser.add_argument("--run", metavar="ID", help="this run (REDIS_RUN_ID) rather than the latest")

    def check_arguments(self, args, opts) -> None:
        if len(args) > 1:
            raise UsageError("name at most one spider", print_help=False)

    def run(self, args, opts) -> None:
        runs = coordinator(self.settings)
        if not self.settings.get("REDIS_URL") or not hasattr(runs, "summary"):
            raise UsageError("a shared run's summary needs -s REDIS_URL=redis://host:port/db", print_help=False)
        self.exitcode = runs.summary(args[0] if args else None, opts.run)
