"""Rotating WARC files, written with warcio, one gzip member per record.

Files are named ``PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz`` (the Heritrix
convention) and carry an ``.open`` suffix until closed, so a reader or a
replay tool never takes a file still being written for a finished one.

A WARC must never claim more than it holds. Each record group is compressed
into memory first and handed to the kernel with unbuffered ``os.write``
calls, so nothing waits in a Python buffer: after a ``kill -9`` the ``.open``
file is readable up to the last group written. A write that fails (a full
disk) is cut back to the end of the last whole group and raises
:class:`WarcWriteError`; the writer stays usable. A file gets its final name
only after its last write, ``fsync`` and close have succeeded; otherwise it
stays ``.open`` for the next crawl's recovery.

The writer holds an exclusive ``flock`` on the file it writes. An ``.open``
file whose lock can be taken has lost its writer (a crash, ``kill -9``, a
failed close): ``recover_open_files`` cuts it back to its last complete
record and closes it under its final name, so the articles that point into
it find it. Recovery never follows a symbolic link and never touches a file
outside the WARC folder.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
import stat
import tempfile
import threading
import time
import zlib
from pathlib import Path

from warcio.warcwriter import WARCWriter

from crawler.archive.storage import ArchiveStore, current_umask, fsync_dir
from crawler.core.timefmt import warc_name_stamp

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
#: A new file's temporary name older than this has lost its writer.
STALE_TEMP_SECONDS = 60
#: What link() says on filesystems that have no hard links.
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}
#: ``WARC_FSYNC`` policies: after every record group, or at most every N seconds.
FSYNC_POLICIES = ("record", "interval")


class WarcWriteError(OSError):
    """A WARC write, fsync or close failed. The file holds whole records only:
    the failed group was cut off, or the file was left ``.open`` for recovery."""


class _GzipMember:
    """The file-like object warcio writes one record into: a gzip member at a
    chosen level, kept in memory (warcio's own wrapper is fixed at level 9)."""

    def __init__(self, out: bytearray, level: int):
        self.out = out
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data) -> None:
        self.out += self.compressor.compress(data)

    def flush(self) -> None:
        self.out += self.compressor.flush()


class RecordBuilder(WARCWriter):
    """warcio's record builder, serialising a record to gzip bytes in memory."""

    def __init__(self, level: int = 6):
        super().__init__(None, gzip=False)  # compression is _GzipMember's
        self.level = level

    def serialise(self, record) -> bytes:
        out = bytearray()
        self._write_warc_record(_GzipMember(out, self.level), record)
        return bytes(out)

    def write_record(self, record, params=None):  # pragma: no cover - not a file writer
        raise TypeError("write records with RotatingWarcWriter.write()")


class RotatingWarcWriter:
    """Appends record groups to the current WARC file; rotates at ``max_size`` bytes.

    ``gzip_level`` is zlib's 1-9. ``fsync`` is ``"record"`` (every group is on
    disk before ``write`` returns) or ``"interval"`` (at most every
    ``fsync_interval`` seconds, at rotation and at close).
    """

    def __init__(self, directory, prefix: str = "crawler", max_size: int = 10**9,
                 warcinfo: dict | None = None, host: str | None = None, gzip_level: int = 6,
                 fsync: str = "record", fsync_interval: float = 1.0, stats=None):
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"WARC_FSYNC must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
        if not 1 <= int(gzip_level) <= 9:
            raise ValueError(f"WARC_GZIP_LEVEL must be 1 to 9, not {gzip_level!r}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.host = (host or socket.gethostname()).replace("-", "_").replace("/", "_") or "localhost"
        self.fsync = fsync
        self.fsync_interval = float(fsync_interval)
        self.stats = stats
        self.serial = 0
        self._builder = RecordBuilder(int(gzip_level))
        self._fd: int | None = None
        self._size = 0  # bytes of whole records in the current file
        self._dirty = False  # written since the last fsync
        self._synced_at = 0.0
        self.filename: str | None = None
        self.closed_files: list[str] = []
        # writes come from the archive I/O thread (crawler/extensions/archiveio.py), the
        # interval sync and the close from the reactor: one at a time
        self._lock = threading.RLock()

    # --- naming -----------------------------------------------------------

    def _next_name(self) -> str:
        stamp = warc_name_stamp()
        self.serial += 1
        return f"{self.prefix}-{stamp}-{self.serial:05d}-{self.host}.warc.gz"

    def _open_path(self) -> Path:
        return self.directory / (self.filename + OPEN_SUFFIX)

    # --- records ----------------------------------------------------------

    @property
    def builder(self) -> RecordBuilder:
        """The warcio record builder (``create_warc_record`` and friends)."""
        return self._builder

    def write(self, *records) -> dict:
        """Write records together (e.g. a response and its request).

        Rotation happens before a group, never inside it. Returns where the
        first record went: ``{"warc_file", "offset", "record_id", "date"}``.
        Raises :class:`WarcWriteError` if the group could not be written; the
        file then ends at the previous group.
        """
        blobs = [self._builder.serialise(record) for record in records]
        with self._lock:
            if self._fd is not None and self._size >= self.max_size:
                self.rotate()
            self._ensure_open()
            start = self._append(b"".join(blobs))
            filename = self.filename
        first = records[0]
        return {
            "warc_file": filename,
            "offset": start,
            "record_id": first.rec_headers.get_header("WARC-Record-ID"),
            "date": first.rec_headers.get_header("WARC-Date"),
        }

    def _ensure_open(self) -> None:
        if self._fd is not None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Created under a private name and locked before it appears as
            # ``.open``, so another crawl's recovery never sees it unlocked.
            fd, tmp = tempfile.mkstemp(prefix=".new-", suffix=".warc.gz.tmp", dir=self.directory)
        except OSError as exc:
            raise self._error(exc, f"WARC file could not be created ({exc.strerror})") from exc
        published = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.chmod(tmp, 0o666 & ~current_umask())
            while True:  # another process may have taken the name: take the next
                self.filename = self._next_name()
                if (self.directory / self.filename).exists():
                    continue
                try:
                    _publish(tmp, self._open_path())
                    published = True
                    break
                except FileExistsError:
                    continue
            fsync_dir(self.directory)
            info = self._builder.serialise(self._builder.create_warcinfo_record(self.filename, self.warcinfo))
            _write_all(fd, info)
            if self.fsync == "record":
                os.fsync(fd)
        except OSError as exc:
            # a file without its warcinfo record holds nothing
            _unlink_quietly(self._open_path() if published else tmp)
            os.close(fd)
            self.filename = None
            raise self._error(exc, f"WARC file could not be started ({exc.strerror})") from exc
        self._fd, self._size, self._dirty, self._synced_at = fd, len(info), self.fsync != "record", time.monotonic()
        logger.info("WARC opened: %s", self._open_path())

    def _append(self, data: bytes) -> int:
        """Write ``data`` at the end of the file; on failure cut the file back
        to where it was (or give it up, left ``.open``) and raise."""
        start = self._size
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            raise self._roll_back(start, exc, "write") from exc
        self._size += len(data)
        self._dirty = True
        if self.fsync == "record" or time.monotonic() - self._synced_at >= self.fsync_interval:
            try:
                self._sync_now()
            except OSError as exc:
                # after a failed fsync the kernel may have dropped the dirty
                # pages: only a fresh scan (recovery) knows what the file holds
                raise self._roll_back(start, exc, "fsync", give_up=True) from exc
        return start

    def _sync_now(self) -> None:
        os.fsync(self._fd)
        self._dirty = False
        self._synced_at = time.monotonic()

    def _roll_back(self, start: int, exc: OSError, what: str, give_up: bool = False) -> WarcWriteError:
        """Cut the file back to ``start``, or give it up if that fails."""
        name = self.filename
        try:
            os.ftruncate(self._fd, start)
            os.lseek(self._fd, start, os.SEEK_SET)
        except OSError:
            give_up = True
        if give_up:
            self._abandon()
            return self._error(exc, f"WARC {what} failed ({exc.strerror}): {name}{OPEN_SUFFIX} is left "
                                    "for the next crawl's recovery")
        return self._error(exc, f"WARC {what} failed ({exc.strerror}): record rolled back in {name}")

    def _abandon(self) -> None:
        """Let go of the current file without renaming it (it stays ``.open``)."""
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd, self.filename, self._size = None, None, 0

    def _error(self, exc: OSError, message: str) -> WarcWriteError:
        """Log and count a failure; the error to raise."""
        logger.error("%s", message)
        if self.stats is not None:
            self.stats.inc_value("warc/write_errors")
        return WarcWriteError(exc.errno, message)

    def sync(self) -> None:
        """fsync the current file if anything was written since the last one."""
        with self._lock:
            if self._fd is None or not self._dirty:
                return
            try:
                self._sync_now()
            except OSError as exc:
                raise self._roll_back(self._size, exc, "fsync", give_up=True) from exc

    def rotate(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the current file and drop its ``.open`` suffix.

        Raises :class:`WarcWriteError` (the file keeps its ``.open`` name) if
        its fsync, close or rename fails.
        """
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is None:
            return
        fd, name, open_path = self._fd, self.filename, self._open_path()
        final = self.directory / name
        self._fd, self.filename, self._size = None, None, 0
        held = None
        try:
            os.fsync(fd)
            # a second descriptor of the same open file keeps the lock, so
            # no other crawl's recovery takes the file between close and rename
            held = os.dup(fd)
            fd, closing = None, fd
            os.close(closing)  # reports deferred write errors (network filesystems)
            os.replace(open_path, final)
        except OSError as exc:
            raise self._error(exc, f"WARC close failed ({exc.strerror}): {name}{OPEN_SUFFIX} is left "
                                   "for the next crawl's recovery") from exc
        finally:
            for descriptor in (fd, held):
                if descriptor is not None:
                    os.close(descriptor)
        try:
            fsync_dir(self.directory)
        except OSError as exc:  # the file is whole under either name
            logger.warning("WARC %s: the folder could not be synced (%s)", name, exc.strerror)
        self.closed_files.append(name)
        logger.info("WARC closed: %s", final)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


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


# --- reading back ----------------------------------------------------------

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


# --- recovery --------------------------------------------------------------

def _open_entry(name: str, dir_fd: int) -> int | None:
    """Open a regular, singly linked file of the WARC folder for writing
    without following a symbolic link; warn and return None for anything else."""
    try:
        fd = os.open(name, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None  # closed or removed by its writer meanwhile
    except OSError as exc:
        why = "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be opened ({exc.strerror})"
        logger.warning("WARC recovery: %s %s; left alone", name, why)
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        logger.warning("WARC recovery: %s is not a regular file; left alone", name)
        return None
    return fd


def _lock_free(fd: int, name: str, dir_fd: int) -> bool:
    """Take the writer's lock; False if a live writer holds it, if the name now
    means another file, or if the file has other names (maybe outside)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_ino != os.fstat(fd).st_ino:
            return False  # renamed by its writer, and the name reused
    except (BlockingIOError, FileNotFoundError):
        return False  # a live crawl is writing it, or just closed it
    links = os.fstat(fd).st_nlink
    if links != 1:
        logger.warning("WARC recovery: %s has %d hard links (maybe outside the WARC folder); left alone",
                       name, links)
        return False
    return True


def recover_open_files(directory, in_use=None) -> list[str]:
    """Close the ``.open`` WARCs no live writer holds: cut each back to its
    last complete record and drop the suffix. Returns the recovered names.

    ``in_use(name, stat)``, when given, names files that a live writer on
    another machine may hold (a shared crawl: flock does not reach across
    machines on every shared filesystem); they are left alone.

    Only regular files directly in ``directory`` are touched; symbolic links
    (and a ``directory`` that is one) are named in a warning and left alone.
    """
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            logger.warning("WARC recovery: %s is a symbolic link or not a folder; nothing recovered there",
                           directory)
            return []
        raise
    try:
        return _recover(dir_fd, in_use)
    finally:
        os.close(dir_fd)


def _recover(dir_fd: int, in_use=None) -> list[str]:
    names = sorted(os.listdir(dir_fd))
    for name in names:  # died before it had a name
        if not (name.startswith(".new-") and name.endswith(".warc.gz.tmp")):
            continue
        fd = _open_entry(name, dir_fd)
        if fd is None:
            continue
        try:
            if time.time() - os.fstat(fd).st_mtime < STALE_TEMP_SECONDS:
                continue  # may be a live writer between creating and locking it
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(name, dir_fd=dir_fd)
        except (FileNotFoundError, BlockingIOError):
            continue  # gone or held: a live writer's
        finally:
            os.close(fd)
    recovered = []
    for name in names:
        if not name.endswith(".warc.gz" + OPEN_SUFFIX):
            continue
        fd = _open_entry(name, dir_fd)
        if fd is None:
            continue
        try:
            if in_use is not None and in_use(name, os.fstat(fd)):
                continue
            if _lock_free(fd, name, dir_fd) and _close_orphan(fd, name, dir_fd):
                recovered.append(name[: -len(OPEN_SUFFIX)])
        finally:
            os.close(fd)
    return recovered


def _close_orphan(fd: int, name: str, dir_fd: int) -> bool:
    """Cut a locked orphan back to its whole records and give it its final name."""
    info = os.fstat(fd)
    if info.st_size == 0 and time.time() - info.st_mtime < STALE_TEMP_SECONDS:
        return False  # a name a live writer reserved (filesystems without hard links)
    keep = complete_length(fd)
    if keep < info.st_size:
        logger.warning("WARC %s: cutting a partial last record (%d of %d bytes kept)",
                       name, keep, info.st_size)
        os.ftruncate(fd, keep)
    os.fsync(fd)
    final = name[: -len(OPEN_SUFFIX)]
    if keep == 0:
        os.unlink(name, dir_fd=dir_fd)
        os.fsync(dir_fd)
        logger.warning("WARC %s held no complete record: removed", name)
        return False
    try:
        os.stat(final, dir_fd=dir_fd, follow_symlinks=False)
        logger.error("WARC %s: %s exists already; left as it is", name, final)
        return False
    except FileNotFoundError:
        pass
    os.rename(name, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    os.fsync(dir_fd)
    logger.warning("WARC %s recovered after an unclean stop", final)
    return True


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
            # refuses a warc/ that leads out of the archive (a symbolic link)
            ArchiveStore(settings.get("ARCHIVE_DIR")).path("warc"),
            prefix=settings.get("WARC_PREFIX"),
            max_size=settings.getint("WARC_MAX_SIZE"),
            warcinfo=warcinfo_fields(settings),
            gzip_level=settings.getint("WARC_GZIP_LEVEL", 6),
            fsync=settings.get("WARC_FSYNC", "record"),
            fsync_interval=settings.getfloat("WARC_FSYNC_INTERVAL", 1.0),
            stats=crawler.stats,
        )
        crawler._warc_writer = writer
        if writer.directory.is_dir():
            # a shared crawl's extension says which files live writers elsewhere hold
            recovered = recover_open_files(writer.directory, getattr(crawler, "warc_in_use", None))
            if recovered and crawler.stats is not None:
                crawler.stats.inc_value("warc/recovered_files", len(recovered))
        from crawler.extensions.archiveio import io_executor

        syncer = _IntervalSync(writer, submit=lambda fn: io_executor(crawler).submit(fn))
        crawler.signals.connect(syncer.start, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(syncer.close, signal=signals.spider_closed, weak=False)
    return writer


class _IntervalSync:
    """Under ``WARC_FSYNC = "interval"``, syncs written records on the clock
    too, so a crawl gone quiet does not keep them unsynced; closes the writer."""

    def __init__(self, writer: RotatingWarcWriter, clock=None, submit=None):
        self.writer = writer
        self.clock = clock  # the reactor unless given (tests)
        # where the fsync runs: the archive I/O thread in a crawl, never the reactor
        self.submit = submit
        self.loop = None

    def start(self, spider=None) -> None:
        if self.writer.fsync == "interval":
            from twisted.internet import task

            self.loop = task.LoopingCall(self._tick)
            if self.clock is not None:
                self.loop.clock = self.clock
            self.loop.start(self.writer.fsync_interval, now=False)

    def _tick(self) -> None:
        if self.submit is not None:
            self.submit(self._sync)
        else:
            self._sync()

    def _sync(self) -> None:
        try:
            self.writer.sync()
        except WarcWriteError:
            pass  # logged and counted; the next write opens a new file

    def close(self, spider=None) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.writer.close()
