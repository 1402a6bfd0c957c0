"""Keep ``archive/index.cdxj`` up to date with the closed WARC files.

Runs on ``engine_stopped``, after the WARC writer has closed its file on
``spider_closed``. The index itself (incremental, checked, damaged files
left out and counted in ``warc/damaged_files`` so the crawl can exit
non-zero) is crawler/warc/index.py.
"""

from __future__ import annotations

from scrapy import signals

from crawler.featureoff import feature_off
from crawler.warc.index import update_index


class CdxjIndex:
    """Updates the index when the engine stops; records what it did in the
    stats (``warc/damaged_files``, ``warc/index_files_added``,
    ``warc/index_lines``, ``warc/index_rebuilt``, ``warc/index_failed``)."""

    def __init__(self, archive_dir, stats=None):
        self.archive_dir = archive_dir
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not (s.getbool("WARC_ENABLED") and s.getbool("WARC_CDXJ_INDEX")):
            raise feature_off(__name__, "CDXJ index is off")
        ext = cls(s.get("ARCHIVE_DIR"), crawler.stats)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self):
        update_index(self.archive_dir, self.stats)
