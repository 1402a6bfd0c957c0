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
last whole record. Files already read are not read again unless they grew.
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
        self._warcs: dict[str, tuple[int, set, set]] = {}  # name -> (size, pairs, digests)
        self._log_size = -1
        self._events: set = set()
        self._event_digests: set = set()
        self._event_files: set = set()

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
            return any((path, capture) in pairs or (path, digest) in digests
                       for _, pairs, digests in self._warcs.values())

    def event(self, path: str, capture: str | None, digest: str | None = None) -> bool:
        """Whether the change log has the archived/changed event of this version."""
        with self.lock:
            self._read_log()
            return (capture is not None and (path, capture) in self._events) or (path, digest) in self._event_digests

    # --- reading --------------------------------------------------------------

    def _read_log(self) -> None:
        path = self.root / CHANGELOG
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size == self._log_size:
            return
        events, digests = set(), set()
        with open(path, "rb") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a torn last line
                if isinstance(event, dict) and event.get("event") in RECORDED_EVENTS and event.get("article"):
                    if event.get("text_digest"):
                        digests.add((event["article"], event["text_digest"]))
                    elif event.get("record_id"):  # written before events named their text's digest
                        events.add((event["article"], event["record_id"]))
        self._events, self._event_digests, self._log_size = events, digests, size

    def _read_warcs(self) -> None:
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
            seen = self._warcs.get(warc.name)
            if seen is not None and seen[0] == size:
                continue
            self._warcs[warc.name] = (size, *self._scan(warc))
        for name in [n for n in self._warcs if not (folder / n).exists()]:
            del self._warcs[name]  # an .open file renamed when closed

    @staticmethod
    def _scan(warc: Path) -> tuple[set, set]:
        pairs, digests = set(), set()
        try:
            with open(warc, "rb") as handle:
                for record in ArchiveIterator(handle):
                    if record.rec_type != "metadata":
                        continue
                    fields = _warc_fields(record.content_stream().read())
                    path = fields.get("article-file")
                    if not path:
                        continue
                    if fields.get("text-digest"):
                        digests.add((path, fields["text-digest"]))
                    else:  # written before metadata records named their text's digest
                        pairs.add((path, record.rec_headers.get_header("WARC-Concurrent-To")))
        except Exception as exc:  # a torn last record (an open file), a damaged file: what was read counts
            logger.debug("evidence: %s read up to a damaged or partial record (%s)", warc.name, exc)
        return pairs, digests
