"""``archive/changes.jsonl``: what is appended is read back, line for line."""

from __future__ import annotations

from crawler.archive.changelog import ChangeLog
from crawler.archive.storage import ArchiveStore


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


def test_the_events_of_a_run_are_those_after_its_starting_offset(tmp_path):
    log = ChangeLog(ArchiveStore(tmp_path))
    assert log.size() == 0 and log.events_since(0) == []
    log.append({"event": "archived", "article": "articles/web/a.md"})
    start = log.size()
    assert log.events_since(start) == []
    log.append({"event": "changed", "article": "articles/web/a.md"})
    log.append({"event": "gone", "article": "articles/web/b.md"})
    assert [e["event"] for e in log.events_since(start)] == ["changed", "gone"]
    # a log replaced by a shorter one (rotated by hand): all of it is new
    (tmp_path / "changes.jsonl").write_text('{"event":"back"}\n')
    assert log.events_since(start) == [{"event": "back"}]


def test_the_last_events_are_read_from_the_end(tmp_path):
    log = ChangeLog(ArchiveStore(tmp_path))
    for i in range(100):
        log.append({"event": "changed", "n": i, "title": "é" * (i % 7)})
    for block in (1, 7, 64, 1 << 16):
        assert [e["n"] for e in log.last(30, block=block)] == list(range(70, 100))
    assert len(log.last(500)) == 100 and log.last(0) == []
