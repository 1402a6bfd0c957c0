"""Whole WARC files read back: how much of a file is whole records.

A file is sound up to the end of its last gzip member that holds whole WARC
records. warcio's ``ArchiveIterator`` does not tell: it reads a member cut
short, or a record cut inside its block, without an error. So this module
follows the bytes itself, in one streaming pass, by each record's
``Content-Length`` and the CRLF CRLF that ends it. Recovery cuts an orphan
back to that length; the index and the WACZ export leave a file out when it
is not the whole file.
"""

from __future__ import annotations

import os
import zlib


class _RecordScanner:
    """Follows decompressed WARC bytes record by record: a ``WARC/`` header,
    ``Content-Length`` bytes of block, then CRLF CRLF."""

    MAX_HEADER = 1 << 20

    def __init__(self):
        self.header = bytearray()
        self.left = 0  # bytes of block and trailer still to come
        self.tail = b""  # the last bytes of the block and trailer seen
        self.records = 0
        self.bad = False

    @property
    def between_records(self) -> bool:
        return not self.bad and not self.left and not self.header

    def feed(self, data: bytes) -> None:
        while data and not self.bad:
            if self.left:
                take = min(self.left, len(data))
                self.tail = (self.tail + data[max(0, take - 4):take])[-4:]
                self.left -= take
                data = data[take:]
                if not self.left:
                    self.bad = self.tail != b"\r\n\r\n"
                    self.records += not self.bad
                continue
            seen = len(self.header)
            self.header += data
            end = self.header.find(b"\r\n\r\n", max(0, seen - 3))
            if end < 0:
                self.bad = len(self.header) > self.MAX_HEADER
                return
            length = _content_length(bytes(self.header[:end]))
            data = bytes(self.header[end + 4:])
            self.header = bytearray()
            if length is None:
                self.bad = True
                return
            self.left, self.tail = length + 4, b""


def _content_length(header: bytes) -> int | None:
    lines = header.split(b"\r\n")
    if not lines[0].startswith(b"WARC/"):
        return None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
            return length if length >= 0 else None
    return None


def _chunks(source, chunk_size: int):
    """The bytes of a path, or of an open descriptor from its start."""
    if isinstance(source, int):
        offset = 0
        while chunk := os.pread(source, chunk_size, offset):
            offset += len(chunk)
            yield chunk
        return
    with open(source, "rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def complete_length(source, chunk_size: int = 1 << 20) -> int:
    """Bytes at the start of ``source`` (a path or an open descriptor) that are
    whole gzip members, each holding whole WARC records.

    One streaming pass: the file is fed to zlib in chunks, a new decompressor
    starts at each member boundary, and the records inside are followed by
    their headers' ``Content-Length``.
    """
    limit = 1 << 16
    complete = 0  # end of the last whole member
    fed = 0  # bytes of the current member fed so far
    member = zlib.decompressobj(wbits=31)
    scan = _RecordScanner()
    records_before = 0
    for chunk in _chunks(source, chunk_size):
        while chunk:
            data = chunk
            try:
                while True:
                    out = member.decompress(data, limit)
                    scan.feed(out)
                    data = member.unconsumed_tail
                    if member.eof or scan.bad or (not data and len(out) < limit):
                        break
            except zlib.error:
                return complete
            if scan.bad:
                return complete
            if member.eof:
                if not scan.between_records or scan.records == records_before:
                    return complete  # a member that ends inside a record, or holds none
                used = len(chunk) - len(member.unused_data)
                complete += fed + used
                fed = 0
                chunk = member.unused_data
                member = zlib.decompressobj(wbits=31)
                records_before = scan.records
            else:
                fed += len(chunk)
                chunk = b""
    return complete


def warc_damage(path) -> str | None:
    """What is wrong with a closed WARC, or None if it reads to its end as
    whole gzip members holding whole WARC records."""
    try:
        size = os.stat(path).st_size
        whole = complete_length(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if whole < size:
        return f"bytes {whole} to {size} are not whole gzip members holding whole WARC records"
    return None
