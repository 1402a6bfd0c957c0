"""Byte streams for the guard proxy: TCP with an idle timeout, TLS over any
stream (sans-IO, so bytes already read can go in first), and a read-ahead
buffer for heads and lines; the TLS contexts on either side.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import socket
import ssl
import struct
from pathlib import Path

CHUNK = 64 * 1024


class UpstreamError(Exception):
    """A peer that could not be reached, broke off, or broke HTTP/1.x."""


class PlainStream:
    """An asyncio connection with an idle timeout on every read."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, idle: float):
        self.reader, self.writer, self.idle = reader, writer, idle

    async def read(self, n: int) -> bytes:
        return await asyncio.wait_for(self.reader.read(n), self.idle)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), self.idle)

    def write_nowait(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def close(self) -> None:
        self.writer.close()

    def reset(self) -> None:
        """Close with a TCP reset: the peer sees an error, not the end of a body."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.writer.transport.abort()


class TLSStream:
    """TLS over another stream, sans-IO (``ssl.SSLObject``): bytes already read
    from the connection (the ClientHello peeked at after a CONNECT) go in first."""

    def __init__(self, raw, context: ssl.SSLContext, server_side: bool, server_hostname=None, initial=b""):
        self.raw = raw
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=server_hostname)
        if initial:
            self.incoming.write(initial)

    async def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            await self.raw.write(data)

    async def _fill(self) -> bool:
        data = await self.raw.read(CHUNK)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    async def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    raise ConnectionError("TLS handshake: connection closed") from None
        await self._flush()

    async def read(self, n: int) -> bytes:
        while True:
            try:
                return self.tls.read(n)
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    try:
                        return self.tls.read(n)
                    except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ssl.SSLWantReadError):
                        return b""
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    async def write(self, data: bytes) -> None:
        self.tls.write(data)
        await self._flush()

    def write_nowait(self, data: bytes) -> None:
        self.tls.write(data)
        self.raw.write_nowait(self.outgoing.read())

    def close(self) -> None:
        try:
            self.tls.unwrap()  # close_notify: a close-delimited body ends cleanly
        except (ssl.SSLError, ValueError):
            pass
        try:
            self.raw.write_nowait(self.outgoing.read())
        except (OSError, RuntimeError):
            pass
        self.raw.close()

    def reset(self) -> None:
        self.raw.reset()


class Buffered:
    """Reads heads, lines and slices from a stream, keeping what it read ahead."""

    def __init__(self, stream, initial: bytes = b""):
        self.stream = stream
        self.buffer = bytearray(initial)
        self.eof = False

    async def _more(self) -> bool:
        if self.eof:
            return False
        data = await self.stream.read(CHUNK)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    async def read_until(self, separator: bytes, limit: int) -> bytes | None:
        """Bytes up to and including ``separator``; None on EOF before any byte."""
        start = 0
        while True:
            index = self.buffer.find(separator, start)
            if index >= 0:
                end = index + len(separator)
                data = bytes(self.buffer[:end])
                del self.buffer[:end]
                return data
            if len(self.buffer) > limit:
                raise UpstreamError(f"line or head longer than {limit} bytes")
            start = max(0, len(self.buffer) - len(separator) + 1)
            if not await self._more():
                if self.buffer:
                    raise UpstreamError("connection closed inside a head or line")
                return None

    async def read_some(self, n: int = CHUNK) -> bytes:
        """Up to ``n`` bytes; b"" at EOF."""
        if not self.buffer and not await self._more():
            return b""
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data


def server_context(directory: Path) -> ssl.SSLContext:
    """The TLS context the browser's tunnels end in: a throwaway self-signed
    certificate (the browser ignores certificate errors, as Scrapy does),
    HTTP/1.1 only. The key file lives only as long as it takes to load it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "news-archive browser guard proxy")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    path = Path(directory) / f"guard-{secrets.token_hex(8)}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(path)
    finally:
        path.unlink(missing_ok=True)
    context.set_alpn_protocols(["http/1.1"])
    return context


def client_context() -> ssl.SSLContext:
    """TLS towards servers and proxies: certificates not verified, as Scrapy
    does by default (replay proxies bring their own CA); HTTP/1.1 only."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context
