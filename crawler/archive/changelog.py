"""``archive/changes.jsonl``: one JSON object per event, appended whole.

Events: ``archived`` (first capture of an article), ``changed`` (a new
version; the previous one kept under versions/), ``gone`` and ``back``.
Each line is written with one ``write`` on an append-only descriptor and
fsynced (crawler.archive.storage.ArchiveStore.append_line), so readers (``jq``)
never see half a line.
"""

from __future__ import annotations

import json
from contextlib import nullcontext

from crawler.archive.storage import ArchiveStore

FILENAME = "changes.jsonl"


class ChangeLog:
    def __init__(self, store: ArchiveStore, name: str = FILENAME, guard=None):
        self.store = store
        self.name = name
        # a shared crawl's guard (crawler.distributed.changelog_guard): a lock
        # across workers (O_APPEND is not atomic between machines on every
        # shared filesystem) that also says whether the event is new in the
        # run (a request done again after its worker died)
        self.guard = guard

    def append(self, event: dict) -> None:
        line = json.dumps({k: v for k, v in event.items() if v is not None}, ensure_ascii=False,
                          separators=(",", ":"))
        with self.guard(event) if self.guard else nullcontext(True) as fresh:
            if fresh:
                self.store.append_line(self.name, line)

    def size(self) -> int:
        """The log's length in bytes (0 when there is none yet): where the
        next event will start."""
        path = self.store.path(self.name)
        return path.stat().st_size if path.exists() else 0

    def events_since(self, offset: int) -> list[dict]:
        """The events appended after byte ``offset`` (a ``size()`` taken
        before), oldest first. A log shorter than ``offset`` was replaced
        since (rotated by hand): all of it is new then."""
        path = self.store.path(self.name)
        if not path.exists():
            return []
        with open(path, "rb") as handle:
            if offset > handle.seek(0, 2):
                offset = 0
            handle.seek(offset)
            return _parse(handle.read())

    def whole_lines_since(self, offset: int) -> tuple[list[dict], int]:
        """The events of the whole lines after byte ``offset``, oldest first,
        and the offset after the last of them: a line still being written
        is left for the next look (crawler.state.recorded reads the log on so)."""
        path = self.store.path(self.name)
        if not path.exists():
            return [], offset
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        whole = data[:data.rfind(b"\n") + 1]
        return _parse(whole), offset + len(whole)

    def last(self, count: int, block: int = 1 << 16) -> list[dict]:
        """The last ``count`` events, oldest first, read from the end of the
        log (a log of years is not read whole)."""
        path = self.store.path(self.name)
        if count <= 0 or not path.exists():
            return []
        with open(path, "rb") as handle:
            position = handle.seek(0, 2)
            data = b""
            # one line more than asked: the first one read may be cut
            while position > 0 and data.count(b"\n") <= count:
                step = min(block, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
            if position > 0:
                data = data[data.index(b"\n") + 1:]  # the cut line
        return _parse(data)[-count:]

    def events(self):
        """Every event, oldest first (a torn last line, if any, is skipped)."""
        if not self.store.exists(self.name):
            return
        yield from _parse(self.store.read_bytes(self.name))


def _parse(data: bytes) -> list[dict]:
    """The events of whole lines (a torn or damaged line is skipped). Split
    on newlines only: a title may hold U+2028, which ``splitlines`` splits on."""
    events = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
