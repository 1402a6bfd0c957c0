"""Write ``archive/index.cdxj`` for every closed WARC file when the crawl ends.

Runs on ``engine_stopped``, after the WARC writer has closed its file on
``spider_closed``. Uses cdxj-indexer (the pywb/webrecorder indexer), so the
index is what replay tools expect; written atomically through the storage
module.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.storage import ArchiveStore

logger = logging.getLogger(__name__)


def build_index(archive_dir) -> int:
    """(Re)build the sorted CDXJ index of all closed WARCs; returns its line count."""
    store = ArchiveStore(archive_dir)
    warcs = sorted(str(p) for p in store.path("warc").glob("*.warc.gz")) if store.exists("warc") else []
    out = io.StringIO()
    if warcs:
        CDXJIndexer(output=out, inputs=warcs, sort=True, dir_root=str(store.path("warc"))).process_all()
    text = out.getvalue()
    store.write_text("index.cdxj", text)
    return text.count("\n")


class CdxjIndex:
    def __init__(self, archive_dir):
        self.archive_dir = archive_dir

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not (s.getbool("WARC_ENABLED") and s.getbool("WARC_CDXJ_INDEX")):
            raise NotConfigured("CDXJ index is off")
        ext = cls(s.get("ARCHIVE_DIR"))
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self):
        lines = build_index(self.archive_dir)
        logger.info("CDXJ index: %d lines in %s", lines, Path(self.archive_dir) / "index.cdxj")
