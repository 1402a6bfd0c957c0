"""The Scrapy add-on that turns a crawl into a worker of a shared run.

Listed in ``ADDONS`` (crawler/settings.py); it sees the final settings,
command line included. With ``REDIS_URL`` empty it changes nothing: the
single-machine crawl is exactly as it was. With it set:

* ``SCHEDULER``: scrapy-redis's scheduler with the leased queue and the
  per-run dupefilter (crawler.distributed.scheduler);
* the per-process summary is replaced by the run-wide one, the
  per-process CDXJ index by the locked one of crawler.distributed.extension,
  and the per-process WACZ (``WACZ_ON_CLOSE``) by the last worker's;
* ``ArticleLockPipeline`` runs before the article is written. Outcomes a
  dead worker wrote but never recorded are repaired as in a single-machine
  run (crawler.pipelines.recordrepair reads the archive's own evidence).
"""

from __future__ import annotations

from crawler.distributed import enabled

SUMMARY = "crawler.extensions.summary.CrawlSummary"
INDEX = "crawler.extensions.warcindex.CdxjIndex"
WACZ = "crawler.extensions.waczexport.WaczExport"


class SharedCrawlAddon:
    def update_settings(self, settings) -> None:
        if not enabled(settings):
            return
        settings.set("SCHEDULER", "crawler.distributed.scheduler.SharedScheduler", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "crawler.distributed.queue.LeasedQueue", priority="addon")
        extensions = settings["EXTENSIONS"]
        order = extensions.get(SUMMARY) or 500
        extensions[SUMMARY] = None
        extensions[INDEX] = None
        extensions[WACZ] = None  # WACZ_ON_CLOSE: the last worker out packs, once (extension.py)
        extensions["crawler.distributed.summary.SharedSummary"] = order
        extensions["crawler.distributed.extension.SharedCrawl"] = order + 5
        pipelines = settings["ITEM_PIPELINES"]
        pipelines["crawler.distributed.locks.ArticleLockPipeline"] = 100
