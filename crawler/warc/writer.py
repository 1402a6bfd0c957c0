"""Rotating WARC files, written with warcio, one gzip member per record.

Files are named ``PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz`` (the Heritrix
convention) and carry an ``.open`` suffix until closed, so a reader or a
replay tool never takes a file still being written for a finished one. Each
record is flushed as it is written: after a ``kill -9`` the ``.open`` file is
readable up to its last complete record.

The writer holds an exclusive ``flock`` on the file it writes. An ``.open``
file whose lock can be taken has lost its writer (a crash, ``kill -9``):
``recover_open_files`` cuts it back to its last complete record and closes
it under its final name, so the articles that point into it find it.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
import tempfile
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

from warcio.warcwriter import WARCWriter

from crawler.storage import current_umask

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
#: A new file's temporary name older than this has lost its writer.
STALE_TEMP_SECONDS = 60
#: What link() says on filesystems that have no hard links.
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}


class RotatingWarcWriter:
    """Appends records to the current WARC file; rotates at ``max_size`` bytes."""

    def __init__(self, directory, prefix: str = "crawler", max_size: int = 10**9,
                 warcinfo: dict | None = None, host: str | None = None):
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.host = (host or socket.gethostname()).replace("-", "_").replace("/", "_") or "localhost"
        self.serial = 0
        self._file = None
        self._writer: WARCWriter | None = None
        self.filename: str | None = None
        self.closed_files: list[str] = []

    # --- naming -----------------------------------------------------------

    def _next_name(self) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        self.serial += 1
        return f"{self.prefix}-{stamp}-{self.serial:05d}-{self.host}.warc.gz"

    # --- records ----------------------------------------------------------

    @property
    def builder(self) -> WARCWriter:
        """The warcio writer of the current file (opens one if none is open)."""
        self._ensure_open()
        return self._writer

    def _ensure_open(self) -> None:
        if self._writer is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        # Created under a private name and locked before it appears as
        # ``.open``, so another crawl's recovery never sees it unlocked.
        fd, tmp = tempfile.mkstemp(prefix=".new-", suffix=".warc.gz.tmp", dir=self.directory)
        self._file = os.fdopen(fd, "wb")
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.chmod(tmp, 0o666 & ~current_umask())
        while True:  # another process may have taken the name: take the next
            self.filename = self._next_name()
            path = self.directory / (self.filename + OPEN_SUFFIX)
            if (self.directory / self.filename).exists():
                continue
            try:
                _publish(tmp, path)
                break
            except FileExistsError:
                continue
        self._writer = WARCWriter(self._file, gzip=True)
        info = self._writer.create_warcinfo_record(self.filename, self.warcinfo)
        self._writer.write_record(info)
        self._file.flush()
        logger.info("WARC opened: %s", path)

    def write(self, *records) -> dict:
        """Write records together (e.g. a response and its request), then flush.

        Rotation happens before a group, never inside it. Returns where the
        first record went: ``{"warc_file", "offset", "record_id", "date"}``.
        """
        if self._file is not None and self._file.tell() >= self.max_size:
            self.rotate()
        self._ensure_open()
        where = None
        for record in records:
            offset = self._file.tell()
            self._writer.write_record(record)
            if where is None:
                where = {
                    "warc_file": self.filename,
                    "offset": offset,
                    "record_id": record.rec_headers.get_header("WARC-Record-ID"),
                    "date": record.rec_headers.get_header("WARC-Date"),
                }
        self._file.flush()
        os.fsync(self._file.fileno())
        return where

    def rotate(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the current file and drop its ``.open`` suffix."""
        if self._file is None:
            return
        final = self.directory / self.filename
        # renamed while still locked: no recovery elsewhere can take it first
        os.replace(self.directory / (self.filename + OPEN_SUFFIX), final)
        self._file.close()
        self.closed_files.append(self.filename)
        logger.info("WARC closed: %s", final)
        self._file = self._writer = None
        self.filename = None


def _publish(tmp: str, path: Path) -> None:
    """Give the locked temporary file its ``.open`` name, never over another file."""
    try:
        os.link(tmp, path)  # atomic, and fails if the name exists
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        # a filesystem without hard links: reserve the name, then move
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def complete_length(path, chunk_size: int = 1 << 20) -> int:
    """Bytes of ``path`` that are whole gzip members (one WARC record each).

    One streaming pass: the file is fed to zlib in chunks, and a new
    decompressor starts at each member boundary.
    """
    complete = 0  # end of the last whole member
    fed = 0  # bytes of the current member fed so far
    member = zlib.decompressobj(wbits=31)
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            while chunk:
                try:
                    member.decompress(chunk, 1 << 16)
                    while member.unconsumed_tail and not member.eof:
                        member.decompress(member.unconsumed_tail, 1 << 16)
                except zlib.error:
                    return complete
                if member.eof:
                    used = len(chunk) - len(member.unused_data)
                    complete += fed + used
                    fed = 0
                    chunk = member.unused_data
                    member = zlib.decompressobj(wbits=31)
                else:
                    fed += len(chunk)
                    chunk = b""
    return complete


def recover_open_files(directory) -> list[str]:
    """Close the ``.open`` WARCs no live writer holds: cut each back to its
    last complete record and drop the suffix. Returns the recovered names."""
    recovered = []
    for path in Path(directory).glob(".new-*.warc.gz.tmp"):  # died before it had a name
        try:
            if time.time() - path.stat().st_mtime < STALE_TEMP_SECONDS:
                continue  # may be a live writer between creating and locking it
            with open(path, "rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.unlink(path)
        except (FileNotFoundError, BlockingIOError):
            continue  # gone or held: a live writer's
    for path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_SUFFIX}")):
        try:
            handle = open(path, "r+b")
        except FileNotFoundError:
            continue  # closed by its writer meanwhile
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                    continue  # renamed by its writer, and the name reused
            except (BlockingIOError, FileNotFoundError):
                continue  # a live crawl is writing it, or just closed it
            size = os.fstat(handle.fileno()).st_size
            if size == 0 and time.time() - os.fstat(handle.fileno()).st_mtime < STALE_TEMP_SECONDS:
                continue  # a name a live writer reserved (filesystems without hard links)
            keep = complete_length(path)
            if keep < size:
                logger.warning("WARC %s: cutting a partial last record (%d of %d bytes kept)",
                               path.name, keep, size)
                handle.truncate(keep)
            final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
            if keep == 0:
                os.unlink(path)
                logger.warning("WARC %s held no complete record: removed", path.name)
                continue
            if final.exists():
                logger.error("WARC %s: %s exists already; left as it is", path.name, final.name)
                continue
            os.replace(path, final)
            recovered.append(final.name)
            logger.warning("WARC %s recovered after an unclean stop", final.name)
    return recovered


#: Settings that shape what was captured, recorded in every warcinfo record.
WARCINFO_SETTINGS = ("DOWNLOAD_DELAY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
                     "DOWNLOAD_TIMEOUT", "RETRY_TIMES", "COOKIES_ENABLED", "ARCHIVE_IMAGES",
                     "WARC_MAX_SIZE")


def warcinfo_fields(settings) -> dict:
    """The warcinfo record's fields, from the settings that matter."""
    from crawler import __version__

    try:
        from importlib.metadata import version

        scrapy_version, warcio_version = version("scrapy"), version("warcio")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        scrapy_version = warcio_version = "unknown"
    return {
        "software": f"news-archive-crawler/{__version__} (Scrapy {scrapy_version}; warcio {warcio_version})",
        "format": "WARC File Format 1.0",
        "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
        "hostname": socket.gethostname(),
        "operator": settings.get("WARC_OPERATOR"),
        "description": settings.get("WARC_DESCRIPTION"),
        "isPartOf": settings.get("WARC_IS_PART_OF"),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "http-header-user-agent": settings.get("USER_AGENT"),
        "crawl-settings": "; ".join(f"{name}={settings.get(name)}" for name in WARCINFO_SETTINGS),
    }


def shared_writer(crawler) -> RotatingWarcWriter:
    """The crawl's one WARC writer, shared by the capture middleware and the
    metadata pipeline; closed when the spider closes."""
    writer = getattr(crawler, "_warc_writer", None)
    if writer is None:
        from scrapy import signals

        settings = crawler.settings
        writer = RotatingWarcWriter(
            Path(settings.get("ARCHIVE_DIR")) / "warc",
            prefix=settings.get("WARC_PREFIX"),
            max_size=settings.getint("WARC_MAX_SIZE"),
            warcinfo=warcinfo_fields(settings),
        )
        crawler._warc_writer = writer
        if writer.directory.is_dir():
            recover_open_files(writer.directory)
        crawler.signals.connect(lambda spider: writer.close(), signal=signals.spider_closed, weak=False)
    return writer
