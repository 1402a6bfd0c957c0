"""The crawl's one headless browser, found by the download handlers with ``crawler.get_extension``.

Scrapy builds one download handler per scheme, so the http and https
handlers are two objects: the browser they share lives here. It is built,
and Playwright imported, on the first browser request (a crawl that needs
no browser starts none), and closed when the engine stops.
"""

from __future__ import annotations

from crawler.extensions.guardports import port_policy
from crawler.extensions.lookup import SharedObject


class SharedBrowser(SharedObject):
    def build(self):
        # imported here: a crawl that needs no browser does not even load Playwright
        from crawler.browser.renderer import Renderer

        return Renderer(self.crawler, port_policy(self.crawler))

    def renderer(self):
        """The crawl's renderer (crawler/browser/renderer.py), built on first use."""
        return self.held()
