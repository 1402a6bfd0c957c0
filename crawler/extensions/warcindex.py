"""Keep ``archive/index.cdxj`` up to date with the closed WARC files.

Runs on ``engine_stopped``, after the WARC writer has closed its file on
``spider_closed``. The index itself (incremental, checked, damaged files
left out and counted in ``warc/damaged_files`` so the crawl can exit
non-zero) is crawler/warc/index.py.
"""

from __future__ import annotations

from crawler.extensions.onstop import OnEngineStop
from crawler.extensions.warcwriter import WarcWriterExtension
from crawler.featureoff import feature_off
from crawler.warc.index import update_index


class CdxjIndex(OnEngineStop):
    """Updates the index when the engine stops; records what it did in the
    stats (``warc/damaged_files``, ``warc/index_files_added``,
    ``warc/index_lines``, ``warc/index_rebuilt``, ``warc/index_failed``)."""

    @classmethod
    def check(cls, settings) -> None:
        if not (settings.getbool("WARC_ENABLED") and settings.getbool("WARC_CDXJ_INDEX")):
            raise feature_off(__name__, "CDXJ index is off")

    @property
    def archive_dir(self) -> str:
        return self.settings.get("ARCHIVE_DIR")

    def written_files(self) -> list[str]:
        """The WARC files this crawl's own writer closed (whole by construction)."""
        ext = self.crawler.get_extension(WarcWriterExtension) if self.crawler is not None else None
        return list(ext.writer.closed_files) if ext is not None else []

    def engine_stopped(self):
        update_index(self.archive_dir, self.stats, written=self.written_files())
