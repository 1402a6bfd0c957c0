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

``(file, capture, text digest)`` says which outcome a piece of evidence is
about: the capture the text came from (``WARC-Concurrent-To``,
``record_id``), which the article file names in its front matter
(``warc_record_id``), tells a revert from the version it returns to; the
digest tells a file written by hand or by an earlier version apart.
Records written before they named the digest are matched by the capture.
Open WARCs (``.open``, a live or a dead worker's) are read too, up to their
last whole record. What was read is not read again: a WARC and the change
log are read on from where the last look ended, so a run that records many
outcomes late reads each record once. In the WARCs the CDXJ index covers, a
page's text records are found through the index, so a repair after a kill
reads a few records, not the whole archive.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import surt
from warcio.archiveiterator import ArchiveIterator

from crawler.archive.changelog import ChangeLog
from crawler.archive.storage import ArchiveStore
from crawler.core.digest import same_digest
from crawler.warc.lookup import index_lines

#: The archive's CDXJ index and what it covers (crawler/extensions/warcindex.py).
INDEX, INDEX_MANIFEST = "index.cdxj", "index.files.json"

logger = logging.getLogger(__name__)

RECORDED_EVENTS = ("archived", "changed")


def _warc_fields(payload: bytes) -> dict:
    fields = {}
    for line in payload.decode("utf-8", errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    return fields


def _matches(recorded, capture: str | None, digest: str | None) -> bool:
    """Whether one of the recorded (capture, digest) pairs is this version:
    what both sides know must agree, and something must be known. The
    capture tells a revert (the same text as an earlier version, a new
    capture) from the version it returns to."""
    for seen_capture, seen_digest in recorded:
        said = []  # what both sides know, and whether it agrees
        if seen_capture and capture:
            said.append(seen_capture == capture)
        if seen_digest and digest and same_digest(seen_digest, digest) is not None:
            said.append(same_digest(seen_digest, digest))  # (digests of two algorithms say nothing)
        if said and all(said):
            return True
    return False


class Evidence:
    """The versions of article files whose text record and event exist."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.log = ChangeLog(ArchiveStore(self.root))
        self.lock = threading.Lock()
        # what has been read: a WARC file's offset after its last whole record,
        # the change log's after its last whole line (both only grow)
        self._offsets: dict[str, int] = {}
        self._log_offset = 0
        # file -> the (capture, text digest) pairs recorded for it; either may
        # be unknown (None): records written before they named the digest
        self._texts: dict[str, set] = {}
        self._events: dict[str, set] = {}
        self._statuses: dict[str, str] = {}  # file -> its last gone/back event
        self._looked_up: set[str] = set()  # page URLs whose text records the index gave

    # --- questions ----------------------------------------------------------

    def text(self, path: str, capture: str | None, digest: str | None = None, url: str | None = None) -> bool:
        """Whether the text record of this version of the file was written.
        ``url``: the page it was extracted from (its ``fetched_url``), whose
        text records the CDXJ index finds in the WARCs it covers; without
        it, those are read whole too."""
        with self.lock:
            indexed = self._indexed() if url else {}
            if url and url not in self._looked_up:
                self._look_up(url, indexed)
            self._read_warcs(skip=indexed)
            return _matches(self._texts.get(path, ()), capture, digest)

    def event(self, path: str, capture: str | None, digest: str | None = None) -> bool:
        """Whether the change log has the archived/changed event of this version."""
        with self.lock:
            self._read_log()
            return _matches(self._events.get(path, ()), capture, digest)

    def last_status(self, path: str) -> str | None:
        """``gone`` or ``back``: the article's last such event in the change log
        (a run killed between logging one and recording its state logs it once)."""
        with self.lock:
            self._read_log()
            return self._statuses.get(path)

    # --- reading --------------------------------------------------------------

    def _read_log(self) -> None:
        """The change log's lines past what was read (a torn last line waits)."""
        size = self.log.size()
        if size < self._log_offset:  # replaced by a shorter file: read anew
            self._log_offset, self._events, self._statuses = 0, {}, {}
        if size == self._log_offset:
            return
        events, self._log_offset = self.log.whole_lines_since(self._log_offset)
        for event in events:
            if not isinstance(event, dict) or not event.get("article"):
                continue
            if event.get("event") in ("gone", "back"):
                self._statuses[event["article"]] = event["event"]
            elif event.get("event") in RECORDED_EVENTS:
                self._events.setdefault(event["article"], set()).add((event.get("record_id"), event.get("text_digest")))

    def _indexed(self) -> dict[str, int]:
        """The WARC files the CDXJ index covers, as they were indexed (name -> size)."""
        try:
            manifest = json.loads((self.root / INDEX_MANIFEST).read_text(encoding="utf-8"))
            return {name: entry["size"] for name, entry in manifest.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _look_up(self, url: str, indexed: dict[str, int]) -> None:
        """The metadata records beside ``url``'s text records in the indexed
        WARCs: each follows its text record, written in the same group."""
        self._looked_up.add(url)
        for line in index_lines(self.root / INDEX, surt.surt(f"urn:markdown:{url}")):
            fields = json.loads(line.split(" ", 2)[2])
            if fields.get("filename") not in indexed:
                continue  # read whole below
            try:
                with open(self.root / "warc" / fields["filename"], "rb") as handle:
                    handle.seek(int(fields["offset"]))
                    records = iter(ArchiveIterator(handle))
                    next(records)  # the text record
                    self._metadata(next(records))
            except (OSError, ValueError, KeyError, StopIteration) as exc:
                logger.debug("evidence: %s at %s not readable (%s)", url, fields.get("filename"), exc)

    def _metadata(self, record) -> None:
        if record.rec_type != "metadata":
            return
        fields = _warc_fields(record.content_stream().read())
        if fields.get("article-file"):
            self._texts.setdefault(fields["article-file"], set()).add(
                (record.rec_headers.get_header("WARC-Concurrent-To"), fields.get("text-digest")))

    def _read_warcs(self, skip: dict[str, int] | None = None) -> None:
        """Every WARC's records past what was read, but those the index
        covers (``skip``, name -> size as indexed); a file closed since (its
        ``.open`` name dropped) is read under its new name from its start."""
        folder = self.root / "warc"
        if not folder.is_dir():
            return
        for warc in sorted(folder.iterdir()):
            if not (warc.name.endswith(".warc.gz") or warc.name.endswith(".warc.gz.open")):
                continue
            if skip and warc.name in skip:
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
                    self._metadata(record)
                    # where it starts (read after its content: warcio reads to
                    # its end to tell): the next look reads on from the last
                    # record, which an open file may hold only in part
                    last = records.get_record_offset()
        except Exception as exc:  # a torn last record (an open file), a damaged file: what was read counts
            logger.debug("evidence: %s read up to a damaged or partial record (%s)", warc.name, exc)
        return last
