"""Orphaned ``.open`` WARCs closed: cut back to their last whole record, renamed.

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
import stat
import time

from crawler.warc.validate import complete_length
from crawler.warc.writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)

#: A new file's temporary name (``.new-*.warc.gz.tmp``, the writer's before it
#: is locked and named) older than this has lost its writer.
STALE_TEMP_SECONDS = 60


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
