"""One article's capture state: the row the state store keeps, and its statuses.

The model alone, so the SQLite store, its rebuild, the openers and a shared
crawl's Redis store all share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

FILENAME = "state.sqlite3"
SCHEMA_VERSION = 2
OK, GONE, FAILING = "ok", "gone", "failing"


@dataclass
class ArticleState:
    """Everything known about one archived article."""

    key: str  # canonical article key (crawler.sites.article_key)
    path: str  # articles/<site>/<name>.md
    site: str
    source_url: str  # the URL the seed names, written as the source link
    seed: str | None = None
    url: str | None = None  # the URL that answered last
    title: str | None = None
    status: str = OK
    failures: int = 0  # consecutive failed checks
    status_since: str | None = None  # when the status last changed (gone since...)
    last_error: str | None = None
    first_captured: str | None = None
    last_checked: str | None = None
    last_changed: str | None = None  # capture date of the current version
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None  # of the last full response
    text_digest: str | None = None  # crawler.core.digest.text_digest of the current version
    browser: int = 0  # 1: its text comes only from the page as a browser renders it
    warc_file: str | None = None  # the last full response capture
    warc_record_id: str | None = None
    warc_date: str | None = None
    warc_uri: str | None = None
    # the last full response whose extraction was refused (empty, collapsed,
    # too long: kept aside under rejected/), until a check succeeds: the same
    # payload again is a revisit of it, refused again without a second copy
    refused_record_id: str | None = None
    refused_date: str | None = None
    refused_uri: str | None = None
    refused_digest: str | None = None

    def original(self) -> dict | None:
        """The capture a revisit record refers to, or None."""
        if not (self.warc_record_id and self.warc_date and self.warc_uri and self.payload_digest):
            return None
        return {"uri": self.warc_uri, "date": self.warc_date, "record_id": self.warc_record_id,
                "payload_digest": self.payload_digest}

    def refused(self) -> dict | None:
        """The refused capture a revisit record refers to, or None."""
        if not (self.refused_record_id and self.refused_date and self.refused_uri and self.refused_digest):
            return None
        return {"uri": self.refused_uri, "date": self.refused_date, "record_id": self.refused_record_id,
                "payload_digest": self.refused_digest}


COLUMNS = [f.name for f in fields(ArticleState)]


class StoreDamaged(Exception):
    """The state file cannot be read as this version's state."""
