"""``archive/changes.jsonl``: what is appended is read back, line for line."""

from __future__ import annotations

from crawler.changelog import ChangeLog
from crawler.storage import ArchiveStore


def test_a_title_with_a_line_separator_is_read_back(tmp_path):
    """JSON written with ensure_ascii=False keeps U+2028 raw inside a string;
    splitting the log with str.splitlines cut such a line in two and lost it
    (a gone article's status, for a state rebuild)."""
    log = ChangeLog(ArchiveStore(tmp_path))
    events = [{"time": "2026-12-06T09:00:00Z", "event": "gone", "article": "articles/web/a.md",
               "title": "Line one\u2028line two\u0085and\u2029more", "reason": "HTTP 404"},
              {"time": "2026-12-06T09:00:01Z", "event": "back", "article": "articles/web/a.md", "title": "B"}]
    for event in events:
        log.append(event)
    with (tmp_path / "changes.jsonl").open("a") as handle:
        handle.write('{"torn": ')  # a torn last line is skipped
    assert list(log.events()) == events
