"""Extensions with one job to do when the engine stops (the CDXJ index, the WACZ).

By ``engine_stopped`` the WARC writer has closed its file (on
``spider_closed``) and the capture state holds the run's outcomes, so what
reads the archive whole runs then. Each is made from the settings and the
stats, and is off (``NotConfigured``, said at INFO) when :meth:`check` says so.
"""

from __future__ import annotations

from scrapy import signals


class OnEngineStop:
    def __init__(self, settings, stats=None, crawler=None):
        self.settings = settings
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        cls.check(crawler.settings)
        ext = cls(crawler.settings, crawler.stats, crawler)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    @classmethod
    def check(cls, settings) -> None:
        """Raise ``NotConfigured`` (crawler.featureoff) when the feature is off."""

    def engine_stopped(self) -> None:
        raise NotImplementedError
