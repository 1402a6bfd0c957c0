"""The one door to ``archive/``: atomic writes inside the archive root only.

A crash or ``kill -9`` mid-write leaves either the old file or the new one,
never half of either: text goes to a temporary file in the same folder, is
flushed to disk, then renamed over the target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ArchivePathError(ValueError):
    """A path that would leave the archive root."""


class ArchiveStore:
    """Reads and atomically writes files below one root folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def path(self, relative: str | os.PathLike) -> Path:
        """The absolute path for ``relative``; refuses anything outside the root."""
        rel = Path(relative)
        if rel.is_absolute():
            raise ArchivePathError(f"absolute path not allowed in the archive: {rel}")
        target = (self.root / rel).resolve()
        if target != self.root and self.root not in target.parents:
            raise ArchivePathError(f"path leaves the archive: {relative}")
        return target

    def exists(self, relative) -> bool:
        return self.path(relative).exists()

    def read_text(self, relative) -> str:
        return self.path(relative).read_text(encoding="utf-8")

    def read_bytes(self, relative) -> bytes:
        return self.path(relative).read_bytes()

    def write_text(self, relative, text: str) -> Path:
        return self.write_bytes(relative, text.encode("utf-8"))

    def write_bytes(self, relative, data: bytes) -> Path:
        """Write ``data`` to ``relative`` atomically (temp file + fsync + rename)."""
        return self._write(self.path(relative), [data])[0]

    def write_chunks(self, relative, chunks) -> int:
        """Write the byte strings ``chunks`` yields to ``relative``, atomically,
        as they come (a file bigger than memory, such as a merged index);
        returns how many there were."""
        return self._write(self.path(relative), chunks)[1]

    def _write(self, target: Path, chunks) -> tuple[Path, int]:
        """``write_chunks`` to the checked absolute path ``target``: (target, count)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        count = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    count += 1
                handle.flush()
                os.fsync(handle.fileno())
            # mkstemp makes 0600 files; archive files are as readable as any
            # other file this process writes (replay tools, web servers)
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return target, count

    def keep_copy(self, src, dst) -> Path:
        """Put ``src`` at ``dst`` too (a hard link, else a copy), leaving
        ``src`` in place: a crash after this loses nothing. Never over an
        existing file (FileExistsError)."""
        source, target = self.path(src), self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # refuses an existing name
        except FileExistsError:
            raise FileExistsError(f"{dst} exists in the archive") from None
        except OSError:  # a filesystem without hard links
            if target.exists():
                raise FileExistsError(f"{dst} exists in the archive") from None
            self.write_bytes(dst, source.read_bytes())
        return target

    def rename(self, src, dst) -> Path:
        """Move a file or folder to a name that is free; refuses to replace
        anything (an archive never loses a file to a rename)."""
        source, target = self.path(src), self.path(dst)
        if target.exists():
            raise FileExistsError(f"{dst} exists in the archive")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
        fsync_dir(target.parent)
        return target

    def append_line(self, relative, line: str) -> None:
        """Append one line to a log file, whole: one ``write`` on an
        ``O_APPEND`` descriptor (never interleaved with another writer's
        line on a local filesystem), then fsync."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            written = os.write(fd, data)
            if written != len(data):
                # a short write (a full disk): cut it off, so no torn line stays
                os.ftruncate(fd, os.fstat(fd).st_size - written)
                raise OSError(f"short write to {relative}: {written} of {len(data)} bytes")
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_dir(folder) -> None:
    """Make a rename in ``folder`` durable (its directory entry)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

