"""HTTP/1.x as the guard proxy relays it: heads parsed only as far as framing
needs, bodies copied as received (chunk framing included) and measured on
the way, as received and as decoded, against ``DOWNLOAD_MAXSIZE``.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass

from crawler.net.guardproxy.streams import CHUNK, Buffered, UpstreamError

logger = logging.getLogger(__name__)

#: Bytes one chunk-size or trailer line may have.
MAX_LINE = 8 * 1024
#: Responses without a body (RFC 9110 6.4.1).
NO_BODY = {204, 304}


class TooLarge(Exception):
    """A body past DOWNLOAD_MAXSIZE."""


@dataclass
class Head:
    """A request or response head: its first line and header lines, as received."""

    raw: bytes
    first: bytes
    lines: list[bytes]

    @classmethod
    def parse(cls, raw: bytes) -> "Head":
        text = raw.rstrip(b"\r\n")
        lines = text.replace(b"\r\n", b"\n").split(b"\n")
        return cls(raw, lines[0], [line for line in lines[1:] if line])

    def values(self, name: bytes) -> list[bytes]:
        out = []
        for line in self.lines:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name:
                out.append(value.strip())
        return out

    def tokens(self, name: bytes) -> list[bytes]:
        return [t.strip().lower() for v in self.values(name) for t in v.split(b",") if t.strip()]

    def status(self) -> int:
        parts = self.first.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise UpstreamError(f"not an HTTP response: {self.first[:80]!r}")
        return int(parts[1])

    def request_line(self) -> tuple[str, str, bytes]:
        parts = self.first.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.x request: {self.first[:80]!r}")
        return parts[0].decode("ascii"), parts[1].decode("latin-1"), parts[2]


def body_framing(head: Head, request: bool, method: str = "GET", status: int = 200) -> tuple[str, int]:
    """How a message's body is delimited (RFC 9112 6.3): ("none"|"length"|"chunked"|"close", length)."""
    if not request and (method == "HEAD" or status < 200 or status in NO_BODY):
        return "none", 0
    codings = head.tokens(b"transfer-encoding")
    if codings:
        return ("chunked", 0) if codings[-1] == b"chunked" else ("close", 0)
    lengths = {v for v in head.values(b"content-length")}
    if lengths:
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise UpstreamError(f"bad Content-Length: {sorted(lengths)!r}")
        return "length", int(next(iter(lengths)))
    return ("none", 0) if request else ("close", 0)


def keeps_alive(request: Head, response: Head) -> bool:
    """Whether the connection may carry another request after this exchange."""
    if b"close" in request.tokens(b"connection") or b"close" in response.tokens(b"connection"):
        return False
    if response.first.startswith(b"HTTP/1.0"):
        return b"keep-alive" in response.tokens(b"connection")
    return True


class BodyMeter:
    """Counts a body as received and as decoded, and refuses it past ``limit``.

    The decoded size is counted for gzip, deflate and br (the codings the
    browser asks for that Python decodes), in slices, without keeping the
    output. Another coding (zstd), or several, is held to the received size.
    """

    def __init__(self, limit: int, coding: bytes = b""):
        self.limit = limit or None  # 0: no limit, as DOWNLOAD_MAXSIZE
        self.received = 0
        self.decoded = 0
        self.coding = coding.strip().lower().decode("latin-1")
        self._zlib = None
        self._brotli = None
        self._deflate_checked = False
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "brotli" or self.coding == "br":
            try:
                import brotli

                self._brotli = brotli.Decompressor()
            except ImportError:  # pragma: no cover - Scrapy installs it
                self.coding = "unknown"
        self.counting = self.coding in ("", "identity", "gzip", "x-gzip", "deflate", "br", "brotli")

    @property
    def size(self) -> int:
        """The body's size as the capture will see it (decoded when counted)."""
        return self.decoded if self.counting and self.coding not in ("", "identity") else self.received

    def declare(self, length: int) -> None:
        """A Content-Length: refused before a byte is passed on when over the limit."""
        self._check("as declared (Content-Length)", length)

    def _check(self, what: str, value: int) -> None:
        if self.limit is not None and value > self.limit:
            raise TooLarge(f"body larger than DOWNLOAD_MAXSIZE ({self.limit} bytes) {what}")

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        self._check("as received", self.received)
        if not self.counting or self.coding in ("", "identity"):
            self.decoded = self.received
            return
        try:
            self._decode(data)
        except TooLarge:
            raise
        except Exception as exc:  # a broken coding (zlib.error, brotli.error): the browser fails on it too
            logger.debug("browser proxy: body not decodable as %s: %s", self.coding, exc)
            self.counting = False

    def _decode(self, data: bytes) -> None:
        if self.coding == "deflate" and not self._deflate_checked:
            self._deflate_checked = True
            # zlib-wrapped (RFC 1950) or raw deflate: browsers take both
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        if self._zlib is not None:
            pending = data
            while pending and not self._zlib.eof:
                out = self._zlib.decompress(pending, CHUNK)
                self.decoded += len(out)
                self._check("decoded", self.decoded)
                pending = self._zlib.unconsumed_tail
            if self._zlib.eof and self._zlib.unused_data[:2] == b"\x1f\x8b":  # another gzip member
                rest = self._zlib.unused_data
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._decode(rest)
        elif self._brotli is not None:
            out = self._brotli.process(data, output_buffer_limit=CHUNK)
            self.decoded += len(out)
            self._check("decoded", self.decoded)
            while not self._brotli.can_accept_more_data():
                out = self._brotli.process(b"", output_buffer_limit=CHUNK)
                self.decoded += len(out)
                self._check("decoded", self.decoded)


async def relay_body(src: Buffered, dst, framing: tuple[str, int], meter: BodyMeter | None = None) -> None:
    """Copy one message body from ``src`` to ``dst`` as received (chunk framing
    included), feeding the payload to ``meter`` before it is passed on."""
    kind, length = framing

    async def copy(count: int) -> None:
        while count:
            data = await src.read_some(min(CHUNK, count))
            if not data:
                raise UpstreamError("connection closed inside a body")
            count -= len(data)
            if meter is not None:
                meter.feed(data)
            await dst.write(data)

    if kind == "length":
        await copy(length)
    elif kind == "chunked":
        while True:
            line = await src.read_until(b"\n", MAX_LINE)
            if line is None:
                raise UpstreamError("connection closed inside a chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise UpstreamError(f"bad chunk size line {line[:40]!r}") from None
            await dst.write(line)
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = await src.read_until(b"\n", MAX_LINE)
                    if trailer is None:
                        return
                    await dst.write(trailer)
                    if not trailer.strip():
                        return
            await copy(size)
            end = await src.read_until(b"\n", MAX_LINE)
            if end is None:
                raise UpstreamError("connection closed inside a chunked body")
            await dst.write(end)
    elif kind == "close":
        while True:
            data = await src.read_some()
            if not data:
                return
            if meter is not None:
                meter.feed(data)
            await dst.write(data)


async def pipe(a: Buffered, b: Buffered, idle: float) -> None:
    """Bytes both ways (a WebSocket after its 101) until either side closes or
    neither has sent anything for ``idle`` seconds."""
    loop = asyncio.get_running_loop()
    last = [loop.time()]

    async def copy(src: Buffered, dst) -> None:
        while True:
            try:
                data = await src.read_some()
            except asyncio.TimeoutError:
                if loop.time() - last[0] < idle:
                    continue
                return
            if not data:
                return
            last[0] = loop.time()
            await dst.write(data)

    tasks = [asyncio.ensure_future(copy(a, b.stream)), asyncio.ensure_future(copy(b, a.stream))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
