"""A first capture whose worker died before recording it is recorded on redo.

A worker killed after writing an article's file but before its outcome was
recorded (the WARC text record, the capture state, the change log, the
summary) leaves a file the run never counted. The request goes back to the
queue; the worker that does it again finds the same text on disk, and the
Markdown pipeline calls it "unchanged". Then it is the first capture that was
not recorded: no state knows the article. :class:`FirstCaptureRepair` (after
the Markdown pipeline) makes the outcome "archived" again, so that the text
record, the state, the change log's "archived" line and the count follow.
If the dead worker had written the text record already (the run notes each
one in ``<run>:texts``), :class:`TextRecorded` (after the WARC metadata
pipeline) restores "archived" only after it, so it is not written twice.
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from crawler.distributed import enabled
from crawler.distributed.locks import item_key
from crawler.distributed.run import SharedRun
from crawler.storage import ArchiveStore

logger = logging.getLogger(__name__)


class _Base:
    def __init__(self, crawler):
        self.crawler = crawler
        self.run = SharedRun.of(crawler)
        self.archive = ArchiveStore(crawler.settings.get("ARCHIVE_DIR"))
        self.texts = self.run.keys.run("texts")

    @classmethod
    def from_crawler(cls, crawler):
        if not enabled(crawler.settings):
            raise NotConfigured("not a shared crawl")
        return cls(crawler)


class FirstCaptureRepair(_Base):
    """Order 350: between the Markdown and the WARC metadata pipelines."""

    def process_item(self, item, spider=None):
        from crawler.store import shared_store

        article = ItemAdapter(item)
        if article.get("outcome") != "unchanged" or not article.get("path"):
            return item
        key = item_key(item)
        if shared_store(self.crawler).get(key) is not None or not self.archive.exists(article["path"]):
            return item
        logger.warning("%s: first capture of %s not recorded by the worker that wrote it: recorded now",
                       article["source_url"], article["path"])
        self.crawler.stats.inc_value("shared/first_captures_repaired")
        if self.run.client.hexists(self.texts, key):
            TextRecorded.pending(self.crawler).add(id(item))  # its text record is written
        else:
            article["outcome"] = "archived"
        return item


class TextRecorded(_Base):
    """Order 450: after the WARC metadata pipeline."""

    @staticmethod
    def pending(crawler) -> set:
        found = getattr(crawler, "_repair_pending", None)
        if found is None:
            found = crawler._repair_pending = set()
        return found

    def process_item(self, item, spider=None):
        article = ItemAdapter(item)
        waiting = self.pending(self.crawler)
        if id(item) in waiting:
            waiting.discard(id(item))
            article["outcome"] = "archived"
        elif article.get("outcome") in ("archived", "updated") and article.get("source_url"):
            self.run.client.hset(self.texts, item_key(item), 1)
        return item
