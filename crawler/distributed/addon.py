"""The Scrapy add-on that turns a crawl into a worker of a shared run.

Listed in ``ADDONS`` (crawler/settings.py); it sees the final settings,
command line included. With ``REDIS_URL`` empty it changes nothing: the
single-machine crawl is exactly as it was, and never imports this package
beyond this module. With it set:

* ``RUN_COORDINATOR`` (before any crawler is made, in the command's own
  settings): the run is held by its slot in Redis, not the archive's file
  lock (crawler.distributed.runs);
* ``SCHEDULER``: scrapy-redis's scheduler with the leased queue and the
  per-run dupefilter (crawler.distributed.scheduler);
* the extensions that hold the worker's run and article locks; subclasses in
  place of the single-machine state store and recorder (crawler.distributed.state)
  and change feed and notification (crawler.distributed.notify);
* the per-process summary is replaced by the run-wide one, the
  per-process CDXJ index by the locked one of crawler.distributed.extension,
  and the per-process WACZ (``WACZ_ON_CLOSE``) by the last worker's;
* ``SharedStart`` pushes the start requests once per run;
* ``ArticleLockPipeline`` runs before the article is written. Outcomes a
  dead worker wrote but never recorded are repaired as in a single-machine
  run (crawler.pipelines.recordrepair reads the archive's own evidence).
"""

from __future__ import annotations

from crawler.distributed import enabled

SUMMARY = "crawler.extensions.summary.CrawlSummary"
INDEX = "crawler.extensions.warcindex.CdxjIndex"
WACZ = "crawler.extensions.waczexport.WaczExport"
#: single-machine extension -> the shared run's subclass, in its place and order
REPLACED = {
    "crawler.extensions.statestore.CaptureState": "crawler.distributed.state.SharedCaptureState",
    "crawler.extensions.state.ArchiveStateRecorder": "crawler.distributed.state.SharedStateRecorder",
    "crawler.extensions.notify.ChangeFeed": "crawler.distributed.notify.SharedChangeFeed",
    "crawler.extensions.notify.ChangeNotify": "crawler.distributed.notify.SharedChangeNotify",
    "crawler.extensions.warcwriter.WarcWriterExtension": "crawler.distributed.warcwriter.SharedWarcWriter",
}


class SharedCrawlAddon:
    @classmethod
    def update_pre_crawler_settings(cls, settings) -> None:
        """Scrapy applies this to the command's settings when it makes the
        crawler process: the commands' one runner holds the run by it."""
        if enabled(settings):
            settings.set("RUN_COORDINATOR", "crawler.distributed.runs.SharedRuns", priority="addon")

    def update_settings(self, settings) -> None:
        if not enabled(settings):
            return
        settings.set("SCHEDULER", "crawler.distributed.scheduler.SharedScheduler", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "crawler.distributed.queue.LeasedQueue", priority="addon")
        extensions = settings["EXTENSIONS"]
        # the worker's run and its article locks, found by class (get_extension)
        extensions["crawler.distributed.run.RunHandle"] = 0
        extensions["crawler.distributed.locks.ArticleLocks"] = 1
        for alone, shared in REPLACED.items():
            order = extensions.get(alone)
            if order is not None:
                extensions[alone] = None
                extensions[shared] = order
        order = extensions.get(SUMMARY) or 500
        extensions[SUMMARY] = None
        extensions[INDEX] = None
        extensions[WACZ] = None  # WACZ_ON_CLOSE: the last worker out packs, once (extension.py)
        extensions["crawler.distributed.summary.SharedSummary"] = order
        extensions["crawler.distributed.extension.SharedCrawl"] = order + 5
        # next to the spider: the built-in middlewares see the start requests as before
        settings["SPIDER_MIDDLEWARES"]["crawler.distributed.start.SharedStart"] = 1050
        pipelines = settings["ITEM_PIPELINES"]
        pipelines["crawler.distributed.locks.ArticleLockPipeline"] = 100
