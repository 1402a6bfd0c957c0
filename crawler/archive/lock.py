"""One run at a time per archive: ``crawl`` and ``refresh`` share a lock.

A cron refresh that starts while a long crawl still runs must not write
beside it. The lock is an ``flock`` on ``<archive>/.lock`` (filelock, a
well-kept library; the kernel frees it when its holder dies, even by
``kill -9``). A run that cannot get it within ``ARCHIVE_LOCK_TIMEOUT``
seconds exits with status 75 (EX_TEMPFAIL) and a message saying which run
holds it, having touched nothing.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from crawler.core.timefmt import utcnow

LOCK_NAME = ".lock"
OWNER_NAME = ".lock.owner"
#: sysexits.h EX_TEMPFAIL: try again later.
EXIT_LOCKED = 75


class NotStarted(Exception):
    """A run refused before it touched anything; ``status``: the exit status
    it ends with. Whatever holds the archive for a run (this lock, a shared
    run's slot in Redis) says so with it, and the commands' one runner turns
    it into the line said and the status."""

    status = 1

    def __init__(self, reason, status: int | None = None):
        super().__init__(reason)
        if status is not None:
            self.status = status


class ArchiveLocked(NotStarted):
    """Another run holds the archive."""

    status = EXIT_LOCKED


class ArchiveUnusable(NotStarted):
    """The archive folder cannot be used: a file, read-only, not there for a refresh."""


def _owner(folder: Path) -> str:
    try:
        info = json.loads((folder / OWNER_NAME).read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, started {info['started']}: {info['command']}"
    except (OSError, ValueError, KeyError):
        return "another run"


def check_archive_dir(archive_dir) -> Path:
    """The archive folder, if ARCHIVE_DIR can be one (it need not exist yet); the one check every
    command makes first, so that a file there is called a file, not a missing archive."""
    folder = Path(archive_dir)
    if folder.exists() and not folder.is_dir():
        what = "a file, not a folder" if folder.is_file() else "not a folder"
        raise ArchiveUnusable(f"archive {folder.resolve()} is {what} (check ARCHIVE_DIR)")
    return folder


@contextmanager
def archive_lock(archive_dir, timeout: float, must_exist: bool = False):
    """Hold the archive's lock for the duration of a run (``must_exist``: a
    run that only works on an archive, e.g. a refresh, never makes one)."""
    folder = check_archive_dir(archive_dir)
    if must_exist and not (folder / "articles").is_dir():
        raise ArchiveUnusable(f"no archive at {folder.resolve()} (no articles/ folder): "
                              "check ARCHIVE_DIR; `scrapy crawl qq` makes one")
    lock = FileLock(str(folder / LOCK_NAME), timeout=max(timeout, 0))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise ArchiveLocked(f"archive {folder.resolve()} is in use by {_owner(folder)}; "
                            f"waited {timeout:g} s (ARCHIVE_LOCK_TIMEOUT)") from None
    except OSError as exc:  # after Timeout, which is an OSError too
        raise ArchiveUnusable(f"archive {folder.resolve()} cannot be used: {exc.strerror or exc} "
                              f"({exc.filename or folder})") from None
    try:
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "started": utcnow(),
                 "command": " ".join(getattr(sys, "orig_argv", sys.argv))}
        from crawler.archive.storage import ArchiveStore

        ArchiveStore(folder).write_text(OWNER_NAME, json.dumps(owner))
        yield
    finally:
        # who holds the lock, said only while it is held: a run over names no process
        try:
            (folder / OWNER_NAME).unlink()
        except OSError:
            pass
        lock.release()
