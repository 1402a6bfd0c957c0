"""An outcome written to disk but never recorded is recorded when the article comes again.

The Markdown pipeline writes the article; the WARC text record, the capture
state and the change log follow. A crawl killed in between (``kill -9``, a
full disk on the WARC) leaves a file the archive's records do not know: a
first capture the state has no row for, or a new version whose text the
state's digest does not match. The next check finds the same text on disk
and would call it "unchanged", and the change would never be logged. This
pipeline (after the Markdown one) turns such an "unchanged" back into what
happened, "archived" or "updated" (the version the file replaced is the
newest under versions/), so that the text record, the state, the change log
and the summary follow. A shared crawl has its own (crawler.distributed.repair).
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from crawler import sites
from crawler.diffing import diff_articles
from crawler.iothread import run_io
from crawler.storage import ArchiveStore
from crawler.store import shared_store
from crawler.versions import article_versions

logger = logging.getLogger(__name__)


class UnrecordedOutcomes:
    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = ArchiveStore(crawler.settings.get("ARCHIVE_DIR"))

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.get("REDIS_URL"):
            raise NotConfigured("a shared crawl repairs with crawler.distributed.repair")
        return cls(crawler)

    async def process_item(self, item, spider=None):
        return await run_io(self.crawler, self.repair, item)

    def repair(self, item):
        article = ItemAdapter(item)
        if article.get("outcome") != "unchanged" or article.get("same_as") or not article.get("path") \
                or not self.archive.exists(article["path"]):
            return item  # (same_as: written by this run, under another seed URL)
        state = shared_store(self.crawler).get(article.get("key") or sites.article_key(article["source_url"]))
        if state is None:
            self._recorded_late(article, "archived", "first capture")
        # "unchanged": the file holds this text, so its digest is the article's
        elif state.text_digest and state.text_digest != article["text_digest"]:
            versions = article_versions(self.archive, article["path"])
            current, previous = versions[-1].text, versions[-2] if len(versions) >= 2 else None
            article["change"] = {
                "previous_version": previous.file if previous else None,
                "previous_record_id": previous.meta.get("warc_record_id") if previous else None,
                "counts": diff_articles(previous.text, current).counts if previous else None,
                "recorded_late": True,
            }
            self._recorded_late(article, "updated", "new version")
        return item

    def _recorded_late(self, article, outcome: str, what: str) -> None:
        logger.warning("%s: %s of %s was written but never recorded (the run that wrote it stopped): "
                       "recorded now", article["source_url"], what, article["path"])
        self.crawler.stats.inc_value("archive/recorded_late")
        self.crawler.stats.inc_value(f"archive/{outcome}")
        article["outcome"] = outcome
