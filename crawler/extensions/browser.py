"""The crawl's one headless browser, found by the download handlers with ``crawler.get_extension``.

Scrapy builds one download handler per scheme, so the http and https
handlers are two objects: the browser they share lives here. It is built,
and Playwright imported, on the first browser request (a crawl that needs
no browser starts none), and closed when the engine stops.
"""

from __future__ import annotations

from scrapy import signals

from crawler.extensions.guardports import port_policy


class SharedBrowser:
    def __init__(self, crawler):
        self.crawler = crawler
        self._renderer = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def renderer(self):
        """The crawl's renderer (crawler/browser/renderer.py), built on first use."""
        if self._renderer is None:
            # imported here: a crawl that needs no browser does not even load Playwright
            from crawler.browser.renderer import Renderer

            self._renderer = Renderer(self.crawler, port_policy(self.crawler))
            self.crawler.signals.connect(self._renderer.close, signal=signals.engine_stopped, weak=False)
        return self._renderer
