"""How far a long crawl or refresh is: done / total, rate, time left, in the log.

Every ``PROGRESS_INTERVAL`` seconds (the way Scrapy's LogStats reports
pages/min), one line: seed URLs (or due articles) with an outcome, out of
how many, the rate, and the time left at that rate. The first line comes
after one interval, so a short run says nothing more than its summary.
Logged at INFO, and said on stderr too when the console is quiet (the default).
"""

from __future__ import annotations

import logging
import sys
import time

from itemadapter import ItemAdapter

from crawler import signals as crawler_signals
from crawler.featureoff import needs_number

logger = logging.getLogger(__name__)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class Progress:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.done: set[str] = set()
        self.started = None
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, needs_number(crawler.settings, "PROGRESS_INTERVAL", __name__, float))
        crawler_signals.connect_handlers(crawler, ext, "spider_opened", "spider_closed", "item_scraped", "item_dropped")
        for signal in (crawler_signals.url_failed, crawler_signals.article_gone,
                       crawler_signals.article_unchanged):
            crawler.signals.connect(ext.url_done, signal=signal)
        return ext

    def spider_opened(self, spider):
        from twisted.internet import task

        self.started = time.monotonic()
        self.task = task.LoopingCall(self.log, spider)
        self.task.start(self.interval, now=False)

    def item_scraped(self, item, spider):
        self.url_done(ItemAdapter(item).get("source_url"))

    def item_dropped(self, item, spider):
        self.url_done(ItemAdapter(item).get("source_url"))

    def url_done(self, url=None, **kwargs):
        if url:
            self.done.add(url)

    def line(self, spider, now: float | None = None) -> str:
        total = len(getattr(spider, "seed_urls", {}) or {})
        what = "articles" if spider.name == "refresh" else "seed URLs"
        done = len(self.done & set(getattr(spider, "seed_urls", {}) or {}))
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        rate = done / elapsed * 60
        left = f", about {_duration((total - done) / (done / elapsed))} left" if done and total > done else ""
        share = f" ({done / total:.0%})" if total else ""
        return f"progress: {done} of {total} {what} done{share}, {rate:.1f}/min{left}"

    def log(self, spider):
        line = self.line(spider)
        logger.info(line)
        if self.crawler.settings.getbool("CONSOLE_QUIET"):
            # a console left at warnings (crawler.commands.cli.quiet_console) still says how far the run is
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
