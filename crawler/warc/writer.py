"""Rotating WARC files: one gzip member per record, written, fsynced and locked.

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
stays ``.open`` for the next crawl's recovery (crawler/warc/recovery.py):
the writer holds an exclusive ``flock`` on its file, and recovery takes only
files whose lock is free.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

from crawler.archive.storage import current_umask, fsync_dir
from crawler.core.timefmt import warc_name_stamp
from crawler.warc.builder import RecordBuilder

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
#: What link() says on filesystems that have no hard links.
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}
#: ``WARC_FSYNC`` policies: after every record group, or at most every N seconds.
FSYNC_POLICIES = ("record", "interval")


class WarcWriteError(OSError):
    """A WARC write, fsync or close failed. The file holds whole records only:
    the failed group was cut off, or the file was left ``.open`` for recovery."""


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
