"""``scrapy crawl`` with an exit status that cron can alert on.

Scrapy's own command exits 0 however many pages failed. This one exits 1
when any seed URL could not be archived (the summary extension counts them
in ``archive/seed_urls_failed``), when the crawl cannot start, and when it
was stopped before it finished.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Run a spider; exit 1 if any seed URL could not be archived"

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl qq`")
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        stats = crawler.stats.get_stats() if crawler.stats else {}
        failed = stats.get("archive/seed_urls_failed")
        finished = stats.get("finish_reason") == "finished"
        # a crawl stopped early (Ctrl-C twice, a shutdown signal) or one whose
        # summary never ran has not shown that every seed URL was archived
        if self.crawler_process.bootstrap_failed or failed is None or failed or not finished:
            self.exitcode = 1
