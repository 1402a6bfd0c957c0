"""The crawl's one reader of the archive's own evidence, held by an extension.

crawler.state.recorded.Evidence reads the WARC text records and the change
log once, then only as they grow: one instance per crawl, so every
component asks the same one (:func:`recorded_evidence`).
"""

from __future__ import annotations

from crawler.extensions.lookup import extension
from crawler.state.recorded import Evidence


class RecordedEvidence:
    def __init__(self, archive_dir):
        self.evidence = Evidence(archive_dir)  # reads nothing until asked

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("ARCHIVE_DIR"))


def recorded_evidence(crawler) -> Evidence:
    """The crawl's one Evidence (the RecordedEvidence extension's)."""
    return extension(crawler, RecordedEvidence).evidence
