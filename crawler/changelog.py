"""``archive/changes.jsonl``: one JSON object per event, appended whole.

Events: ``archived`` (first capture of an article), ``changed`` (a new
version; the previous one kept under versions/), ``gone`` and ``back``.
Each line is written with one ``write`` on an append-only descriptor and
fsynced (crawler.storage.ArchiveStore.append_line), so readers (``jq``)
never see half a line.
"""

from __future__ import annotations

import json

from crawler.storage import ArchiveStore

FILENAME = "changes.jsonl"


class ChangeLog:
    def __init__(self, store: ArchiveStore, name: str = FILENAME):
        self.store = store
        self.name = name

    def append(self, event: dict) -> None:
        line = json.dumps({k: v for k, v in event.items() if v is not None}, ensure_ascii=False,
                          separators=(",", ":"))
        self.store.append_line(self.name, line)

    def events(self):
        """Every event, oldest first (a torn last line, if any, is skipped)."""
        if not self.store.exists(self.name):
            return
        for line in self.store.read_text(self.name).splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue
