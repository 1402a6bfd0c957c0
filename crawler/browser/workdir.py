"""The browser's temporary folder inside the archive, locked while in use.

``<ARCHIVE_DIR>/.tmp/browser-<pid>-<host>-<random>/`` holds the browser's
HOME and TMPDIR (Chromium's profile and its process-singleton socket, the
Playwright driver's artifacts), so nothing lands in ~/.config, ~/.cache or
/tmp. The folder is removed when the browser closes; one left by a killed
crawl is swept by the next one (its owner's lock is free), as is anything
else in ``.tmp`` older than ``STALE_AFTER``. Chromium is started through a
two-line wrapper that enters that folder, so that its TMPDIR can be the
short ``/proc/self/cwd`` (Linux): a UNIX socket's path has at most 107
bytes, and the archive's own path may be longer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from crawler.archive.storage import ArchiveStore

#: Entries of <ARCHIVE_DIR>/.tmp not in use and older than this are removed.
STALE_AFTER = 10 * 60
#: Names of the browser's temporary folders: pid, host, mkdtemp's random part.
TMP_NAME = re.compile(r"^browser-(?P<pid>\d+)-(?P<host>.+)-[a-z0-9_]{8}$")


def host_name() -> str:
    """This machine's name as browser folders carry it."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"


@dataclass
class BrowserDir:
    """The browser's folder under <ARCHIVE_DIR>/.tmp, locked while in use."""

    path: Path
    _lock: object = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return self.path / "home"

    @property
    def tmp(self) -> Path:
        return self.path / "tmp"

    @classmethod
    def create(cls, archive_dir) -> "BrowserDir":
        root = ArchiveStore(archive_dir).path(".tmp")
        root.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"browser-{os.getpid()}-{host_name()}-", dir=root))
        lock = open(path / "lock", "w")  # held until close: the sweep leaves a live folder alone
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for sub in ("home", "tmp"):
            (path / sub).mkdir(mode=0o700)
        return cls(path, lock)

    def launcher(self, executable: str) -> Path:
        """A wrapper that starts ``executable`` with its working directory in
        ``tmp``, for TMPDIR=/proc/self/cwd (see the module doc)."""
        path = self.path / "chromium"
        script = (f'#!/bin/sh\ncd "$(dirname "$0")/tmp" || exit 1\n'
                  f"exec {shlex.quote(executable)} \"$@\"\n")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
        with os.fdopen(fd, "w") as handle:
            handle.write(script)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _owner_gone(entry: Path) -> bool | None:
    """Whether the crawl that made ``entry`` is gone (its lock is free); None
    when it has no lock file."""
    try:
        handle = open(entry / "lock", "r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def sweep_tmp(archive_dir, now: float | None = None) -> list[str]:
    """Remove what dead crawls left in <ARCHIVE_DIR>/.tmp; the names removed.

    A browser folder of this machine goes when its owner's lock is free (a
    ``kill -9`` frees it). Another machine's (a shared crawl on one archive)
    is left to that machine's next crawl: ``flock`` does not reach across
    every shared filesystem. Anything else goes once older than STALE_AFTER.
    """
    root = ArchiveStore(archive_dir).path(".tmp")
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for entry in sorted(root.iterdir()):
        try:
            age = now - entry.lstat().st_mtime
        except OSError:
            continue
        match = TMP_NAME.match(entry.name)
        if match and not entry.is_symlink() and entry.is_dir():
            if match["host"] != host_name():
                continue
            gone = _owner_gone(entry)
            if gone is False or (gone is None and age < STALE_AFTER):
                continue
        elif age < STALE_AFTER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry.name)
    return removed


@contextlib.contextmanager
def driver_tmpdir(path: Path):
    """TMPDIR for the Playwright driver started inside this block: it makes its
    ``playwright-artifacts-*`` and ``playwright_chromiumdev_profile-*`` folders
    in its TMPDIR, and takes its environment from this process when spawned."""
    # this process's own temporary folder is fixed first: tempfile reads TMPDIR once, on first use, and
    # whatever first uses it meanwhile (the extraction pool's forkserver socket) must not land in here
    tempfile.gettempdir()
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before
