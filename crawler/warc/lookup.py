"""The latest full capture of a URL, found through the archive's CDXJ index.

A refresh asks again for what it archived before (article images, say) and
should ask conditionally and store an unchanged answer as a revisit, as it
does for the articles themselves, whose captures the state names; and the
Hugo site shows the archived copy of an image, not the publisher's. Images
have no state rows; the index (sorted, one line a record, keyed by SURT as
cdxj-indexer writes it) is searched by bisection, and the record it points
at is read for its id, date, payload digest, validators or body.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from pathlib import Path

import surt
from warcio.archiveiterator import ArchiveIterator

logger = logging.getLogger(__name__)


def index_lines(index: Path, key: str) -> list[str]:
    """Every line of the sorted ``index`` whose SURT key is ``key`` (none if there is no index)."""
    if not Path(index).is_file():
        return []
    prefix = (key + " ").encode("utf-8")
    with open(index, "rb") as handle:
        lo, hi = 0, os.fstat(handle.fileno()).st_size
        while lo < hi:  # lo: at or before the start of the first line >= prefix
            mid = (lo + hi) // 2
            handle.seek(mid)
            handle.readline()  # the rest of the line mid falls in
            line = handle.readline()
            if line and line < prefix:
                lo = mid + 1
            else:
                hi = mid
        handle.seek(max(lo - 1, 0))
        if lo > 1:
            handle.readline()
        found = []
        for line in handle:
            if line.startswith(prefix):
                found.append(line.decode("utf-8"))
            elif line > prefix:
                break
        return found


def _responses(root: Path, url: str, warc_file: str | None = None, record_id: str | None = None):
    """``(record, its body)`` of each 200 ``response`` of ``url`` the index
    names, newest first, the body as stored (content-encoded as served);
    only those in ``warc_file`` and with ``record_id``, when given (a record
    of another id is passed over without its body being read). A line or a
    record that cannot be read is passed over, said."""
    index = root / "index.cdxj"
    if not index.is_file():
        return
    try:
        lines = index_lines(index, surt.surt(url))
    except (OSError, ValueError) as exc:
        logger.warning("index lookup of %s failed: %s", url, exc)
        return
    for line in reversed(lines):
        try:
            fields = json.loads(line.split(" ", 2)[2])
        except (IndexError, ValueError) as exc:
            logger.warning("index line for %s not readable: %s", url, exc)
            continue
        if fields.get("url") != url or fields.get("status") != "200" or fields.get("mime") == "warc/revisit" \
                or (warc_file and fields.get("filename") != warc_file):
            continue
        try:
            with open(root / "warc" / fields["filename"], "rb") as handle:
                handle.seek(int(fields["offset"]))
                record = next(iter(ArchiveIterator(handle)))
                if record.rec_type != "response" or (
                        record_id and record.rec_headers.get_header("WARC-Record-ID") != record_id):
                    continue
                body = record.raw_stream.read()
        except (OSError, StopIteration, ValueError, KeyError) as exc:
            logger.warning("capture of %s in %s not readable: %s", url, fields.get("filename"), exc)
            continue
        yield record, body


def _latest_response(root: Path, url: str):
    """``(record, its body)`` of the latest 200 ``response`` of ``url`` the
    index names, the body as stored (content-encoded as served); or None."""
    return next(_responses(root, url), None)


def latest_capture(archive_dir, url: str) -> dict | None:
    """The latest 200 ``response`` of ``url`` in the index: ``{"uri", "date",
    "record_id", "payload_digest", "etag", "last_modified"}``, or None."""
    found = _latest_response(Path(archive_dir), url)
    if found is None:
        return None
    record, _ = found
    http = record.http_headers
    return {"uri": url, "date": record.rec_headers.get_header("WARC-Date"),
            "record_id": record.rec_headers.get_header("WARC-Record-ID"),
            "payload_digest": record.rec_headers.get_header("WARC-Payload-Digest"),
            "etag": http.get_header("ETag"), "last_modified": http.get_header("Last-Modified")}


def latest_payload(archive_dir, url: str) -> tuple[bytes, str, str] | None:
    """``(body, content type, payload digest)`` of the latest capture of
    ``url``, the body decoded from the content coding it was served with
    (gzip, deflate); None when there is none, or its coding is another."""
    found = _latest_response(Path(archive_dir), url)
    return _payload(*found) if found is not None else None


def capture_payload(archive_dir, url: str, record_id: str, warc_file: str | None = None
                    ) -> tuple[bytes, str, str] | None:
    """``latest_payload`` of one capture of ``url``, the response record
    ``record_id`` (the capture an article's stored copy names), looked for in
    ``warc_file`` where the copy names it; None when the index names no such record."""
    found = next(_responses(Path(archive_dir), url, warc_file, record_id), None)
    return _payload(*found) if found is not None else None


def _payload(record, body: bytes) -> tuple[bytes, str, str] | None:
    """A response's body without its content coding, its type and digest."""
    http = record.http_headers
    coding = (http.get_header("Content-Encoding") or "identity").strip().lower()
    try:
        if coding in ("gzip", "x-gzip"):
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding != "identity":
            return None
    except zlib.error:
        return None
    return body, (http.get_header("Content-Type") or ""), record.rec_headers.get_header("WARC-Payload-Digest")
