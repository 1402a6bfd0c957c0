"""What the archive's own records say was recorded: the evidence a repair and a rebuild read.

An outcome is written in this order: the article file, then its WARC text
record (with its metadata record, in one write), then its change-log event,
then the capture state. A run killed in between, or a state deleted or
rebuilt, must not hide an outcome that was written but not recorded, nor
record one twice. The state is derived; these two are the evidence:

* a WARC ``metadata`` record naming the article file (``article-file``) and
  the digest of its text (``text-digest``): the text record went out with
  it, in the same write;
* a change-log ``archived``/``changed`` event naming the article file and
  the digest of its text (``text_digest``).

``(file, text digest)`` says which outcome a piece of evidence is about.
Records written before they named the digest are matched by the capture
the text came from instead (``WARC-Concurrent-To``, ``record_id``), which
the article file names in its front matter (``warc_record_id``).
Open WARCs (``.open``, a live or a dead worker's) are read too, up to their
last whole record. What was read is not read again: a WARC and the change
log are read on from where the last look ended, so a run that records many
outcomes late reads each record once.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.changelog import FILENAME as CHANGELOG

logger = logging.getLogger(__name__)

RECORDED_EVENTS = ("archived", "changed")


def _warc_fields(payload: bytes) -> dict:
    fields = {}
    for line in payload.decode("utf-8", errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    return fields


class Evidence:
    """The (article file, text digest) pairs whose text record and event exist."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.lock = threading.Lock()
        # what has been read: a WARC file's offset after its last whole record,
        # the change log's after its last whole line (both only grow)
        self._offsets: dict[str, int] = {}
        self._log_offset = 0
        self._text_pairs: set = set()  # (file, capture) of records without a digest
        self._text_digests: set = set()  # (file, text digest)
        self._events: set = set()
        self._event_digests: set = set()

    @classmethod
    def of(cls, crawler) -> "Evidence":
        """The crawl's one instance (its files are read once, then as they grow)."""
        found = getattr(crawler, "_recorded_evidence", None)
        if found is None:
            found = crawler._recorded_evidence = cls(crawler.settings.get("ARCHIVE_DIR"))
        return found

    # --- questions ----------------------------------------------------------

    def text(self, path: str, capture: str | None, digest: str | None = None) -> bool:
        """Whether the text record of this version of the file was written."""
        with self.lock:
            self._read_warcs()
            return (path, digest) in self._text_digests or (capture is not None and (path, capture) in self._text_pairs)

    def event(self, path: str, capture: str | None, digest: str | None = None) -> bool:
        """Whether the change log has the archived/changed event of this version."""
        with self.lock:
            self._read_log()
            return (path, digest) in self._event_digests or (capture is not None and (path, capture) in self._events)

    # --- reading --------------------------------------------------------------

    def _read_log(self) -> None:
        """The change log's lines past what was read (a torn last line waits)."""
        path = self.root / CHANGELOG
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size < self._log_offset:  # replaced by a shorter file: read anew
            self._log_offset, self._events, self._event_digests = 0, set(), set()
        if size == self._log_offset:
            return
        with open(path, "rb") as handle:
            handle.seek(self._log_offset)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a line being written: read next time
                self._log_offset += len(line)
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a torn line a crash left
                if isinstance(event, dict) and event.get("event") in RECORDED_EVENTS and event.get("article"):
                    if event.get("text_digest"):
                        self._event_digests.add((event["article"], event["text_digest"]))
                    elif event.get("record_id"):  # written before events named their text's digest
                        self._events.add((event["article"], event["record_id"]))

    def _read_warcs(self) -> None:
        """Every WARC's records past what was read; a file closed since (its
        ``.open`` name dropped) is read under its new name from its start."""
        folder = self.root / "warc"
        if not folder.is_dir():
            return
        for warc in sorted(folder.iterdir()):
            if not (warc.name.endswith(".warc.gz") or warc.name.endswith(".warc.gz.open")):
                continue
            try:
                size = warc.stat().st_size
            except FileNotFoundError:  # closed (renamed) meanwhile: its new name is read
                continue
            offset = self._offsets.get(warc.name, 0)
            if size > offset:
                self._offsets[warc.name] = self._scan(warc, offset)

    def _scan(self, warc: Path, offset: int) -> int:
        """Read the metadata records from ``offset`` (a record's start); the
        start of the last record read (offsets in the file: the iterator
        starts from the handle's position)."""
        last = offset
        try:
            with open(warc, "rb") as handle:
                handle.seek(offset)
                records = ArchiveIterator(handle)
                for record in records:
                    if record.rec_type == "metadata":
                        fields = _warc_fields(record.content_stream().read())
                        path = fields.get("article-file")
                        if path and fields.get("text-digest"):
                            self._text_digests.add((path, fields["text-digest"]))
                        elif path:  # written before metadata records named their text's digest
                            self._text_pairs.add((path, record.rec_headers.get_header("WARC-Concurrent-To")))
                    # where it starts (read after its content: warcio reads to
                    # its end to tell): the next look reads on from the last
                    # record, which an open file may hold only in part
                    last = records.get_record_offset()
        except Exception as exc:  # a torn last record (an open file), a damaged file: what was read counts
            logger.debug("evidence: %s read up to a damaged or partial record (%s)", warc.name, exc)
        return last
