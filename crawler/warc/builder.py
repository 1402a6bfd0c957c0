"""WARC records built and serialised with warcio's public API, one gzip member each.

warcio's ``RecordBuilder`` makes the records (``create_warc_record`` and
friends) and ``WARCWriter.write_record`` serialises them: digests, the
computed ``Content-Length``, the header block and trailer. Compression is
ours: warcio's own gzip wrapper is fixed at level 9, and a writer that must
cut a failed write back to the last whole record needs each record as one
gzip member in memory, not streamed to a file. So ``write_record`` writes
into a :class:`GzipMember`, which compresses at the chosen level as the
bytes come and ends the member on warcio's closing ``flush()``.

A payload that is compressed already (a body the server sent gzip- or
br-encoded, a JPEG) shrinks by nothing: deflating it again cost 0.5 ms of a
crawl's 9 ms a page and saved 0.06% of the file. Such a record is stored in
deflate's stored blocks (level 0), still one valid gzip member; the level
applies to every other record (bench/warc_write.py).
"""

from __future__ import annotations

import zlib

from warcio.recordbuilder import RecordBuilder as WarcioRecordBuilder
from warcio.warcwriter import WARCWriter


class GzipMember:
    """A file-like sink that holds one gzip member in memory: ``write``
    compresses, ``flush`` (warcio calls it once, after the record) ends it."""

    def __init__(self, level: int):
        self.out = bytearray()
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data) -> None:
        self.out += self.compressor.compress(data)

    def flush(self) -> None:
        self.out += self.compressor.flush()


#: Media types whose bytes are compressed already (prefixes of Content-Type).
COMPRESSED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "video/", "audio/",
                    "application/zip", "application/gzip", "font/woff")


def payload_compressed(record) -> bool:
    """Whether the record's HTTP payload is compressed already: content-encoded
    (anything but identity) or of a compressed media type."""
    headers = record.http_headers
    if record.rec_type != "response" or headers is None:  # a revisit has no payload
        return False
    encoding = (headers.get_header("Content-Encoding") or "").strip().lower()
    if encoding and encoding != "identity":
        return True
    return (headers.get_header("Content-Type") or "").strip().lower().startswith(COMPRESSED_TYPES)


class RecordBuilder(WarcioRecordBuilder):
    """warcio's record builder, plus ``serialise``: a record as gzip bytes at ``level``."""

    def __init__(self, level: int = 6, warc_version=None, header_filter=None):
        super().__init__(warc_version=warc_version, header_filter=header_filter)
        self.level = level

    def serialise(self, record) -> bytes:
        """``record`` as one gzip member: at ``level``, or stored (level 0) when
        its payload is compressed already. Safe from several threads: each call
        has its own sink and its own (cheap) warcio writer around it."""
        member = GzipMember(0 if payload_compressed(record) else self.level)
        WARCWriter(member, gzip=False, warc_version=self.warc_version,
                   header_filter=self.header_filter).write_record(record)
        return bytes(member.out)
