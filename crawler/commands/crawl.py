"""``scrapy crawl`` with an exit status that cron can alert on.

Scrapy's own command exits 0 however many pages failed. This one exits 1
when any seed URL could not be archived (the summary extension counts them
in ``archive/seed_urls_failed``), as it does when the crawl cannot start.
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
        failed = crawler.stats.get_value("archive/seed_urls_failed", 0) if crawler.stats else 0
        if self.crawler_process.bootstrap_failed or failed:
            self.exitcode = 1
