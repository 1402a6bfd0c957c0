"""The end-of-crawl summary: fetched, archived, unchanged, failed by reason.

Every seed URL ends with an outcome; one that never got one (its request
vanished, say) is failed with that said. The count of failed seed URLs goes
into the stats as ``archive/seed_urls_failed``, which the ``crawl`` command
turns into a non-zero exit status for cron. A run interrupted by a signal
(finish reason ``shutdown``) did not fail the seed URLs it never reached: they
are counted as not done (``archive/seed_urls_not_done``), to run again.

The summary is logged at INFO (a log file keeps it) and kept as
``crawler.run_summary`` for the commands to print last.
"""

from __future__ import annotations

import logging
from collections import Counter

from itemadapter import ItemAdapter

from crawler import signals as crawler_signals

logger = logging.getLogger(__name__)


class CrawlSummary:
    def __init__(self, crawler):
        self.crawler = crawler
        self.outcomes: dict[str, str] = {}  # seed URL -> outcome
        self.failures: dict[str, str] = {}  # seed URL -> reason
        self.kinds: dict[str, str] = {}  # seed URL -> kind of failure, for counting
        self.paths: dict[str, str] = {}  # seed URL -> article file
        self.gone: dict[str, str] = {}  # seed URL -> why it is gone (refresh)
        self.back: set[str] = set()  # seed URLs of articles that were gone and answer again
        self.interrupted = ""  # the summary's last line when a signal stopped the run

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler_signals.connect_handlers(crawler, ext, "item_scraped", "item_dropped", "item_error", "url_failed",
                                         "article_unchanged", "article_gone", "article_back", "spider_closed")
        return ext

    def item_scraped(self, item, response, spider):
        article = ItemAdapter(item)
        url = article.get("source_url")
        self.outcomes[url] = article.get("outcome") or "archived"
        self.paths[url] = article.get("path")
        self.failures.pop(url, None)

    def article_unchanged(self, url, key=None, spider=None):
        self.outcomes[url] = "unchanged"
        self.failures.pop(url, None)

    def article_gone(self, url, reason, key=None, spider=None):
        self.outcomes[url] = "gone"
        self.gone[url] = reason

    def article_back(self, url, key=None, spider=None):
        self.back.add(url)

    def item_dropped(self, item, response, exception, spider):
        self.url_failed(ItemAdapter(item).get("source_url"), str(exception), spider,
                        kind=getattr(exception, "kind", None) or _reason_kind(str(exception)))

    def item_error(self, item, response, spider, failure):
        reason = f"pipeline error: {failure.type.__name__}: {failure.getErrorMessage()}"
        self.url_failed(ItemAdapter(item).get("source_url"), reason, spider,
                        kind=f"pipeline error: {failure.type.__name__}")

    def url_failed(self, url, reason, spider, kind=None):
        if self.outcomes.get(url) in ("archived", "updated", "unchanged", "gone"):
            return
        self.outcomes[url] = "failed"
        self.failures[url] = reason
        self.kinds[url] = kind or _reason_kind(reason)

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        seed_urls = list(getattr(spider, "seed_urls", {}) or {})
        not_done = [url for url in seed_urls if url not in self.outcomes] if reason == "shutdown" else []
        for url in seed_urls:
            if url not in self.outcomes and url not in not_done:
                self.url_failed(url, f"no result (crawl ended: {reason})", spider)
        self.interrupted = (f"interrupted: {len(not_done)} not done, run again to finish" if not_done else
                            "interrupted: every seed URL was done") if reason == "shutdown" else ""
        counts = Counter(self.outcomes.get(url) for url in seed_urls)
        failed_by_reason = Counter(k for u, k in self.kinds.items() if u in seed_urls and u in self.failures)
        # every response the run fetched, the browser's subresources too (the WARC holds them all)
        by_browser = stats.get_value("browser/responses", 0)
        fetched = stats.get_value("downloader/response_count", 0) + by_browser
        stats.set_value("archive/seed_urls", len(seed_urls))
        stats.set_value("archive/seed_urls_failed", counts["failed"])
        stats.set_value("archive/seed_urls_not_done", len(not_done))
        if spider.name == "refresh":
            stats.set_value("refresh/back", len(self.back))
            return self._refresh_summary(seed_urls, counts, failed_by_reason)
        if not seed_urls:
            # nothing to do is a misconfiguration cron should hear about
            stats.set_value("archive/seed_urls_failed", 1)
            logger.error("no seed URL to crawl: every seed was skipped (see the warnings above)")
        lines = [
            "crawl summary",
            f"  seed URLs:  {len(seed_urls)}",
            f"  fetched:    {fetched} responses ({stats.get_value('archive/images/fetched', 0)} images"
            + (f", {by_browser} by the browser for its pages)" if by_browser else ")"),
            f"  archived:   {counts['archived']} new, {counts['updated']} changed",
            f"  unchanged:  {counts['unchanged']}",
            f"  failed:     {counts['failed']}",
        ]
        for kind, n in sorted(failed_by_reason.items()):
            lines.append(f"    {n} x {kind}")
        for url in seed_urls:
            if url in self.failures:
                lines.append(f"    - {_short(url)}: {_short(self.failures[url], 500)}")
        self._say(lines)

    def _refresh_summary(self, urls, counts, failed_by_reason):
        """checked / unchanged / changed / gone / back / failed, each changed
        article by name (a refresh with nothing due is not a failure)."""
        # a run stopped early did not check what it never reached
        unreached = sum(1 for u in urls if self.outcomes.get(u) is None
                        or self.failures.get(u, "").startswith("no result"))
        lines = ["refresh summary", f"  checked:    {len(urls) - unreached} of {len(urls)} due",
                 f"  unchanged:  {counts['unchanged']}",
                 f"  changed:    {counts['updated'] + counts['archived']}"]
        lines += [f"    - {self.paths.get(u) or u} ({u})" for u in urls if self.outcomes.get(u) in ("updated", "archived")]
        lines.append(f"  gone:       {counts['gone']}")
        lines += [f"    - {u}: {self.gone[u]}" for u in urls if u in self.gone]
        lines.append(f"  back:       {len(self.back)}")
        lines += [f"    - {u}" for u in urls if u in self.back]
        lines.append(f"  failed:     {counts['failed']}")
        lines += [f"    {n} x {kind}" for kind, n in sorted(failed_by_reason.items())]
        lines += [f"    - {_short(u)}: {_short(self.failures[u], 500)}" for u in urls if u in self.failures]
        self._say(lines)

    def _say(self, lines):
        """Into the log at INFO, and for the command to print last; an interrupted run says so
        on its last line."""
        if self.interrupted:
            lines = [*lines, self.interrupted]
        text = "\n".join(lines)
        self.crawler.run_summary = text
        logger.info(text)


def _reason_kind(reason: str) -> str:
    """A reason without its detail, for counting, where no kind was given:
    the words before the first colon, semicolon, parenthesis or URL."""
    head = reason.split("://")[0]
    for sep in (":", ";", "("):
        head = head.split(sep)[0]
    for word in (" at http", " at https", " http", " https"):
        if head.endswith(word):
            head = head[: -len(word)]
    return head.strip() or reason


def _short(text: str, limit: int = 200) -> str:
    """A URL or reason for the summary: a 30,000-character URL is named, not printed."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
