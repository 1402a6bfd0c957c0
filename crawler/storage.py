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
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # mkstemp makes 0600 files; archive files are as readable as any
            # other file this process writes (replay tools, web servers)
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return target

    def keep_copy(self, src, dst) -> Path:
        """Put ``src`` at ``dst`` too (a hard link, else a copy), leaving
        ``src`` in place: a crash after this loses nothing."""
        source, target = self.path(src), self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            self.write_bytes(dst, source.read_bytes())
        return target
