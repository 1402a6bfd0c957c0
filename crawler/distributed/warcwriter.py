"""A shared run's WARC writer: before it closes another worker's ``.open``
file left from a crash, it asks the run whether that file's machine still
has a live worker (SharedCrawl.warc_in_use). The add-on puts it in place of
the single-machine extension."""

from __future__ import annotations

from crawler.distributed.extension import SharedCrawl
from crawler.extensions.lookup import extension
from crawler.extensions.warcwriter import WarcWriterExtension


class SharedWarcWriter(WarcWriterExtension):
    def in_use(self, name: str, stat=None) -> bool:
        return extension(self.crawler, SharedCrawl).warc_in_use(name, stat)
